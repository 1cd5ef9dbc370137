//! Brazilian person documents: CPF (natural persons) and CNPJ (legal entities).
//!
//! Both validate their check digits. The CNPJ follows the alphanumeric
//! format (RFB Normative Instruction 2.229/2024, in force from July 2026),
//! which the OFB specs already require (`^[0-9A-Z]{12}[0-9]{2}$`); all-numeric
//! CNPJs are a special case of it.
//!
//! # Security
//! Documents are personal data. Their `Debug` output is redacted and they do
//! not implement `Display`; read the value explicitly with `as_str` when it
//! must go on the wire, and seal it before storage (see [`crate::seal`]).

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::id::InvalidValue;

/// A CPF: 11 digits, the last two being check digits.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Cpf(String);

impl Cpf {
    /// Parses a CPF given as 11 digits or in the `000.000.000-00` mask.
    ///
    /// # Errors
    /// [`InvalidValue`] for a wrong length, non-digits, wrong check digits or
    /// a repeated-digit number (such as `111.111.111-11`), which the Receita
    /// Federal never issues.
    pub fn parse(value: &str) -> Result<Self, InvalidValue> {
        let digits = strip_mask(value, &[(3, '.'), (7, '.'), (11, '-')], 14).ok_or(
            InvalidValue::new("CPF", "not 11 digits or the 000.000.000-00 mask"),
        )?;
        if digits.len() != 11 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(InvalidValue::new("CPF", "must be 11 digits"));
        }
        let values: Vec<u32> = digits.bytes().map(|b| u32::from(b - b'0')).collect();
        if values.iter().all(|d| *d == values[0]) {
            return Err(InvalidValue::new("CPF", "repeated digits"));
        }
        let dv1 = mod11_digit(&values[..9], &[10, 9, 8, 7, 6, 5, 4, 3, 2]);
        let dv2 = mod11_digit(&values[..10], &[11, 10, 9, 8, 7, 6, 5, 4, 3, 2]);
        if values[9] != dv1 || values[10] != dv2 {
            return Err(InvalidValue::new("CPF", "wrong check digits"));
        }
        Ok(Self(digits))
    }

    /// The 11 digits, as the OFB APIs carry it.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The CPF in its display mask, `000.000.000-00`.
    pub fn formatted(&self) -> String {
        let d = &self.0;
        format!("{}.{}.{}-{}", &d[0..3], &d[3..6], &d[6..9], &d[9..11])
    }
}

/// A CNPJ: 12 alphanumeric characters (`0-9`, `A-Z`) and 2 check digits.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Cnpj(String);

impl Cnpj {
    /// Parses a CNPJ given as 14 characters or in the `00.000.000/0000-00` mask.
    /// Letters must be upper case, as the OFB pattern requires.
    ///
    /// # Errors
    /// [`InvalidValue`] for a wrong length or alphabet, wrong check digits, or
    /// an all-zero base.
    pub fn parse(value: &str) -> Result<Self, InvalidValue> {
        let chars = strip_mask(value, &[(2, '.'), (6, '.'), (10, '/'), (15, '-')], 18).ok_or(
            InvalidValue::new("CNPJ", "not 14 characters or the 00.000.000/0000-00 mask"),
        )?;
        let bytes = chars.as_bytes();
        if bytes.len() != 14
            || !bytes[..12]
                .iter()
                .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase())
            || !bytes[12..].iter().all(u8::is_ascii_digit)
        {
            return Err(InvalidValue::new(
                "CNPJ",
                "must be 12 characters 0-9/A-Z and 2 digits",
            ));
        }
        // RFB IN 2.229/2024: each character counts as its ASCII code minus 48.
        let values: Vec<u32> = bytes.iter().map(|b| u32::from(*b) - 48).collect();
        if values[..12].iter().all(|v| *v == 0) {
            return Err(InvalidValue::new("CNPJ", "all-zero base"));
        }
        let dv1 = mod11_digit(&values[..12], &[5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2]);
        let dv2 = mod11_digit(&values[..13], &[6, 5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2]);
        if values[12] != dv1 || values[13] != dv2 {
            return Err(InvalidValue::new("CNPJ", "wrong check digits"));
        }
        Ok(Self(chars))
    }

    /// The 14 characters, as the OFB APIs carry it.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The first eight characters: the root that identifies the company
    /// across its branches.
    pub fn root(&self) -> &str {
        &self.0[..8]
    }

    /// The CNPJ in its display mask, `00.000.000/0000-00`.
    pub fn formatted(&self) -> String {
        let d = &self.0;
        format!(
            "{}.{}.{}/{}-{}",
            &d[0..2],
            &d[2..5],
            &d[5..8],
            &d[8..12],
            &d[12..14]
        )
    }
}

/// The modulo-11 check digit: `r = Σ vᵢ·wᵢ mod 11`, digit `0` when `r < 2`, else `11 − r`.
fn mod11_digit(values: &[u32], weights: &[u32]) -> u32 {
    let sum: u32 = values.iter().zip(weights).map(|(v, w)| v * w).sum();
    match sum % 11 {
        r if r < 2 => 0,
        r => 11 - r,
    }
}

/// Accepts either the bare value or the full mask (separators at the given
/// positions, total length `masked_len`), and returns the bare value.
fn strip_mask(value: &str, separators: &[(usize, char)], masked_len: usize) -> Option<String> {
    if !value.is_ascii() {
        return None;
    }
    if value.len() != masked_len {
        return (!value.contains(['.', '/', '-'])).then(|| value.to_owned());
    }
    let mut out = String::with_capacity(value.len());
    for (i, c) in value.chars().enumerate() {
        match separators.iter().find(|(pos, _)| *pos == i) {
            Some((_, sep)) if *sep == c => {}
            Some(_) => return None,
            None => out.push(c),
        }
    }
    Some(out)
}

macro_rules! redacted_debug {
    ($name:ident, $keep:expr) => {
        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                // Only the check digits are shown, enough to tell two values apart in a log.
                let tail = &self.0[self.0.len() - $keep..];
                write!(f, "{}(***{})", stringify!($name), tail)
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
                value.0
            }
        }
    };
}

redacted_debug!(Cpf, 2);
redacted_debug!(Cnpj, 2);

/// The kind of a document, as the OFB `rel` field names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum DocumentKind {
    /// A CPF.
    #[serde(rename = "CPF")]
    Cpf,
    /// A CNPJ.
    #[serde(rename = "CNPJ")]
    Cnpj,
}

/// A CPF or a CNPJ, serialised as the OFB `document` object
/// `{"identification": "...", "rel": "CPF" | "CNPJ"}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "DocumentWire", into = "DocumentWire")]
#[non_exhaustive]
pub enum Document {
    /// A natural person.
    Cpf(Cpf),
    /// A legal entity.
    Cnpj(Cnpj),
}

impl Document {
    /// Which kind of document this is.
    pub fn kind(&self) -> DocumentKind {
        match self {
            Self::Cpf(_) => DocumentKind::Cpf,
            Self::Cnpj(_) => DocumentKind::Cnpj,
        }
    }

    /// The bare value (11 digits or 14 characters).
    pub fn identification(&self) -> &str {
        match self {
            Self::Cpf(cpf) => cpf.as_str(),
            Self::Cnpj(cnpj) => cnpj.as_str(),
        }
    }
}

impl From<Cpf> for Document {
    fn from(value: Cpf) -> Self {
        Self::Cpf(value)
    }
}

impl From<Cnpj> for Document {
    fn from(value: Cnpj) -> Self {
        Self::Cnpj(value)
    }
}

#[derive(Serialize, Deserialize)]
struct DocumentWire {
    identification: String,
    rel: DocumentKind,
}

impl TryFrom<DocumentWire> for Document {
    type Error = InvalidValue;
    fn try_from(wire: DocumentWire) -> Result<Self, Self::Error> {
        match wire.rel {
            DocumentKind::Cpf => Cpf::parse(&wire.identification).map(Self::Cpf),
            DocumentKind::Cnpj => Cnpj::parse(&wire.identification).map(Self::Cnpj),
        }
    }
}

impl From<Document> for DocumentWire {
    fn from(doc: Document) -> Self {
        let rel = doc.kind();
        let identification = match doc {
            Document::Cpf(cpf) => cpf.0,
            Document::Cnpj(cnpj) => cnpj.0,
        };
        Self {
            identification,
            rel,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn valid_cpfs() {
        for ok in [
            "52998224725",
            "529.982.247-25",
            "11144477735",
            "00000000191",
        ] {
            assert!(Cpf::parse(ok).is_ok(), "{ok}");
        }
        assert_eq!(
            Cpf::parse("52998224725").unwrap().formatted(),
            "529.982.247-25"
        );
        assert_eq!(
            Cpf::parse("529.982.247-25").unwrap().as_str(),
            "52998224725"
        );
    }

    #[test]
    fn invalid_cpfs() {
        for bad in [
            "52998224724",    // second check digit off by one
            "52998224715",    // first check digit off by one
            "11111111111",    // repeated digits pass the arithmetic but are never issued
            "5299822472",     // 10 digits
            "529982247250",   // 12 digits
            "529.982.247.25", // wrong separator
            "529982.247-25",  // partial mask
            "5299822472a",
            "",
            "٥٢٩٩٨٢٢٤٧٢٥", // non-ASCII digits
        ] {
            assert!(Cpf::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn valid_cnpjs_numeric_and_alphanumeric() {
        for ok in [
            "11222333000181",
            "11.222.333/0001-81",
            // The example published by the Receita Federal for the alphanumeric CNPJ.
            "12ABC34501DE35",
            "12.ABC.345/01DE-35",
        ] {
            assert!(Cnpj::parse(ok).is_ok(), "{ok}");
        }
        let cnpj = Cnpj::parse("12ABC34501DE35").unwrap();
        assert_eq!(cnpj.formatted(), "12.ABC.345/01DE-35");
        assert_eq!(cnpj.root(), "12ABC345");
    }

    #[test]
    fn invalid_cnpjs() {
        for bad in [
            "11222333000182",     // wrong second digit
            "11222333000191",     // wrong first digit
            "12ABC34501DE36",     // alphanumeric, wrong digit
            "12abc34501de35",     // lower case is outside the OFB pattern
            "12ABC34501DE3A",     // letters in the check digits
            "00000000000000",     // all-zero base
            "1122233300018",      // 13 characters
            "11.222.333.0001-81", // wrong separator
            "",
        ] {
            assert!(Cnpj::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn debug_is_redacted() {
        let cpf = Cpf::parse("52998224725").unwrap();
        let shown = format!("{cpf:?}");
        assert!(!shown.contains("529982"), "{shown}");
        let doc = Document::from(Cnpj::parse("11222333000181").unwrap());
        assert!(!format!("{doc:?}").contains("11222333"));
    }

    #[test]
    fn document_wire_form() {
        let doc: Document =
            serde_json::from_str(r#"{"identification":"11144477735","rel":"CPF"}"#).unwrap();
        assert_eq!(doc.kind(), DocumentKind::Cpf);
        assert_eq!(
            serde_json::to_string(&doc).unwrap(),
            r#"{"identification":"11144477735","rel":"CPF"}"#
        );
        assert!(
            serde_json::from_str::<Document>(r#"{"identification":"11144477735","rel":"CNPJ"}"#)
                .is_err()
        );
    }

    fn cpf_with_digits(base: [u32; 9]) -> String {
        let dv1 = mod11_digit(&base, &[10, 9, 8, 7, 6, 5, 4, 3, 2]);
        let mut ten = base.to_vec();
        ten.push(dv1);
        let dv2 = mod11_digit(&ten, &[11, 10, 9, 8, 7, 6, 5, 4, 3, 2]);
        ten.push(dv2);
        ten.iter()
            .map(|d| char::from_digit(*d, 10).unwrap())
            .collect()
    }

    proptest! {
        #[test]
        fn any_cpf_with_computed_digits_parses_and_a_wrong_check_digit_does_not(
            base in proptest::array::uniform9(0u32..10),
            pos in 9usize..11,
            delta in 1u32..10,
        ) {
            prop_assume!(base.iter().any(|d| *d != base[0]));
            let cpf = cpf_with_digits(base);
            let parsed = Cpf::parse(&cpf);
            prop_assert!(parsed.is_ok());
            prop_assert_eq!(Cpf::parse(&parsed.unwrap().formatted()).map(|c| c.0), Ok(cpf.clone()));
            let mut digits: Vec<u32> = cpf.chars().map(|c| c.to_digit(10).unwrap()).collect();
            digits[pos] = (digits[pos] + delta) % 10;
            let changed: String = digits.iter().map(|d| char::from_digit(*d, 10).unwrap()).collect();
            // A wrong check digit is always refused. (A change in the base can go
            // unnoticed when the sum moves between remainders 0 and 1, which both
            // give the digit 0: the scheme is a checksum, not an authenticator.)
            prop_assert!(Cpf::parse(&changed).is_err());
        }
    }
}
