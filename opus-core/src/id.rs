//! Identifier newtypes with validated constructors.
//!
//! Every identifier that crosses a trust boundary is a newtype whose only
//! constructor validates it against the pattern the OFB specs give, so a
//! handler that holds a [`ConsentId`] knows it is well formed. Serde goes
//! through the same validation (`#[serde(try_from = "String")]`).

use std::fmt;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Why an identifier or value was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {kind}: {reason}")]
pub struct InvalidValue {
    kind: &'static str,
    reason: &'static str,
}

impl InvalidValue {
    /// A refusal of a value of `kind` (e.g. "consent id") for `reason`.
    ///
    /// `reason` is a fixed text: it must never echo the rejected value,
    /// which may be personal data.
    pub const fn new(kind: &'static str, reason: &'static str) -> Self {
        Self { kind, reason }
    }

    /// The kind of value that was refused.
    pub const fn kind(&self) -> &'static str {
        self.kind
    }

    /// The fixed reason it was refused.
    pub const fn reason(&self) -> &'static str {
        self.reason
    }
}

/// Declares a string newtype with a validating constructor, serde, `Display`,
/// `AsRef<str>` and `FromStr`.
macro_rules! string_id {
    ($(#[$meta:meta])* $name:ident, $kind:literal, $validate:path) => {
        $(#[$meta])*
        #[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// Validates `value` and wraps it.
            ///
            /// # Errors
            /// [`InvalidValue`] when `value` does not match the identifier's rules.
            pub fn new(value: impl Into<String>) -> Result<Self, InvalidValue> {
                let value = value.into();
                $validate(&value).map_err(|reason| InvalidValue::new($kind, reason))?;
                Ok(Self(value))
            }

            /// The identifier as a string slice.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({:?})", stringify!($name), self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = InvalidValue;
            fn try_from(value: String) -> Result<Self, Self::Error> {
                Self::new(value)
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> String {
                value.0
            }
        }

        impl std::str::FromStr for $name {
            type Err = InvalidValue;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::new(s)
            }
        }
    };
}

/// Declares a UUID newtype (lower-case hyphenated on the wire).
macro_rules! uuid_id {
    ($(#[$meta:meta])* $name:ident, $kind:literal) => {
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(Uuid);

        impl $name {
            /// Parses the canonical hyphenated form (either case).
            ///
            /// # Errors
            /// [`InvalidValue`] when `value` is not a hyphenated UUID.
            pub fn parse(value: &str) -> Result<Self, InvalidValue> {
                parse_hyphenated_uuid(value)
                    .map(Self)
                    .ok_or(InvalidValue::new($kind, "not a hyphenated UUID"))
            }

            /// Wraps an existing UUID.
            pub const fn from_uuid(value: Uuid) -> Self {
                Self(value)
            }

            /// A new random (version 4) identifier.
            pub fn random() -> Self {
                Self(Uuid::new_v4())
            }

            /// The underlying UUID.
            pub const fn as_uuid(&self) -> &Uuid {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0.hyphenated(), f)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.0.hyphenated())
            }
        }

        impl TryFrom<String> for $name {
            type Error = InvalidValue;
            fn try_from(value: String) -> Result<Self, Self::Error> {
                Self::parse(&value)
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> String {
                value.to_string()
            }
        }

        impl std::str::FromStr for $name {
            type Err = InvalidValue;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }
    };
}

/// Parses only the 36-character hyphenated form the OFB pattern
/// `^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$` allows
/// (the `uuid` crate alone would also take braces, URNs and the simple form).
fn parse_hyphenated_uuid(value: &str) -> Option<Uuid> {
    let bytes = value.as_bytes();
    if bytes.len() != 36 {
        return None;
    }
    for (i, b) in bytes.iter().enumerate() {
        let hyphen = matches!(i, 8 | 13 | 18 | 23);
        if hyphen != (*b == b'-') || (!hyphen && !b.is_ascii_hexdigit()) {
            return None;
        }
    }
    Uuid::parse_str(value).ok()
}

fn check_len(value: &str, min: usize, max: usize) -> Result<(), &'static str> {
    if value.len() < min {
        return Err("too short");
    }
    if value.len() > max {
        return Err("too long");
    }
    Ok(())
}

/// `^urn:[a-zA-Z0-9][a-zA-Z0-9-]{0,31}:[a-zA-Z0-9()+,\-.:=@;$_!*'%\/?#]+$`, at most 256 characters.
fn validate_urn(value: &str) -> Result<(), &'static str> {
    check_len(value, 1, crate::limits::CONSENT_ID_MAX_LEN)?;
    let rest = value.strip_prefix("urn:").ok_or("must start with urn:")?;
    let (nid, nss) = rest.split_once(':').ok_or("missing namespace separator")?;
    let mut nid_chars = nid.chars();
    match nid_chars.next() {
        Some(c) if c.is_ascii_alphanumeric() => {}
        _ => return Err("namespace must start with a letter or digit"),
    }
    if nid.len() > 32 || !nid_chars.all(|c| c.is_ascii_alphanumeric() || c == '-') {
        return Err("invalid namespace");
    }
    if nss.is_empty() {
        return Err("empty namespace-specific string");
    }
    let allowed = |c: char| c.is_ascii_alphanumeric() || "()+,-.:=@;$_!*'%/?#".contains(c);
    if !nss.chars().all(allowed) {
        return Err("invalid character in namespace-specific string");
    }
    Ok(())
}

/// `^[a-zA-Z0-9][a-zA-Z0-9-]{0,99}$`: the resource id pattern of the OFB APIs.
fn validate_resource_id(value: &str) -> Result<(), &'static str> {
    check_len(value, 1, 100)?;
    let mut chars = value.chars();
    match chars.next() {
        Some(c) if c.is_ascii_alphanumeric() => {}
        _ => return Err("must start with a letter or digit"),
    }
    if chars.all(|c| c.is_ascii_alphanumeric() || c == '-') {
        Ok(())
    } else {
        Err("only letters, digits and '-' are allowed")
    }
}

/// Printable ASCII without blanks at either end (RFC 6749 §A.1 `client_id` is VSCHAR).
fn validate_token_like(value: &str, max: usize) -> Result<(), &'static str> {
    check_len(value, 1, max)?;
    if !value.bytes().all(|b| (0x20..=0x7e).contains(&b)) {
        return Err("only printable ASCII is allowed");
    }
    if value.starts_with(' ') || value.ends_with(' ') {
        return Err("leading or trailing blanks");
    }
    Ok(())
}

fn validate_client_id(value: &str) -> Result<(), &'static str> {
    validate_token_like(value, 255)
}

fn validate_key_id(value: &str) -> Result<(), &'static str> {
    validate_token_like(value, 255)
}

fn validate_jti(value: &str) -> Result<(), &'static str> {
    validate_token_like(value, 255)
}

/// `x-idempotency-key`: at most 40 characters, no leading or trailing blanks
/// (`^(?!\s)(.*)(\S)$` in the payments spec).
fn validate_idempotency_key(value: &str) -> Result<(), &'static str> {
    check_len(value, 1, crate::limits::IDEMPOTENCY_KEY_MAX_LEN)?;
    if value.starts_with(char::is_whitespace) || value.ends_with(char::is_whitespace) {
        return Err("leading or trailing blanks");
    }
    if value.chars().any(char::is_control) {
        return Err("control characters are not allowed");
    }
    Ok(())
}

/// Brand ids are short slugs used in keys and URLs: `^[a-z0-9][a-z0-9-]{0,62}$`.
fn validate_brand_id(value: &str) -> Result<(), &'static str> {
    check_len(value, 1, 63)?;
    let mut chars = value.chars();
    match chars.next() {
        Some(c) if c.is_ascii_lowercase() || c.is_ascii_digit() => {}
        _ => return Err("must start with a lower-case letter or digit"),
    }
    if chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-') {
        Ok(())
    } else {
        Err("only lower-case letters, digits and '-' are allowed")
    }
}

/// Data key ids appear inside sealed values: `^[A-Za-z0-9_-]{1,64}$`.
fn validate_data_key_id(value: &str) -> Result<(), &'static str> {
    check_len(value, 1, 64)?;
    if value
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        Ok(())
    } else {
        Err("only letters, digits, '-' and '_' are allowed")
    }
}

string_id!(
    /// A consent id in the OFB URN form, e.g. `urn:bancoex:C1DD33123`
    /// (consents 3.3.1 and payments 4.0.0 `consentId`; automatic payments
    /// `recurringConsentId`).
    ConsentId,
    "consent id",
    validate_urn
);

string_id!(
    /// A resource id as the OFB APIs define it (`^[a-zA-Z0-9][a-zA-Z0-9-]{0,99}$`):
    /// `accountId`, `creditCardAccountId`, `contractId` and so on. It must be
    /// stable and must not leak account numbers.
    ResourceId,
    "resource id",
    validate_resource_id
);

string_id!(
    /// A Pix payment id (`paymentId`, payments 4.0.0; same pattern as resource
    /// ids). It is never the `endToEndId`.
    PaymentId,
    "payment id",
    validate_resource_id
);

string_id!(
    /// An OAuth client id issued by our authorization server (RFC 6749 §2.2).
    ClientId,
    "client id",
    validate_client_id
);

string_id!(
    /// A JWK `kid` (RFC 7517 §4.5).
    KeyId,
    "key id",
    validate_key_id
);

string_id!(
    /// A JWT `jti` (RFC 7519 §4.1.7): client assertions, request objects and
    /// signed payment messages must not reuse one.
    Jti,
    "jti",
    validate_jti
);

string_id!(
    /// An `x-idempotency-key` header value (payments family; at most 40 characters).
    IdempotencyKey,
    "idempotency key",
    validate_idempotency_key
);

string_id!(
    /// A brand: one tenant of an institution, with its own issuer, keys and
    /// base URLs (a lower-case slug such as `banco-azul`).
    BrandId,
    "brand id",
    validate_brand_id
);

string_id!(
    /// The id of a data key used to seal data at rest.
    DataKeyId,
    "data key id",
    validate_data_key_id
);

impl DataKeyId {
    /// A new random data key id, `dk-` and 32 hex digits.
    pub(crate) fn random() -> Self {
        Self(format!("dk-{}", Uuid::new_v4().simple()))
    }
}

uuid_id!(
    /// A directory organisation id (the `OFBBR-` suffix in certificates; the
    /// `iss` of signed payment messages).
    OrganisationId,
    "organisation id"
);

uuid_id!(
    /// A directory software statement id (`software_id`; the `UID` of a
    /// transport certificate).
    SoftwareStatementId,
    "software statement id"
);

uuid_id!(
    /// A directory authorisation server id.
    AuthorisationServerId,
    "authorisation server id"
);

uuid_id!(
    /// An `x-fapi-interaction-id` (RFC 4122 UUID), echoed on every response and
    /// used to pair PCM reports.
    InteractionId,
    "x-fapi-interaction-id"
);

uuid_id!(
    /// The id of an outbox message: stable across redeliveries so receivers can
    /// de-duplicate.
    MessageId,
    "message id"
);

uuid_id!(
    /// The id of an authorization grant: everything issued from one
    /// authorization (code, tokens) shares it, so it can be revoked together.
    GrantId,
    "grant id"
);

uuid_id!(
    /// The id of a user interaction (login and consent screen) started by the
    /// authorization server.
    InteractionSessionId,
    "interaction session id"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn consent_id_follows_the_urn_pattern() {
        for ok in [
            "urn:bancoex:C1DD33123",
            "urn:a:b",
            "urn:banco-x:2b9d1c3e-7a1e-4c8f-9c39-21f8f1a0b7c4",
            "urn:x:a()+,-.:=@;$_!*'%/?#",
        ] {
            assert!(ConsentId::new(ok).is_ok(), "{ok}");
        }
        let long_nid = format!("urn:{}:x", "a".repeat(33));
        let too_long = format!("urn:bank:{}", "a".repeat(250));
        for bad in [
            "",
            "bancoex:C1",
            "urn::x",
            "urn:-bank:x",
            "urn:bank:",
            "urn:bank",
            "urn:ba_nk:x",
            "urn:bank:a b",
            "urn:bank:ç",
            long_nid.as_str(),
            too_long.as_str(),
        ] {
            assert!(ConsentId::new(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn resource_ids_and_brands() {
        assert!(ResourceId::new("291e5a29-49ed-401f-a583-193caa7aceee").is_ok());
        assert!(ResourceId::new("-abc").is_err());
        assert!(ResourceId::new("a".repeat(101)).is_err());
        assert!(BrandId::new("banco-azul").is_ok());
        assert!(BrandId::new("Banco").is_err());
    }

    #[test]
    fn idempotency_key_rules() {
        assert!(IdempotencyKey::new("abc-123").is_ok());
        assert!(IdempotencyKey::new(" abc").is_err());
        assert!(IdempotencyKey::new("abc ").is_err());
        assert!(IdempotencyKey::new("a".repeat(41)).is_err());
        assert!(IdempotencyKey::new("a".repeat(40)).is_ok());
    }

    #[test]
    fn uuids_only_in_hyphenated_form() {
        let id = InteractionId::parse("D8B3A2C4-1F2E-4A5B-9C8D-7E6F5A4B3C2D").unwrap();
        assert_eq!(id.to_string(), "d8b3a2c4-1f2e-4a5b-9c8d-7e6f5a4b3c2d");
        assert!(InteractionId::parse("d8b3a2c41f2e4a5b9c8d7e6f5a4b3c2d").is_err());
        assert!(InteractionId::parse("{d8b3a2c4-1f2e-4a5b-9c8d-7e6f5a4b3c2d}").is_err());
        assert!(InteractionId::parse("urn:uuid:d8b3a2c4-1f2e-4a5b-9c8d-7e6f5a4b3c2d").is_err());
    }

    #[test]
    fn serde_validates() {
        let ok: ConsentId = serde_json::from_str("\"urn:bancoex:C1DD33123\"").unwrap();
        assert_eq!(
            serde_json::to_string(&ok).unwrap(),
            "\"urn:bancoex:C1DD33123\""
        );
        assert!(serde_json::from_str::<ConsentId>("\"not-a-urn\"").is_err());
        assert!(serde_json::from_str::<OrganisationId>("\"nope\"").is_err());
    }

    #[test]
    fn errors_never_echo_the_value() {
        let err = ConsentId::new("secret-value").unwrap_err();
        assert!(!err.to_string().contains("secret-value"));
    }
}
