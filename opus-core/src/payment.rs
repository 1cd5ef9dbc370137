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
