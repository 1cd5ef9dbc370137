//! The resource guard: a tower `Layer` in front of every protected OFB API.
//!
//! In order, answering with the OFB error body on the first failure:
//!
//! 1. `x-fapi-interaction-id`: a UUID is required; missing or invalid → 400
//!    with a newly generated id. The id is echoed on every response.
//! 2. `Authorization: Bearer …` (at most 2048 characters) naming an access
//!    token of this brand that is neither expired nor revoked → else 401.
//! 3. The token is bound to the request's TLS client certificate
//!    (`x5t#S256`, RFC 8705 §3) → else 401.
//! 4. The token carries the endpoint's scope → else 403.
//! 5. When the endpoint needs a consent, the token's consent is
//!    `AUTHORISED` → else 401 (FAPI-BR §3.10).
//!
//! Handlers then read a [`VerifiedAccess`] from the request extensions and
//! never see raw security headers. Tokens are opaque and looked up in the
//! store on every call, so revocation takes effect at once on all replicas.

use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{HeaderValue, Request, Response};
use http_body_util::{Either, Full};
use opus_core::consent::ConsentStatus;
use opus_core::store::TokenHash;
use opus_core::{ApiError, BrandId, ClientId, Clock, ConsentId, InteractionId, Storage};

use crate::mtls::PeerCertificate;

const INTERACTION_ID: &str = "x-fapi-interaction-id";
const MAX_TOKEN_LEN: usize = 2048;

/// What a request proved, for the handler.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedAccess {
    /// The brand whose token it is.
    pub brand: BrandId,
    /// The client the token was issued to.
    pub client_id: ClientId,
    /// The token's scopes.
    pub scopes: Vec<String>,
    /// The consent the token is tied to, if any.
    pub consent_id: Option<ConsentId>,
    /// The call's `x-fapi-interaction-id`.
    pub interaction_id: InteractionId,
    /// `x-fapi-auth-date`, as sent.
    pub fapi_auth_date: Option<String>,
    /// `x-fapi-customer-ip-address`, as sent.
    pub customer_ip_address: Option<String>,
    /// `x-customer-user-agent`, as sent.
    pub customer_user_agent: Option<String>,
}

struct Config {
    brand: BrandId,
    storage: Storage,
    clock: Arc<dyn Clock>,
    scope: Option<String>,
    consent_required: bool,
}

/// Guards a service (see the module documentation).
#[derive(Clone)]
pub struct ResourceGuardLayer {
    config: Arc<Config>,
}

impl std::fmt::Debug for ResourceGuardLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResourceGuardLayer")
            .field("brand", &self.config.brand)
            .field("scope", &self.config.scope)
            .field("consent_required", &self.config.consent_required)
            .finish()
    }
}

impl ResourceGuardLayer {
    /// A guard for `brand`'s tokens.
    pub fn new(brand: BrandId, storage: Storage, clock: Arc<dyn Clock>) -> Self {
        Self {
            config: Arc::new(Config {
                brand,
                storage,
                clock,
                scope: None,
                consent_required: false,
            }),
        }
    }

    fn with(self, f: impl FnOnce(&mut Config)) -> Self {
        let mut config = Config {
            brand: self.config.brand.clone(),
            storage: self.config.storage.clone(),
            clock: self.config.clock.clone(),
            scope: self.config.scope.clone(),
            consent_required: self.config.consent_required,
        };
        f(&mut config);
        Self {
            config: Arc::new(config),
        }
    }

    /// Requires the token to carry `scope`.
    pub fn require_scope(self, scope: &str) -> Self {
        self.with(|c| c.scope = Some(scope.to_owned()))
    }

    /// Requires the token's consent to be `AUTHORISED`.
    pub fn require_authorised_consent(self) -> Self {
        self.with(|c| c.consent_required = true)
    }
}

impl<S> tower::Layer<S> for ResourceGuardLayer {
    type Service = ResourceGuard<S>;

    fn layer(&self, inner: S) -> Self::Service {
        ResourceGuard {
            inner,
            config: self.config.clone(),
        }
    }
}

/// The service of [`ResourceGuardLayer`].
#[derive(Clone)]
pub struct ResourceGuard<S> {
    inner: S,
    config: Arc<Config>,
}

impl<S> std::fmt::Debug for ResourceGuard<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResourceGuard")
            .field("brand", &self.config.brand)
            .finish_non_exhaustive()
    }
}

fn header(headers: &http::HeaderMap, name: &str, max: usize) -> Result<Option<String>, ApiError> {
    match headers.get(name) {
        None => Ok(None),
        Some(v) => v
            .to_str()
            .ok()
            .filter(|s| s.len() <= max)
            .map(|s| Some(s.to_owned()))
            .ok_or_else(|| ApiError::invalid_parameter("header")),
    }
}

/// What the checks need from a request, read before any await.
struct Facts {
    token: Option<String>,
    presented: Option<String>,
    fapi_auth_date: Result<Option<String>, ApiError>,
    customer_ip_address: Result<Option<String>, ApiError>,
    customer_user_agent: Result<Option<String>, ApiError>,
}

/// The token of an `Authorization: Bearer …` header (scheme
/// case-insensitive, at most 2048 characters); never from the query or body.
pub(crate) fn bearer_token(headers: &http::HeaderMap) -> Option<String> {
    headers
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim().to_owned())
        .filter(|t| !t.is_empty() && t.len() <= MAX_TOKEN_LEN)
}

impl Facts {
    fn of<B>(request: &Request<B>) -> Self {
        let headers = request.headers();
        Self {
            token: bearer_token(headers),
            presented: request
                .extensions()
                .get::<PeerCertificate>()
                .map(|p| crate::jose::jwk::certificate_thumbprint(p.der())),
            fapi_auth_date: header(headers, "x-fapi-auth-date", 29),
            customer_ip_address: header(headers, "x-fapi-customer-ip-address", 100),
            customer_user_agent: header(headers, "x-customer-user-agent", 255),
        }
    }
}

async fn check(
    config: &Config,
    facts: Facts,
    interaction_id: InteractionId,
) -> Result<VerifiedAccess, ApiError> {
    let token = facts.token.ok_or_else(ApiError::unauthorized)?;
    let now = config.clock.now();
    let record = config
        .storage
        .grants
        .get_token(&config.brand, &TokenHash::of(&token))
        .await
        .map_err(|_| ApiError::internal())?
        .filter(|r| r.is_active(now))
        .ok_or_else(ApiError::unauthorized)?;
    if record.certificate_thumbprint.is_none() || facts.presented != record.certificate_thumbprint {
        return Err(ApiError::unauthorized());
    }
    let scopes: Vec<String> = record.scope.split_whitespace().map(str::to_owned).collect();
    if let Some(required) = &config.scope
        && !scopes.iter().any(|s| s == required)
    {
        return Err(ApiError::forbidden());
    }
    if config.consent_required {
        let consent_id = record
            .consent_id
            .as_ref()
            .ok_or_else(ApiError::unauthorized)?;
        let consent = config
            .storage
            .consents
            .get_consent(&config.brand, consent_id)
            .await
            .map_err(|_| ApiError::internal())?;
        // Authorised, this client's, and not past its deadline by the clock
        // (expiry is applied even before any sweep or read has recorded it).
        if !consent.is_some_and(|c| {
            c.status == ConsentStatus::Authorised
                && c.client_id == record.client_id
                && c.expires_at.is_none_or(|e| now < e)
        }) {
            return Err(ApiError::unauthorized());
        }
    }
    Ok(VerifiedAccess {
        brand: config.brand.clone(),
        client_id: record.client_id.clone(),
        scopes,
        consent_id: record.consent_id.clone(),
        interaction_id,
        fapi_auth_date: facts.fapi_auth_date?,
        customer_ip_address: facts.customer_ip_address?,
        customer_user_agent: facts.customer_user_agent?,
    })
}

fn with_interaction_id<B>(mut response: Response<B>, id: InteractionId) -> Response<B> {
    if let Ok(value) = HeaderValue::from_str(&id.to_string()) {
        response.headers_mut().insert(INTERACTION_ID, value);
    }
    response
}

impl<S, B, ResBody> tower::Service<Request<B>> for ResourceGuard<S>
where
    S: tower::Service<Request<B>, Response = Response<ResBody>> + Clone + Send + 'static,
    S::Future: Send,
    B: Send + 'static,
{
    type Response = Response<Either<Full<Bytes>, ResBody>>;
    type Error = S::Error;
    type Future = std::pin::Pin<
        Box<dyn std::future::Future<Output = Result<Self::Response, S::Error>> + Send>,
    >;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<B>) -> Self::Future {
        let config = self.config.clone();
        // The readied service handles this request; a fresh clone stays for the next.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        Box::pin(async move {
            let now = config.clock.now();
            let sent = request
                .headers()
                .get(INTERACTION_ID)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| InteractionId::parse(v).ok());
            let Some(interaction_id) = sent else {
                let generated = InteractionId::random();
                let response =
                    ApiError::invalid_parameter("x-fapi-interaction-id").to_http_response(now);
                return Ok(with_interaction_id(
                    response.map(|b| Either::Left(Full::new(Bytes::from(b)))),
                    generated,
                ));
            };
            let facts = Facts::of(&request);
            match check(&config, facts, interaction_id).await {
                Ok(access) => {
                    // Onto the request's span (see `opus_pcm::observe`), if any.
                    let span = tracing::Span::current();
                    span.record("client.id", tracing::field::display(&access.client_id));
                    if let Some(consent) = &access.consent_id {
                        span.record("labels.consent_id", tracing::field::display(consent));
                    }
                    request.extensions_mut().insert(access);
                    let response = inner.call(request).await?;
                    Ok(with_interaction_id(
                        response.map(Either::Right),
                        interaction_id,
                    ))
                }
                Err(error) => {
                    let response = error.to_http_response(now);
                    Ok(with_interaction_id(
                        response.map(|b| Either::Left(Full::new(Bytes::from(b)))),
                        interaction_id,
                    ))
                }
            }
        })
    }
}
