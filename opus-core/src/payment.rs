//! Payment vocabulary (payments 4.0.0).

use serde::{Deserialize, Serialize};

/// The status of a Pix payment (`EnumPaymentStatusType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
#[non_exhaustive]
pub enum PaymentStatus {
    /// Received; more validation pending.
    Rcvd,
    /// Held for analysis.
    Pdng,
    /// Scheduled for a future date.
    Schd,
    /// All checks passed; ready for settlement.
    Accp,
    /// Sent to settlement; outcome unknown.
    Acpd,
    /// Settled (debited).
    Acsc,
    /// Rejected by the holder or the SPI.
    Rjct,
    /// Cancelled by the payer.
    Canc,
}

impl PaymentStatus {
    /// The spec's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Rcvd => "RCVD",
            Self::Pdng => "PDNG",
            Self::Schd => "SCHD",
            Self::Accp => "ACCP",
            Self::Acpd => "ACPD",
            Self::Acsc => "ACSC",
            Self::Rjct => "RJCT",
            Self::Canc => "CANC",
        }
    }

    /// Whether the status is final (ACSC, RJCT, CANC).
    pub fn is_terminal(self) -> bool {
        matches!(self, Self::Acsc | Self::Rjct | Self::Canc)
    }

    /// Whether the payer may still cancel (only from SCHD or PDNG).
    pub fn is_cancellable(self) -> bool {
        matches!(self, Self::Schd | Self::Pdng)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spelling_and_terminal_states() {
        assert_eq!(
            serde_json::to_string(&PaymentStatus::Acsc).unwrap(),
            "\"ACSC\""
        );
        let all = [
            PaymentStatus::Rcvd,
            PaymentStatus::Pdng,
            PaymentStatus::Schd,
            PaymentStatus::Accp,
            PaymentStatus::Acpd,
            PaymentStatus::Acsc,
            PaymentStatus::Rjct,
            PaymentStatus::Canc,
        ];
        for s in all {
            assert_eq!(
                serde_json::to_string(&s).unwrap(),
                format!("\"{}\"", s.as_str())
            );
        }
        let terminal: Vec<_> = all
            .iter()
            .filter(|s| s.is_terminal())
            .map(|s| s.as_str())
            .collect();
        assert_eq!(terminal, ["ACSC", "RJCT", "CANC"]);
    }
}

/// A Pix QR code payload (BR Code, EMV® QRCPS merchant-presented mode),
/// as `qrCode` carries it for `QRES` (static) and `QRDN` (dynamic).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrCode {
    /// Tag 01 `12`: a dynamic code (a single use, data behind a URL).
    pub dynamic: bool,
    /// Tag 26.01: the Pix key (static codes).
    pub key: Option<String>,
    /// Tag 26.25: the payload location (dynamic codes).
    pub url: Option<String>,
    /// Tag 54: the amount, when the code fixes one.
    pub amount: Option<String>,
    /// Tag 59: the merchant name.
    pub merchant_name: String,
    /// Tag 60: the merchant city.
    pub merchant_city: String,
    /// Tag 62.05: the transaction id (`***` when none).
    pub txid: Option<String>,
}

/// Why a QR code payload was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BrCodeError {
    /// Not a well-formed sequence of ID/length/value fields.
    #[error("malformed EMV payload")]
    Malformed,
    /// The CRC (tag 63) does not match the payload.
    #[error("CRC mismatch")]
    Crc,
    /// A field Pix requires is missing or wrong (format indicator, GUI,
    /// currency 986, country BR, name, city).
    #[error("not a Pix QR code")]
    NotPix,
}

/// CRC-16/CCITT-FALSE (polynomial 0x1021, initial 0xFFFF), as BR Code uses.
pub fn crc16_ccitt(data: &[u8]) -> u16 {
    let mut crc: u16 = 0xFFFF;
    for byte in data {
        crc ^= u16::from(*byte) << 8;
        for _ in 0..8 {
            crc = if crc & 0x8000 != 0 {
                (crc << 1) ^ 0x1021
            } else {
                crc << 1
            };
        }
    }
    crc
}

/// The ID/length/value fields of an EMV payload, in order.
fn emv_fields(payload: &str) -> Result<Vec<(&str, &str)>, BrCodeError> {
    let mut out = Vec::new();
    let mut rest = payload;
    while !rest.is_empty() {
        let id = rest.get(..2).ok_or(BrCodeError::Malformed)?;
        let len: usize = rest
            .get(2..4)
            .filter(|l| l.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|l| l.parse().ok())
            .ok_or(BrCodeError::Malformed)?;
        let value = rest.get(4..4 + len).ok_or(BrCodeError::Malformed)?;
        out.push((id, value));
        rest = &rest[4 + len..];
    }
    Ok(out)
}

impl BrCode {
    /// Parses and checks a BR Code payload, CRC included.
    ///
    /// # Errors
    /// [`BrCodeError`] naming the first problem.
    pub fn parse(payload: &str) -> Result<Self, BrCodeError> {
        if !payload.is_ascii() || payload.len() < 8 {
            return Err(BrCodeError::Malformed);
        }
        let (body, crc) = payload.split_at(payload.len() - 4);
        if !body.ends_with("6304") {
            return Err(BrCodeError::Malformed);
        }
        let expected = u16::from_str_radix(crc, 16).map_err(|_| BrCodeError::Malformed)?;
        if crc16_ccitt(body.as_bytes()) != expected {
            return Err(BrCodeError::Crc);
        }
        let fields = emv_fields(payload)?;
        let get = |id: &str| fields.iter().find(|(i, _)| *i == id).map(|(_, v)| *v);
        if get("00") != Some("01") || get("53") != Some("986") || get("58") != Some("BR") {
            return Err(BrCodeError::NotPix);
        }
        let account = fields
            .iter()
            .filter(|(id, _)| ("26"..="51").contains(id))
            .find_map(|(_, value)| {
                let sub = emv_fields(value).ok()?;
                sub.iter()
                    .any(|(i, v)| *i == "00" && v.eq_ignore_ascii_case("br.gov.bcb.pix"))
                    .then_some(sub)
            })
            .ok_or(BrCodeError::NotPix)?;
        let sub = |id: &str| {
            account
                .iter()
                .find(|(i, _)| *i == id)
                .map(|(_, v)| (*v).to_owned())
        };
        let additional = get("62").map(emv_fields).transpose()?.unwrap_or_default();
        let merchant_name = get("59")
            .filter(|n| !n.is_empty())
            .ok_or(BrCodeError::NotPix)?;
        let merchant_city = get("60")
            .filter(|c| !c.is_empty())
            .ok_or(BrCodeError::NotPix)?;
        Ok(Self {
            dynamic: get("01") == Some("12"),
            key: sub("01"),
            url: sub("25"),
            amount: get("54").map(str::to_owned),
            merchant_name: merchant_name.to_owned(),
            merchant_city: merchant_city.to_owned(),
            txid: additional
                .iter()
                .find(|(i, _)| *i == "05")
                .map(|(_, v)| (*v).to_owned()),
        })
    }
}

/// Whether `key` has the form of a Pix key (DICT): a CPF or CNPJ (digits,
/// check digits valid), a phone `+55` and 10 or 11 digits, an e-mail of at
/// most 77 characters, or a random key (UUID).
pub fn is_pix_key(key: &str) -> bool {
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if digits(key) {
        return match key.len() {
            11 => crate::Cpf::parse(key).is_ok(),
            14 => crate::Cnpj::parse(key).is_ok(),
            _ => false,
        };
    }
    if let Some(phone) = key.strip_prefix("+55") {
        return digits(phone) && (10..=11).contains(&phone.len());
    }
    if key.len() == 36 && key.chars().filter(|c| *c == '-').count() == 4 {
        return key
            .chars()
            .all(|c| c == '-' || c.is_ascii_hexdigit() && !c.is_ascii_uppercase());
    }
    key.len() <= 77
        && key.split_once('@').is_some_and(|(user, domain)| {
            !user.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !key.contains(char::is_whitespace)
        })
}

#[cfg(test)]
mod brcode_tests {
    use super::*;

    /// A payload with its CRC appended.
    fn with_crc(body: &str) -> String {
        let body = format!("{body}6304");
        format!("{body}{:04X}", crc16_ccitt(body.as_bytes()))
    }

    #[test]
    fn crc_matches_the_standard_check_value() {
        // CRC-16/CCITT-FALSE check value for "123456789".
        assert_eq!(crc16_ccitt(b"123456789"), 0x29B1);
    }

    #[test]
    fn static_and_dynamic_codes_parse() {
        let payload = with_crc(
            "000201010211\
             26360014br.gov.bcb.pix0114+5561999999999\
             52040000530398654071000.005802BR5913Fulano de Tal6008BRASILIA62070503***",
        );
        let code = BrCode::parse(&payload).unwrap();
        assert!(!code.dynamic);
        assert_eq!(code.key.as_deref(), Some("+5561999999999"));
        assert_eq!(code.amount.as_deref(), Some("1000.00"));
        assert_eq!(code.merchant_city, "BRASILIA");
        assert_eq!(code.txid.as_deref(), Some("***"));
        let dynamic = with_crc(
            "000201010212\
             26580014br.gov.bcb.pix2536pix.example.com/qr/v2/9d36b84fc70b47\
             5204000053039865802BR5904Loja6009SAO PAULO62070503***",
        );
        let code = BrCode::parse(&dynamic).unwrap();
        assert!(code.dynamic);
        assert!(code.url.is_some());
        // A flipped character breaks the CRC; garbage is malformed.
        let mut broken = payload.into_bytes();
        broken[60] = b'9';
        assert_eq!(
            BrCode::parse(std::str::from_utf8(&broken).unwrap()),
            Err(BrCodeError::Crc)
        );
        assert_eq!(BrCode::parse("not a qr code"), Err(BrCodeError::Malformed));
        let dollars = with_crc(
            "00020126360014br.gov.bcb.pix0114+55619999999995204000053038405802BR5901X6001Y",
        );
        assert_eq!(BrCode::parse(&dollars), Err(BrCodeError::NotPix));
    }

    #[test]
    fn pix_keys_have_their_forms() {
        for ok in [
            "52998224725",
            "11222333000181",
            "+5561999999999",
            "fulano@example.com",
            "123e4567-e89b-12d3-a456-426614174000",
        ] {
            assert!(is_pix_key(ok), "{ok}");
        }
        for bad in ["12345678900", "+1555123456", "fulano", "a@b", "123"] {
            assert!(!is_pix_key(bad), "{bad}");
        }
    }
}
