//! Who may do what through the API: bearer tokens bound to roles, and the API's own access
//! rules, a Cedar pack (`api-pack/api.cedar`) validated strictly against its schema when the
//! server starts and evaluated on every call.
//!
//! A token is random; only its SHA-256 is stored. Each rule carries `@id`, `@citation` and
//! `@summary`, like the rules of the law packs, and every requirement is a forbid of its
//! own, so a refusal names the rule that refused.

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::RwLock;
use std::time::{Duration, Instant};

use cedar_policy::{
    Authorizer, Context, Decision, Effect, Entities, EntityId, EntityTypeName, EntityUid,
    PolicySet, RestrictedExpression, Schema, ValidationMode, Validator,
};
use comity_policy::{Annotations, read_annotated};
use comity_store::{Store, StoreError, sha256_hex};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The access rules the server is built with.
pub const API_POLICIES: &str = include_str!("../api-pack/api.cedar");
/// Their schema.
pub const API_SCHEMA: &str = include_str!("../api-pack/api.cedarschema");

/// The role a token is bound to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Submits requests; reads requests and decisions.
    Clerk,
    /// A clerk who also reads the ledger.
    Supervisor,
    /// Reads requests and decisions about the people assigned to it.
    Counsel,
    /// Reads the ledger and the metrics; no personal fields.
    Auditor,
    /// Creates tokens.
    Admin,
}

impl Role {
    /// Every role.
    pub const ALL: [Role; 5] = [
        Role::Clerk,
        Role::Supervisor,
        Role::Counsel,
        Role::Auditor,
        Role::Admin,
    ];

    /// The role's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Clerk => "clerk",
            Role::Supervisor => "supervisor",
            Role::Counsel => "counsel",
            Role::Auditor => "auditor",
            Role::Admin => "admin",
        }
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A word that is not a role.
#[derive(Debug, Clone, thiserror::Error)]
#[error("`{0}` is not a role (clerk, supervisor, counsel, auditor, admin)")]
pub struct UnknownRole(pub String);

impl FromStr for Role {
    type Err = UnknownRole;

    fn from_str(s: &str) -> Result<Role, UnknownRole> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| UnknownRole(s.to_owned()))
    }
}

comity_model::words! {
    /// What a call asks to do: the actions of the access pack, by their names in it.
    pub enum ApiAction: "API action" {
        /// `POST /v1/requests`.
        Submit = "submit",
        /// `GET /v1/requests/{id}`.
        ReadRequest = "read-request",
        /// `GET /v1/decisions/{id}`.
        ReadDecision = "read-decision",
        /// `GET /v1/audit/checkpoint`, `GET /v1/audit/proof`, `GET /checkpoint`, and the hash
        /// tiles `GET /tile/<L>/<N>`.
        ReadLedger = "read-ledger",
        /// The entry bundles `GET /tile/entries/<N>`: the ledger's entries, decisions among them.
        ReadEntries = "read-entries",
        /// `GET /metrics`.
        ReadMetrics = "read-metrics",
        /// `POST /v1/assignments`, `POST /v1/assignments/end`.
        AssignCounsel = "assign-counsel",
        /// `GET /v1/assignments`.
        ReadAssignments = "read-assignments",
        /// `POST /v1/tokens`.
        ManageTokens = "manage-tokens",
        /// `POST /v1/deliveries/{id}/approval`.
        Approve = "approve",
        /// `POST /v1/requests/{id}/events`.
        RecordEvent = "record-event",
    }
}

/// A rule of the access pack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessRule {
    /// `@id`.
    pub id: String,
    /// Whether it forbids (a requirement) rather than permits.
    pub forbids: bool,
    /// `@citation`: the design section or agency policy that sets it.
    pub citation: String,
    /// `@summary`.
    pub summary: String,
    /// Its place in the pack, in the order written.
    pub order: usize,
}

/// An access pack that cannot be used.
#[derive(Debug, Clone, thiserror::Error)]
#[error("API access pack: {0}")]
pub struct AccessError(pub String);

/// Why a call was refused.
#[derive(Debug, Clone, thiserror::Error)]
pub enum Refusal {
    /// The pack denies it; `rule` is the first forbid that applied (in the order written),
    /// or none when no permit applied and no forbid did either.
    #[error("{role} may not {action}")]
    Denied {
        /// The caller's role.
        role: Role,
        /// What it asked.
        action: ApiAction,
        /// The rule that refused.
        rule: Option<AccessRule>,
    },
    /// A rule failed to evaluate: no answer is safe.
    #[error("API access rule {rule} failed to evaluate: {message}")]
    Evaluation {
        /// The rule.
        rule: String,
        /// Cedar's error.
        message: String,
    },
}

/// The loaded access pack.
#[derive(Debug)]
pub struct Access {
    policies: PolicySet,
    rules: HashMap<String, AccessRule>,
    authorizer: Authorizer,
    entities: Entities,
    roles: HashMap<Role, EntityUid>,
    actions: HashMap<ApiAction, EntityUid>,
    endpoint: EntityTypeName,
    /// The context for `assigned` false and true.
    contexts: [Context; 2],
}

/// What the rules of the access pack are annotated with.
const ACCESS_ANNOTATIONS: Annotations<'static> = Annotations {
    known: &["id", "citation", "summary"],
    required: &["citation", "summary"],
};

impl Access {
    /// The access pack the server is built with ([`API_POLICIES`], [`API_SCHEMA`]).
    pub fn builtin() -> Result<Access, AccessError> {
        Access::from_text(API_POLICIES, API_SCHEMA)
    }

    /// Loads an access pack: parses the schema and the rules, re-keys each rule by its
    /// `@id` (every rule needs `@id`, `@citation` and `@summary`, and no two share an id),
    /// and validates them strictly against the schema, warnings included. The schema must
    /// declare every [`ApiAction`] for [`Role`] principals and `Endpoint` resources.
    pub fn from_text(policies: &str, schema: &str) -> Result<Access, AccessError> {
        let fail = |m: String| AccessError(m);
        let (schema, _) =
            Schema::from_cedarschema_str(schema).map_err(|e| fail(format!("schema: {e}")))?;
        let (set, rules) = access_rules(policies)?;
        let validation = Validator::new(schema.clone()).validate(&set, ValidationMode::Strict);
        if let Some(e) = validation.validation_errors().next() {
            return Err(fail(format!("rule {}: {e}", e.policy_id())));
        }
        if let Some(w) = validation.validation_warnings().next() {
            return Err(fail(format!("rule {}: {w}", w.policy_id())));
        }
        let uid =
            |text: String| EntityUid::from_str(&text).map_err(|e| fail(format!("`{text}`: {e}")));
        let roles = Role::ALL
            .into_iter()
            .map(|r| Ok((r, uid(format!("Role::{:?}", r.as_str()))?)))
            .collect::<Result<HashMap<_, _>, AccessError>>()?;
        let actions = ApiAction::ALL
            .iter()
            .map(|&a| Ok((a, uid(format!("Action::{:?}", a.as_str()))?)))
            .collect::<Result<HashMap<_, _>, AccessError>>()?;
        let endpoint = EntityTypeName::from_str("Endpoint").map_err(|e| fail(e.to_string()))?;
        let context = |assigned: bool| {
            Context::from_pairs([(
                "assigned".to_owned(),
                RestrictedExpression::new_bool(assigned),
            )])
            .map_err(|e| fail(e.to_string()))
        };
        let access = Access {
            policies: set,
            rules,
            authorizer: Authorizer::new(),
            entities: Entities::empty(),
            roles,
            actions,
            endpoint,
            contexts: [context(false)?, context(true)?],
        };
        access.check_schema_declares_actions(&schema)?;
        Ok(access)
    }

    /// Every action is one the schema declares for these principals and resources.
    fn check_schema_declares_actions(&self, schema: &Schema) -> Result<(), AccessError> {
        let any_endpoint =
            EntityUid::from_type_name_and_id(self.endpoint.clone(), EntityId::new("/"));
        for &action in ApiAction::ALL {
            cedar_policy::Request::new(
                self.roles[&Role::Clerk].clone(),
                self.actions[&action].clone(),
                any_endpoint.clone(),
                self.contexts[0].clone(),
                Some(schema),
            )
            .map_err(|e| AccessError(format!("action `{action}`: {e}")))?;
        }
        Ok(())
    }

    /// Whether `role` may do `action` at `endpoint` (a route, such as
    /// `/v1/decisions/{id}`); `assigned` says whether counsel assigned to the subject of
    /// the record asked for.
    pub fn check(
        &self,
        role: Role,
        action: ApiAction,
        endpoint: &str,
        assigned: bool,
    ) -> Result<(), Refusal> {
        let resource =
            EntityUid::from_type_name_and_id(self.endpoint.clone(), EntityId::new(endpoint));
        let request = cedar_policy::Request::new(
            self.roles[&role].clone(),
            self.actions[&action].clone(),
            resource,
            self.contexts[usize::from(assigned)].clone(),
            None,
        )
        .expect("no schema given, nothing to fail");
        let response = self
            .authorizer
            .is_authorized(&request, &self.policies, &self.entities);
        // A forbid that fails to evaluate does not forbid: treat any error as a failure.
        if let Some(e) = response.diagnostics().errors().next() {
            let rule = match e {
                cedar_policy::AuthorizationError::PolicyEvaluationError(e) => {
                    e.policy_id().to_string()
                }
            };
            return Err(Refusal::Evaluation {
                rule,
                message: e.to_string(),
            });
        }
        if response.decision() == Decision::Allow {
            return Ok(());
        }
        let rule = response
            .diagnostics()
            .reason()
            .filter_map(|id| self.rules.get(id.as_ref() as &str))
            .min_by_key(|r| r.order)
            .cloned();
        Err(Refusal::Denied { role, action, rule })
    }
}

/// The access pack's rules, as one policy set keyed by `@id` and by id with their
/// annotations, in the order written.
fn access_rules(policies: &str) -> Result<(PolicySet, HashMap<String, AccessRule>), AccessError> {
    let written = read_annotated(policies, ACCESS_ANNOTATIONS)
        .map_err(|e| AccessError(format!("rules: {e}")))?;
    if written.is_empty() {
        return Err(AccessError("no rules".into()));
    }
    let mut set = PolicySet::new();
    let mut rules = HashMap::new();
    for (order, rule) in written.into_iter().enumerate() {
        let access = AccessRule {
            id: rule.id.clone(),
            forbids: rule.policy.effect() == Effect::Forbid,
            citation: rule.required("citation").to_owned(),
            summary: rule.required("summary").to_owned(),
            order,
        };
        set.add(rule.policy)
            .map_err(|e| AccessError(e.to_string()))?;
        rules.insert(rule.id, access);
    }
    Ok((set, rules))
}

/// Who is calling: the role and holder of the token presented.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The token's role.
    pub role: Role,
    /// The token's holder (for counsel, the counsel's name).
    pub name: String,
    /// The token's public id.
    pub token: String,
}

/// A new token: `comity_` and 64 hexadecimal digits (256 random bits).
pub fn new_token() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)?;
    Ok(format!("comity_{}", comity_ledger::to_hex(&bytes)))
}

/// Why a token could not be created.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// The holder's name is empty, not one line, or longer than [`MAX_TOKEN_NAME`].
    #[error("a token's holder is named by one line of 1 to {MAX_TOKEN_NAME} characters, not `{0}`")]
    BadName(String),
    /// A lifetime outside 1 to [`MAX_TOKEN_DAYS`] days.
    #[error("a token works for 1 to {MAX_TOKEN_DAYS} days, not {0}")]
    BadLifetime(u32),
    /// The operating system gave no randomness.
    #[error("generating a token: {0}")]
    Randomness(getrandom::Error),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The longest holder name a token takes, in characters.
pub const MAX_TOKEN_NAME: usize = 100;

/// How long a token works when its creator does not say, in days.
pub const DEFAULT_TOKEN_DAYS: u32 = 90;

/// The longest a token may be made to work, in days.
pub const MAX_TOKEN_DAYS: u32 = 366;

/// A token just created: the token itself (shown this once), its public id and its expiry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedToken {
    /// The bearer token.
    pub token: String,
    /// Its public id, to list and revoke it by.
    pub id: String,
    /// When it stops working.
    pub expires_at: jiff::Timestamp,
}

/// Creates a token bound to `role` for `name`, working for `days` days (1 to
/// [`MAX_TOKEN_DAYS`]), stores its SHA-256 and returns it; the token is shown this once and
/// never stored.
pub async fn create_token(
    store: &Store,
    role: Role,
    name: &str,
    days: u32,
) -> Result<IssuedToken, TokenError> {
    let name = name.trim();
    if name.is_empty()
        || name.chars().count() > MAX_TOKEN_NAME
        || name.chars().any(char::is_control)
    {
        return Err(TokenError::BadName(name.to_owned()));
    }
    if !(1..=MAX_TOKEN_DAYS).contains(&days) {
        return Err(TokenError::BadLifetime(days));
    }
    let token = new_token().map_err(TokenError::Randomness)?;
    let expires_at = jiff::Timestamp::now()
        .checked_add(jiff::SignedDuration::from_hours(24 * i64::from(days)))
        .expect("a year from now is a timestamp");
    let id = store
        .create_token(
            &sha256_hex(token.as_bytes()),
            role.as_str(),
            name,
            expires_at,
        )
        .await?;
    Ok(IssuedToken {
        token,
        id,
        expires_at,
    })
}

/// How long a token, once looked up, is trusted without asking the store again: the bound
/// on how long a token revoked through another server (or by `comity token revoke`) keeps
/// working on this one. The server that revokes a token forgets it at once.
pub const TOKEN_TTL: Duration = Duration::from_secs(2);
/// Most tokens remembered; past it the cache starts afresh.
const TOKEN_CACHE_LIMIT: usize = 10_000;

/// Tokens recently looked up, by SHA-256, so that a busy client does not cost a query per
/// call. Only tokens found and in force are remembered, for [`TOKEN_TTL`], with their
/// expiry.
#[derive(Debug, Default)]
pub struct TokenCache {
    map: RwLock<HashMap<String, Remembered>>,
}

/// A token found in force: its caller, its expiry, and when it was looked up.
type Remembered = (Caller, Option<jiff::Timestamp>, Instant);

/// Why a token was not accepted.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// No token matches.
    #[error("the bearer token is not one this service issued")]
    UnknownToken,
    /// The token was revoked.
    #[error("the bearer token was revoked")]
    Revoked,
    /// The token's time ran out.
    #[error("the bearer token expired at {0}")]
    Expired(jiff::Timestamp),
    /// The stored token is bound to a word that is not a role.
    #[error("the token is bound to an unknown role: {0}")]
    BadRole(#[from] UnknownRole),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl TokenCache {
    /// The caller `token` identifies, if the token is in force: issued, not revoked, not
    /// expired.
    pub async fn authenticate(&self, store: &Store, token: &str) -> Result<Caller, AuthError> {
        self.authenticate_digest(store, &sha256_hex(token.as_bytes()))
            .await
    }

    /// The caller of the token whose SHA-256 (hex) is `digest`, as [`Self::authenticate`]
    /// (what a console session keeps instead of the token).
    pub async fn authenticate_digest(
        &self,
        store: &Store,
        digest: &str,
    ) -> Result<Caller, AuthError> {
        let now = jiff::Timestamp::now();
        let remembered = self
            .map
            .read()
            .expect("token cache lock")
            .get(digest)
            .filter(|(_, _, at)| at.elapsed() < TOKEN_TTL)
            .cloned();
        if let Some((caller, expires_at, _)) = remembered {
            return match expires_at {
                Some(t) if t <= now => Err(AuthError::Expired(t)),
                _ => Ok(caller),
            };
        }
        let stored = store.token(digest).await?.ok_or(AuthError::UnknownToken)?;
        if stored.revoked.is_some() {
            return Err(AuthError::Revoked);
        }
        if let Some(t) = stored.expires_at.filter(|t| *t <= now) {
            return Err(AuthError::Expired(t));
        }
        let caller = Caller {
            role: stored.role.parse()?,
            name: stored.name,
            token: stored.id,
        };
        let mut map = self.map.write().expect("token cache lock");
        if map.len() >= TOKEN_CACHE_LIMIT {
            map.clear();
        }
        map.insert(
            digest.to_owned(),
            (caller.clone(), stored.expires_at, Instant::now()),
        );
        Ok(caller)
    }

    /// Forgets the token `id` at once (it was revoked here).
    pub fn forget(&self, id: &str) {
        self.map
            .write()
            .expect("token cache lock")
            .retain(|_, (caller, _, _)| caller.token != id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every role and action: allowed, or refused by a named forbid (never by silence),
    /// and the pack grants exactly the table in `crate::http`'s documentation.
    #[test]
    fn every_refusal_names_a_rule_and_grants_match_the_roles() {
        let access = Access::builtin().unwrap();
        let mut granted = Vec::new();
        for role in Role::ALL {
            for &action in ApiAction::ALL {
                for assigned in [false, true] {
                    match access.check(role, action, "/", assigned) {
                        Ok(()) => granted.push((role, action, assigned)),
                        Err(Refusal::Denied { rule: Some(r), .. }) => assert!(r.forbids),
                        Err(other) => panic!("{role} {action}: {other:?}"),
                    }
                }
            }
        }
        let allowed = |role: Role, action: ApiAction| {
            [false, true]
                .iter()
                .filter(|s| granted.contains(&(role, action, **s)))
                .count()
        };
        use ApiAction::*;
        for action in [Submit, ReadRequest, ReadDecision] {
            assert_eq!(allowed(Role::Clerk, action), 2, "clerk {action}");
            assert_eq!(allowed(Role::Supervisor, action), 2, "supervisor {action}");
        }
        assert_eq!(allowed(Role::Supervisor, ReadLedger), 2);
        assert_eq!(allowed(Role::Clerk, ReadLedger), 0);
        // Counsel reads only what it assigned to.
        assert_eq!(allowed(Role::Counsel, ReadDecision), 1);
        assert!(granted.contains(&(Role::Counsel, ReadDecision, true)));
        assert_eq!(allowed(Role::Counsel, Submit), 0);
        // Auditors: the ledger and the metrics, no personal records.
        for action in [ReadRequest, ReadDecision, Submit, ManageTokens] {
            assert_eq!(allowed(Role::Auditor, action), 0, "auditor {action}");
        }
        assert_eq!(allowed(Role::Auditor, ReadLedger), 2);
        // The ledger's entries hold every decision: only a supervisor reads them whole.
        for role in Role::ALL {
            let expected = if role == Role::Supervisor { 2 } else { 0 };
            assert_eq!(allowed(role, ReadEntries), expected, "{role} read-entries");
        }
        assert_eq!(allowed(Role::Admin, ManageTokens), 2);
        assert_eq!(allowed(Role::Admin, ReadRequest), 0);
        // Only a supervisor approves.
        for role in Role::ALL {
            let expected = if role == Role::Supervisor { 2 } else { 0 };
            assert_eq!(allowed(role, Approve), expected, "{role} approve");
        }
        // Only the desk records what was done.
        for role in Role::ALL {
            let desk = matches!(role, Role::Clerk | Role::Supervisor);
            assert_eq!(
                allowed(role, RecordEvent),
                if desk { 2 } else { 0 },
                "{role} record-event"
            );
        }
        let total: usize = Role::ALL
            .iter()
            .flat_map(|r| ApiAction::ALL.iter().map(move |a| allowed(*r, *a)))
            .sum();
        // Assignments come from an administrator, never from counsel itself.
        assert_eq!(allowed(Role::Counsel, AssignCounsel), 0);
        assert_eq!(allowed(Role::Admin, AssignCounsel), 2);
        // clerk 4, supervisor 7, counsel 1 (+2 assigned reads), auditor 2, admin 4: × 2.
        assert_eq!(total, 2 * (4 + 7 + 1 + 2 + 4) + 2);
    }

    #[test]
    fn a_refusal_names_the_requirement_that_failed() {
        let access = Access::builtin().unwrap();
        let rule = |role, action, assigned| match access.check(role, action, "/", assigned) {
            Err(Refusal::Denied { rule: Some(r), .. }) => r.id,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            rule(Role::Counsel, ApiAction::ReadDecision, false),
            "counsel-reads-only-assigned-subjects"
        );
        assert_eq!(
            rule(Role::Auditor, ApiAction::ReadRequest, false),
            "personal-records-need-a-case-role"
        );
        assert_eq!(
            rule(Role::Clerk, ApiAction::ManageTokens, false),
            "tokens-need-admin"
        );
    }

    #[test]
    fn packs_are_validated_strictly_and_need_their_annotations() {
        let misspelt = API_POLICIES.replace("context.assigned", "context.subscribd");
        let e = Access::from_text(&misspelt, API_SCHEMA).unwrap_err();
        assert!(e.0.contains("counsel-reads-only-assigned-subjects"), "{e}");
        let no_citation = "@id(\"x\")\n@summary(\"s\")\npermit (principal, action, resource);";
        let e = Access::from_text(no_citation, API_SCHEMA).unwrap_err();
        assert!(e.0.contains("needs @citation"), "{e}");
        let twice = "@id(\"x\")\n@citation(\"c\")\n@summary(\"s\")\npermit (principal, action, resource);\n"
            .repeat(2);
        let e = Access::from_text(&twice, API_SCHEMA).unwrap_err();
        assert!(e.0.contains("used twice"), "{e}");
        let missing_action = API_SCHEMA.replace("\"manage-tokens\"", "\"manage-token\"");
        assert!(Access::from_text(API_POLICIES, &missing_action).is_err());
    }

    #[test]
    fn tokens_are_random_and_roles_parse() {
        let (a, b) = (new_token().unwrap(), new_token().unwrap());
        assert_ne!(a, b);
        assert_eq!(a.len(), "comity_".len() + 64);
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>().unwrap(), role);
        }
        assert!("root".parse::<Role>().is_err());
    }
}
