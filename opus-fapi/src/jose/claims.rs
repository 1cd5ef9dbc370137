//! JWT claim checks (RFC 7519 §4.1): `iss`, `aud` (a string or an array),
//! `exp`, `nbf`, `iat` with a configurable clock skew, maximum age and
//! lifetime, and `jti`. Time comes from the caller (a `Clock`).
//!
//! `jti` uniqueness is not checked here: it needs the store
//! (`ReplayGuard::insert_jti`), which the caller does after these checks.

use std::collections::BTreeMap;
use std::time::Duration;

use opus_core::Timestamp;
use serde_json::Value;

/// Why a claims set was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ClaimsError {
    /// A required claim is absent.
    #[error("missing claim {0}")]
    Missing(&'static str),
    /// A claim has the wrong type or an impossible value.
    #[error("malformed claim {0}")]
    Malformed(&'static str),
    /// `iss` is not the expected issuer.
    #[error("wrong issuer")]
    WrongIssuer,
    /// `aud` does not contain an accepted audience.
    #[error("wrong audience")]
    WrongAudience,
    /// `exp` has passed (beyond the skew).
    #[error("token expired")]
    Expired,
    /// `nbf` is still in the future (beyond the skew).
    #[error("token not yet valid")]
    NotYetValid,
    /// `iat` is in the future (beyond the skew).
    #[error("token issued in the future")]
    IssuedInTheFuture,
    /// `iat` (or `nbf`) is older than the accepted age.
    #[error("token too old")]
    TooOld,
    /// `exp` is further from `iat`/`nbf` than the accepted lifetime.
    #[error("token lifetime too long")]
    LifetimeTooLong,
}

/// What a claims set must satisfy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimsPolicy {
    issuer: Option<String>,
    audiences: Vec<String>,
    skew: Duration,
    require_exp: bool,
    require_iat: bool,
    require_nbf: bool,
    require_jti: bool,
    max_age: Option<Duration>,
    max_lifetime: Option<Duration>,
}

impl ClaimsPolicy {
    /// A policy requiring `exp`, with a 60-second skew and nothing else.
    pub fn new() -> Self {
        Self {
            issuer: None,
            audiences: Vec::new(),
            skew: Duration::from_secs(60),
            require_exp: true,
            require_iat: false,
            require_nbf: false,
            require_jti: false,
            max_age: None,
            max_lifetime: None,
        }
    }

    /// `iss` must equal `issuer`.
    pub fn issuer(mut self, issuer: impl Into<String>) -> Self {
        self.issuer = Some(issuer.into());
        self
    }

    /// `aud` must contain `audience` (call again to accept several).
    pub fn audience(mut self, audience: impl Into<String>) -> Self {
        self.audiences.push(audience.into());
        self
    }

    /// The clock skew tolerated on every time check.
    pub fn skew(mut self, skew: Duration) -> Self {
        self.skew = skew;
        self
    }

    /// Whether `exp` is required (it is by default).
    pub fn require_exp(mut self, required: bool) -> Self {
        self.require_exp = required;
        self
    }

    /// Require `iat`.
    pub fn require_iat(mut self) -> Self {
        self.require_iat = true;
        self
    }

    /// Require `nbf`.
    pub fn require_nbf(mut self) -> Self {
        self.require_nbf = true;
        self
    }

    /// Require `jti`.
    pub fn require_jti(mut self) -> Self {
        self.require_jti = true;
        self
    }

    /// `iat` and `nbf` may be at most this old (FAPI-BR request objects:
    /// `nbf` no older than 60 minutes; signed messages: `iat` within 60 s).
    pub fn max_age(mut self, age: Duration) -> Self {
        self.max_age = Some(age);
        self
    }

    /// `exp` minus `nbf` (or `iat`) may be at most this (request objects: 60 minutes).
    pub fn max_lifetime(mut self, lifetime: Duration) -> Self {
        self.max_lifetime = Some(lifetime);
        self
    }
}

impl Default for ClaimsPolicy {
    fn default() -> Self {
        Self::new()
    }
}

/// A claims set that passed a [`ClaimsPolicy`].
#[derive(Debug, Clone, PartialEq)]
pub struct ValidatedClaims {
    members: BTreeMap<String, Value>,
    exp: Option<Timestamp>,
    iat: Option<Timestamp>,
    nbf: Option<Timestamp>,
}

impl ValidatedClaims {
    /// `iss`.
    pub fn iss(&self) -> Option<&str> {
        self.members.get("iss").and_then(Value::as_str)
    }

    /// `sub`.
    pub fn sub(&self) -> Option<&str> {
        self.members.get("sub").and_then(Value::as_str)
    }

    /// `jti`.
    pub fn jti(&self) -> Option<&str> {
        self.members.get("jti").and_then(Value::as_str)
    }

    /// `exp`.
    pub fn exp(&self) -> Option<Timestamp> {
        self.exp
    }

    /// `iat`.
    pub fn iat(&self) -> Option<Timestamp> {
        self.iat
    }

    /// `nbf`.
    pub fn nbf(&self) -> Option<Timestamp> {
        self.nbf
    }

    /// Any claim.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.members.get(name)
    }

    /// Every claim.
    pub fn members(&self) -> &BTreeMap<String, Value> {
        &self.members
    }
}

fn numeric_date(
    members: &BTreeMap<String, Value>,
    name: &'static str,
) -> Result<Option<Timestamp>, ClaimsError> {
    let Some(value) = members.get(name) else {
        return Ok(None);
    };
    let secs = match value {
        Value::Number(n) => n.as_i64().or_else(|| {
            n.as_f64()
                .filter(|f| f.is_finite())
                .map(|f| f.floor() as i64)
        }),
        _ => None,
    }
    .ok_or(ClaimsError::Malformed(name))?;
    Timestamp::from_unix_seconds(secs)
        .map(Some)
        .map_err(|_| ClaimsError::Malformed(name))
}

/// Checks `members` against `policy` at `now`.
///
/// # Errors
/// [`ClaimsError`] naming the first check that failed.
pub fn validate(
    members: BTreeMap<String, Value>,
    policy: &ClaimsPolicy,
    now: Timestamp,
) -> Result<ValidatedClaims, ClaimsError> {
    for name in ["iss", "sub", "jti"] {
        if members.get(name).is_some_and(|v| !v.is_string()) {
            return Err(ClaimsError::Malformed(match name {
                "iss" => "iss",
                "sub" => "sub",
                _ => "jti",
            }));
        }
    }
    let exp = numeric_date(&members, "exp")?;
    let iat = numeric_date(&members, "iat")?;
    let nbf = numeric_date(&members, "nbf")?;
    let required = [
        (policy.require_exp && exp.is_none(), "exp"),
        (policy.require_iat && iat.is_none(), "iat"),
        (policy.require_nbf && nbf.is_none(), "nbf"),
        (policy.require_jti && !members.contains_key("jti"), "jti"),
        (
            policy.issuer.is_some() && !members.contains_key("iss"),
            "iss",
        ),
        (
            !policy.audiences.is_empty() && !members.contains_key("aud"),
            "aud",
        ),
    ];
    if let Some((_, name)) = required.iter().find(|(missing, _)| *missing) {
        return Err(ClaimsError::Missing(name));
    }
    if let Some(issuer) = &policy.issuer
        && members.get("iss").and_then(Value::as_str) != Some(issuer.as_str())
    {
        return Err(ClaimsError::WrongIssuer);
    }
    if !policy.audiences.is_empty() {
        let audiences: Vec<&str> = match members.get("aud") {
            Some(Value::String(a)) => vec![a.as_str()],
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| v.as_str().ok_or(ClaimsError::Malformed("aud")))
                .collect::<Result<_, _>>()?,
            _ => return Err(ClaimsError::Malformed("aud")),
        };
        if !audiences
            .iter()
            .any(|a| policy.audiences.iter().any(|p| p == a))
        {
            return Err(ClaimsError::WrongAudience);
        }
    }
    let skew = policy.skew;
    if let Some(exp) = exp
        && now >= exp.saturating_add(skew)
    {
        return Err(ClaimsError::Expired);
    }
    if let Some(nbf) = nbf
        && now.saturating_add(skew) < nbf
    {
        return Err(ClaimsError::NotYetValid);
    }
    if let Some(iat) = iat
        && now.saturating_add(skew) < iat
    {
        return Err(ClaimsError::IssuedInTheFuture);
    }
    if let Some(max_age) = policy.max_age {
        let oldest = now.saturating_sub(max_age).saturating_sub(skew);
        if iat.is_some_and(|t| t < oldest) || nbf.is_some_and(|t| t < oldest) {
            return Err(ClaimsError::TooOld);
        }
    }
    if let (Some(max), Some(exp)) = (policy.max_lifetime, exp)
        && let Some(start) = nbf.or(iat)
        && exp.duration_since(start) > max
    {
        return Err(ClaimsError::LifetimeTooLong);
    }
    Ok(ValidatedClaims {
        members,
        exp,
        iat,
        nbf,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn claims(v: Value) -> BTreeMap<String, Value> {
        serde_json::from_value(v).unwrap()
    }

    const NOW: i64 = 1_800_000_000;

    fn now() -> Timestamp {
        Timestamp::from_unix_seconds(NOW).unwrap()
    }

    #[test]
    fn accepts_a_good_token_with_aud_as_string_or_array() {
        let policy = ClaimsPolicy::new()
            .issuer("client-1")
            .audience("https://as.example")
            .require_iat()
            .require_jti();
        for aud in [
            json!("https://as.example"),
            json!(["x", "https://as.example"]),
        ] {
            let c = claims(json!({"iss":"client-1","aud":aud,"exp":NOW+60,"iat":NOW,"jti":"j1"}));
            let ok = validate(c, &policy, now()).unwrap();
            assert_eq!(ok.jti(), Some("j1"));
        }
    }

    #[test]
    fn refusals() {
        let base = || json!({"iss":"c","aud":"a","exp":NOW+60,"iat":NOW,"nbf":NOW,"jti":"j"});
        let policy = ClaimsPolicy::new()
            .issuer("c")
            .audience("a")
            .require_iat()
            .require_nbf()
            .require_jti()
            .max_age(Duration::from_secs(3600))
            .max_lifetime(Duration::from_secs(3600));
        let with = |k: &str, v: Value| {
            let mut c = base();
            c[k] = v;
            claims(c)
        };
        let without = |k: &str| {
            let mut c = base();
            c.as_object_mut().unwrap().remove(k);
            claims(c)
        };
        let cases = [
            (with("iss", json!("other")), ClaimsError::WrongIssuer),
            (with("aud", json!("other")), ClaimsError::WrongAudience),
            (with("aud", json!(["x", "y"])), ClaimsError::WrongAudience),
            (with("aud", json!(7)), ClaimsError::Malformed("aud")),
            (with("exp", json!(NOW - 61)), ClaimsError::Expired),
            (with("exp", json!("soon")), ClaimsError::Malformed("exp")),
            (with("nbf", json!(NOW + 61)), ClaimsError::NotYetValid),
            (with("iat", json!(NOW + 61)), ClaimsError::IssuedInTheFuture),
            (with("iat", json!(NOW - 3600 - 61)), ClaimsError::TooOld),
            (with("exp", json!(NOW + 3601)), ClaimsError::LifetimeTooLong),
            (with("iss", json!(1)), ClaimsError::Malformed("iss")),
            (without("exp"), ClaimsError::Missing("exp")),
            (without("jti"), ClaimsError::Missing("jti")),
            (without("aud"), ClaimsError::Missing("aud")),
        ];
        for (c, expected) in cases {
            assert_eq!(validate(c, &policy, now()), Err(expected));
        }
        // Inside the skew, still accepted.
        assert!(validate(with("exp", json!(NOW - 59)), &policy, now()).is_ok());
        assert!(validate(with("nbf", json!(NOW + 59)), &policy, now()).is_ok());
    }
}
