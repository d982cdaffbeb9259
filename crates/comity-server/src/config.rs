//! `comity.toml`: how each recipient is reached, which agencies may receive what, which
//! sources comity expects to hear from, and how hard the dispatcher tries. Every key is in
//! the sample `examples/comity.toml` and explained in `docs/operations.md`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// The whole configuration.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Retry policy.
    #[serde(default)]
    pub dispatch: DispatchConfig,
    /// How each recipient is reached, by recipient name.
    #[serde(default)]
    pub channels: BTreeMap<String, Channel>,
    /// What kind of agency each agency that receives disclosures is. A disclosure goes only
    /// to an agency listed here, and only if it is the kind of recipient its decision was
    /// made for: a request cannot make ICE a `federal-other` recipient by saying so.
    #[serde(default)]
    pub agencies: BTreeMap<String, comity_model::AgencyKind>,
    /// The sources comity expects to hear from, and how often.
    #[serde(default)]
    pub feeds: Vec<Feed>,
}

/// A source comity expects requests from: an alarm is raised when it is silent too long.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Feed {
    /// What to call it in alarms.
    pub name: String,
    /// The requesting agency (`from.agency`).
    pub from: String,
    /// The agency asked (`to.agency`); any when absent.
    #[serde(default)]
    pub to: Option<String>,
    /// Silent this many hours without a request, the feed is reported silent.
    pub silent_after_hours: u32,
}

/// How hard the dispatcher tries.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DispatchConfig {
    /// Attempts before a delivery is dead-lettered.
    #[serde(default = "default_attempts")]
    pub max_attempts: u32,
    /// The first retry's delay, in milliseconds; it doubles each time, with jitter.
    #[serde(default = "default_base_delay")]
    pub base_delay_ms: u64,
    /// The longest delay between attempts, in milliseconds.
    #[serde(default = "default_max_delay")]
    pub max_delay_ms: u64,
}

fn default_attempts() -> u32 {
    8
}

fn default_base_delay() -> u64 {
    500
}

fn default_max_delay() -> u64 {
    60_000
}

impl Default for DispatchConfig {
    fn default() -> Self {
        DispatchConfig {
            max_attempts: default_attempts(),
            base_delay_ms: default_base_delay(),
            max_delay_ms: default_max_delay(),
        }
    }
}

/// How one recipient is reached.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase", deny_unknown_fields)]
pub enum Channel {
    /// An HTTP POST of the delivery as JSON, signed with HMAC-SHA256 of the body under
    /// `secret` (header `Comity-Signature: sha256=<hex>`), with the delivery id as
    /// `Idempotency-Key`.
    Webhook {
        /// Where to post.
        url: String,
        /// The shared secret the signature is made with.
        secret: String,
    },
    /// An email by SMTP.
    Email {
        /// The recipient's address.
        to: String,
        /// The sender's address.
        from: String,
        /// The SMTP server, `smtp://host:port`.
        smtp: String,
    },
    /// A file per delivery, `<id>.json`, written to `dir` (created if needed).
    File {
        /// The directory.
        dir: PathBuf,
    },
}

/// A configuration file that cannot be read or is not of the documented shape.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {message}")]
pub struct ConfigError {
    /// The file.
    pub path: PathBuf,
    /// What is wrong.
    pub message: String,
}

impl Config {
    /// Reads `path`; a missing file is the empty configuration (nothing can be delivered,
    /// and every delivery is dead-lettered with the reason).
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let err = |message: String| ConfigError {
            path: path.to_owned(),
            message,
        };
        match std::fs::read_to_string(path) {
            Ok(text) => toml::from_str(&text).map_err(|e| err(e.to_string())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Config::default()),
            Err(e) => Err(err(e.to_string())),
        }
    }

    /// How `recipient` is reached, if configured.
    pub fn channel(&self, recipient: &str) -> Option<&Channel> {
        self.channels.get(recipient)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sample_has_every_key_and_unknown_keys_are_refused() {
        let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/comity.toml");
        let c = Config::load(&sample).unwrap();
        assert_eq!(c.dispatch.max_attempts, 8);
        assert_eq!(c.dispatch.base_delay_ms, 500);
        assert_eq!(c.dispatch.max_delay_ms, 60_000);
        assert_eq!(
            c.agencies["DHS-ICE-ERO"],
            comity_model::AgencyKind::FederalImmigration
        );
        assert_eq!(c.feeds[0].to.as_deref(), Some("NYC-DOC"));
        assert!(matches!(
            c.channel("DHS-ICE-ERO"),
            Some(Channel::Webhook { .. })
        ));
        assert!(matches!(
            c.channel("counsel:legal-aid-1"),
            Some(Channel::Email { .. })
        ));
        assert_eq!(
            c.channel("subject"),
            Some(&Channel::File {
                dir: "notices/subject".into()
            })
        );
        let defaults: Config = toml::from_str("").unwrap();
        assert_eq!(defaults.dispatch.max_attempts, 8);
        assert!(toml::from_str::<Config>("[dispatch]\nmax_attempt = 3").is_err());
        assert!(toml::from_str::<Config>("[channels.x]\nfax = { number = \"1\" }").is_err());
        assert!(toml::from_str::<Config>("[agencies]\nICE = \"immigration\"").is_err());
    }
}
