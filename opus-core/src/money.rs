//! Money and financial-system value types: amounts as the specs' decimal
//! strings, ISO 4217 currency codes and ISPB codes.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::id::InvalidValue;

/// A non-negative amount with exactly two decimals, as the payments APIs
/// carry it (`^((\d{1,16}\.\d{2}))$`, e.g. `"100000.12"`).
///
/// Held as an integer number of cents, so arithmetic and comparison are
/// exact; there is no floating point anywhere.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Amount {
    cents: u64,
}

impl Amount {
    /// The largest amount the pattern allows: sixteen nines, then `.99`.
    pub const MAX: Amount = Amount {
        cents: 999_999_999_999_999_999,
    };

    /// Parses the spec's decimal string.
    ///
    /// # Errors
    /// [`InvalidValue`] unless `value` is 1–16 digits, a dot and two digits.
    pub fn parse(value: &str) -> Result<Self, InvalidValue> {
        let invalid = || InvalidValue::new("amount", "must match \\d{1,16}\\.\\d{2}");
        let (units, cents) = value.split_once('.').ok_or_else(invalid)?;
        if units.is_empty()
            || units.len() > 16
            || cents.len() != 2
            || !units
                .bytes()
                .chain(cents.bytes())
                .all(|b| b.is_ascii_digit())
        {
            return Err(invalid());
        }
        let units: u64 = units.parse().map_err(|_| invalid())?;
        let cents: u64 = cents.parse().map_err(|_| invalid())?;
        Ok(Self {
            cents: units * 100 + cents,
        })
    }

    /// An amount of `cents` hundredths.
    ///
    /// # Errors
    /// [`InvalidValue`] above [`Amount::MAX`].
    pub fn from_cents(cents: u64) -> Result<Self, InvalidValue> {
        if cents > Self::MAX.cents {
            return Err(InvalidValue::new("amount", "above the largest amount"));
        }
        Ok(Self { cents })
    }

    /// The amount in hundredths.
    pub const fn cents(&self) -> u64 {
        self.cents
    }

    /// Adds two amounts; `None` when the sum leaves the spec's range.
    pub fn checked_add(self, other: Amount) -> Option<Amount> {
        self.cents
            .checked_add(other.cents)
            .and_then(|c| Self::from_cents(c).ok())
    }

    /// Subtracts; `None` when the result would be negative.
    pub fn checked_sub(self, other: Amount) -> Option<Amount> {
        self.cents
            .checked_sub(other.cents)
            .map(|cents| Self { cents })
    }
}

impl fmt::Display for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:02}", self.cents / 100, self.cents % 100)
    }
}

impl fmt::Debug for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Amount({self})")
    }
}

impl TryFrom<String> for Amount {
    type Error = InvalidValue;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Amount> for String {
    fn from(value: Amount) -> String {
        value.to_string()
    }
}

/// An ISO 4217 currency code (`^[A-Z]{3}$`); Pix payments use only `BRL`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Currency([u8; 3]);

impl Currency {
    /// The Brazilian real.
    pub const BRL: Currency = Currency(*b"BRL");

    /// Parses a three-letter upper-case code.
    ///
    /// # Errors
    /// [`InvalidValue`] unless `value` matches `^[A-Z]{3}$`.
    pub fn parse(value: &str) -> Result<Self, InvalidValue> {
        match value.as_bytes() {
            [a, b, c] if [a, b, c].iter().all(|x| x.is_ascii_uppercase()) => Ok(Self([*a, *b, *c])),
            _ => Err(InvalidValue::new(
                "currency",
                "must be three upper-case letters",
            )),
        }
    }

    /// The code as a string slice.
    pub fn as_str(&self) -> &str {
        // The constructor only admits ASCII upper-case letters.
        std::str::from_utf8(&self.0).unwrap_or("XXX")
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Currency({})", self.as_str())
    }
}

impl TryFrom<String> for Currency {
    type Error = InvalidValue;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Currency> for String {
    fn from(value: Currency) -> String {
        value.as_str().to_owned()
    }
}

/// An ISPB: the eight-digit code of an institution in the Brazilian payment
/// system (`^[0-9]{8}$`); the first component of a Pix `endToEndId`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Ispb([u8; 8]);

impl Ispb {
    /// Parses eight digits.
    ///
    /// # Errors
    /// [`InvalidValue`] unless `value` matches `^[0-9]{8}$`.
    pub fn parse(value: &str) -> Result<Self, InvalidValue> {
        let bytes: [u8; 8] = value
            .as_bytes()
            .try_into()
            .map_err(|_| InvalidValue::new("ISPB", "must be eight digits"))?;
        if bytes.iter().all(u8::is_ascii_digit) {
            Ok(Self(bytes))
        } else {
            Err(InvalidValue::new("ISPB", "must be eight digits"))
        }
    }

    /// The code as a string slice.
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or("00000000")
    }
}

impl fmt::Display for Ispb {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Ispb {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Ispb({})", self.as_str())
    }
}

impl TryFrom<String> for Ispb {
    type Error = InvalidValue;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Ispb> for String {
    fn from(value: Ispb) -> String {
        value.as_str().to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn amounts_follow_the_pattern() {
        assert_eq!(Amount::parse("100000.12").unwrap().cents(), 10_000_012);
        assert_eq!(Amount::parse("0.01").unwrap().to_string(), "0.01");
        assert_eq!(Amount::parse("9999999999999999.99").unwrap(), Amount::MAX);
        for bad in [
            "1",
            "1.0",
            "1.000",
            ".10",
            "-1.00",
            "1,00",
            "+1.00",
            " 1.00",
            "1e2.00",
            "10000000000000000.00",
        ] {
            assert!(Amount::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(
            serde_json::to_string(&Amount::parse("5.50").unwrap()).unwrap(),
            "\"5.50\""
        );
        assert!(
            serde_json::from_str::<Amount>("5.5").is_err(),
            "numbers are refused"
        );
    }

    #[test]
    fn amount_arithmetic_is_checked() {
        let a = Amount::parse("1.50").unwrap();
        let b = Amount::parse("2.75").unwrap();
        assert_eq!(a.checked_add(b).unwrap().to_string(), "4.25");
        assert!(a.checked_sub(b).is_none());
        assert!(
            Amount::MAX
                .checked_add(Amount::parse("0.01").unwrap())
                .is_none()
        );
    }

    #[test]
    fn currency_and_ispb() {
        assert_eq!(Currency::parse("BRL").unwrap(), Currency::BRL);
        assert!(Currency::parse("brl").is_err());
        assert!(Currency::parse("BRLL").is_err());
        assert_eq!(Ispb::parse("12345678").unwrap().as_str(), "12345678");
        assert!(Ispb::parse("1234567").is_err());
        assert!(Ispb::parse("1234567a").is_err());
    }

    proptest! {
        #[test]
        fn amount_round_trips(cents in 0u64..=999_999_999_999_999_999) {
            let amount = Amount::from_cents(cents).unwrap();
            prop_assert_eq!(Amount::parse(&amount.to_string()), Ok(amount));
        }
    }
}
