//! Back-office connectors: how an institution plugs its own systems in.
//!
//! The transmitter calls the data connectors and the account holder calls
//! [`PixConnector`] **only after every check has passed**: client identity,
//! signature, token binding, consent status and expiry, permissions,
//! operational limits. A connector never sees an unauthorised request, and
//! receives in [`DataRequestContext`] exactly who is asking and under which
//! consent, so it can scope its answer to that customer.
//!
//! Connector models use the OFB field names (camelCase on the wire) so that
//! what a connector returns is what the API serves; the transmitter
//! validates responses against the official schemas in tests.

mod accounts;
mod credit_cards;
mod credit_operations;
mod customers;
pub mod models;
mod opendata;

mod pix;
mod resources;

pub use accounts::*;
pub use credit_cards::*;
pub use credit_operations::*;
pub use customers::*;

pub use opendata::*;
pub use pix::*;
pub use resources::*;

use serde::{Deserialize, Serialize};

use crate::consent::Permission;
use crate::document::{Cnpj, Cpf};
use crate::id::{BrandId, ConsentId, InteractionId, OrganisationId};

/// Who is asking, under which consent: built by the transmitter after
/// every check passed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataRequestContext {
    /// The brand serving the call.
    pub brand: BrandId,
    /// The consent the call is made under.
    pub consent_id: ConsentId,
    /// The customer who authorised the consent.
    pub customer: Cpf,
    /// The company whose data is shared, on PJ consents.
    pub business_entity: Option<Cnpj>,
    /// The permissions granted (already checked against the endpoint).
    pub permissions: Vec<Permission>,
    /// The receiving institution.
    pub client_organisation: OrganisationId,
    /// The call's `x-fapi-interaction-id`, for the back office's own logs.
    pub interaction_id: InteractionId,
    /// The resources the customer chose to share under the consent: lists
    /// answer only these, and single-resource calls are only made for them.
    pub resources: Vec<crate::id::ResourceId>,
}

/// A monetary value of the data APIs: `{"amount": "1000.0400", "currency": "BRL"}`
/// (`^-?\d{1,15}\.\d{2,4}$`; signed, two to four decimals).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AmountWithCurrency {
    /// The decimal string.
    pub amount: String,
    /// ISO 4217 code.
    pub currency: crate::money::Currency,
}

impl AmountWithCurrency {
    /// Validates the data-API amount pattern `^-?\d{1,15}\.\d{2,4}$`.
    ///
    /// # Errors
    /// [`crate::InvalidValue`] when `amount` does not match.
    pub fn new(
        amount: impl Into<String>,
        currency: crate::money::Currency,
    ) -> Result<Self, crate::InvalidValue> {
        let amount = amount.into();
        let digits = amount.strip_prefix('-').unwrap_or(&amount);
        let ok = digits.split_once('.').is_some_and(|(units, decimals)| {
            (1..=15).contains(&units.len())
                && (2..=4).contains(&decimals.len())
                && units
                    .bytes()
                    .chain(decimals.bytes())
                    .all(|b| b.is_ascii_digit())
        });
        if ok {
            Ok(Self { amount, currency })
        } else {
            Err(crate::InvalidValue::new(
                "amount",
                "must match -?\\d{1,15}\\.\\d{2,4}",
            ))
        }
    }
}

/// Failures a connector reports.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConnectorError {
    /// The resource does not exist for this customer (answered 404).
    #[error("resource not found")]
    NotFound,
    /// The resource is no longer available (e.g. a closed account): 403
    /// `STATUS_RESOURCE_UNAVAILABLE`.
    #[error("resource unavailable")]
    ResourceUnavailable,
    /// The resource is temporarily blocked (e.g. a fraud hold): 403
    /// `STATUS_RESOURCE_TEMPORARILY_UNAVAILABLE`.
    #[error("resource temporarily unavailable")]
    ResourceTemporarilyUnavailable,
    /// The resource awaits other approvers (joint account): 403
    /// `STATUS_RESOURCE_AWAITING_AUTHORIZATION`.
    #[error("resource awaiting authorisation")]
    ResourceAwaitingAuthorisation,
    /// The back office did not answer in time (answered 504).
    #[error("back office timed out")]
    Timeout,
    /// The back office failed (answered 500).
    #[error("back office failure")]
    Backend(#[source] Box<dyn std::error::Error + Send + Sync>),
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::Currency;

    #[test]
    fn data_amounts() {
        for ok in ["1000.04", "-0.0001", "123456789012345.12"] {
            assert!(AmountWithCurrency::new(ok, Currency::BRL).is_ok(), "{ok}");
        }
        for bad in [
            "1",
            "1.0",
            "1.00000",
            "--1.00",
            "1234567890123456.00",
            "1,00",
        ] {
            assert!(
                AmountWithCurrency::new(bad, Currency::BRL).is_err(),
                "{bad}"
            );
        }
    }
}
