//! The user interaction: the bank's own login and consent screen.
//!
//! At the authorization endpoint the authorization server has a validated
//! request; it starts an interaction through [`UserAuthenticator::start`],
//! which answers where to send the customer: by default the server's own
//! interaction pages ([`InteractionRequest::pages_url`]), or the bank's web
//! login or app. The interaction then runs as a command loop (authenticate →
//! consent → completed), over the server's JSON interaction API or its HTML
//! pages, and can be handed off to another device:
//!
//! - **authenticate**: the bank's front presents [`AuthenticationEvidence`]
//!   (a signed assertion from the bank's app, or the fields of its login
//!   form) and the bank's [`UserAuthenticator::authenticate`] says who the
//!   customer is and at which level of assurance. The SDK never stores or
//!   logs the evidence;
//! - **consent**: the customer sees the client, the consent's details and
//!   the resources [`CustomerResources`] offers, and approves (choosing
//!   resources) or denies;
//! - **completed**: the customer goes back to the client.
//!
//! A bank that runs its whole front itself can instead report an
//! [`InteractionOutcome`] directly.

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
    /// The customer the consent names (`loggedUser`), when it names one: the
    /// front may pre-identify them; whoever authenticates must be them.
    pub logged_user: Option<Cpf>,
    /// The company the consent names (`businessEntity`), on PJ consents.
    pub business_entity: Option<Cnpj>,
    /// The authorization server's own pages for this interaction.
    pub pages_url: Url,
}

/// What the bank's front presents to prove who the customer is. Passed to
/// [`UserAuthenticator::authenticate`] untouched; never stored or logged.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuthenticationEvidence {
    /// A signed assertion (compact JWS) from the bank's app or login
    /// service; see `opus_fapi::server::AppAssertionVerifier`.
    AppAssertion(String),
    /// The fields of the bank's login form as posted.
    Form(std::collections::BTreeMap<String, String>),
}

impl std::fmt::Debug for AuthenticationEvidence {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::AppAssertion(_) => f.write_str("AppAssertion(..)"),
            Self::Form(fields) => f
                .debug_tuple("Form")
                .field(&fields.keys().collect::<Vec<_>>())
                .finish(),
        }
    }
}

/// Who authenticated, as the bank vouches.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthenticatedCustomer {
    /// The person (CPF).
    pub subject: Cpf,
    /// The company they act for, on PJ consents.
    pub business_entity: Option<Cnpj>,
    /// The level of assurance reached.
    pub acr: Acr,
    /// When they authenticated.
    pub auth_time: Timestamp,
}

/// Why an authentication did not succeed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuthenticationError {
    /// The evidence does not prove anyone (wrong credentials, a bad or
    /// replayed assertion): the customer may try again a few times.
    #[error("authentication failed")]
    Rejected,
    /// The bank's authentication service is down.
    #[error("authentication service unavailable")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// A resource the customer may choose to share (an account, a card…).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SelectableResource {
    /// The id the product APIs will use.
    #[serde(rename = "resourceId")]
    pub resource_id: ResourceId,
    /// Its kind.
    #[serde(rename = "type")]
    pub resource_type: crate::connector::ResourceType,
    /// How to show it to the customer (e.g. "Conta corrente ••4321").
    pub label: String,
}

/// What the consent screen asks the resources port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceQuery {
    /// The brand.
    pub brand: BrandId,
    /// The consent being authorised.
    pub consent_id: ConsentId,
    /// Its kind.
    pub consent_kind: ConsentKind,
    /// Who authenticated.
    pub customer: AuthenticatedCustomer,
    /// The kinds of resource the consent's permissions reach.
    pub resource_types: Vec<crate::connector::ResourceType>,
}

/// A consent as the consent screen shows it, from the consent port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentDetails {
    /// `consentId`.
    pub id: ConsentId,
    /// Its kind.
    pub kind: ConsentKind,
    /// The client that created it.
    pub client_id: ClientId,
    /// Its status now.
    pub status: crate::consent::ConsentStatus,
    /// `loggedUser`: whoever authorises must be them.
    pub logged_user: Option<Cpf>,
    /// `businessEntity`, on PJ consents.
    pub business_entity: Option<Cnpj>,
    /// The permissions asked (data consents).
    pub permissions: Vec<crate::consent::Permission>,
    /// When it would expire (`None`: indefinite or not applicable).
    pub expiration_date_time: Option<Timestamp>,
    /// The kinds of resource the customer chooses among.
    pub resource_types: Vec<crate::connector::ResourceType>,
}

/// The consents behind the interaction: what the customer sees, and the
/// authorisation or rejection their decision causes. The authorization
/// server calls it; each consent family (data sharing, payments) provides
/// it over its own lifecycle.
#[async_trait]
pub trait ConsentAuthorisation: Send + Sync + 'static {
    /// The consent `id` of `brand`, or `None`.
    ///
    /// # Errors
    /// [`InteractionError`] when the consent cannot be read.
    async fn details(
        &self,
        brand: &BrandId,
        id: &ConsentId,
    ) -> Result<Option<ConsentDetails>, InteractionError>;

    /// Authorises consent `id` for `client` with `approval` (the customer,
    /// the chosen resources); `Ok(Err(reason))` when it may not be
    /// (no longer awaiting authorisation, expired, another customer).
    ///
    /// # Errors
    /// [`InteractionError`] when a backend fails.
    async fn authorise(
        &self,
        brand: &BrandId,
        id: &ConsentId,
        client: &ClientId,
        approval: &InteractionApproval,
    ) -> Result<Result<(), DenialReason>, InteractionError>;

    /// Rejects consent `id` if it still awaits authorisation, recording
    /// why (the consents API's `rejectionReason`).
    ///
    /// # Errors
    /// [`InteractionError`] when a backend fails.
    async fn reject(
        &self,
        brand: &BrandId,
        id: &ConsentId,
        reason: DenialReason,
    ) -> Result<(), InteractionError>;
}

/// The customer's resources the consent screen offers.
#[async_trait]
pub trait CustomerResources: Send + Sync + 'static {
    /// The resources `query.customer` may share under the consent, of the
    /// types asked.
    ///
    /// # Errors
    /// [`InteractionError`] when the back office cannot answer.
    async fn selectable(
        &self,
        query: &ResourceQuery,
    ) -> Result<Vec<SelectableResource>, InteractionError>;
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
    /// Starts an interaction and returns where to send the customer; by
    /// default, the authorization server's own pages.
    ///
    /// # Errors
    /// [`InteractionError`] when the front cannot take it.
    async fn start(&self, request: &InteractionRequest) -> Result<Url, InteractionError> {
        Ok(request.pages_url.clone())
    }

    /// Says who `evidence` proves, for interaction `request`.
    ///
    /// # Errors
    /// [`AuthenticationError::Rejected`] when it proves no one;
    /// [`AuthenticationError::Unavailable`] when the bank cannot tell now.
    async fn authenticate(
        &self,
        request: &InteractionRequest,
        evidence: &AuthenticationEvidence,
    ) -> Result<AuthenticatedCustomer, AuthenticationError>;
}
