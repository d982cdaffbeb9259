//! The channels a delivery goes out by: a signed webhook, an email, or a file.

use std::path::{Path, PathBuf};
use std::time::Duration;

use comity_store::Delivery;
use hmac::{Hmac, Mac};
use serde::Serialize;
use serde_json::value::RawValue;
use sha2::Sha256;

use crate::config::Channel;

/// How long one send may take, connecting included. The claim's lease is longer, so a send
/// never outlives the claim it was made under.
pub(crate) const SEND_TIMEOUT: Duration = Duration::from_secs(10);

/// Why a send failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum SendError {
    /// It may go through if tried again (the receiver was down, answered 5xx, timed out).
    #[error("{0}")]
    Transient(String),
    /// Trying again cannot help (the channel's configuration is unusable).
    #[error("{0}")]
    Permanent(String),
}

/// What is sent: the delivery and the ledger entry that permits it, with the payload as stored
/// (only the fields the permit names), and the receipt a notice to counsel carries. The same
/// bytes on every attempt, so a receiver sees a repeat as exactly that.
pub(crate) fn envelope(
    d: &Delivery,
    permit: u64,
    receipt: Option<&str>,
) -> Result<Vec<u8>, String> {
    /// The envelope's members, in the order sent; the payload and receipt exactly as stored.
    #[derive(Serialize)]
    struct Envelope<'d> {
        delivery: &'d str,
        kind: &'d str,
        request: &'d str,
        act: &'d str,
        recipient: &'d str,
        subject: &'d str,
        ledger_index: u64,
        payload: &'d RawValue,
        #[serde(skip_serializing_if = "Option::is_none")]
        receipt: Option<&'d RawValue>,
    }
    let body = Envelope {
        delivery: &d.id,
        kind: &d.kind,
        request: &d.request_id,
        act: &d.act,
        recipient: &d.recipient,
        subject: &d.subject_id,
        ledger_index: permit,
        payload: stored_json(&d.payload, "payload")?,
        receipt: receipt.map(|r| stored_json(r, "receipt")).transpose()?,
    };
    Ok(serde_json::to_vec(&body).expect("envelopes serialize"))
}

/// `text`, stored JSON, to be sent as it is; `what` names it.
fn stored_json<'t>(text: &'t str, what: &str) -> Result<&'t RawValue, String> {
    serde_json::from_str(text).map_err(|e| format!("the stored {what} is not JSON: {e}"))
}

/// `sha256=<hex HMAC-SHA256 of body under secret>`: the `Comity-Signature` header.
pub fn signature(secret: &str, body: &[u8]) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(body);
    let tag = mac.finalize().into_bytes();
    format!("sha256={}", comity_ledger::to_hex(&tag.into()))
}

/// The longest file name written, in bytes (most file systems take 255).
const MAX_FILE_NAME: usize = 200;

/// `id` as a file name: every byte but ASCII letters, digits, `-`, `_` and `.` written `%XX`,
/// so `/` in a delivery id never makes a directory. A name that would be longer than
/// [`MAX_FILE_NAME`] keeps its beginning and ends in `~` and the SHA-256 of the whole id, so
/// it stays unique and stable (the file holds the id itself).
pub fn file_name(id: &str) -> String {
    let mut out = String::with_capacity(id.len() + 5);
    for b in id.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    if out.len() + ".json".len() > MAX_FILE_NAME {
        let digest = comity_ledger::to_hex(&<Sha256 as sha2::Digest>::digest(id.as_bytes()).into());
        let keep = MAX_FILE_NAME - ".json".len() - 1 - digest.len();
        // Only ASCII was written: any byte is a character boundary.
        out.truncate(keep);
        out.push('~');
        out.push_str(&digest);
    }
    out.push_str(".json");
    out
}

/// Sends deliveries; holds the HTTP client (and its connections) for all of them.
pub(crate) struct Sender {
    http: reqwest::Client,
}

impl Sender {
    /// A sender whose webhooks time out after [`SEND_TIMEOUT`] and never follow a redirect
    /// (a redirect would take a disclosure somewhere the configuration does not name).
    pub(crate) fn new() -> Result<Sender, reqwest::Error> {
        let http = reqwest::Client::builder()
            .timeout(SEND_TIMEOUT)
            .connect_timeout(SEND_TIMEOUT / 2)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("comity/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Sender { http })
    }

    /// Sends `body`, the envelope of delivery `id`, by `channel`; `title` is an email's
    /// subject line.
    pub(crate) async fn send(
        &self,
        channel: &Channel,
        id: &str,
        title: &str,
        body: Vec<u8>,
    ) -> Result<(), SendError> {
        match channel {
            Channel::Webhook { url, secret } => self.webhook(url, secret, id, body).await,
            Channel::Email { to, from, smtp } => email(to, from, smtp, id, title, body).await,
            Channel::File { dir } => file(dir, id, body).await,
        }
    }

    async fn webhook(
        &self,
        url: &str,
        secret: &str,
        id: &str,
        body: Vec<u8>,
    ) -> Result<(), SendError> {
        let url = reqwest::Url::parse(url)
            .map_err(|e| SendError::Permanent(format!("webhook url `{url}`: {e}")))?;
        let response = self
            .http
            .post(url)
            .header("Content-Type", "application/json")
            .header("Comity-Signature", signature(secret, &body))
            .header("Idempotency-Key", id)
            .body(body)
            .send()
            .await
            .map_err(|e| SendError::Transient(format!("webhook: {}", chain(&e))))?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        let text = response.text().await.unwrap_or_default();
        let text: String = text.chars().take(200).collect();
        Err(SendError::Transient(format!(
            "webhook answered {status}: {}",
            text.trim()
        )))
    }
}

/// An error with its causes, one after another.
fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(&format!(": {s}"));
        source = s.source();
    }
    text
}

/// `smtp://host[:port]` as host and port (25 by default).
fn smtp_server(url: &str) -> Result<(String, u16), SendError> {
    let bad = |why: &str| SendError::Permanent(format!("smtp `{url}`: {why}"));
    let rest = url
        .strip_prefix("smtp://")
        .ok_or_else(|| bad("only smtp://host:port is supported"))?;
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    let (host, port) = match rest.rsplit_once(':') {
        Some((host, port)) => (
            host,
            port.parse().map_err(|_| bad("the port is not a number"))?,
        ),
        None => (rest, 25),
    };
    if host.is_empty() || host.contains(['/', '@', '?']) {
        return Err(bad("expected smtp://host:port"));
    }
    Ok((host.to_owned(), port))
}

/// Sends the envelope as a plain-text email whose Message-ID is derived from the delivery id,
/// so a repeat is recognizable as one.
async fn email(
    to: &str,
    from: &str,
    smtp: &str,
    id: &str,
    title: &str,
    body: Vec<u8>,
) -> Result<(), SendError> {
    use lettre::message::header::ContentType;
    use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

    let (host, port) = smtp_server(smtp)?;
    let address = |a: &str, what: &str| {
        a.parse::<lettre::message::Mailbox>()
            .map_err(|e| SendError::Permanent(format!("email {what} `{a}`: {e}")))
    };
    let text = String::from_utf8(body).expect("envelopes are JSON text");
    let message = Message::builder()
        .from(address(from, "from")?)
        .to(address(to, "to")?)
        .subject(title)
        .message_id(Some(format!(
            "<{}@comity>",
            comity_store::sha256_hex(id.as_bytes())
        )))
        .header(ContentType::TEXT_PLAIN)
        .body(text)
        .map_err(|e| SendError::Permanent(format!("email: {e}")))?;
    // Plain SMTP to a relay the agency runs, as `smtp://` says.
    let transport = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
        .port(port)
        .timeout(Some(SEND_TIMEOUT))
        .build();
    transport
        .send(message)
        .await
        .map(drop)
        .map_err(|e| SendError::Transient(format!("email: {}", chain(&e))))
}

/// Writes the envelope to `<dir>/<file name of id>`, atomically: a reader finds the whole file
/// or none (written to a temporary file, synced, renamed over, the directory synced).
async fn file(dir: &Path, id: &str, body: Vec<u8>) -> Result<(), SendError> {
    let dir: PathBuf = dir.to_owned();
    let name = file_name(id);
    tokio::task::spawn_blocking(move || write_atomically(&dir, &name, &body))
        .await
        .map_err(|e| SendError::Transient(format!("file: {e}")))?
        .map_err(|e| SendError::Transient(format!("file: {e}")))
}

fn write_atomically(dir: &Path, name: &str, body: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    std::fs::create_dir_all(dir)?;
    let nonce = getrandom::u64().unwrap_or_default();
    let temp = dir.join(format!(".{name}.{nonce:016x}.tmp"));
    let written = (|| {
        let mut f = std::fs::File::create_new(&temp)?;
        f.write_all(body)?;
        f.sync_all()?;
        std::fs::rename(&temp, dir.join(name))?;
        std::fs::File::open(dir)?.sync_all()
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    written
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_are_flat_and_reversible() {
        assert_eq!(
            file_name("ca-1/notify-release/counsel:legal aid"),
            "ca-1%2Fnotify-release%2Fcounsel%3Alegal%20aid.json"
        );
        assert_eq!(file_name("a.b_c-d"), "a.b_c-d.json");
    }

    #[test]
    fn long_ids_make_short_distinct_file_names() {
        // 200 `%` become 600 bytes escaped: kept short, and told apart by the digest.
        let long = format!("{}/notify-release/subject", "%".repeat(200));
        let other = format!("{}/notify-release/subject", "%".repeat(199));
        let (a, b) = (file_name(&long), file_name(&other));
        assert!(a.len() <= MAX_FILE_NAME && b.len() <= MAX_FILE_NAME, "{a}");
        assert_ne!(a, b);
        assert_eq!(a, file_name(&long), "stable");
        assert!(a.ends_with(".json") && a.contains('~'));
    }

    #[test]
    fn signature_is_hmac_sha256_hex() {
        // RFC 4231, test case 2.
        assert_eq!(
            signature("Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn smtp_urls() {
        assert_eq!(
            smtp_server("smtp://127.0.0.1:2525"),
            Ok(("127.0.0.1".into(), 2525))
        );
        assert_eq!(
            smtp_server("smtp://mail.example"),
            Ok(("mail.example".into(), 25))
        );
        assert!(matches!(
            smtp_server("smtps://mail.example"),
            Err(SendError::Permanent(_))
        ));
        assert!(matches!(
            smtp_server("smtp://u@mail.example:x"),
            Err(SendError::Permanent(_))
        ));
    }
}
