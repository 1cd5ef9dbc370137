//! Distinguished names, compared structurally.
//!
//! A registered `tls_client_auth_subject_dn` (RFC 4514 text) is never
//! compared with a certificate's subject as a string: directory and
//! certificate differ in RDN order, attribute names versus dotted OIDs,
//! `#hex` DER values, ASN.1 string types (PrintableString versus
//! UTF8String) and escaping (FAPI-BR §4.4). Both sides are parsed into sets
//! of (OID, value) and compared:
//!
//! * RDN order does not matter, nor AVA order inside a multi-valued RDN;
//! * attribute names and their OIDs are the same attribute;
//! * string values are compared after decoding (whatever their ASN.1 type),
//!   trimming, folding runs of spaces and case (X.520 `caseIgnoreMatch`);
//! * non-string values are compared as DER bytes;
//! * any other difference — a value, a missing or extra attribute, one RDN
//!   with two values versus two RDNs — is a mismatch.

use std::fmt;

use x509_parser::x509::X509Name;

/// Why a DN could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DnError {
    /// Empty input, an attribute without `=`, an empty type.
    #[error("malformed distinguished name")]
    Malformed,
    /// An attribute name that is neither known nor a dotted OID.
    #[error("unknown attribute type")]
    UnknownAttribute,
    /// A bad escape, bad `#hex` or invalid UTF-8.
    #[error("malformed attribute value")]
    BadValue,
}

/// Short names this parser knows, with their OIDs (RFC 4514 §3, RFC 4519,
/// and the EV / eIDAS names ICP-Brasil certificates use).
const NAMES: &[(&str, &str)] = &[
    ("cn", "2.5.4.3"),
    ("commonname", "2.5.4.3"),
    ("sn", "2.5.4.4"),
    ("surname", "2.5.4.4"),
    ("serialnumber", "2.5.4.5"),
    ("c", "2.5.4.6"),
    ("countryname", "2.5.4.6"),
    ("l", "2.5.4.7"),
    ("localityname", "2.5.4.7"),
    ("st", "2.5.4.8"),
    ("stateorprovincename", "2.5.4.8"),
    ("street", "2.5.4.9"),
    ("o", "2.5.4.10"),
    ("organizationname", "2.5.4.10"),
    ("ou", "2.5.4.11"),
    ("organizationalunitname", "2.5.4.11"),
    ("title", "2.5.4.12"),
    ("businesscategory", "2.5.4.15"),
    ("postalcode", "2.5.4.17"),
    ("givenname", "2.5.4.42"),
    ("organizationidentifier", "2.5.4.97"),
    ("uid", "0.9.2342.19200300.100.1.1"),
    ("userid", "0.9.2342.19200300.100.1.1"),
    ("dc", "0.9.2342.19200300.100.1.25"),
    ("emailaddress", "1.2.840.113549.1.9.1"),
    ("jurisdictionl", "1.3.6.1.4.1.311.60.2.1.1"),
    ("jurisdictionlocalityname", "1.3.6.1.4.1.311.60.2.1.1"),
    ("jurisdictionst", "1.3.6.1.4.1.311.60.2.1.2"),
    (
        "jurisdictionstateorprovincename",
        "1.3.6.1.4.1.311.60.2.1.2",
    ),
    ("jurisdictionc", "1.3.6.1.4.1.311.60.2.1.3"),
    ("jurisdictioncountryname", "1.3.6.1.4.1.311.60.2.1.3"),
];

/// An attribute value after decoding.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Value {
    /// A string (any ASN.1 string type), normalised for comparison.
    Text(String),
    /// Anything else, as DER.
    Der(Vec<u8>),
}

/// One attribute of an RDN.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
struct Ava {
    oid: String,
    value: Value,
}

/// A parsed distinguished name.
#[derive(Clone, PartialEq, Eq)]
pub struct DistinguishedName {
    /// Each RDN as a sorted list of AVAs.
    rdns: Vec<Vec<Ava>>,
}

impl fmt::Debug for DistinguishedName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DistinguishedName({} RDNs)", self.rdns.len())
    }
}

impl DistinguishedName {
    /// Parses an RFC 4514 string (white space around separators tolerated).
    ///
    /// # Errors
    /// [`DnError`] for malformed input.
    pub fn parse_rfc4514(input: &str) -> Result<Self, DnError> {
        if input.trim().is_empty() {
            return Err(DnError::Malformed);
        }
        let mut rdns = Vec::new();
        for rdn in split_unescaped(input, ',')? {
            let mut avas = Vec::new();
            for ava in split_unescaped(&rdn, '+')? {
                avas.push(parse_ava(&ava)?);
            }
            avas.sort();
            rdns.push(avas);
        }
        Ok(Self { rdns })
    }

    /// The name as it appears in a certificate.
    ///
    /// # Errors
    /// [`DnError::BadValue`] for a string value that does not decode.
    pub fn from_x509_name(name: &X509Name<'_>) -> Result<Self, DnError> {
        let mut rdns = Vec::new();
        for rdn in name.iter() {
            let mut avas = Vec::new();
            for attr in rdn.iter() {
                let any = attr.attr_value();
                let tag = any.header.tag().0;
                let value = match decode_string(tag, any.data) {
                    Some(text) => Value::Text(normalise(&text)),
                    None if is_string_tag(tag) => return Err(DnError::BadValue),
                    None => Value::Der(der_of(tag, any.data)),
                };
                avas.push(Ava {
                    oid: attr.attr_type().to_id_string(),
                    value,
                });
            }
            avas.sort();
            rdns.push(avas);
        }
        Ok(Self { rdns })
    }

    /// Whether two names are the same name (see the module documentation).
    pub fn matches(&self, other: &DistinguishedName) -> bool {
        let mut a = self.rdns.clone();
        let mut b = other.rdns.clone();
        a.sort();
        b.sort();
        a == b
    }

    /// The first value of the attribute `oid`, if it is a string.
    pub fn text_value(&self, oid: &str) -> Option<&str> {
        self.rdns.iter().flatten().find_map(|ava| match &ava.value {
            Value::Text(t) if ava.oid == oid => Some(t.as_str()),
            _ => None,
        })
    }
}

fn is_string_tag(tag: u32) -> bool {
    matches!(tag, 0x0c | 0x13 | 0x14 | 0x16 | 0x1c | 0x1e | 0x12 | 0x1a)
}

/// Decodes an ASN.1 string value by its tag.
fn decode_string(tag: u32, bytes: &[u8]) -> Option<String> {
    match tag {
        // UTF8String
        0x0c => String::from_utf8(bytes.to_vec()).ok(),
        // PrintableString, IA5String, NumericString, VisibleString
        0x13 | 0x16 | 0x12 | 0x1a => bytes
            .is_ascii()
            .then(|| String::from_utf8_lossy(bytes).into_owned()),
        // TeletexString: read as Latin-1, as deployed CAs use it.
        0x14 => Some(bytes.iter().map(|b| char::from(*b)).collect()),
        // BMPString: UTF-16BE.
        0x1e => {
            if !bytes.len().is_multiple_of(2) {
                return None;
            }
            let units: Vec<u16> = bytes
                .chunks(2)
                .map(|c| u16::from_be_bytes([c[0], c[1]]))
                .collect();
            String::from_utf16(&units).ok()
        }
        // UniversalString: UTF-32BE.
        0x1c => {
            if !bytes.len().is_multiple_of(4) {
                return None;
            }
            bytes
                .chunks(4)
                .map(|c| char::from_u32(u32::from_be_bytes([c[0], c[1], c[2], c[3]])))
                .collect()
        }
        _ => None,
    }
}

fn der_of(tag: u32, content: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(content.len() + 4);
    out.push(u8::try_from(tag).unwrap_or(0));
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|b| **b == 0).count();
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
    out.extend_from_slice(content);
    out
}

/// Trim, fold runs of white space, fold case.
fn normalise(value: &str) -> String {
    value
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// Splits at `sep` characters that are not escaped with `\`.
fn split_unescaped(input: &str, sep: char) -> Result<Vec<String>, DnError> {
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut chars = input.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            let next = chars.next().ok_or(DnError::BadValue)?;
            current.push(c);
            current.push(next);
        } else if c == sep {
            parts.push(std::mem::take(&mut current));
        } else {
            current.push(c);
        }
    }
    parts.push(current);
    if parts.iter().any(|p| p.trim().is_empty()) {
        return Err(DnError::Malformed);
    }
    Ok(parts)
}

fn parse_ava(input: &str) -> Result<Ava, DnError> {
    let (name, value) = input.split_once('=').ok_or(DnError::Malformed)?;
    let name = name.trim();
    if name.is_empty() {
        return Err(DnError::Malformed);
    }
    let oid = attribute_oid(name)?;
    let value = value.trim_start();
    let value = if let Some(hex) = value.strip_prefix('#') {
        let der = decode_hex(hex.trim_end())?;
        let (tag, content) = split_der(&der).ok_or(DnError::BadValue)?;
        match decode_string(tag, content) {
            Some(text) => Value::Text(normalise(&text)),
            None if is_string_tag(tag) => return Err(DnError::BadValue),
            None => Value::Der(der),
        }
    } else {
        Value::Text(normalise(&unescape(value)?))
    };
    Ok(Ava { oid, value })
}

fn attribute_oid(name: &str) -> Result<String, DnError> {
    let lower = name.to_ascii_lowercase();
    let dotted = lower.strip_prefix("oid.").unwrap_or(&lower);
    if dotted.split('.').count() >= 2
        && dotted
            .split('.')
            .all(|arc| !arc.is_empty() && arc.bytes().all(|b| b.is_ascii_digit()))
    {
        return Ok(dotted.to_owned());
    }
    NAMES
        .iter()
        .find(|(short, _)| *short == lower)
        .map(|(_, oid)| (*oid).to_owned())
        .ok_or(DnError::UnknownAttribute)
}

fn decode_hex(hex: &str) -> Result<Vec<u8>, DnError> {
    if hex.is_empty() || !hex.len().is_multiple_of(2) {
        return Err(DnError::BadValue);
    }
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).map_err(|_| DnError::BadValue))
        .collect()
}

/// Tag and content of a single short-form or long-form DER TLV.
fn split_der(der: &[u8]) -> Option<(u32, &[u8])> {
    let (&tag, rest) = der.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let len = rest[..n]
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
        (len, &rest[n..])
    };
    (rest.len() == len).then_some((u32::from(tag), rest))
}

/// RFC 4514 §3 value unescaping: `\` + special character, or `\` + two hex
/// digits (bytes of UTF-8).
fn unescape(value: &str) -> Result<String, DnError> {
    let mut bytes = Vec::with_capacity(value.len());
    let raw = value.as_bytes();
    let mut i = 0;
    while i < raw.len() {
        if raw[i] == b'\\' {
            let next = *raw.get(i + 1).ok_or(DnError::BadValue)?;
            if next.is_ascii_hexdigit() {
                let pair = std::str::from_utf8(raw.get(i + 1..i + 3).ok_or(DnError::BadValue)?)
                    .map_err(|_| DnError::BadValue)?;
                bytes.push(u8::from_str_radix(pair, 16).map_err(|_| DnError::BadValue)?);
                i += 3;
            } else if b" \"#+,;<=>\\".contains(&next) {
                bytes.push(next);
                i += 2;
            } else {
                return Err(DnError::BadValue);
            }
        } else {
            bytes.push(raw[i]);
            i += 1;
        }
    }
    String::from_utf8(bytes).map_err(|_| DnError::BadValue)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dn(s: &str) -> DistinguishedName {
        DistinguishedName::parse_rfc4514(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn parses_and_compares_strings() {
        assert!(dn("CN=a+UID=b,O=x").matches(&dn("o=X, uid=b+cn=A")));
        assert!(
            !dn("CN=a+UID=b,O=x").matches(&dn("CN=a,UID=b,O=x")),
            "one RDN with two values is not two RDNs"
        );
        assert!(dn("L=S\\C3\\A3o Paulo").matches(&dn("L=São Paulo")));
        assert!(dn("O=Empresa\\, Ltda").matches(&dn("O=#0c0d456d70726573612c204c746461")));
        assert!(dn("2.5.4.3=x").matches(&dn("OID.2.5.4.3=x")));
        assert!(dn("CN=  many   spaces ").matches(&dn("CN=many spaces")));
    }

    #[test]
    fn refuses_malformed_input() {
        for bad in [
            "",
            "CN",
            "=x",
            "CN=a,",
            ",CN=a",
            "CN=a\\",
            "CN=#zz",
            "CN=#0c05ab",
            "XYZ=a",
            "CN=a\\q",
            "1.=x",
        ] {
            assert!(DistinguishedName::parse_rfc4514(bad).is_err(), "{bad:?}");
        }
    }
}
