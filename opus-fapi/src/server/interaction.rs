//! The interaction API: the steps between the authorization endpoint and the
//! redirect back to the client, for the bank's app and web pages.
//!
//! An interaction is a command loop over a sealed record of the interaction
//! store: **authenticate** (the bank's [`UserAuthenticator`] checks the
//! evidence; three failures end it denied) → **consent** (the customer sees
//! the client, the consent and the resources on offer, and approves or
//! denies) → **completed** (the redirect to the client is ready). Every step
//! is a compare-and-set, so two tabs, two devices or two replicas never both
//! move one interaction on.
//!
//! **Hand-off**: at the authenticate step the first device can hand the
//! interaction to another one (a link or QR code carrying a fresh 256-bit
//! code). From then on only the hand-off code drives it; the first device
//! keeps polling its page, which sends it to the client once the other
//! device has finished.
//!
//! The same loop is offered three ways: in process
//! ([`AuthorizationServer::interaction`] and the methods next to it), as
//! JSON under `{issuer}/interaction/…`, and as plain HTML pages at the same
//! URLs (for a browser: `Accept: text/html`, form posts).
//!
//! | method, path (under the issuer) | command |
//! |---|---|
//! | `GET interaction/{id}` | the current step (poll it) |
//! | `POST interaction/{id}/authenticate` | `{"assertion": "<JWS>"}` or `{"form": {…}}` |
//! | `POST interaction/{id}/decision` | `{"decision": "approve", "resources": […]}` or `{"decision": "deny"}` |
//! | `POST interaction/{id}/handoff` | a hand-off link for another device |
//! | the same under `interaction/handoff/{code}` | for the device the interaction was handed to |
//!
//! The interaction id and the hand-off code are bearer secrets: pages are
//! served with `Referrer-Policy: no-referrer`, `Cache-Control: no-store` and
//! may not be framed.

use std::collections::BTreeMap;
use std::time::Duration;

use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use http::{HeaderValue, Method, Response, StatusCode, header};
use opus_core::consent::{ConsentKind, Permission};
use opus_core::interaction::{
    Acr, AuthenticatedCustomer, AuthenticationError, AuthenticationEvidence, ConsentDetails,
    DenialReason, InteractionApproval, InteractionOutcome, InteractionRequest, ResourceQuery,
    SelectableResource, UserAuthenticator,
};
use opus_core::keys::{JwkSet, JwsAlg};
use opus_core::seal::SealContext;
use opus_core::store::{InteractionRecord, ReplayGuard, ReplayScope, StoreError, TokenHash};
use opus_core::{
    BrandId, ClientId, Clock, Cnpj, Cpf, InteractionSessionId, Jti, ResourceId, Timestamp,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use url::Url;

use super::authorize::{self, InteractionError, load_client};
use super::par::AuthorizationRequest;
use super::{AuthorizationServer, Body, BrandEndpoints, Inner, json_response};
use crate::jose::{b64_encode, jws};

/// Failed authentications before the interaction ends denied.
const MAX_AUTHENTICATION_ATTEMPTS: u8 = 3;
/// How often the waiting page reloads.
const POLL_SECONDS: u32 = 3;

/// An interaction's progress, sealed in its record.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Session {
    pub(crate) request: AuthorizationRequest,
    /// The pushed request it came from: used up when the interaction ends.
    pub(crate) request_uri: String,
    pub(crate) step: Step,
    /// Driven by the hand-off code only, from now on.
    pub(crate) handed_off: bool,
    pub(crate) failed_authentications: u8,
    /// The browser that started it (for the hybrid-flow reports).
    #[serde(default)]
    pub(crate) user_agent: Option<String>,
}

/// Where an interaction stands.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "step", rename_all = "snake_case")]
pub(crate) enum Step {
    Authenticate,
    Consent { customer: AuthenticatedCustomer },
    Completed { redirect_to: Url, approved: bool },
}

/// How a caller names an interaction.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum InteractionHandle {
    /// By its id (the device it started on).
    Id(InteractionSessionId),
    /// By the hand-off code (the device it was handed to).
    HandOff(String),
}

/// The customer's decision at the consent step.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Decision {
    /// Approve, sharing these of the offered resources.
    Approve {
        /// The chosen resources.
        resources: Vec<ResourceId>,
    },
    /// Refuse.
    Deny,
}

/// The step names of [`InteractionView::step`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum StepName {
    /// The customer must authenticate.
    Authenticate,
    /// The customer must approve or deny.
    Consent,
    /// Carried on by another device; poll for the outcome.
    HandedOff,
    /// Finished.
    Completed,
}

/// The client asking, as the customer sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClientView {
    /// Its id.
    pub client_id: ClientId,
    /// Its registered name.
    pub name: String,
    /// Its registered logo.
    pub logo_uri: Option<Url>,
}

/// The consent being authorised, shown once the customer has authenticated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConsentView {
    /// `consentId`.
    pub consent_id: String,
    /// Data sharing or payment.
    pub kind: ConsentKind,
    /// The permissions asked (data consents).
    pub permissions: Vec<Permission>,
    /// When the consent would expire (data consents; `None` = indefinite).
    pub expiration_date_time: Option<Timestamp>,
    /// The company, on PJ consents.
    pub business_entity: Option<Cnpj>,
}

/// The state of an interaction, as the JSON API answers it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InteractionView {
    /// The current step.
    pub step: StepName,
    /// Who asks.
    pub client: ClientView,
    /// Acceptable levels of assurance, preferred first.
    pub acr_values: Vec<Acr>,
    /// The interaction ends at this instant.
    pub expires_at: Timestamp,
    /// The consent (consent step).
    pub consent: Option<ConsentView>,
    /// The resources the customer may choose (consent step).
    pub resources: Vec<SelectableResource>,
    /// Where to send the browser (completed, on the device that started).
    pub redirect_to: Option<Url>,
    /// Whether the customer approved (completed).
    pub approved: Option<bool>,
}

/// A hand-off: the link (or QR code content) for the other device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HandOff {
    /// The single secret the other device uses.
    pub code: String,
    /// The link to open there.
    pub url: Url,
    /// It works until then.
    pub expires_at: Timestamp,
}

/// Tells the flow observer, if any, of `event` in `session`'s flow.
pub(crate) async fn observe(
    inner: &Inner,
    brand: &BrandEndpoints,
    session: &Session,
    event: super::flow::FlowEvent,
) {
    if let Some(observer) = &inner.flow_observer {
        let device = super::flow::Device::from_user_agent(session.user_agent.as_deref());
        observer
            .observe(
                &brand.server.brand,
                &session.request.consent_id,
                &device,
                event,
                inner.clock.now(),
            )
            .await;
    }
}

pub(crate) fn seal_session(
    inner: &Inner,
    brand: &BrandId,
    id: &InteractionSessionId,
    session: &Session,
) -> Result<opus_core::seal::Sealed, InteractionError> {
    inner
        .sealer
        .seal_json(
            &SealContext::new("interaction", brand, &id.to_string()),
            session,
        )
        .map_err(|_| InteractionError::Internal("sealing"))
}

/// The port's view of an interaction.
pub(crate) async fn request_for(
    inner: &Inner,
    brand: &BrandEndpoints,
    record: &InteractionRecord,
    session: &Session,
) -> Result<InteractionRequest, InteractionError> {
    let brand_id = brand.server.brand.id();
    let request = &session.request;
    let client = load_client(inner, brand_id, &request.client_id).await?;
    let consent = consent_details(inner, brand_id, request).await?;
    Ok(InteractionRequest {
        id: record.id,
        brand: brand_id.clone(),
        client_id: request.client_id.clone(),
        client_name: client
            .metadata
            .client_name
            .clone()
            .unwrap_or_else(|| client.id().to_string()),
        consent_id: request.consent_id.clone(),
        consent_kind: consent.kind,
        acr_values: request.acr_values.clone(),
        expires_at: record.expires_at,
        logged_user: consent.logged_user,
        business_entity: consent.business_entity,
        pages_url: pages_url(brand, &record.id)?,
    })
}

fn pages_url(brand: &BrandEndpoints, id: &InteractionSessionId) -> Result<Url, InteractionError> {
    Url::parse(&brand.endpoint(&format!("interaction/{id}")))
        .map_err(|_| InteractionError::Internal("issuer URL"))
}

/// A loaded interaction.
struct Loaded {
    record: InteractionRecord,
    session: Session,
    /// Named by its hand-off code.
    via_handoff: bool,
}

async fn load(
    inner: &Inner,
    brand: &BrandEndpoints,
    handle: &InteractionHandle,
) -> Result<Loaded, InteractionError> {
    let brand_id = brand.server.brand.id();
    let now = inner.clock.now();
    let (record, via_handoff) = match handle {
        InteractionHandle::Id(id) => (
            inner
                .storage
                .interactions
                .get_interaction(brand_id, id, now)
                .await
                .map_err(|_| InteractionError::Internal("interaction store"))?,
            false,
        ),
        InteractionHandle::HandOff(code) => (
            inner
                .storage
                .interactions
                .find_interaction_by_handoff(brand_id, &TokenHash::of(code), now)
                .await
                .map_err(|_| InteractionError::Internal("interaction store"))?,
            true,
        ),
    };
    let record = record.ok_or(InteractionError::NotFound)?;
    let session: Session = inner
        .sealer
        .open_json(
            &SealContext::new("interaction", brand_id, &record.id.to_string()),
            &record.state,
        )
        .await
        .map_err(|_| InteractionError::Internal("interaction unreadable"))?;
    Ok(Loaded {
        record,
        session,
        via_handoff,
    })
}

impl Loaded {
    /// Commands come from the device that holds the interaction.
    fn check_driver(&self) -> Result<(), InteractionError> {
        if self.session.handed_off && !self.via_handoff {
            return Err(InteractionError::HandedOff);
        }
        Ok(())
    }
}

async fn save(
    inner: &Inner,
    loaded: &Loaded,
    session: &Session,
    handoff: Option<TokenHash>,
) -> Result<InteractionRecord, InteractionError> {
    let record = InteractionRecord {
        handoff,
        state: seal_session(inner, &loaded.record.brand, &loaded.record.id, session)?,
        ..loaded.record.clone()
    };
    match inner
        .storage
        .interactions
        .update_interaction(&record, loaded.record.version)
        .await
    {
        Ok(stored) => Ok(stored),
        Err(StoreError::Conflict) => Err(InteractionError::WrongStep),
        Err(StoreError::NotFound) => Err(InteractionError::NotFound),
        Err(_) => Err(InteractionError::Internal("interaction store")),
    }
}

/// Ends the interaction with `outcome` and records the redirect. The
/// outcome is decided once (the pushed request's single-outcome marker);
/// recording it retries over concurrent updates of other fields.
async fn conclude(
    inner: &Inner,
    brand: &BrandEndpoints,
    mut loaded: Loaded,
    outcome: InteractionOutcome,
) -> Result<Loaded, InteractionError> {
    let (redirect_to, approved) = authorize::finish(
        inner,
        brand,
        &loaded.session,
        loaded.record.expires_at,
        outcome,
    )
    .await?;
    observe(
        inner,
        brand,
        &loaded.session,
        super::flow::FlowEvent::RedirectToClient {
            callback: loaded.session.request.redirect_uri.clone(),
            authorised: approved,
        },
    )
    .await;
    for _ in 0..5 {
        let mut session = loaded.session.clone();
        session.step = Step::Completed {
            redirect_to: redirect_to.clone(),
            approved,
        };
        match save(inner, &loaded, &session, loaded.record.handoff).await {
            Ok(record) => {
                return Ok(Loaded {
                    record,
                    session,
                    via_handoff: loaded.via_handoff,
                });
            }
            Err(InteractionError::WrongStep) => {
                let handle = InteractionHandle::Id(loaded.record.id);
                let via_handoff = loaded.via_handoff;
                loaded = load(inner, brand, &handle).await?;
                loaded.via_handoff = via_handoff;
            }
            Err(e) => return Err(e),
        }
    }
    Err(InteractionError::Internal("interaction store contention"))
}

async fn view(
    inner: &Inner,
    brand: &BrandEndpoints,
    loaded: &Loaded,
) -> Result<InteractionView, InteractionError> {
    let brand_id = brand.server.brand.id();
    let request = &loaded.session.request;
    let client = load_client(inner, brand_id, &request.client_id).await?;
    let mut out = InteractionView {
        step: StepName::Authenticate,
        client: ClientView {
            client_id: client.id().clone(),
            name: client
                .metadata
                .client_name
                .clone()
                .unwrap_or_else(|| client.id().to_string()),
            logo_uri: client.metadata.logo_uri.clone(),
        },
        acr_values: request.acr_values.clone(),
        expires_at: loaded.record.expires_at,
        consent: None,
        resources: Vec::new(),
        redirect_to: None,
        approved: None,
    };
    match &loaded.session.step {
        Step::Completed {
            redirect_to,
            approved,
        } => {
            out.step = StepName::Completed;
            out.approved = Some(*approved);
            // The browser goes back to the client from the device it left.
            if !loaded.via_handoff {
                out.redirect_to = Some(redirect_to.clone());
            }
        }
        _ if loaded.session.handed_off && !loaded.via_handoff => out.step = StepName::HandedOff,
        Step::Authenticate => {}
        Step::Consent { customer } => {
            out.step = StepName::Consent;
            let (consent, types) = consent_view(inner, brand_id, request).await?;
            out.resources = selectable(inner, brand_id, request, &consent, customer, types).await?;
            out.consent = Some(consent);
        }
    }
    Ok(out)
}

async fn consent_details(
    inner: &Inner,
    brand: &BrandId,
    request: &AuthorizationRequest,
) -> Result<ConsentDetails, InteractionError> {
    inner
        .consent_authorisation
        .details(brand, &request.consent_id)
        .await
        .map_err(|_| InteractionError::Unavailable)?
        .ok_or(InteractionError::NotFound)
}

async fn consent_view(
    inner: &Inner,
    brand: &BrandId,
    request: &AuthorizationRequest,
) -> Result<(ConsentView, Vec<opus_core::connector::ResourceType>), InteractionError> {
    let details = consent_details(inner, brand, request).await?;
    Ok((
        ConsentView {
            consent_id: details.id.to_string(),
            kind: details.kind,
            permissions: details.permissions,
            expiration_date_time: details.expiration_date_time,
            business_entity: details.business_entity,
        },
        details.resource_types,
    ))
}

async fn selectable(
    inner: &Inner,
    brand: &BrandId,
    request: &AuthorizationRequest,
    consent: &ConsentView,
    customer: &AuthenticatedCustomer,
    resource_types: Vec<opus_core::connector::ResourceType>,
) -> Result<Vec<SelectableResource>, InteractionError> {
    let Some(resources) = &inner.resources else {
        return Ok(Vec::new());
    };
    if resource_types.is_empty() {
        return Ok(Vec::new());
    }
    let query = ResourceQuery {
        brand: brand.clone(),
        consent_id: request.consent_id.clone(),
        consent_kind: consent.kind,
        customer: customer.clone(),
        resource_types: resource_types.clone(),
    };
    let mut offered = resources
        .selectable(&query)
        .await
        .map_err(|_| InteractionError::Unavailable)?;
    offered.retain(|r| resource_types.contains(&r.resource_type));
    Ok(offered)
}

async fn authenticate(
    inner: &Inner,
    brand: &BrandEndpoints,
    handle: &InteractionHandle,
    evidence: &AuthenticationEvidence,
) -> Result<Loaded, InteractionError> {
    let loaded = load(inner, brand, handle).await?;
    loaded.check_driver()?;
    if !matches!(loaded.session.step, Step::Authenticate) {
        return Err(InteractionError::WrongStep);
    }
    let request = request_for(inner, brand, &loaded.record, &loaded.session).await?;
    let result = inner.authenticator.authenticate(&request, evidence).await;
    let customer = match result {
        Ok(customer) if acr_met(&loaded.session.request.acr_values, customer.acr) => customer,
        Ok(_) | Err(AuthenticationError::Rejected) => {
            let mut session = loaded.session.clone();
            session.failed_authentications = session.failed_authentications.saturating_add(1);
            let remaining =
                MAX_AUTHENTICATION_ATTEMPTS.saturating_sub(session.failed_authentications);
            if remaining == 0 {
                let outcome = InteractionOutcome::Denied {
                    reason: DenialReason::AuthenticationFailed,
                };
                return conclude(inner, brand, loaded, outcome).await;
            }
            save(inner, &loaded, &session, loaded.record.handoff).await?;
            return Err(InteractionError::AuthenticationFailed { remaining });
        }
        Err(e) => {
            tracing::warn!(error = %e, "the bank's authentication service failed");
            return Err(InteractionError::Unavailable);
        }
    };
    // Whoever authenticates must be the customer the consent names; anyone
    // else never sees the consent.
    let wrong_customer = request
        .logged_user
        .as_ref()
        .is_some_and(|cpf| cpf != &customer.subject)
        || (request.business_entity.is_some()
            && request.business_entity != customer.business_entity);
    if wrong_customer {
        let outcome = InteractionOutcome::Denied {
            reason: DenialReason::WrongCustomer,
        };
        return conclude(inner, brand, loaded, outcome).await;
    }
    let mut session = loaded.session.clone();
    session.step = Step::Consent { customer };
    let record = save(inner, &loaded, &session, loaded.record.handoff).await?;
    observe(
        inner,
        brand,
        &session,
        super::flow::FlowEvent::Authenticated,
    )
    .await;
    Ok(Loaded {
        record,
        session,
        via_handoff: loaded.via_handoff,
    })
}

/// LoA3 satisfies a request for LoA2; LoA2 never satisfies LoA3 alone.
pub(crate) fn acr_met(requested: &[Acr], reached: Acr) -> bool {
    requested.contains(&reached) || (reached == Acr::Loa3 && requested.contains(&Acr::Loa2))
}

async fn decide(
    inner: &Inner,
    brand: &BrandEndpoints,
    handle: &InteractionHandle,
    decision: Decision,
) -> Result<Loaded, InteractionError> {
    let loaded = load(inner, brand, handle).await?;
    loaded.check_driver()?;
    let Step::Consent { customer } = &loaded.session.step else {
        return Err(InteractionError::WrongStep);
    };
    let outcome = match decision {
        Decision::Deny => InteractionOutcome::Denied {
            reason: DenialReason::CustomerRejected,
        },
        Decision::Approve { resources } => {
            let brand_id = brand.server.brand.id();
            let request = &loaded.session.request;
            let (consent, types) = consent_view(inner, brand_id, request).await?;
            let offered = selectable(inner, brand_id, request, &consent, customer, types).await?;
            let mut chosen: Vec<ResourceId> = Vec::new();
            for r in resources {
                if !offered.iter().any(|o| o.resource_id == r) {
                    return Err(InteractionError::InvalidSelection);
                }
                if !chosen.contains(&r) {
                    chosen.push(r);
                }
            }
            InteractionOutcome::Approved(InteractionApproval {
                subject: customer.subject.clone(),
                business_entity: customer.business_entity.clone(),
                acr: customer.acr,
                auth_time: customer.auth_time,
                resources: chosen,
            })
        }
    };
    conclude(inner, brand, loaded, outcome).await
}

fn random_code() -> Result<String, InteractionError> {
    let mut bytes = [0u8; 32];
    SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| InteractionError::Internal("random"))?;
    Ok(b64_encode(bytes))
}

async fn hand_off(
    inner: &Inner,
    brand: &BrandEndpoints,
    id: &InteractionSessionId,
) -> Result<HandOff, InteractionError> {
    let loaded = load(inner, brand, &InteractionHandle::Id(*id)).await?;
    // Only before authentication; handing off again replaces the code (a
    // lost or expired QR code), and the old one stops working.
    if !matches!(loaded.session.step, Step::Authenticate) {
        return Err(InteractionError::WrongStep);
    }
    let code = random_code()?;
    let mut session = loaded.session.clone();
    session.handed_off = true;
    save(inner, &loaded, &session, Some(TokenHash::of(&code))).await?;
    if let Ok(authorization_endpoint) = Url::parse(&brand.endpoint("authorize")) {
        observe(
            inner,
            brand,
            &session,
            super::flow::FlowEvent::RedirectTarget {
                waiting: super::flow::Waiting::HandOff,
                authorization_endpoint,
            },
        )
        .await;
    }
    let url = match &inner.handoff_url {
        Some(base) => {
            let mut url = base.clone();
            url.query_pairs_mut()
                .append_pair("brand", brand.server.brand.id().as_str())
                .append_pair("handoff", &code);
            url
        }
        None => Url::parse(&brand.endpoint(&format!("interaction/handoff/{code}")))
            .map_err(|_| InteractionError::Internal("issuer URL"))?,
    };
    Ok(HandOff {
        code,
        url,
        expires_at: loaded.record.expires_at,
    })
}

/// Finishes interaction `id` with an outcome the bank's own front decided.
pub(crate) async fn complete_by_bank(
    inner: &Inner,
    brand: &BrandEndpoints,
    id: &InteractionSessionId,
    outcome: InteractionOutcome,
) -> Result<Url, InteractionError> {
    let loaded = load(inner, brand, &InteractionHandle::Id(*id)).await?;
    if matches!(loaded.session.step, Step::Completed { .. }) {
        return Err(InteractionError::NotFound);
    }
    let done = conclude(inner, brand, loaded, outcome).await?;
    match done.session.step {
        Step::Completed { redirect_to, .. } => Ok(redirect_to),
        _ => Err(InteractionError::Internal("interaction not completed")),
    }
}

impl AuthorizationServer {
    fn endpoints(&self, brand: &BrandId) -> Result<&BrandEndpoints, InteractionError> {
        self.inner
            .brands
            .iter()
            .find(|b| b.server.brand.id() == brand)
            .ok_or(InteractionError::UnknownBrand)
    }

    /// The current step of an interaction (poll it while another device
    /// carries it on).
    ///
    /// # Errors
    /// [`InteractionError::NotFound`] for an unknown or expired interaction;
    /// [`InteractionError::Internal`] when a backend fails.
    pub async fn interaction(
        &self,
        brand: &BrandId,
        handle: &InteractionHandle,
    ) -> Result<InteractionView, InteractionError> {
        let endpoints = self.endpoints(brand)?;
        let loaded = load(&self.inner, endpoints, handle).await?;
        view(&self.inner, endpoints, &loaded).await
    }

    /// The authenticate step: the bank's [`UserAuthenticator`] checks
    /// `evidence`. The customer must be the one the consent names and reach
    /// an acceptable level of assurance; three failed attempts, or the wrong
    /// customer, end the interaction denied (the view then says completed).
    ///
    /// # Errors
    /// [`InteractionError::AuthenticationFailed`] with the attempts left;
    /// [`InteractionError::WrongStep`], [`InteractionError::HandedOff`],
    /// [`InteractionError::NotFound`], [`InteractionError::Unavailable`].
    pub async fn authenticate(
        &self,
        brand: &BrandId,
        handle: &InteractionHandle,
        evidence: &AuthenticationEvidence,
    ) -> Result<InteractionView, InteractionError> {
        let endpoints = self.endpoints(brand)?;
        let loaded = authenticate(&self.inner, endpoints, handle, evidence).await?;
        view(&self.inner, endpoints, &loaded).await
    }

    /// The consent step: approve (with resources among those offered) or
    /// deny. Approval authorises the consent and prepares the redirect with
    /// `code`, `state` and the encrypted ID token; denial rejects the
    /// consent and prepares `error=access_denied`.
    ///
    /// # Errors
    /// [`InteractionError::InvalidSelection`], [`InteractionError::WrongStep`],
    /// [`InteractionError::HandedOff`], [`InteractionError::NotFound`] (also
    /// when another interaction of the same request finished first).
    pub async fn decide(
        &self,
        brand: &BrandId,
        handle: &InteractionHandle,
        decision: Decision,
    ) -> Result<InteractionView, InteractionError> {
        let endpoints = self.endpoints(brand)?;
        let loaded = decide(&self.inner, endpoints, handle, decision).await?;
        view(&self.inner, endpoints, &loaded).await
    }

    /// Hands interaction `id` to another device, before authentication.
    ///
    /// # Errors
    /// [`InteractionError::WrongStep`] after authentication;
    /// [`InteractionError::NotFound`].
    pub async fn hand_off(
        &self,
        brand: &BrandId,
        id: &InteractionSessionId,
    ) -> Result<HandOff, InteractionError> {
        let endpoints = self.endpoints(brand)?;
        hand_off(&self.inner, endpoints, id).await
    }
}

// ---------------------------------------------------------------- app assertions

/// Verifies the signed assertions a bank's app (or login service) issues
/// when it has authenticated the customer for an interaction, for use in a
/// [`UserAuthenticator`] ([`AppAssertionAuthenticator`] is one).
///
/// The assertion is a compact JWS (PS256 or ES256) by a key of `keys`, with
/// claims `iss` (the app's issuer), `aud` (the brand id), `interaction` (the
/// interaction id), `cpf`, optional `cnpj`, `acr`, `auth_time`, `iat`, `exp`
/// (at most five minutes after `iat`) and a single-use `jti`.
#[derive(Clone)]
pub struct AppAssertionVerifier {
    issuer: String,
    keys: JwkSet,
    replay: std::sync::Arc<dyn ReplayGuard>,
    clock: std::sync::Arc<dyn Clock>,
}

impl std::fmt::Debug for AppAssertionVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppAssertionVerifier")
            .field("issuer", &self.issuer)
            .finish_non_exhaustive()
    }
}

/// The longest an app assertion may live.
const APP_ASSERTION_MAX_LIFETIME: Duration = Duration::from_secs(300);
/// Clock skew tolerated on `iat`.
const APP_ASSERTION_SKEW: Duration = Duration::from_secs(30);

impl AppAssertionVerifier {
    /// Trusts assertions of `issuer` signed by `keys`; `jti`s are recorded
    /// in `replay` (shared by every replica).
    pub fn new(
        issuer: impl Into<String>,
        keys: JwkSet,
        replay: std::sync::Arc<dyn ReplayGuard>,
        clock: std::sync::Arc<dyn Clock>,
    ) -> Self {
        Self {
            issuer: issuer.into(),
            keys,
            replay,
            clock,
        }
    }

    /// The customer `assertion` vouches for, in interaction `request`.
    ///
    /// # Errors
    /// [`AuthenticationError::Rejected`] for anything but a valid, fresh,
    /// unused assertion for this interaction and brand;
    /// [`AuthenticationError::Unavailable`] when the replay store fails.
    pub async fn verify(
        &self,
        request: &InteractionRequest,
        assertion: &str,
    ) -> Result<AuthenticatedCustomer, AuthenticationError> {
        let policy = jws::JwsPolicy::allowing(&[JwsAlg::PS256, JwsAlg::ES256]);
        let verified = jws::verify(assertion, &self.keys, &policy)
            .map_err(|_| AuthenticationError::Rejected)?;
        let claims = verified
            .claims()
            .map_err(|_| AuthenticationError::Rejected)?;
        let text = |name: &str| claims.get(name).and_then(Value::as_str);
        let number = |name: &str| claims.get(name).and_then(Value::as_u64);
        let now = self.clock.now();
        let audience_ok = match claims.get("aud") {
            Some(Value::String(a)) => a == request.brand.as_str(),
            Some(Value::Array(a)) => a.iter().any(|v| v.as_str() == Some(request.brand.as_str())),
            _ => false,
        };
        let (Some(iat), Some(exp), Some(auth_time)) =
            (number("iat"), number("exp"), number("auth_time"))
        else {
            return Err(AuthenticationError::Rejected);
        };
        let now_s = now.unix_seconds().max(0) as u64;
        let fresh = exp > now_s
            && iat <= now_s.saturating_add(APP_ASSERTION_SKEW.as_secs())
            && exp.saturating_sub(iat) <= APP_ASSERTION_MAX_LIFETIME.as_secs()
            && auth_time <= now_s.saturating_add(APP_ASSERTION_SKEW.as_secs());
        let id = request.id.to_string();
        if text("iss") != Some(self.issuer.as_str())
            || !audience_ok
            || text("interaction") != Some(id.as_str())
            || !fresh
        {
            return Err(AuthenticationError::Rejected);
        }
        let subject = text("cpf")
            .and_then(|c| Cpf::parse(c).ok())
            .ok_or(AuthenticationError::Rejected)?;
        let business_entity = match text("cnpj") {
            None => None,
            Some(c) => Some(Cnpj::parse(c).map_err(|_| AuthenticationError::Rejected)?),
        };
        let acr: Acr = claims
            .get("acr")
            .cloned()
            .and_then(|v| serde_json::from_value(v).ok())
            .ok_or(AuthenticationError::Rejected)?;
        let auth_time = Timestamp::from_unix_seconds(i64::try_from(auth_time).unwrap_or(i64::MAX))
            .map_err(|_| AuthenticationError::Rejected)?;
        let jti = text("jti")
            .and_then(|j| Jti::new(j).ok())
            .ok_or(AuthenticationError::Rejected)?;
        let scope = ReplayScope {
            brand: request.brand.clone(),
            namespace: "app-assertion".to_owned(),
        };
        let keep_until = Timestamp::from_unix_seconds(i64::try_from(exp).unwrap_or(i64::MAX))
            .map_err(|_| AuthenticationError::Rejected)?;
        match self.replay.insert_jti(&scope, &jti, keep_until, now).await {
            Ok(()) => {}
            Err(StoreError::Conflict) => return Err(AuthenticationError::Rejected),
            Err(e) => return Err(AuthenticationError::Unavailable(Box::new(e))),
        }
        Ok(AuthenticatedCustomer {
            subject,
            business_entity,
            acr,
            auth_time,
        })
    }
}

/// A [`UserAuthenticator`] for banks that authenticate in their app only:
/// it accepts [`AuthenticationEvidence::AppAssertion`]s checked by an
/// [`AppAssertionVerifier`] and refuses form posts.
#[derive(Debug, Clone)]
pub struct AppAssertionAuthenticator {
    verifier: AppAssertionVerifier,
}

impl AppAssertionAuthenticator {
    /// Authenticates with `verifier`.
    pub fn new(verifier: AppAssertionVerifier) -> Self {
        Self { verifier }
    }
}

#[async_trait::async_trait]
impl UserAuthenticator for AppAssertionAuthenticator {
    async fn authenticate(
        &self,
        request: &InteractionRequest,
        evidence: &AuthenticationEvidence,
    ) -> Result<AuthenticatedCustomer, AuthenticationError> {
        match evidence {
            AuthenticationEvidence::AppAssertion(assertion) => {
                self.verifier.verify(request, assertion).await
            }
            _ => Err(AuthenticationError::Rejected),
        }
    }
}

// ---------------------------------------------------------------- HTTP

/// What the HTTP layer hands over for an `interaction/…` path.
pub(crate) struct HttpCommand<'a> {
    pub(crate) method: &'a Method,
    pub(crate) rest: &'a str,
    pub(crate) accept: Option<&'a str>,
    pub(crate) content_type: Option<&'a str>,
    pub(crate) body: &'a [u8],
}

enum Command {
    View,
    Authenticate,
    Decision,
    HandOff,
}

fn route(rest: &str) -> Option<(InteractionHandle, Command)> {
    let parts: Vec<&str> = rest.split('/').collect();
    let (handle, tail) = match parts.as_slice() {
        ["handoff", code, tail @ ..] if !code.is_empty() => {
            (InteractionHandle::HandOff((*code).to_owned()), tail)
        }
        [id, tail @ ..] => (
            InteractionHandle::Id(InteractionSessionId::parse(id).ok()?),
            tail,
        ),
        _ => return None,
    };
    let command = match tail {
        [] => Command::View,
        ["authenticate"] => Command::Authenticate,
        ["decision"] => Command::Decision,
        ["handoff"] if matches!(handle, InteractionHandle::Id(_)) => Command::HandOff,
        _ => return None,
    };
    Some((handle, command))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AuthenticateBody {
    assertion: Option<String>,
    form: Option<BTreeMap<String, String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DecisionBody {
    decision: String,
    #[serde(default)]
    resources: Vec<String>,
}

fn error_status(e: &InteractionError) -> (StatusCode, &'static str) {
    match e {
        InteractionError::NotFound | InteractionError::UnknownBrand => {
            (StatusCode::NOT_FOUND, "not_found")
        }
        InteractionError::WrongStep => (StatusCode::CONFLICT, "wrong_step"),
        InteractionError::HandedOff => (StatusCode::CONFLICT, "handed_off"),
        InteractionError::AuthenticationFailed { .. } => {
            (StatusCode::UNAUTHORIZED, "authentication_failed")
        }
        InteractionError::InvalidSelection => {
            (StatusCode::UNPROCESSABLE_ENTITY, "invalid_selection")
        }
        InteractionError::BadRequest(_) => (StatusCode::BAD_REQUEST, "invalid_request"),
        InteractionError::Unavailable => {
            (StatusCode::SERVICE_UNAVAILABLE, "temporarily_unavailable")
        }
        _ => (StatusCode::INTERNAL_SERVER_ERROR, "server_error"),
    }
}

fn json_error(e: &InteractionError) -> Response<Body> {
    let (status, code) = error_status(e);
    let mut body = serde_json::json!({"error": code, "error_description": e.to_string()});
    if let InteractionError::AuthenticationFailed { remaining } = e {
        body["attempts_remaining"] = serde_json::json!(remaining);
    }
    secure(json_response(status, &body))
}

/// Headers every interaction response carries: its URLs hold secrets.
fn secure(mut response: Response<Body>) -> Response<Body> {
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; img-src https: data:; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    response
}

fn see_other(to: &str) -> Response<Body> {
    let mut response = Response::new(Body::default());
    *response.status_mut() = StatusCode::SEE_OTHER;
    if let Ok(value) = HeaderValue::from_str(to) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    secure(response)
}

fn media_is(value: Option<&str>, media: &str) -> bool {
    value.is_some_and(|v| {
        v.split(';')
            .next()
            .is_some_and(|m| m.trim().eq_ignore_ascii_case(media))
    })
}

/// Serves `interaction/…`.
pub(crate) async fn http(
    inner: &Inner,
    brand: &BrandEndpoints,
    command: HttpCommand<'_>,
) -> Response<Body> {
    let Some((handle, what)) = route(command.rest) else {
        return secure(super::not_found());
    };
    let html = match *command.method {
        Method::GET => command.accept.is_some_and(|a| a.contains("text/html")),
        Method::POST => media_is(command.content_type, "application/x-www-form-urlencoded"),
        _ => return secure(super::method_not_allowed()),
    };
    if command.method == Method::POST
        && !html
        && !command.body.is_empty()
        && !media_is(command.content_type, "application/json")
    {
        return json_error(&InteractionError::BadRequest(
            "the body must be application/json or a form",
        ));
    }
    let page = page_path(brand, &handle);
    let result: Result<Response<Body>, InteractionError> = async {
        match (what, command.method) {
            (Command::View, &Method::GET) => {
                let loaded = load(inner, brand, &handle).await?;
                let view = view(inner, brand, &loaded).await?;
                Ok(if html {
                    render(brand, &handle, &view, None)
                } else {
                    secure(json_response(StatusCode::OK, &to_json(&view)))
                })
            }
            (Command::Authenticate, &Method::POST) => {
                let evidence = if html {
                    let fields = form_fields(command.body);
                    match fields.iter().find(|(k, _)| k == "assertion") {
                        Some((_, a)) => AuthenticationEvidence::AppAssertion(a.clone()),
                        None => AuthenticationEvidence::Form(fields.into_iter().collect()),
                    }
                } else {
                    let body: AuthenticateBody = serde_json::from_slice(command.body)
                        .map_err(|_| InteractionError::BadRequest("unreadable body"))?;
                    match (body.assertion, body.form) {
                        (Some(a), None) => AuthenticationEvidence::AppAssertion(a),
                        (None, Some(f)) => AuthenticationEvidence::Form(f),
                        _ => {
                            return Err(InteractionError::BadRequest(
                                "give exactly one of assertion and form",
                            ));
                        }
                    }
                };
                match authenticate(inner, brand, &handle, &evidence).await {
                    Ok(loaded) => respond(inner, brand, &handle, &loaded, html, &page).await,
                    Err(e @ InteractionError::AuthenticationFailed { .. }) if html => {
                        let loaded = load(inner, brand, &handle).await?;
                        let view = view(inner, brand, &loaded).await?;
                        let mut page = render(brand, &handle, &view, Some(&e));
                        *page.status_mut() = StatusCode::UNAUTHORIZED;
                        Ok(page)
                    }
                    Err(e) => Err(e),
                }
            }
            (Command::Decision, &Method::POST) => {
                let (decision, resources) = if html {
                    let fields = form_fields(command.body);
                    let decision = fields
                        .iter()
                        .find(|(k, _)| k == "decision")
                        .map(|(_, v)| v.clone())
                        .unwrap_or_default();
                    let resources = fields
                        .into_iter()
                        .filter(|(k, _)| k == "resource")
                        .map(|(_, v)| v)
                        .collect();
                    (decision, resources)
                } else {
                    let body: DecisionBody = serde_json::from_slice(command.body)
                        .map_err(|_| InteractionError::BadRequest("unreadable body"))?;
                    (body.decision, body.resources)
                };
                let decision = match decision.as_str() {
                    "approve" => Decision::Approve {
                        resources: resources
                            .into_iter()
                            .map(ResourceId::new)
                            .collect::<Result<_, _>>()
                            .map_err(|_| InteractionError::InvalidSelection)?,
                    },
                    "deny" => Decision::Deny,
                    _ => return Err(InteractionError::BadRequest("decision is approve or deny")),
                };
                let loaded = decide(inner, brand, &handle, decision).await?;
                respond(inner, brand, &handle, &loaded, html, &page).await
            }
            (Command::HandOff, &Method::POST) => {
                let InteractionHandle::Id(id) = &handle else {
                    return Err(InteractionError::NotFound);
                };
                let handoff = hand_off(inner, brand, id).await?;
                Ok(if html {
                    hand_off_page(brand, &page, &handoff)
                } else {
                    secure(json_response(
                        StatusCode::OK,
                        &serde_json::json!({
                            "url": handoff.url,
                            "expires_at": handoff.expires_at,
                        }),
                    ))
                })
            }
            _ => Ok(secure(super::method_not_allowed())),
        }
    }
    .await;
    match result {
        Ok(response) => response,
        Err(e) if html => error_page(&e),
        Err(e) => json_error(&e),
    }
}

fn page_path(brand: &BrandEndpoints, handle: &InteractionHandle) -> String {
    match handle {
        InteractionHandle::Id(id) => brand.endpoint(&format!("interaction/{id}")),
        InteractionHandle::HandOff(code) => {
            let code: String = url::form_urlencoded::byte_serialize(code.as_bytes()).collect();
            brand.endpoint(&format!("interaction/handoff/{code}"))
        }
    }
}

async fn respond(
    inner: &Inner,
    brand: &BrandEndpoints,
    handle: &InteractionHandle,
    loaded: &Loaded,
    html: bool,
    page: &str,
) -> Result<Response<Body>, InteractionError> {
    if html {
        // Post/redirect/get: the page shows the new step (or sends the
        // browser back to the client once completed).
        let _ = handle;
        return Ok(see_other(page));
    }
    let view = view(inner, brand, loaded).await?;
    Ok(secure(json_response(StatusCode::OK, &to_json(&view))))
}

fn to_json(view: &InteractionView) -> Value {
    serde_json::to_value(view).unwrap_or(Value::Null)
}

/// Form fields in order; repeated names kept (resource checkboxes).
fn form_fields(body: &[u8]) -> Vec<(String, String)> {
    url::form_urlencoded::parse(body).into_owned().collect()
}

// ---------------------------------------------------------------- pages

fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn html_response(status: StatusCode, html: String) -> Response<Body> {
    let mut response = Response::new(Body::from(html));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    secure(response)
}

fn error_page(e: &InteractionError) -> Response<Body> {
    let (status, _) = error_status(e);
    let message = match e {
        InteractionError::NotFound | InteractionError::UnknownBrand => {
            "Esta autorização expirou ou já foi concluída. Volte ao aplicativo de origem e comece de novo."
        }
        InteractionError::HandedOff => "Esta autorização continua em outro dispositivo.",
        InteractionError::WrongStep => "Esta autorização mudou de etapa. Recarregue a página.",
        InteractionError::InvalidSelection => "Escolha apenas entre os recursos apresentados.",
        InteractionError::Unavailable => {
            "O serviço está indisponível. Tente novamente em instantes."
        }
        _ => "Não foi possível continuar. Tente novamente mais tarde.",
    };
    html_response(
        status,
        format!(
            "<!doctype html><html lang=\"pt-BR\"><meta charset=\"utf-8\"><title>Erro</title>\
             <body><h1>Não foi possível continuar</h1><p>{}</p></body></html>",
            esc(message)
        ),
    )
}

fn render(
    brand: &BrandEndpoints,
    handle: &InteractionHandle,
    view: &InteractionView,
    failure: Option<&InteractionError>,
) -> Response<Body> {
    if let Some(to) = &view.redirect_to {
        return see_other(to.as_str());
    }
    let page = page_path(brand, handle);
    let client = esc(&view.client.name);
    let mut head_extra = String::new();
    let body = match view.step {
        StepName::Authenticate => {
            let mut out = format!(
                "<h1>Entrar</h1><p><strong>{client}</strong> pede acesso por meio do Open Finance.</p>"
            );
            if let Some(InteractionError::AuthenticationFailed { remaining }) = failure {
                out.push_str(&format!(
                    "<p role=\"alert\">Não foi possível confirmar sua identidade. Tentativas restantes: {remaining}.</p>"
                ));
            }
            out.push_str(&format!(
                "<form method=\"post\" action=\"{page}/authenticate\">\
                 <label>CPF <input name=\"cpf\" inputmode=\"numeric\" autocomplete=\"username\" required></label>\
                 <label>Senha <input name=\"password\" type=\"password\" autocomplete=\"current-password\" required></label>\
                 <button type=\"submit\">Entrar</button></form>",
                page = esc(&page)
            ));
            if matches!(handle, InteractionHandle::Id(_)) {
                out.push_str(&format!(
                    "<form method=\"post\" action=\"{}/handoff\"><button type=\"submit\">Continuar no celular</button></form>",
                    esc(&page)
                ));
            }
            out
        }
        StepName::Consent => {
            let mut out = format!(
                "<h1>Autorizar compartilhamento</h1><p><strong>{client}</strong> solicita:</p><ul>"
            );
            if let Some(consent) = &view.consent {
                for p in &consent.permissions {
                    out.push_str(&format!("<li>{}</li>", esc(p.plain_portuguese())));
                }
                out.push_str("</ul>");
                match consent.expiration_date_time {
                    Some(t) => out.push_str(&format!("<p>Válido até {}.</p>", esc(&t.to_string()))),
                    None => out.push_str("<p>Válido por prazo indeterminado.</p>"),
                }
            } else {
                out.push_str("</ul>");
            }
            out.push_str(&format!(
                "<form method=\"post\" action=\"{}/decision\">",
                esc(&page)
            ));
            if !view.resources.is_empty() {
                out.push_str("<fieldset><legend>Escolha o que compartilhar</legend>");
                for r in &view.resources {
                    out.push_str(&format!(
                        "<label><input type=\"checkbox\" name=\"resource\" value=\"{}\" checked> {}</label><br>",
                        esc(r.resource_id.as_str()),
                        esc(&r.label)
                    ));
                }
                out.push_str("</fieldset>");
            }
            out.push_str(
                "<button type=\"submit\" name=\"decision\" value=\"approve\">Autorizar</button> \
                 <button type=\"submit\" name=\"decision\" value=\"deny\">Recusar</button></form>",
            );
            out
        }
        StepName::HandedOff => {
            head_extra = format!("<meta http-equiv=\"refresh\" content=\"{POLL_SECONDS}\">");
            "<h1>Continue no celular</h1><p>Abra o link enviado no aplicativo do banco. \
             Esta página segue sozinha quando você terminar.</p>"
                .to_owned()
        }
        StepName::Completed => {
            "<h1>Pronto</h1><p>Volte ao dispositivo onde você começou.</p>".to_owned()
        }
    };
    themed(brand, &head_extra, &body)
}

/// A page in the brand's theme (name, logo, colour) around `body`.
fn themed(brand: &BrandEndpoints, head_extra: &str, body: &str) -> Response<Body> {
    let b = &brand.server.brand;
    let colour = b.theme().primary_colour();
    let logo = b
        .theme()
        .logo_url()
        .map(|u| format!("<img src=\"{}\" alt=\"\" height=\"40\">", esc(u.as_str())))
        .unwrap_or_default();
    html_response(
        StatusCode::OK,
        format!(
            "<!doctype html><html lang=\"pt-BR\"><head><meta charset=\"utf-8\">\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">{head_extra}\
             <title>{name}</title><style>body{{font-family:sans-serif;max-width:32rem;margin:2rem auto;padding:0 1rem}}\
             button{{background:{colour};color:#fff;border:0;padding:.6rem 1rem;margin:.3rem 0;border-radius:4px}}\
             label{{display:block;margin:.5rem 0}}</style></head><body>{logo}{body}</body></html>",
            name = esc(b.display_name()),
        ),
    )
}

/// The first device's page after a hand-off: the link for the other
/// device, as a QR code and as text, and a button to carry on here once
/// done there (no timed refresh that would take the code away).
fn hand_off_page(brand: &BrandEndpoints, page: &str, handoff: &HandOff) -> Response<Body> {
    let link = handoff.url.as_str();
    let qr = qrcode::QrCode::new(link.as_bytes())
        .map(|code| {
            code.render::<qrcode::render::svg::Color<'_>>()
                .min_dimensions(220, 220)
                .build()
        })
        .ok()
        .and_then(|svg| svg.find("<svg").map(|at| svg[at..].to_owned()))
        .map(|svg| {
            svg.replacen(
                "<svg",
                "<svg role=\"img\" aria-label=\"Código QR com o link para o celular\"",
                1,
            )
        })
        .unwrap_or_default();
    let body = format!(
        "<h1>Continue no celular</h1>\
         <p>Aponte a câmera do celular para o código abaixo, ou abra o link no celular.</p>\
         <figure>{qr}<figcaption><a id=\"handoff-link\" href=\"{link}\">{link}</a></figcaption></figure>\
         <p>O link vale até {expires}.</p>\
         <form method=\"get\" action=\"{page}\"><button type=\"submit\">Já concluí no celular</button></form>",
        link = esc(link),
        expires = esc(&handoff.expires_at.to_string()),
        page = esc(page),
    );
    themed(brand, "", &body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_name_the_handle_and_command() {
        let id = InteractionSessionId::random();
        assert!(matches!(
            route(&id.to_string()),
            Some((InteractionHandle::Id(_), Command::View))
        ));
        assert!(matches!(
            route(&format!("{id}/decision")),
            Some((InteractionHandle::Id(_), Command::Decision))
        ));
        assert!(matches!(
            route("handoff/abc/authenticate"),
            Some((InteractionHandle::HandOff(_), Command::Authenticate))
        ));
        assert!(
            route("handoff/abc/handoff").is_none(),
            "no hand-off of a hand-off"
        );
        assert!(route("not-an-id").is_none());
        assert!(route(&format!("{id}/other")).is_none());
    }

    #[test]
    fn loa3_satisfies_loa2_but_not_the_reverse() {
        assert!(acr_met(&[Acr::Loa2], Acr::Loa3));
        assert!(acr_met(&[Acr::Loa2], Acr::Loa2));
        assert!(!acr_met(&[Acr::Loa3], Acr::Loa2));
    }
}
