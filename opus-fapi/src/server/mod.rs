//! The FAPI-BR v2 authorization server, as a tower `Service`; one instance
//! serves any number of brands, each with its own issuer and keys.
//!
//! Every piece of state goes through the storage ports (pushed requests,
//! codes, tokens, `jti`s), so any number of replicas can share one database.
//!
//! Endpoints, below each brand's issuer path:
//!
//! | path | spec |
//! |---|---|
//! | `/.well-known/openid-configuration` | OIDC Discovery, FAPI-BR §3.1 |
//! | `/jwks` | the brand's public signing keys |
//! | `/par` | RFC 9126 with a PS256 request object (RFC 9101), FAPI-BR §3.3–3.4 |
//! | `/authorize` | `client_id` + `request_uri` only; hands the customer to the bank's front ([`UserAuthenticator`]) |
//! | `/register` | RFC 7591/7592 with directory software statements, when [`Registration`] is configured |
//! | `/revoke` | RFC 7009; a refresh token takes its grant with it |
//! | `/introspect` | RFC 7662, for the institution's resource servers only, when configured |
//! | `/userinfo` | OIDC Core §5.3: the `sub` behind a bound access token |
//! | `/token` | `authorization_code` (PKCE), `refresh_token` (not rotated, lives with the consent), `client_credentials`; certificate-bound tokens |
//!
//! | `/interaction/…` | the interaction API and pages: authenticate → consent → completed, hand-off (see [`InteractionView`]) |
//!
//! The interaction runs through the server's interaction API (JSON or HTML
//! pages, or in process: [`AuthorizationServer::authenticate`],
//! [`AuthorizationServer::decide`], [`AuthorizationServer::hand_off`]); a
//! bank that runs its whole front itself reports the outcome with
//! [`AuthorizationServer::complete_interaction`]. Either way the customer
//! returns to the client with a signed and encrypted ID token.
//!
//! Access tokens are opaque (256 random bits); the store keeps their SHA-256
//! with scope, consent, client and the `x5t#S256` they are bound to, so a
//! revoked consent or token is refused at once by every replica.
//! [`guard`] checks them in front of resource APIs.

mod authorize;
mod client;
mod client_auth;
mod consents;
mod error;
pub mod flow;
pub mod guard;
mod interaction;
mod par;
mod register;
mod revoke;
mod token;

use std::convert::Infallible;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderValue, Method, Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Full, Limited};
use opus_core::interaction::{
    ConsentAuthorisation, CustomerResources, InteractionOutcome, UserAuthenticator,
};
use opus_core::keys::KeyCustody;
use opus_core::seal::Sealer;
use opus_core::{Brand, BrandId, ClientId, Clock, InteractionSessionId, Storage};
use url::Url;

pub use authorize::InteractionError;
pub use client::{
    ClientAuthMethod, ClientKeys, ClientMetadata, DirectoryClientKeys, RegisteredClient,
};
pub use client_auth::AuthenticatedClient;
pub use consents::StoreConsentAuthorisation;
pub use error::{OAuthError, OAuthErrorCode};
pub use interaction::{
    AppAssertionAuthenticator, AppAssertionVerifier, ClientView, ConsentView, Decision, HandOff,
    InteractionHandle, InteractionView, StepName,
};
pub use par::AuthorizationRequest;
pub use register::Registration;

/// The largest form body accepted (PAR requests carry a request object).
const MAX_BODY: usize = 64 * 1024;

/// Why a server configuration was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ServerConfigError {
    /// No brand configured.
    #[error("an authorization server needs at least one brand")]
    NoBrand,
    /// Two brands share an issuer path.
    #[error("two brands share the issuer path {0}")]
    DuplicateIssuer(String),
    /// A lifetime outside what the profile allows.
    #[error("{0}")]
    Lifetime(&'static str),
    /// A required part is missing.
    #[error("missing {0}")]
    Missing(&'static str),
}

/// A brand served by the authorization server, with its key custody.
#[derive(Clone)]
pub struct ServerBrand {
    /// The brand.
    pub brand: Brand,
    /// Its keys (ID tokens and other signatures).
    pub keys: Arc<dyn KeyCustody>,
}

impl std::fmt::Debug for ServerBrand {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerBrand")
            .field("brand", self.brand.id())
            .finish_non_exhaustive()
    }
}

pub(crate) struct BrandEndpoints {
    pub(crate) server: ServerBrand,
    /// The issuer without a trailing slash.
    pub(crate) issuer: String,
    /// The issuer's path without a trailing slash (`""` for a host issuer).
    pub(crate) base_path: String,
}

impl BrandEndpoints {
    pub(crate) fn endpoint(&self, name: &str) -> String {
        format!("{}/{name}", self.issuer)
    }

    pub(crate) fn mtls_endpoint(&self, name: &str) -> String {
        let base = self
            .server
            .brand
            .mtls_base_url()
            .as_str()
            .trim_end_matches('/');
        format!("{base}{}/{name}", self.base_path)
    }

    /// Audiences accepted in a client assertion: the issuer, and the token
    /// and PAR endpoints under both hosts (RFC 9126 §2; FAPI-BR §3.2).
    pub(crate) fn assertion_audiences(&self) -> Vec<String> {
        let mut out = vec![self.issuer.clone()];
        for name in ["token", "par"] {
            out.push(self.endpoint(name));
            out.push(self.mtls_endpoint(name));
        }
        out.sort();
        out.dedup();
        out
    }
}

pub(crate) struct Inner {
    pub(crate) brands: Vec<BrandEndpoints>,
    pub(crate) storage: Storage,
    pub(crate) sealer: Arc<Sealer>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) client_keys: Arc<dyn ClientKeys>,
    pub(crate) access_token_ttl: Duration,
    pub(crate) par_ttl: Duration,
    pub(crate) interaction_ttl: Duration,
    pub(crate) authenticator: Arc<dyn UserAuthenticator>,
    pub(crate) resources: Option<Arc<dyn CustomerResources>>,
    pub(crate) consent_authorisation: Arc<dyn ConsentAuthorisation>,
    pub(crate) handoff_url: Option<Url>,
    pub(crate) registration: Option<Registration>,
    pub(crate) encrypt_token_endpoint_id_tokens: bool,
    pub(crate) introspection_clients: Vec<ClientId>,
    pub(crate) flow_observer: Option<Arc<dyn flow::FlowObserver>>,
}

/// The authorization server. Cheap to clone; a `tower::Service` over
/// `http::Request` bodies.
#[derive(Clone)]
pub struct AuthorizationServer {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for AuthorizationServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthorizationServer")
            .field(
                "brands",
                &self
                    .inner
                    .brands
                    .iter()
                    .map(|b| b.issuer.as_str())
                    .collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

/// Builder of an [`AuthorizationServer`].
#[derive(Default)]
pub struct AuthorizationServerBuilder {
    brands: Vec<ServerBrand>,
    storage: Option<Storage>,
    sealer: Option<Arc<Sealer>>,
    clock: Option<Arc<dyn Clock>>,
    client_keys: Option<Arc<dyn ClientKeys>>,
    access_token_ttl: Option<Duration>,
    par_ttl: Option<Duration>,
    interaction_ttl: Option<Duration>,
    authenticator: Option<Arc<dyn UserAuthenticator>>,
    resources: Option<Arc<dyn CustomerResources>>,
    consent_authorisation: Option<Arc<dyn ConsentAuthorisation>>,
    handoff_url: Option<Url>,
    registration: Option<Registration>,
    encrypt_token_endpoint_id_tokens: bool,
    introspection_clients: Vec<ClientId>,
    flow_observer: Option<Arc<dyn flow::FlowObserver>>,
}

impl std::fmt::Debug for AuthorizationServerBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthorizationServerBuilder")
            .finish_non_exhaustive()
    }
}

impl AuthorizationServer {
    /// Starts a configuration.
    pub fn builder() -> AuthorizationServerBuilder {
        AuthorizationServerBuilder::default()
    }
}

impl AuthorizationServer {
    /// Records the outcome of interaction `id` of `brand`, reported by the
    /// bank's front once the customer has authenticated and decided, and
    /// returns where to send the customer's browser: the client's redirect
    /// URI carrying `code`, `state` and the encrypted ID token, or
    /// `error=access_denied` (the consent is then rejected).
    ///
    /// The bank's front calls this in process or through its own internal
    /// API; it is deliberately not an endpoint of this public service.
    ///
    /// # Errors
    /// [`InteractionError::NotFound`] for an unknown, expired or finished
    /// interaction (each finishes once); [`InteractionError::Internal`] when a
    /// backend fails.
    pub async fn complete_interaction(
        &self,
        brand: &BrandId,
        id: &InteractionSessionId,
        outcome: InteractionOutcome,
    ) -> Result<Url, InteractionError> {
        let endpoints = self
            .inner
            .brands
            .iter()
            .find(|b| b.server.brand.id() == brand)
            .ok_or(InteractionError::UnknownBrand)?;
        interaction::complete_by_bank(&self.inner, endpoints, id, outcome).await
    }
}

impl AuthorizationServerBuilder {
    /// Serves `brand`.
    pub fn brand(mut self, brand: ServerBrand) -> Self {
        self.brands.push(brand);
        self
    }

    /// The storage ports (required).
    pub fn storage(mut self, storage: Storage) -> Self {
        self.storage = Some(storage);
        self
    }

    /// Sealing at rest (required).
    pub fn sealer(mut self, sealer: Arc<Sealer>) -> Self {
        self.sealer = Some(sealer);
        self
    }

    /// Time (required).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = Some(clock);
        self
    }

    /// Where client keys come from (required; usually [`DirectoryClientKeys`]).
    pub fn client_keys(mut self, keys: Arc<dyn ClientKeys>) -> Self {
        self.client_keys = Some(keys);
        self
    }

    /// Access-token lifetime, 300 to 900 seconds (FAPI-BR §3.8); default 600.
    pub fn access_token_ttl(mut self, ttl: Duration) -> Self {
        self.access_token_ttl = Some(ttl);
        self
    }

    /// `request_uri` lifetime, 60 to 600 seconds (FAPI-BR §3.3); default 90.
    pub fn par_ttl(mut self, ttl: Duration) -> Self {
        self.par_ttl = Some(ttl);
        self
    }

    /// The bank's login and consent front (required).
    pub fn authenticator(mut self, authenticator: Arc<dyn UserAuthenticator>) -> Self {
        self.authenticator = Some(authenticator);
        self
    }

    /// The customer's resources offered on the consent screen (accounts,
    /// cards, contracts). Without it the screen offers none and approvals
    /// carry no resources.
    pub fn customer_resources(mut self, resources: Arc<dyn CustomerResources>) -> Self {
        self.resources = Some(resources);
        self
    }

    /// The consents the interaction shows and authorises; default: data
    /// consents through the consent store ([`StoreConsentAuthorisation`]).
    pub fn consent_authorisation(mut self, consents: Arc<dyn ConsentAuthorisation>) -> Self {
        self.consent_authorisation = Some(consents);
        self
    }

    /// Where a hand-off sends the other device: the bank app's universal
    /// link, which receives `brand` and `handoff` (the code) as query
    /// parameters and drives the interaction under
    /// `interaction/handoff/{code}`. Default: the server's own pages.
    pub fn handoff_url(mut self, url: Url) -> Self {
        self.handoff_url = Some(url);
        self
    }

    /// Tells `observer` of each step of every hybrid flow (the metrics
    /// collector's hybrid-flow reports).
    pub fn flow_observer(mut self, observer: Arc<dyn flow::FlowObserver>) -> Self {
        self.flow_observer = Some(observer);
        self
    }

    /// Offers dynamic client registration (RFC 7591/7592, OFB profile) at
    /// `/register`; without it clients are registered by the bank directly
    /// in the client store and `/register` answers 404.
    pub fn registration(mut self, registration: Registration) -> Self {
        self.registration = Some(registration);
        self
    }

    /// Offers token introspection (RFC 7662) at `/introspect` to these
    /// clients only — the institution's own resource servers, registered in
    /// the client store like any client. Without any, the endpoint is not
    /// served (the resource guard reads the store directly).
    pub fn introspection_clients(mut self, clients: Vec<ClientId>) -> Self {
        self.introspection_clients = clients;
        self
    }

    /// Encrypts the token endpoint's ID tokens too (to the client's `enc`
    /// key, as the front channel's). FAPI-BR v2 has them signed only, which
    /// is the default; some certification runs expect them encrypted.
    pub fn encrypt_token_endpoint_id_tokens(mut self, encrypt: bool) -> Self {
        self.encrypt_token_endpoint_id_tokens = encrypt;
        self
    }

    /// How long the customer has to log in and decide, 60 seconds to one
    /// hour; default ten minutes.
    pub fn interaction_ttl(mut self, ttl: Duration) -> Self {
        self.interaction_ttl = Some(ttl);
        self
    }

    /// Validates and builds.
    ///
    /// # Errors
    /// [`ServerConfigError`] for a missing part, a duplicate issuer or a
    /// lifetime outside the profile.
    pub fn build(self) -> Result<AuthorizationServer, ServerConfigError> {
        if self.brands.is_empty() {
            return Err(ServerConfigError::NoBrand);
        }
        let access_token_ttl = self.access_token_ttl.unwrap_or(Duration::from_secs(600));
        if !(300..=900).contains(&access_token_ttl.as_secs()) {
            return Err(ServerConfigError::Lifetime(
                "access tokens live 300 to 900 seconds",
            ));
        }
        let par_ttl = self.par_ttl.unwrap_or(Duration::from_secs(90));
        if !(60..=600).contains(&par_ttl.as_secs()) {
            return Err(ServerConfigError::Lifetime(
                "request_uri lives 60 to 600 seconds",
            ));
        }
        let interaction_ttl = self.interaction_ttl.unwrap_or(Duration::from_secs(600));
        if !(60..=3600).contains(&interaction_ttl.as_secs()) {
            return Err(ServerConfigError::Lifetime(
                "interactions last 60 seconds to one hour",
            ));
        }
        let mut brands: Vec<BrandEndpoints> = Vec::new();
        for server in self.brands {
            let issuer = server
                .brand
                .issuer()
                .as_str()
                .trim_end_matches('/')
                .to_owned();
            let base_path = server
                .brand
                .issuer()
                .path()
                .trim_end_matches('/')
                .to_owned();
            if brands.iter().any(|b| b.base_path == base_path) {
                return Err(ServerConfigError::DuplicateIssuer(base_path));
            }
            brands.push(BrandEndpoints {
                server,
                issuer,
                base_path,
            });
        }
        // Longest path first, so a brand at `/a/b` is not taken for one at `/a`.
        brands.sort_by_key(|b| std::cmp::Reverse(b.base_path.len()));
        let storage = self.storage.ok_or(ServerConfigError::Missing("storage"))?;
        let sealer = self.sealer.ok_or(ServerConfigError::Missing("sealer"))?;
        let clock = self.clock.ok_or(ServerConfigError::Missing("clock"))?;
        let consent_authorisation = self.consent_authorisation.unwrap_or_else(|| {
            Arc::new(StoreConsentAuthorisation::new(
                storage.clone(),
                sealer.clone(),
                clock.clone(),
            ))
        });
        Ok(AuthorizationServer {
            inner: Arc::new(Inner {
                brands,
                storage,
                sealer,
                clock,
                consent_authorisation,
                client_keys: self
                    .client_keys
                    .ok_or(ServerConfigError::Missing("client keys"))?,
                access_token_ttl,
                par_ttl,
                interaction_ttl,
                registration: self.registration,
                encrypt_token_endpoint_id_tokens: self.encrypt_token_endpoint_id_tokens,
                introspection_clients: self.introspection_clients,
                authenticator: self
                    .authenticator
                    .ok_or(ServerConfigError::Missing("authenticator"))?,
                resources: self.resources,
                handoff_url: self.handoff_url,
                flow_observer: self.flow_observer,
            }),
        })
    }
}

/// The response body type of the server.
pub type Body = Full<Bytes>;

pub(crate) fn json_response(status: StatusCode, value: &serde_json::Value) -> Response<Body> {
    let mut response = Response::new(Full::new(Bytes::from(value.to_string())));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn not_found() -> Response<Body> {
    let mut response = Response::new(Full::new(Bytes::new()));
    *response.status_mut() = StatusCode::NOT_FOUND;
    response
}

fn method_not_allowed() -> Response<Body> {
    let mut response = Response::new(Full::new(Bytes::new()));
    *response.status_mut() = StatusCode::METHOD_NOT_ALLOWED;
    response
}

/// Form parameters; a repeated name is a malformed request (RFC 6749 §3.1).
pub(crate) fn parse_form(
    body: &[u8],
) -> Result<std::collections::BTreeMap<String, String>, OAuthError> {
    let mut out = std::collections::BTreeMap::new();
    for (k, v) in url::form_urlencoded::parse(body) {
        if out.insert(k.into_owned(), v.into_owned()).is_some() {
            return Err(OAuthError::invalid_request("a parameter was repeated"));
        }
    }
    Ok(out)
}

impl Inner {
    fn brand_for(&self, path: &str) -> Option<(&BrandEndpoints, String)> {
        self.brands.iter().find_map(|b| {
            path.strip_prefix(&b.base_path)
                .and_then(|rest| rest.strip_prefix('/'))
                .map(|rest| (b, rest.to_owned()))
        })
    }

    async fn discovery(&self, b: &BrandEndpoints) -> Response<Body> {
        let aliases = serde_json::json!({
            "token_endpoint": b.mtls_endpoint("token"),
            "pushed_authorization_request_endpoint": b.mtls_endpoint("par"),
            "userinfo_endpoint": b.mtls_endpoint("userinfo"),
            "registration_endpoint": b.mtls_endpoint("register"),
            "revocation_endpoint": b.mtls_endpoint("revoke"),
        });
        let mut doc = serde_json::json!({
            "issuer": b.issuer,
            "authorization_endpoint": b.endpoint("authorize"),
            "pushed_authorization_request_endpoint": b.mtls_endpoint("par"),
            "require_pushed_authorization_requests": true,
            "token_endpoint": b.mtls_endpoint("token"),
            "userinfo_endpoint": b.mtls_endpoint("userinfo"),
            "registration_endpoint": b.mtls_endpoint("register"),
            "revocation_endpoint": b.mtls_endpoint("revoke"),
            "jwks_uri": b.endpoint("jwks"),
            "mtls_endpoint_aliases": aliases,
            "scopes_supported": [
                "openid", "consents", "resources", "accounts", "credit-cards-accounts", "customers",
                "loans", "financings", "invoice-financings", "unarranged-accounts-overdraft",
                "payments", "recurring-payments"
            ],
            "response_types_supported": ["code id_token"],
            "response_modes_supported": ["fragment"],
            "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials", "implicit"],
            "subject_types_supported": ["public"],
            "token_endpoint_auth_methods_supported": ["private_key_jwt"],
            "token_endpoint_auth_signing_alg_values_supported": ["PS256"],
            "request_object_signing_alg_values_supported": ["PS256"],
            "request_parameter_supported": true,
            "request_uri_parameter_supported": true,
            "id_token_signing_alg_values_supported": ["PS256"],
            "id_token_encryption_alg_values_supported": ["RSA-OAEP"],
            "id_token_encryption_enc_values_supported": ["A256GCM"],
            "userinfo_signing_alg_values_supported": ["PS256"],
            "code_challenge_methods_supported": ["S256"],
            "tls_client_certificate_bound_access_tokens": true,
            "claims_parameter_supported": true,
            "claims_supported": ["sub", "acr", "auth_time", "cpf", "cnpj"],
            "acr_values_supported": ["urn:brasil:openbanking:loa2", "urn:brasil:openbanking:loa3"],
        });
        if !self.introspection_clients.is_empty() {
            let endpoint = serde_json::json!(b.mtls_endpoint("introspect"));
            doc["introspection_endpoint"] = endpoint.clone();
            doc["mtls_endpoint_aliases"]["introspection_endpoint"] = endpoint;
            doc["introspection_endpoint_auth_methods_supported"] =
                serde_json::json!(["private_key_jwt"]);
        }
        json_response(StatusCode::OK, &doc)
    }

    async fn jwks(&self, b: &BrandEndpoints) -> Response<Body> {
        match b.server.keys.public_jwks().await {
            Ok(set) => {
                // Only signing keys are published here: the brand's decryption
                // keys (if any) are not for clients to encrypt ID tokens with.
                let keys: Vec<_> = set
                    .keys
                    .into_iter()
                    .filter(|k| k.use_.as_deref() != Some("enc"))
                    .collect();
                let mut response =
                    json_response(StatusCode::OK, &serde_json::json!({ "keys": keys }));
                response.headers_mut().insert(
                    header::CACHE_CONTROL,
                    HeaderValue::from_static("max-age=300"),
                );
                response
            }
            Err(e) => {
                tracing::warn!(error = %e, "brand JWKS unavailable");
                OAuthError::server_error().to_response()
            }
        }
    }

    async fn handle<B>(self: Arc<Self>, request: Request<B>) -> Response<Body>
    where
        B: http_body::Body + Send,
        B::Data: Send,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let path = request.uri().path().to_owned();
        let Some((brand, endpoint)) = self.brand_for(&path) else {
            return not_found();
        };
        let method = request.method().clone();
        match (endpoint.as_str(), &method) {
            (".well-known/openid-configuration", &Method::GET) => self.discovery(brand).await,
            ("jwks", &Method::GET) => self.jwks(brand).await,
            ("authorize", &Method::GET) => {
                authorize::authorize(
                    &self,
                    brand,
                    request.uri().query(),
                    request
                        .headers()
                        .get(header::ACCEPT)
                        .and_then(|v| v.to_str().ok()),
                    request
                        .headers()
                        .get(header::USER_AGENT)
                        .and_then(|v| v.to_str().ok()),
                )
                .await
            }
            _ if endpoint.starts_with("interaction/") => {
                let (parts, body) = request.into_parts();
                let bytes = match Limited::new(body, MAX_BODY).collect().await {
                    Ok(collected) => collected.to_bytes(),
                    Err(_) => {
                        let mut response = Response::new(Full::new(Bytes::new()));
                        *response.status_mut() = StatusCode::PAYLOAD_TOO_LARGE;
                        return response;
                    }
                };
                let header = |name: header::HeaderName| {
                    parts.headers.get(name).and_then(|v| v.to_str().ok())
                };
                interaction::http(
                    &self,
                    brand,
                    interaction::HttpCommand {
                        method: &parts.method,
                        rest: endpoint.trim_start_matches("interaction/"),
                        accept: header(header::ACCEPT),
                        content_type: header(header::CONTENT_TYPE),
                        body: &bytes,
                    },
                )
                .await
            }
            _ if endpoint == "register" || endpoint.starts_with("register/") => {
                self.registration_endpoint(brand, &endpoint, request).await
            }
            ("userinfo", &Method::GET | &Method::POST) => {
                let (parts, _) = request.into_parts();
                revoke::userinfo(&self, brand, &parts).await
            }
            ("introspect", _) if self.introspection_clients.is_empty() => not_found(),
            ("par" | "token" | "revoke" | "introspect", &Method::POST) => {
                let (parts, body) = request.into_parts();
                let bytes = match Limited::new(body, MAX_BODY).collect().await {
                    Ok(collected) => collected.to_bytes(),
                    Err(_) => {
                        let mut response = Response::new(Full::new(Bytes::new()));
                        *response.status_mut() = StatusCode::PAYLOAD_TOO_LARGE;
                        return response;
                    }
                };
                let form_type = parts
                    .headers
                    .get(header::CONTENT_TYPE)
                    .and_then(|v| v.to_str().ok())
                    .is_some_and(|v| {
                        v.split(';').next().is_some_and(|m| {
                            m.trim()
                                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
                        })
                    });
                if !form_type {
                    return OAuthError::invalid_request(
                        "the body must be application/x-www-form-urlencoded",
                    )
                    .to_response();
                }
                let result = match endpoint.as_str() {
                    "par" => par::push(&self, brand, &parts, &bytes).await,
                    "revoke" => revoke::revoke(&self, brand, &parts, &bytes).await,
                    "introspect" => revoke::introspect(&self, brand, &parts, &bytes).await,
                    _ => token::exchange(&self, brand, &parts, &bytes).await,
                };
                result.unwrap_or_else(|e| e.to_response())
            }
            (
                ".well-known/openid-configuration"
                | "jwks"
                | "authorize"
                | "par"
                | "token"
                | "revoke"
                | "introspect"
                | "userinfo",
                _,
            ) => method_not_allowed(),
            _ => not_found(),
        }
    }
}

impl Inner {
    async fn registration_endpoint<B>(
        &self,
        brand: &BrandEndpoints,
        endpoint: &str,
        request: Request<B>,
    ) -> Response<Body>
    where
        B: http_body::Body + Send,
        B::Data: Send,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        if self.registration.is_none() {
            return not_found();
        }
        let (parts, body) = request.into_parts();
        let bytes = match Limited::new(body, MAX_BODY).collect().await {
            Ok(collected) => collected.to_bytes(),
            Err(_) => {
                let mut response = Response::new(Full::new(Bytes::new()));
                *response.status_mut() = StatusCode::PAYLOAD_TOO_LARGE;
                return response;
            }
        };
        let has_body = matches!(parts.method, Method::POST | Method::PUT);
        let json_type = parts
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| {
                v.split(';')
                    .next()
                    .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"))
            });
        if has_body && !json_type {
            return OAuthError::invalid_request("the body must be application/json").to_response();
        }
        let result = match (endpoint.strip_prefix("register/"), &parts.method) {
            (None, &Method::POST) => register::register(self, brand, &parts, &bytes).await,
            (None, _) => return method_not_allowed(),
            (Some(client_id), _) => register::manage(self, brand, &parts, client_id, &bytes).await,
        };
        result.unwrap_or_else(|e| e.to_response())
    }
}

impl<B> tower::Service<Request<B>> for AuthorizationServer
where
    B: http_body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = std::pin::Pin<
        Box<dyn std::future::Future<Output = Result<Self::Response, Infallible>> + Send>,
    >;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let inner = self.inner.clone();
        Box::pin(async move { Ok(inner.handle(request).await) })
    }
}

/// A random token of 256 bits, base64url (codes, tokens, request URIs).
pub(crate) fn random_token() -> Result<String, OAuthError> {
    use aws_lc_rs::rand::{SecureRandom, SystemRandom};
    let mut bytes = [0u8; 32];
    SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| OAuthError::server_error())?;
    Ok(crate::jose::b64_encode(bytes))
}

/// The URL of `url` without query or fragment, for comparisons.
pub(crate) fn url_eq(a: &Url, b: &Url) -> bool {
    a.as_str() == b.as_str()
}
