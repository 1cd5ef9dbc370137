//! Client-side FAPI primitives: `private_key_jwt` client assertions, PKCE
//! (RFC 7636) S256 pairs, and the validation of the hybrid flow's answer
//! ([`validate_callback`]: state, the encrypted and signed ID token, its
//! claims, `nonce`, `c_hash`, `s_hash`, `acr`).

use std::time::Duration;

use aws_lc_rs::digest;
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use opus_core::keys::JwsSigner;
use opus_core::{ClientId, Timestamp};

use crate::jose::b64_encode;
use crate::jose::jws::{self, JwsError};

/// A `private_key_jwt` client assertion (OIDC §9, RFC 7523 §3): `iss` =
/// `sub` = `client_id`, `aud` = `audience`, a random `jti`, `iat` = `now`,
/// `exp` = `now + lifetime` (at most five minutes is what FAPI-BR servers accept).
///
/// # Errors
/// [`JwsError`] when signing fails.
pub async fn client_assertion(
    signer: &dyn JwsSigner,
    client_id: &ClientId,
    audience: &str,
    now: Timestamp,
    lifetime: Duration,
) -> Result<String, JwsError> {
    let claims = serde_json::json!({
        "iss": client_id.as_str(),
        "sub": client_id.as_str(),
        "aud": audience,
        "jti": uuid::Uuid::new_v4().to_string(),
        "iat": now.unix_seconds(),
        "exp": now.saturating_add(lifetime).unix_seconds(),
    });
    jws::sign_claims(signer, None, &claims).await
}

/// The S256 challenge of a PKCE verifier (RFC 7636 §4.2).
pub fn pkce_challenge(verifier: &str) -> String {
    b64_encode(digest::digest(&digest::SHA256, verifier.as_bytes()))
}

/// A new PKCE pair: a 43-character verifier (256 random bits) and its S256 challenge.
///
/// # Errors
/// `None` if the random generator fails.
pub fn pkce_pair() -> Option<(String, String)> {
    let mut bytes = [0u8; 32];
    SystemRandom::new().fill(&mut bytes).ok()?;
    let verifier = b64_encode(bytes);
    let challenge = pkce_challenge(&verifier);
    Some((verifier, challenge))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 7636 Appendix B.
    #[test]
    fn rfc7636_appendix_b() {
        assert_eq!(
            pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
        let (verifier, challenge) = pkce_pair().unwrap_or_default();
        assert_eq!(verifier.len(), 43);
        assert_eq!(pkce_challenge(&verifier), challenge);
    }
}

/// What the client expects of the authorization server's answer to its
/// pushed request (FAPI-BR hybrid flow, `code id_token`).
#[derive(Debug, Clone)]
pub struct CallbackExpectations<'a> {
    /// The server's issuer (`iss`).
    pub issuer: &'a str,
    /// This client (`aud`).
    pub client_id: &'a ClientId,
    /// The `nonce` of the request object.
    pub nonce: &'a str,
    /// The `state` of the request object (its `s_hash` is then required).
    pub state: Option<&'a str>,
    /// The acceptable `acr` values (empty: any).
    pub acr_values: &'a [&'a str],
    /// The client registered an ID-token encryption key: an unencrypted
    /// ID token is refused.
    pub encrypted: bool,
}

/// An answer the client can use: the code to exchange, and the ID token's
/// claims (verified).
#[derive(Debug, Clone)]
pub struct ValidatedCallback {
    /// The authorization code.
    pub code: String,
    /// The ID token's claims.
    pub id_token: std::collections::BTreeMap<String, serde_json::Value>,
}

/// Why an authorization answer is refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CallbackError {
    /// The server answered an error (`error`, `error_description`).
    #[error("authorization refused: {error}")]
    Refused {
        /// `error`.
        error: String,
        /// `error_description`.
        description: Option<String>,
    },
    /// A parameter is missing.
    #[error("missing {0}")]
    Missing(&'static str),
    /// `state` is not the request's.
    #[error("state mismatch")]
    State,
    /// The ID token is not encrypted although the client asked for it.
    #[error("the ID token is not encrypted")]
    Unencrypted,
    /// The ID token does not decrypt or its signature does not verify.
    #[error("the ID token does not verify")]
    Signature,
    /// A claim is wrong (issuer, audience, expiry…).
    #[error("ID token claims: {0}")]
    Claims(#[from] crate::jose::claims::ClaimsError),
    /// `nonce` is not the request's.
    #[error("nonce mismatch")]
    Nonce,
    /// `c_hash` does not match the code.
    #[error("c_hash mismatch")]
    CodeHash,
    /// `s_hash` does not match the state.
    #[error("s_hash mismatch")]
    StateHash,
    /// `acr` is not one of those asked.
    #[error("acr not acceptable")]
    Acr,
}

/// The left half of SHA-256, base64url (`c_hash`, `s_hash` for PS256).
fn half_hash(value: &str) -> String {
    let d = digest::digest(&digest::SHA256, value.as_bytes());
    b64_encode(&d.as_ref()[..16])
}

/// Validates the parameters of the redirect back to the client (from the
/// URL fragment): an `error` is [`CallbackError::Refused`]; otherwise the
/// `state`, then the ID token — decrypted through `custody` when it is a
/// JWE (required when `expected.encrypted`), its PS256 signature verified
/// with the server's `server_keys`, its `iss`, `aud`, `exp` and `iat` at
/// `now`, its `nonce`, `c_hash` of the code, `s_hash` of the state and
/// `acr` — and answers the code and the claims.
///
/// # Errors
/// [`CallbackError`] naming the first check that failed.
pub async fn validate_callback(
    params: &std::collections::BTreeMap<String, String>,
    expected: &CallbackExpectations<'_>,
    custody: &dyn opus_core::keys::KeyCustody,
    server_keys: &opus_core::keys::JwkSet,
    now: Timestamp,
) -> Result<ValidatedCallback, CallbackError> {
    use crate::jose::claims::{ClaimsPolicy, validate};
    use crate::jose::jwe::{self, JwePolicy};
    use crate::jose::jws::JwsPolicy;
    if let Some(error) = params.get("error") {
        return Err(CallbackError::Refused {
            error: error.clone(),
            description: params.get("error_description").cloned(),
        });
    }
    if params.get("state").map(String::as_str) != expected.state {
        return Err(CallbackError::State);
    }
    let code = params.get("code").ok_or(CallbackError::Missing("code"))?;
    let token = params
        .get("id_token")
        .ok_or(CallbackError::Missing("id_token"))?;
    let verified = match token.split('.').count() {
        5 => jwe::decrypt_then_verify(
            token,
            custody,
            &JwePolicy::ofb(),
            server_keys,
            &JwsPolicy::ofb(),
        )
        .await
        .map_err(|_| CallbackError::Signature)?,
        3 if expected.encrypted => return Err(CallbackError::Unencrypted),
        3 => jws::verify(token, server_keys, &JwsPolicy::ofb())
            .map_err(|_| CallbackError::Signature)?,
        _ => return Err(CallbackError::Signature),
    };
    let claims = verified.claims().map_err(|_| CallbackError::Signature)?;
    let policy = ClaimsPolicy::new()
        .issuer(expected.issuer)
        .audience(expected.client_id.as_str())
        .require_iat();
    validate(claims.clone(), &policy, now)?;
    let text = |name: &str| claims.get(name).and_then(serde_json::Value::as_str);
    if text("nonce") != Some(expected.nonce) {
        return Err(CallbackError::Nonce);
    }
    if text("c_hash") != Some(half_hash(code).as_str()) {
        return Err(CallbackError::CodeHash);
    }
    if let Some(state) = expected.state
        && text("s_hash") != Some(half_hash(state).as_str())
    {
        return Err(CallbackError::StateHash);
    }
    if !expected.acr_values.is_empty()
        && !text("acr").is_some_and(|acr| expected.acr_values.contains(&acr))
    {
        return Err(CallbackError::Acr);
    }
    Ok(ValidatedCallback {
        code: code.clone(),
        id_token: claims,
    })
}

// ---------------------------------------------------------------- the client

/// What a client reads of an authorization server's discovery document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerMetadata {
    /// `issuer`.
    pub issuer: String,
    /// `authorization_endpoint` (front channel, no certificate).
    pub authorization_endpoint: url::Url,
    /// The token endpoint (its mTLS alias when there is one).
    pub token_endpoint: url::Url,
    /// The PAR endpoint (its mTLS alias when there is one).
    pub par_endpoint: url::Url,
    /// The registration endpoint (its mTLS alias when there is one).
    pub registration_endpoint: Option<url::Url>,
    /// `jwks_uri`.
    pub jwks_uri: url::Url,
}

/// Why a client call failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// No answer (connection, TLS, timeout).
    #[error(transparent)]
    Unreachable(#[from] crate::mtls::ExchangeError),
    /// An answer other than the one expected.
    #[error("HTTP {status}: {body}")]
    Status {
        /// The status.
        status: u16,
        /// The body, as text.
        body: String,
    },
    /// An answer that does not parse or verify.
    #[error("invalid answer: {0}")]
    Invalid(&'static str),
    /// The authorization answer was refused.
    #[error(transparent)]
    Callback(#[from] CallbackError),
    /// Signing with the custody failed.
    #[error("signing failed: {0}")]
    Signing(#[from] JwsError),
}

/// A token endpoint's answer.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct TokenResponse {
    /// `access_token`.
    pub access_token: String,
    /// `refresh_token`, when issued.
    pub refresh_token: Option<String>,
    /// `expires_in`, seconds.
    pub expires_in: Option<u64>,
    /// `scope`.
    pub scope: Option<String>,
    /// `id_token`, when issued.
    pub id_token: Option<String>,
}

impl std::fmt::Display for TokenResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "token for {}", self.scope.as_deref().unwrap_or(""))
    }
}

/// A pushed authorization waiting for the customer: where to send them,
/// and what the answer must match.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct PendingAuthorisation {
    /// Where to send the customer's browser.
    pub authorization_url: url::Url,
    /// The `state` sent.
    pub state: String,
    /// The `nonce` sent.
    pub nonce: String,
    /// The PKCE verifier.
    pub verifier: String,
    /// The redirect URI the answer comes to.
    pub redirect_uri: url::Url,
}

const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// One call the client made, as an observer sees it (to report it).
#[derive(Debug)]
pub struct ObservedCall<'a> {
    /// The URL called.
    pub url: &'a url::Url,
    /// The method.
    pub method: &'a http::Method,
    /// The `x-fapi-interaction-id` sent.
    pub sent_interaction: Option<&'a str>,
    /// The answer, when one came.
    pub answer: Option<&'a crate::mtls::Exchanged>,
    /// Just before the request was sent.
    pub started: Timestamp,
    /// When the answer came (or the client gave up).
    pub finished: Timestamp,
}

/// Told of every call a [`FapiClient`] makes (the metrics collector's
/// CLIENT reports: `opus_pcm` implements it).
#[async_trait::async_trait]
pub trait CallObserver: Send + Sync + 'static {
    /// One call made.
    async fn observe(&self, call: ObservedCall<'_>);
}

/// A FAPI-BR client of one authorization server: mutual TLS with the
/// institution's transport certificate, `private_key_jwt` and request
/// objects signed through its [`opus_core::keys::KeyCustody`], encrypted ID
/// tokens decrypted through it. Every call carries its own
/// `x-fapi-interaction-id` and is told to the [`CallObserver`], if any.
#[derive(Clone)]
pub struct FapiClient {
    tls: std::sync::Arc<rustls::ClientConfig>,
    custody: std::sync::Arc<dyn opus_core::keys::KeyCustody>,
    client_id: ClientId,
    server: ServerMetadata,
    clock: std::sync::Arc<dyn opus_core::Clock>,
    timeout: Duration,
    observer: Option<std::sync::Arc<dyn CallObserver>>,
}

impl std::fmt::Debug for FapiClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FapiClient")
            .field("client_id", &self.client_id)
            .field("issuer", &self.server.issuer)
            .finish_non_exhaustive()
    }
}

fn form_body(pairs: &[(&str, &str)]) -> bytes::Bytes {
    bytes::Bytes::from(
        url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish(),
    )
}

impl ServerMetadata {
    /// Reads `{issuer}/.well-known/openid-configuration` over `tls`.
    ///
    /// # Errors
    /// [`ClientError`] when it cannot be read or lacks an endpoint.
    pub async fn discover(
        tls: &std::sync::Arc<rustls::ClientConfig>,
        issuer: &str,
    ) -> Result<Self, ClientError> {
        let url = url::Url::parse(&format!(
            "{}/.well-known/openid-configuration",
            issuer.trim_end_matches('/')
        ))
        .map_err(|_| ClientError::Invalid("issuer"))?;
        let request = http::Request::get(url.as_str())
            .body(bytes::Bytes::new())
            .map_err(|_| ClientError::Invalid("issuer"))?;
        let answer =
            crate::mtls::exchange(tls, request, &url, Duration::from_secs(15), 1 << 20).await?;
        if !answer.status.is_success() {
            return Err(ClientError::Status {
                status: answer.status.as_u16(),
                body: String::from_utf8_lossy(&answer.body).into_owned(),
            });
        }
        let doc: serde_json::Value =
            serde_json::from_slice(&answer.body).map_err(|_| ClientError::Invalid("discovery"))?;
        let url_of = |name: &str| -> Option<url::Url> {
            doc.pointer(&format!("/mtls_endpoint_aliases/{name}"))
                .and_then(serde_json::Value::as_str)
                .or_else(|| doc.get(name).and_then(serde_json::Value::as_str))
                .and_then(|u| url::Url::parse(u).ok())
        };
        Ok(Self {
            issuer: doc
                .get("issuer")
                .and_then(serde_json::Value::as_str)
                .ok_or(ClientError::Invalid("discovery issuer"))?
                .to_owned(),
            authorization_endpoint: doc
                .get("authorization_endpoint")
                .and_then(serde_json::Value::as_str)
                .and_then(|u| url::Url::parse(u).ok())
                .ok_or(ClientError::Invalid("authorization_endpoint"))?,
            token_endpoint: url_of("token_endpoint")
                .ok_or(ClientError::Invalid("token_endpoint"))?,
            par_endpoint: url_of("pushed_authorization_request_endpoint").ok_or(
                ClientError::Invalid("pushed_authorization_request_endpoint"),
            )?,
            registration_endpoint: url_of("registration_endpoint"),
            jwks_uri: doc
                .get("jwks_uri")
                .and_then(serde_json::Value::as_str)
                .and_then(|u| url::Url::parse(u).ok())
                .ok_or(ClientError::Invalid("jwks_uri"))?,
        })
    }
}

impl FapiClient {
    /// The client `client_id` of `server`, over `tls` (the transport
    /// certificate), signing and decrypting through `custody`.
    pub fn new(
        tls: std::sync::Arc<rustls::ClientConfig>,
        custody: std::sync::Arc<dyn opus_core::keys::KeyCustody>,
        client_id: ClientId,
        server: ServerMetadata,
        clock: std::sync::Arc<dyn opus_core::Clock>,
    ) -> Self {
        Self {
            tls,
            custody,
            client_id,
            server,
            clock,
            timeout: Duration::from_secs(15),
            observer: None,
        }
    }

    /// Tells `observer` of every call.
    pub fn with_observer(mut self, observer: std::sync::Arc<dyn CallObserver>) -> Self {
        self.observer = Some(observer);
        self
    }

    /// This client's id.
    pub fn client_id(&self) -> &ClientId {
        &self.client_id
    }

    /// The server's metadata.
    pub fn server(&self) -> &ServerMetadata {
        &self.server
    }

    /// The custody of this client's keys.
    pub fn custody(&self) -> &std::sync::Arc<dyn opus_core::keys::KeyCustody> {
        &self.custody
    }

    /// The TLS configuration (transport certificate).
    pub fn tls(&self) -> &std::sync::Arc<rustls::ClientConfig> {
        &self.tls
    }

    /// One request over mutual TLS, within the client's timeout.
    ///
    /// # Errors
    /// [`ClientError::Unreachable`] without an answer.
    pub async fn send(
        &self,
        mut request: http::Request<bytes::Bytes>,
    ) -> Result<crate::mtls::Exchanged, ClientError> {
        let url = url::Url::parse(&request.uri().to_string())
            .map_err(|_| ClientError::Invalid("request URL"))?;
        if !request.headers().contains_key("x-fapi-interaction-id")
            && let Ok(value) = http::HeaderValue::from_str(&uuid::Uuid::new_v4().to_string())
        {
            request.headers_mut().insert("x-fapi-interaction-id", value);
        }
        let sent = request
            .headers()
            .get("x-fapi-interaction-id")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let method = request.method().clone();
        let started = self.clock.now();
        let result = crate::mtls::exchange(&self.tls, request, &url, self.timeout, 8 << 20).await;
        if let Some(observer) = &self.observer {
            observer
                .observe(ObservedCall {
                    url: &url,
                    method: &method,
                    sent_interaction: sent.as_deref(),
                    answer: result.as_ref().ok(),
                    started,
                    finished: self.clock.now(),
                })
                .await;
        }
        Ok(result?)
    }

    /// A client assertion for this server (its issuer as the audience,
    /// which every FAPI-BR server accepts).
    async fn assertion(&self) -> Result<String, ClientError> {
        let signer = self
            .custody
            .signer(opus_core::keys::KeyPurpose::MessageSigning)
            .await
            .map_err(|_| ClientError::Invalid("signing key"))?;
        Ok(client_assertion(
            signer.as_ref(),
            &self.client_id,
            &self.server.issuer,
            self.clock.now(),
            Duration::from_secs(60),
        )
        .await?)
    }

    async fn token_call(&self, pairs: &[(&str, &str)]) -> Result<TokenResponse, ClientError> {
        let assertion = self.assertion().await?;
        let mut all = pairs.to_vec();
        all.extend([
            ("client_id", self.client_id.as_str()),
            ("client_assertion_type", ASSERTION_TYPE),
            ("client_assertion", assertion.as_str()),
        ]);
        let request = http::Request::post(self.server.token_endpoint.as_str())
            .header(
                http::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .body(form_body(&all))
            .map_err(|_| ClientError::Invalid("token request"))?;
        let answer = self.send(request).await?;
        if !answer.status.is_success() {
            return Err(ClientError::Status {
                status: answer.status.as_u16(),
                body: String::from_utf8_lossy(&answer.body).into_owned(),
            });
        }
        serde_json::from_slice(&answer.body).map_err(|_| ClientError::Invalid("token response"))
    }

    /// A client-credentials token for `scope`.
    ///
    /// # Errors
    /// [`ClientError`] when the server refuses or cannot be reached.
    pub async fn client_credentials(&self, scope: &str) -> Result<TokenResponse, ClientError> {
        self.token_call(&[("grant_type", "client_credentials"), ("scope", scope)])
            .await
    }

    /// Pushes a signed request object (PAR) for `scope` with PKCE S256, a
    /// fresh `state` and `nonce`, `response_type=code id_token`, answering
    /// where to send the customer.
    ///
    /// # Errors
    /// [`ClientError`] when the server refuses or cannot be reached.
    pub async fn push(
        &self,
        scope: &str,
        redirect_uri: &url::Url,
    ) -> Result<PendingAuthorisation, ClientError> {
        let (verifier, challenge) = pkce_pair().ok_or(ClientError::Invalid("random"))?;
        let state = uuid::Uuid::new_v4().simple().to_string();
        let nonce = uuid::Uuid::new_v4().simple().to_string();
        let now = self.clock.now().unix_seconds();
        let signer = self
            .custody
            .signer(opus_core::keys::KeyPurpose::MessageSigning)
            .await
            .map_err(|_| ClientError::Invalid("signing key"))?;
        let request_object = jws::sign_claims(
            signer.as_ref(),
            Some("oauth-authz-req+jwt"),
            &serde_json::json!({
                "iss": self.client_id.as_str(),
                "aud": self.server.issuer,
                "client_id": self.client_id.as_str(),
                "response_type": "code id_token",
                "redirect_uri": redirect_uri.as_str(),
                "scope": scope,
                "state": state,
                "nonce": nonce,
                "code_challenge": challenge,
                "code_challenge_method": "S256",
                "nbf": now,
                "exp": now + 300,
                "jti": uuid::Uuid::new_v4().to_string(),
                "acr_values": "urn:brasil:openbanking:loa2",
            }),
        )
        .await?;
        let assertion = self.assertion().await?;
        let request = http::Request::post(self.server.par_endpoint.as_str())
            .header(
                http::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .body(form_body(&[
                ("client_id", self.client_id.as_str()),
                ("client_assertion_type", ASSERTION_TYPE),
                ("client_assertion", &assertion),
                ("request", &request_object),
            ]))
            .map_err(|_| ClientError::Invalid("PAR request"))?;
        let answer = self.send(request).await?;
        if answer.status.as_u16() != 201 {
            return Err(ClientError::Status {
                status: answer.status.as_u16(),
                body: String::from_utf8_lossy(&answer.body).into_owned(),
            });
        }
        let body: serde_json::Value = serde_json::from_slice(&answer.body)
            .map_err(|_| ClientError::Invalid("PAR response"))?;
        let request_uri = body
            .get("request_uri")
            .and_then(serde_json::Value::as_str)
            .ok_or(ClientError::Invalid("request_uri"))?;
        let mut authorization_url = self.server.authorization_endpoint.clone();
        authorization_url
            .query_pairs_mut()
            .append_pair("client_id", self.client_id.as_str())
            .append_pair("request_uri", request_uri);
        Ok(PendingAuthorisation {
            authorization_url,
            state,
            nonce,
            verifier,
            redirect_uri: redirect_uri.clone(),
        })
    }

    /// The server's signing keys.
    ///
    /// # Errors
    /// [`ClientError`] when they cannot be read.
    pub async fn server_keys(&self) -> Result<opus_core::keys::JwkSet, ClientError> {
        let request = http::Request::get(self.server.jwks_uri.as_str())
            .body(bytes::Bytes::new())
            .map_err(|_| ClientError::Invalid("jwks_uri"))?;
        let answer = self.send(request).await?;
        serde_json::from_slice(&answer.body).map_err(|_| ClientError::Invalid("JWKS"))
    }

    /// Validates the answer that came back to the redirect URI (`params`,
    /// from its fragment) for `pending` and exchanges the code.
    ///
    /// # Errors
    /// [`ClientError::Callback`] for an answer refused or tampered with;
    /// [`ClientError`] when the exchange fails.
    pub async fn complete(
        &self,
        pending: &PendingAuthorisation,
        params: &std::collections::BTreeMap<String, String>,
    ) -> Result<TokenResponse, ClientError> {
        let keys = self.server_keys().await?;
        let expected = CallbackExpectations {
            issuer: &self.server.issuer,
            client_id: &self.client_id,
            nonce: &pending.nonce,
            state: Some(&pending.state),
            acr_values: &[],
            encrypted: true,
        };
        let valid = validate_callback(
            params,
            &expected,
            self.custody.as_ref(),
            &keys,
            self.clock.now(),
        )
        .await?;
        self.token_call(&[
            ("grant_type", "authorization_code"),
            ("code", &valid.code),
            ("redirect_uri", pending.redirect_uri.as_str()),
            ("code_verifier", &pending.verifier),
        ])
        .await
    }

    /// A new access token from `refresh_token`.
    ///
    /// # Errors
    /// [`ClientError`] when the server refuses or cannot be reached.
    pub async fn refresh(&self, refresh_token: &str) -> Result<TokenResponse, ClientError> {
        self.token_call(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
        ])
        .await
    }
}

// ---------------------------------------------------------------- registration

/// A client's registration at an authorization server (RFC 7591/7592).
#[derive(Clone, PartialEq, Eq)]
pub struct Registration {
    /// `client_id`.
    pub client_id: ClientId,
    /// `registration_access_token`, for DCM.
    pub registration_access_token: String,
    /// `registration_client_uri`, for DCM.
    pub registration_client_uri: url::Url,
}

impl std::fmt::Debug for Registration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registration")
            .field("client_id", &self.client_id)
            .field(
                "registration_client_uri",
                &self.registration_client_uri.as_str(),
            )
            .finish_non_exhaustive()
    }
}

async fn registration_call(
    tls: &std::sync::Arc<rustls::ClientConfig>,
    request: http::Request<bytes::Bytes>,
    url: &url::Url,
    expected: u16,
) -> Result<serde_json::Value, ClientError> {
    let answer = crate::mtls::exchange(tls, request, url, Duration::from_secs(15), 1 << 20).await?;
    if answer.status.as_u16() != expected {
        return Err(ClientError::Status {
            status: answer.status.as_u16(),
            body: String::from_utf8_lossy(&answer.body).into_owned(),
        });
    }
    serde_json::from_slice(&answer.body).map_err(|_| ClientError::Invalid("registration response"))
}

fn registration_from(body: &serde_json::Value) -> Result<Registration, ClientError> {
    let text = |name: &'static str| {
        body.get(name)
            .and_then(serde_json::Value::as_str)
            .ok_or(ClientError::Invalid(name))
    };
    Ok(Registration {
        client_id: ClientId::new(text("client_id")?)
            .map_err(|_| ClientError::Invalid("client_id"))?,
        registration_access_token: text("registration_access_token")?.to_owned(),
        registration_client_uri: url::Url::parse(text("registration_client_uri")?)
            .map_err(|_| ClientError::Invalid("registration_client_uri"))?,
    })
}

/// Registers with `server` (DCR, RFC 7591 as FAPI-BR profiles it) over
/// `tls` (the transport certificate of the software statement):
/// `metadata` (redirect and webhook URIs, `jwks_uri`, algorithms…) with the
/// directory's `software_statement`.
///
/// # Errors
/// [`ClientError`] when the server has no registration endpoint, refuses
/// (the body says why) or cannot be reached.
pub async fn register(
    tls: &std::sync::Arc<rustls::ClientConfig>,
    server: &ServerMetadata,
    software_statement: &str,
    metadata: &serde_json::Value,
) -> Result<Registration, ClientError> {
    let url = server
        .registration_endpoint
        .clone()
        .ok_or(ClientError::Invalid("registration_endpoint"))?;
    let mut body = metadata.clone();
    body["software_statement"] = serde_json::Value::String(software_statement.to_owned());
    let request = http::Request::post(url.as_str())
        .header(http::header::CONTENT_TYPE, "application/json")
        .body(bytes::Bytes::from(body.to_string()))
        .map_err(|_| ClientError::Invalid("registration request"))?;
    registration_from(&registration_call(tls, request, &url, 201).await?)
}

/// Updates `registration` with `metadata` (DCM, RFC 7592 `PUT`), e.g. after
/// a key rotation or new redirect URIs; the registration is kept.
///
/// # Errors
/// [`ClientError`] when the server refuses or cannot be reached.
pub async fn update_registration(
    tls: &std::sync::Arc<rustls::ClientConfig>,
    registration: &Registration,
    software_statement: &str,
    metadata: &serde_json::Value,
) -> Result<serde_json::Value, ClientError> {
    let mut body = metadata.clone();
    body["client_id"] = serde_json::Value::String(registration.client_id.to_string());
    body["software_statement"] = serde_json::Value::String(software_statement.to_owned());
    let url = &registration.registration_client_uri;
    let request = http::Request::put(url.as_str())
        .header(http::header::CONTENT_TYPE, "application/json")
        .header(
            http::header::AUTHORIZATION,
            format!("Bearer {}", registration.registration_access_token),
        )
        .body(bytes::Bytes::from(body.to_string()))
        .map_err(|_| ClientError::Invalid("registration request"))?;
    registration_call(tls, request, url, 200).await
}

/// The authorisation servers of the directory's active participants that
/// offer API `family` (e.g. `payments-pix`, `accounts`) in a version starting
/// with `version` (e.g. `4.`): each with its organisation.
///
/// # Errors
/// [`opus_core::directory::DirectoryError`] when the directory fails.
pub async fn find_servers(
    directory: &dyn opus_core::directory::Directory,
    family: &str,
    version: &str,
) -> Result<
    Vec<(
        opus_core::OrganisationId,
        opus_core::directory::AuthorisationServer,
    )>,
    opus_core::directory::DirectoryError,
> {
    Ok(directory
        .participants()
        .await?
        .into_iter()
        .filter(|org| org.active)
        .flat_map(|org| {
            let id = org.id;
            org.authorisation_servers
                .into_iter()
                .filter(|server| {
                    server
                        .api_resources
                        .iter()
                        .any(|r| r.family == family && r.version.starts_with(version))
                })
                .map(move |server| (id, server))
        })
        .collect())
}

/// Where a client keeps its registrations, sealed (every replica uses the
/// same one).
#[derive(Clone, Copy)]
pub struct RegistrationKeeping<'a> {
    /// The registrations port.
    pub storage: &'a opus_core::Storage,
    /// Seals the registration access token.
    pub sealer: &'a opus_core::seal::Sealer,
    /// Whose registrations (the institution or app; a tenant).
    pub owner: &'a opus_core::BrandId,
}

impl std::fmt::Debug for RegistrationKeeping<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegistrationKeeping")
            .field("owner", self.owner)
            .finish_non_exhaustive()
    }
}

/// The registration of `software_statement_id` at `server`, kept in
/// `keeping`: registered (DCR) when there is none, updated (DCM) when
/// `metadata` changed since (new keys, redirect or webhook URIs), reused as
/// it is otherwise.
///
/// # Errors
/// [`ClientError`] when the server refuses or the store fails.
pub async fn ensure_registered(
    keeping: RegistrationKeeping<'_>,
    tls: &std::sync::Arc<rustls::ClientConfig>,
    server: &ServerMetadata,
    software_statement_id: &opus_core::SoftwareStatementId,
    software_statement: &str,
    metadata: &serde_json::Value,
    now: Timestamp,
) -> Result<Registration, ClientError> {
    let store_failed = |_| ClientError::Invalid("registration store");
    let digest = b64_encode(digest::digest(
        &digest::SHA256,
        metadata.to_string().as_bytes(),
    ));
    let record_id = format!("{}|{software_statement_id}", server.issuer);
    let context = opus_core::seal::SealContext::new("registration", keeping.owner, &record_id);
    let stored = keeping
        .storage
        .registrations
        .get_registration(keeping.owner, &server.issuer, software_statement_id)
        .await
        .map_err(store_failed)?;
    let registration = match stored {
        Some(record) => {
            let token: String = keeping
                .sealer
                .open_json(&context, &record.registration_access_token)
                .await
                .map_err(|_| ClientError::Invalid("registration access token"))?;
            let registration = Registration {
                client_id: record.client_id.clone(),
                registration_access_token: token,
                registration_client_uri: url::Url::parse(&record.registration_client_uri)
                    .map_err(|_| ClientError::Invalid("registration_client_uri"))?,
            };
            if record.metadata_digest == digest {
                return Ok(registration);
            }
            update_registration(tls, &registration, software_statement, metadata).await?;
            registration
        }
        None => register(tls, server, software_statement, metadata).await?,
    };
    let sealed = keeping
        .sealer
        .seal_json(&context, &registration.registration_access_token)
        .map_err(|_| ClientError::Invalid("sealing"))?;
    keeping
        .storage
        .registrations
        .put_registration(&opus_core::store::RegistrationRecord {
            owner: keeping.owner.clone(),
            issuer: server.issuer.clone(),
            software_statement_id: *software_statement_id,
            client_id: registration.client_id.clone(),
            registration_client_uri: registration.registration_client_uri.to_string(),
            registration_access_token: sealed,
            metadata_digest: digest,
            updated_at: now,
        })
        .await
        .map_err(store_failed)?;
    Ok(registration)
}
