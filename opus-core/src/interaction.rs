//! The user interaction: the bank's own login and consent screen.
//!
//! At the authorization endpoint the authorization server has a validated
//! request; it starts an interaction through [`UserAuthenticator::start`],
//! which answers where to send the customer (the bank's web login, an app
//! hand-off page). The bank authenticates the customer, shows the consent,
//! and reports an [`InteractionOutcome`] back to the authorization server
//! through its interaction API. The SDK never sees passwords.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use url::Url;

use crate::consent::ConsentKind;
use crate::datetime::Timestamp;
use crate::document::{Cnpj, Cpf};
use crate::id::{BrandId, ClientId, ConsentId, InteractionSessionId, ResourceId};

/// Level of assurance of the authentication (`acr`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Acr {
    /// `urn:brasil:openbanking:loa2`: one factor.
    #[serde(rename = "urn:brasil:openbanking:loa2")]
    Loa2,
    /// `urn:brasil:openbanking:loa3`: two factors.
    #[serde(rename = "urn:brasil:openbanking:loa3")]
    Loa3,
}

impl Acr {
    /// The `acr` value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Loa2 => "urn:brasil:openbanking:loa2",
            Self::Loa3 => "urn:brasil:openbanking:loa3",
        }
    }
}

/// What the authorization server asks the bank to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InteractionRequest {
    /// The interaction's id; the bank reports the outcome under it.
    pub id: InteractionSessionId,
    /// The brand the customer is at.
    pub brand: BrandId,
    /// The client asking.
    pub client_id: ClientId,
    /// The client's name, to show the customer.
    pub client_name: String,
    /// The consent to authorise.
    pub consent_id: ConsentId,
    /// Its kind.
    pub consent_kind: ConsentKind,
    /// The levels of assurance acceptable to the client, preferred first.
    pub acr_values: Vec<Acr>,
    /// The interaction must end before this instant.
    pub expires_at: Timestamp,
}

/// What the bank reports when the customer is done.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum InteractionOutcome {
    /// The customer authenticated and approved.
    Approved(InteractionApproval),
    /// The customer refused, or could not authenticate.
    Denied {
        /// Why.
        reason: DenialReason,
    },
}

/// The details of an approval.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InteractionApproval {
    /// Who authenticated.
    pub subject: Cpf,
    /// The company, when acting for one (PJ).
    pub business_entity: Option<Cnpj>,
    /// The assurance level reached.
    pub acr: Acr,
    /// When the customer authenticated.
    pub auth_time: Timestamp,
    /// The resources the customer chose to share (data consents) or the
    /// account to pay from (payment consents).
    pub resources: Vec<ResourceId>,
}

/// Why an interaction ended without approval.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DenialReason {
    /// The customer refused the consent.
    CustomerRejected,
    /// Authentication failed.
    AuthenticationFailed,
    /// The customer is not who the consent names (logged user mismatch).
    WrongCustomer,
    /// The interaction timed out.
    Expired,
}

/// Failures of the bank's interaction front.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InteractionError {
    /// The front is down.
    #[error("interaction front unavailable")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// The bank's login and consent front.
#[async_trait]
pub trait UserAuthenticator: Send + Sync + 'static {
    /// Starts an interaction and returns where to send the customer.
    ///
    /// # Errors
    /// [`InteractionError`] when the front cannot take it.
    async fn start(&self, request: &InteractionRequest) -> Result<Url, InteractionError>;
}
