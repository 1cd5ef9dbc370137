//! JOSE headers, parsed strictly.
//!
//! * The header must be a JSON object with no duplicate member names
//!   (RFC 7515 §4: a parser must reject duplicates or use the last one; we
//!   reject, so two parsers can never disagree about `alg`).
//! * `crit` must list only extensions this implementation understands —
//!   none — so any `crit` is refused (RFC 7515 §4.1.11), as is an empty one.
//! * `jwk`, `jku`, `x5u` and `x5c` are refused: keys come from a trusted
//!   source, never from the message.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde_json::Value;

/// Why a header was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HeaderError {
    /// Not base64url, not JSON, not an object, or a member has the wrong type.
    #[error("malformed JOSE header")]
    Malformed,
    /// A member name appears twice.
    #[error("duplicate member in JOSE header")]
    DuplicateMember,
    /// `crit` names an extension this implementation does not process.
    #[error("unsupported critical header extension")]
    UnsupportedCritical,
    /// The header carries a key or key reference (`jwk`, `jku`, `x5u`, `x5c`).
    #[error("keys embedded in the header are not accepted")]
    EmbeddedKey,
}

/// A parsed, checked JOSE header.
#[derive(Debug, Clone, PartialEq)]
pub struct JoseHeader {
    members: BTreeMap<String, Value>,
}

impl JoseHeader {
    /// Parses the JSON text of a protected header.
    ///
    /// # Errors
    /// [`HeaderError`] as described in the module documentation.
    pub fn parse(json: &[u8]) -> Result<Self, HeaderError> {
        let mut de = serde_json::Deserializer::from_slice(json);
        let members = de
            .deserialize_map(StrictObject)
            .map_err(|e| {
                if e.to_string().starts_with(DUPLICATE) {
                    HeaderError::DuplicateMember
                } else {
                    HeaderError::Malformed
                }
            })?
            .0;
        de.end().map_err(|_| HeaderError::Malformed)?;
        let header = Self { members };
        for embedded in ["jwk", "jku", "x5u", "x5c"] {
            if header.members.contains_key(embedded) {
                return Err(HeaderError::EmbeddedKey);
            }
        }
        if header.members.contains_key("crit") {
            // No extension is understood, so any crit (even a well-formed one) is refused.
            return Err(HeaderError::UnsupportedCritical);
        }
        for name in ["alg", "kid", "typ", "cty", "enc", "zip"] {
            if header.members.get(name).is_some_and(|v| !v.is_string()) {
                return Err(HeaderError::Malformed);
            }
        }
        if header.alg().is_none() {
            return Err(HeaderError::Malformed);
        }
        Ok(header)
    }

    /// `alg`.
    pub fn alg(&self) -> Option<&str> {
        self.str("alg")
    }

    /// `kid`.
    pub fn kid(&self) -> Option<&str> {
        self.str("kid")
    }

    /// `typ`.
    pub fn typ(&self) -> Option<&str> {
        self.str("typ")
    }

    /// `cty`.
    pub fn cty(&self) -> Option<&str> {
        self.str("cty")
    }

    /// `enc` (JWE).
    pub fn enc(&self) -> Option<&str> {
        self.str("enc")
    }

    /// `zip` (JWE).
    pub fn zip(&self) -> Option<&str> {
        self.str("zip")
    }

    /// Any member.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.members.get(name)
    }

    fn str(&self, name: &str) -> Option<&str> {
        self.members.get(name).and_then(Value::as_str)
    }
}

/// Whether a `typ` value names `expected`, per RFC 7515 §4.1.9: compared
/// case-insensitively, with an omitted `application/` prefix allowed.
pub fn typ_matches(typ: &str, expected: &str) -> bool {
    let strip = |t: &str| {
        let lower = t.to_ascii_lowercase();
        lower
            .strip_prefix("application/")
            .map(str::to_owned)
            .unwrap_or(lower)
    };
    strip(typ) == strip(expected)
}

const DUPLICATE: &str = "duplicate member";

/// A JSON object whose member names are unique.
pub(crate) struct StrictObject;

/// The members of a [`StrictObject`].
pub(crate) struct Members(pub(crate) BTreeMap<String, Value>);

impl<'de> Visitor<'de> for StrictObject {
    type Value = Members;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object with unique member names")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Members, A::Error> {
        let mut members = BTreeMap::new();
        while let Some((key, value)) = map.next_entry::<String, Value>()? {
            if members.insert(key, value).is_some() {
                return Err(de::Error::custom(DUPLICATE));
            }
        }
        Ok(Members(members))
    }
}

/// Parses a JSON object, refusing duplicate member names at the top level.
pub(crate) fn parse_strict_object(json: &[u8]) -> Option<BTreeMap<String, Value>> {
    let mut de = serde_json::Deserializer::from_slice(json);
    let members = de.deserialize_map(StrictObject).ok()?.0;
    de.end().ok()?;
    Some(members)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strict_parsing() {
        let ok = JoseHeader::parse(br#"{"alg":"PS256","kid":"k1","typ":"JWT"}"#).unwrap();
        assert_eq!(
            (ok.alg(), ok.kid(), ok.typ()),
            (Some("PS256"), Some("k1"), Some("JWT"))
        );
        let cases: [(&[u8], HeaderError); 9] = [
            (
                br#"{"alg":"PS256","alg":"none"}"#,
                HeaderError::DuplicateMember,
            ),
            (
                br#"{"alg":"PS256","crit":["b64"],"b64":false}"#,
                HeaderError::UnsupportedCritical,
            ),
            (
                br#"{"alg":"PS256","crit":[]}"#,
                HeaderError::UnsupportedCritical,
            ),
            (
                br#"{"alg":"PS256","jwk":{"kty":"RSA"}}"#,
                HeaderError::EmbeddedKey,
            ),
            (
                br#"{"alg":"PS256","x5c":["MII"]}"#,
                HeaderError::EmbeddedKey,
            ),
            (br#"{"alg":1}"#, HeaderError::Malformed),
            (br#"{"kid":"k"}"#, HeaderError::Malformed),
            (br#"["alg","PS256"]"#, HeaderError::Malformed),
            (br#"{"alg":"PS256"} x"#, HeaderError::Malformed),
        ];
        for (json, expected) in cases {
            assert_eq!(
                JoseHeader::parse(json),
                Err(expected),
                "{}",
                String::from_utf8_lossy(json)
            );
        }
    }

    #[test]
    fn typ_comparison() {
        assert!(typ_matches("JWT", "JWT"));
        assert!(typ_matches("jwt", "JWT"));
        assert!(typ_matches("application/jwt", "JWT"));
        assert!(typ_matches(
            "oauth-authz-req+jwt",
            "application/oauth-authz-req+jwt"
        ));
        assert!(!typ_matches("at+jwt", "JWT"));
    }
}
