//! A small JSON REST facade over the initiator and the data receiver, for
//! applications not written in Rust. Stateless: what a journey needs
//! between two calls (the pending authorization with its PKCE verifier,
//! then the customer's tokens) travels in an opaque handle sealed with the
//! institution's keys (AES-256-GCM through its key custody), so any
//! replica answers any call.
//!
//! | call | body | answer |
//! |---|---|---|
//! | `POST /payments/consents` | `{"data": …}` (the payment consent) | 201 `{"consentId", "authorizationUrl", "handle"}` |
//! | `POST /payments` | `{"handle", "callback": {…fragment…}, "payments": […]}` | 201 the holder's answer (`data`) |
//! | `GET /payments/{paymentId}` | — | 200 the payment |
//! | `POST /data/consents` | `{"cpf", "permissions": […], "expirationDateTime", "scopes"}` | 201 `{"consentId", "authorizationUrl", "handle"}` |
//! | `POST /data/sessions` | `{"handle", "callback": {…}}` | 201 `{"session"}` |
//! | `GET /data/{path}` with `x-opus-session` | — | 200 the transmitter's answer |
//! | `DELETE /data/consents/{consentId}` | — | 204 |
//!
//! Errors are `{"error", "detail"}` with 400 (bad input), 502 (the other
//! institution refused: its status and code in `detail`) or 500. Mount it
//! behind the application's own authentication.

use std::collections::BTreeMap;
use std::sync::Arc;

use bytes::Bytes;
use http::{Method, Response, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use opus_core::consent::Permission;
use opus_core::seal::{SealContext, Sealed, Sealer};
use opus_core::{BrandId, Cpf, Document};
use opus_drx::{ConsentTokens, DataReceiver};
use opus_fapi::client::{PendingAuthorisation, TokenResponse};
use serde_json::{Value, json};

use crate::{ConsentInProgress, Initiator, ItpError};

/// See the module docs.
#[derive(Clone)]
pub struct Facade {
    initiator: Option<Arc<Initiator>>,
    receiver: Option<Arc<DataReceiver>>,
    sealer: Arc<Sealer>,
    owner: BrandId,
}

impl std::fmt::Debug for Facade {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Facade")
            .field("payments", &self.initiator.is_some())
            .field("data", &self.receiver.is_some())
            .finish_non_exhaustive()
    }
}

/// A facade error: status and body.
struct Failure(StatusCode, &'static str, String);

fn bad(detail: impl Into<String>) -> Failure {
    Failure(StatusCode::BAD_REQUEST, "invalid_request", detail.into())
}

impl From<ItpError> for Failure {
    fn from(e: ItpError) -> Self {
        Failure(StatusCode::BAD_GATEWAY, "refused", e.to_string())
    }
}

impl From<opus_drx::DrxError> for Failure {
    fn from(e: opus_drx::DrxError) -> Self {
        Failure(StatusCode::BAD_GATEWAY, "refused", e.to_string())
    }
}

impl Facade {
    /// A facade of `owner` (the application's tenant), sealing its handles
    /// with `sealer`; payments through `initiator`, data through `receiver`
    /// (either may be absent: its calls answer 404).
    pub fn new(
        owner: BrandId,
        sealer: Arc<Sealer>,
        initiator: Option<Arc<Initiator>>,
        receiver: Option<Arc<DataReceiver>>,
    ) -> Self {
        Self {
            initiator,
            receiver,
            sealer,
            owner,
        }
    }

    fn seal<T: serde::Serialize>(&self, kind: &str, value: &T) -> Result<String, Failure> {
        self.sealer
            .seal_json(&SealContext::new("facade", &self.owner, kind), value)
            .map(|sealed| sealed.as_str().to_owned())
            .map_err(|_| {
                Failure(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "server_error",
                    "sealing".into(),
                )
            })
    }

    async fn open<T: serde::de::DeserializeOwned>(
        &self,
        kind: &str,
        handle: &str,
    ) -> Result<T, Failure> {
        let sealed = Sealed::from_stored(handle.to_owned()).map_err(|_| bad("unknown handle"))?;
        self.sealer
            .open_json(&SealContext::new("facade", &self.owner, kind), &sealed)
            .await
            .map_err(|_| bad("unknown handle"))
    }

    fn initiator(&self) -> Result<&Initiator, Failure> {
        self.initiator.as_deref().ok_or(Failure(
            StatusCode::NOT_FOUND,
            "not_found",
            "payments are not offered".into(),
        ))
    }

    fn receiver(&self) -> Result<&DataReceiver, Failure> {
        self.receiver.as_deref().ok_or(Failure(
            StatusCode::NOT_FOUND,
            "not_found",
            "data is not offered".into(),
        ))
    }

    /// 201 with the consent, the customer's URL and the journey's handle
    /// (`kept`, sealed).
    fn started<T: serde::Serialize>(
        &self,
        kind: &str,
        consent_id: &str,
        pending: &PendingAuthorisation,
        kept: &T,
    ) -> Result<(StatusCode, Value), Failure> {
        Ok((
            StatusCode::CREATED,
            json!({
                "consentId": consent_id,
                "authorizationUrl": pending.authorization_url.as_str(),
                "handle": self.seal(kind, kept)?,
            }),
        ))
    }

    async fn handle(
        &self,
        method: &Method,
        path: &str,
        session: Option<&str>,
        body: Value,
    ) -> Result<(StatusCode, Value), Failure> {
        let callback = || -> Result<BTreeMap<String, String>, Failure> {
            serde_json::from_value(body.get("callback").cloned().unwrap_or(Value::Null))
                .map_err(|_| bad("callback: the redirect's parameters"))
        };
        let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
        match (method, segments.as_slice()) {
            (&Method::POST, ["payments", "consents"]) => {
                let data = body.get("data").cloned().ok_or_else(|| bad("data"))?;
                let consent = self.initiator()?.create_payment_consent(data).await?;
                self.started(
                    "payment-consent",
                    &consent.consent_id,
                    &consent.pending,
                    &(&consent.consent_id, &consent.pending),
                )
            }
            (&Method::POST, ["payments"]) => {
                let handle = body
                    .get("handle")
                    .and_then(Value::as_str)
                    .ok_or_else(|| bad("handle"))?;
                let (consent_id, pending): (String, PendingAuthorisation) =
                    self.open("payment-consent", handle).await?;
                let payments = body
                    .get("payments")
                    .cloned()
                    .ok_or_else(|| bad("payments"))?;
                let consent = ConsentInProgress {
                    consent_id,
                    pending,
                };
                let paid = self
                    .initiator()?
                    .pay(&consent, &callback()?, payments)
                    .await?;
                Ok((StatusCode::CREATED, paid))
            }
            (&Method::GET, ["payments", id]) => {
                Ok((StatusCode::OK, self.initiator()?.payment(id).await?))
            }
            (&Method::POST, ["data", "consents"]) => {
                let cpf = body
                    .get("cpf")
                    .and_then(Value::as_str)
                    .and_then(|c| Cpf::parse(c).ok())
                    .ok_or_else(|| bad("cpf"))?;
                let permissions: Vec<Permission> =
                    serde_json::from_value(body.get("permissions").cloned().unwrap_or(Value::Null))
                        .map_err(|_| bad("permissions"))?;
                let expiration = body
                    .get("expirationDateTime")
                    .and_then(Value::as_str)
                    .ok_or_else(|| bad("expirationDateTime"))?;
                let scopes = body
                    .get("scopes")
                    .and_then(Value::as_str)
                    .ok_or_else(|| bad("scopes"))?;
                let consent = self
                    .receiver()?
                    .create_consent(&cpf, &permissions, expiration, scopes)
                    .await?;
                self.started(
                    "data-consent",
                    &consent.consent_id,
                    &consent.pending,
                    &(&consent.consent_id, &consent.customer, &consent.pending),
                )
            }
            (&Method::POST, ["data", "sessions"]) => {
                let handle = body
                    .get("handle")
                    .and_then(Value::as_str)
                    .ok_or_else(|| bad("handle"))?;
                let (consent_id, customer, pending): (String, Document, PendingAuthorisation) =
                    self.open("data-consent", handle).await?;
                let consent = opus_drx::ConsentInProgress {
                    consent_id,
                    customer,
                    pending,
                };
                let tokens = self.receiver()?.complete(&consent, &callback()?).await?;
                let session = self.seal(
                    "data-session",
                    &(tokens.consent_id(), tokens.customer(), tokens.tokens()),
                )?;
                Ok((
                    StatusCode::CREATED,
                    json!({"consentId": consent.consent_id, "session": session}),
                ))
            }
            (&Method::DELETE, ["data", "consents", id]) => {
                self.receiver()?.revoke(id).await?;
                Ok((StatusCode::NO_CONTENT, Value::Null))
            }
            (&Method::GET, ["data", rest @ ..]) => {
                let session = session.ok_or_else(|| bad("x-opus-session"))?;
                let (consent_id, customer, tokens): (String, Document, TokenResponse) =
                    self.open("data-session", session).await?;
                let tokens = ConsentTokens::new(consent_id, customer, tokens);
                let read = self.receiver()?.get(&tokens, &rest.join("/")).await?;
                Ok((StatusCode::OK, read))
            }
            _ => Err(Failure(StatusCode::NOT_FOUND, "not_found", path.to_owned())),
        }
    }
}

opus_fapi::http_service!(Facade, |this| this.clone(), |facade, request| {
    let (parts, body) = request.into_parts();
    let path = parts.uri.path().to_owned();
    let path = match parts.uri.query() {
        Some(q) => format!("{path}?{q}"),
        None => path,
    };
    let session = parts
        .headers
        .get("x-opus-session")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = match Limited::new(body, 256 * 1024).collect().await {
        Ok(collected) => {
            let bytes = collected.to_bytes();
            if bytes.is_empty() {
                Ok(Value::Null)
            } else {
                serde_json::from_slice::<Value>(&bytes).map_err(|_| bad("JSON body"))
            }
        }
        Err(_) => Err(bad("body")),
    };
    let result = match body {
        Ok(body) => {
            facade
                .handle(&parts.method, &path, session.as_deref(), body)
                .await
        }
        Err(e) => Err(e),
    };
    let (status, body) = match result {
        Ok(answer) => answer,
        Err(Failure(status, error, detail)) => (status, json!({"error": error, "detail": detail})),
    };
    let mut response = if body.is_null() {
        Response::new(Full::new(Bytes::new()))
    } else {
        let mut response = Response::new(Full::new(Bytes::from(body.to_string())));
        response.headers_mut().insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static("application/json"),
        );
        response
    };
    *response.status_mut() = status;
    response
});
