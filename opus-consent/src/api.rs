//! The Consents API 3.3.1 (`/open-banking/consents/v3/consents`) as a
//! `tower::Service`, for one brand.
//!
//! Mount it behind the resource guard
//! ([`opus_fapi::server::guard::ResourceGuardLayer`], without a scope
//! requirement): it reads the verified client from the request and refuses
//! to run without it. The consents, their reads, deletions and
//! `GET /consents/{id}/extensions` need a client-credentials token with the
//! `consents` scope; `POST /consents/{id}/extends` (renewal without
//! redirection) needs the customer's token bound to that consent and the
//! `x-fapi-customer-ip-address` and `x-customer-user-agent` headers. A
//! client sees and deletes only its own consents.

use std::sync::Arc;

use bytes::Bytes;
use http::{HeaderValue, Method, Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Full, Limited};
use opus_core::consent::{DataConsent, Permission};
use opus_core::envelope::{Page, PagePolicy, PageRequest};
use opus_core::{ApiError, Brand, Clock, Cnpj, ConsentId, Cpf, Envelope, Timestamp};
use opus_fapi::server::guard::VerifiedAccess;
use serde_json::{Value, json};

use crate::data::{CreateDataConsent, DataConsents, ExtendDataConsent};

/// Where the API lives under the brand's API base URL.
pub const BASE_PATH: &str = "open-banking/consents/v3/consents";
const MAX_BODY: usize = 64 * 1024;

/// The Consents API of one brand.
#[derive(Clone)]
pub struct ConsentsApi {
    inner: Arc<Inner>,
}

struct Inner {
    brand: Brand,
    consents: DataConsents,
    clock: Arc<dyn Clock>,
    /// The path prefix of the collection, e.g. `/api/open-banking/consents/v3/consents`.
    prefix: String,
}

impl std::fmt::Debug for ConsentsApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConsentsApi")
            .field("brand", self.inner.brand.id())
            .finish_non_exhaustive()
    }
}

impl ConsentsApi {
    /// The API of `brand` over `consents`.
    pub fn new(brand: Brand, consents: DataConsents, clock: Arc<dyn Clock>) -> Self {
        let base = brand.api_base_url().path().trim_end_matches('/');
        let prefix = format!("{base}/{BASE_PATH}");
        Self {
            inner: Arc::new(Inner {
                brand,
                consents,
                clock,
                prefix,
            }),
        }
    }
}

fn json_response(status: StatusCode, body: &Value) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body.to_string())));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    response
}

fn error_response(error: &ApiError, now: Timestamp) -> Response<Full<Bytes>> {
    error
        .to_http_response(now)
        .map(|b| Full::new(Bytes::from(b)))
}

enum Route {
    Collection,
    Consent(ConsentId, RouteKind),
}

enum RouteKind {
    One,
    Extends,
    Extensions,
}

/// The read representation of a consent.
fn representation(consent: &DataConsent) -> Value {
    let mut data = json!({
        "consentId": consent.id,
        "creationDateTime": consent.creation_date_time,
        "status": consent.status,
        "statusUpdateDateTime": consent.status_update_date_time,
        "permissions": consent.permissions,
    });
    if let Some(expiration) = consent.expiration_date_time {
        data["expirationDateTime"] = json!(expiration);
    }
    if let Some(rejection) = &consent.rejection {
        data["rejection"] = json!(rejection);
    }
    data
}

/// Parses the `POST /consents` body; 400 `PARAMETRO_INVALIDO` for anything
/// outside the schema.
fn parse_create(body: &[u8]) -> Result<CreateDataConsent, ApiError> {
    let value: Value =
        serde_json::from_slice(body).map_err(|_| ApiError::invalid_parameter("body"))?;
    let data = value
        .get("data")
        .ok_or_else(|| ApiError::missing_parameter("data"))?;
    let document = |entity: &str, rel: &str| -> Result<Option<String>, ApiError> {
        let Some(holder) = data.get(entity) else {
            return Ok(None);
        };
        let doc = holder
            .get("document")
            .ok_or_else(|| ApiError::invalid_parameter("document"))?;
        if doc.get("rel").and_then(Value::as_str) != Some(rel) {
            return Err(ApiError::invalid_parameter("document.rel"));
        }
        doc.get("identification")
            .and_then(Value::as_str)
            .map(|s| Some(s.to_owned()))
            .ok_or_else(|| ApiError::invalid_parameter("document.identification"))
    };
    let cpf =
        document("loggedUser", "CPF")?.ok_or_else(|| ApiError::missing_parameter("loggedUser"))?;
    if cpf.len() != 11 {
        return Err(ApiError::invalid_parameter(
            "loggedUser.document.identification",
        ));
    }
    let logged_user = Cpf::parse(&cpf)
        .map_err(|_| ApiError::invalid_parameter("loggedUser.document.identification"))?;
    let business_entity =
        match document("businessEntity", "CNPJ")? {
            Some(cnpj) if cnpj.len() == 14 => Some(Cnpj::parse(&cnpj).map_err(|_| {
                ApiError::invalid_parameter("businessEntity.document.identification")
            })?),
            Some(_) => {
                return Err(ApiError::invalid_parameter(
                    "businessEntity.document.identification",
                ));
            }
            None => None,
        };
    let permissions: Vec<Permission> = data
        .get("permissions")
        .cloned()
        .map(serde_json::from_value)
        .ok_or_else(|| ApiError::missing_parameter("permissions"))?
        .map_err(|_| ApiError::invalid_parameter("permissions"))?;
    let expiration_date_time = match data.get("expirationDateTime") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(
            Timestamp::parse(s).map_err(|_| ApiError::invalid_parameter("expirationDateTime"))?,
        ),
        Some(_) => return Err(ApiError::invalid_parameter("expirationDateTime")),
    };
    Ok(CreateDataConsent {
        logged_user,
        business_entity,
        permissions,
        expiration_date_time,
    })
}

impl Inner {
    async fn handle<B>(&self, request: Request<B>) -> Response<Full<Bytes>>
    where
        B: http_body::Body + Send,
        B::Data: Send,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let now = self.clock.now();
        let Some(access) = request.extensions().get::<VerifiedAccess>().cloned() else {
            // Not behind the guard: fail closed.
            return error_response(&ApiError::unauthorized(), now);
        };
        if access.brand != *self.brand.id() {
            return error_response(&ApiError::unauthorized(), now);
        }
        let path = request.uri().path().to_owned();
        let Some(rest) = path.strip_prefix(&self.prefix) else {
            return error_response(&ApiError::not_found(), now);
        };
        let route = match rest.trim_start_matches('/') {
            "" => Route::Collection,
            tail => {
                let (id, kind) = if let Some(id) = tail.strip_suffix("/extends") {
                    (id, RouteKind::Extends)
                } else if let Some(id) = tail.strip_suffix("/extensions") {
                    (id, RouteKind::Extensions)
                } else {
                    (tail, RouteKind::One)
                };
                match ConsentId::new(id) {
                    Ok(id) => Route::Consent(id, kind),
                    Err(_) => {
                        return error_response(&ApiError::invalid_parameter("consentId"), now);
                    }
                }
            }
        };
        // Renewals come with the customer's token for that consent
        // (authorization_code); everything else with a client-credentials
        // token carrying `consents`.
        let allowed = match &route {
            Route::Consent(id, RouteKind::Extends) => access.consent_id.as_ref() == Some(id),
            _ => access.scopes.iter().any(|s| s == "consents") && access.consent_id.is_none(),
        };
        if !allowed {
            return error_response(&ApiError::forbidden(), now);
        }
        let method = request.method().clone();
        let result = match (route, &method) {
            (Route::Collection, &Method::POST) => self.create(&access, request).await,
            (Route::Consent(id, RouteKind::One), &Method::GET) => self.read(&access, &id).await,
            (Route::Consent(id, RouteKind::One), &Method::DELETE) => {
                self.delete(&access, &id).await
            }
            (Route::Consent(id, RouteKind::Extends), &Method::POST) => {
                self.extend(&access, &id, request).await
            }
            (Route::Consent(id, RouteKind::Extensions), &Method::GET) => {
                self.extensions(&access, &id, request.uri().query()).await
            }
            _ => Err(ApiError::method_not_allowed()),
        };
        result.unwrap_or_else(|e| error_response(&e, now))
    }

    async fn extend<B>(
        &self,
        access: &VerifiedAccess,
        id: &ConsentId,
        request: Request<B>,
    ) -> Result<Response<Full<Bytes>>, ApiError>
    where
        B: http_body::Body + Send,
        B::Data: Send,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let customer_ip_address = access
            .customer_ip_address
            .clone()
            .ok_or_else(|| ApiError::missing_parameter("x-fapi-customer-ip-address"))?;
        let customer_user_agent = access
            .customer_user_agent
            .clone()
            .ok_or_else(|| ApiError::missing_parameter("x-customer-user-agent"))?;
        let body = self.json_body(request).await?;
        let value: Value =
            serde_json::from_slice(&body).map_err(|_| ApiError::invalid_parameter("body"))?;
        let data = value
            .get("data")
            .ok_or_else(|| ApiError::missing_parameter("data"))?;
        let logged_user = data
            .pointer("/loggedUser/document")
            .filter(|d| d.get("rel").and_then(Value::as_str) == Some("CPF"))
            .and_then(|d| d.get("identification"))
            .and_then(Value::as_str)
            .filter(|c| c.len() == 11)
            .and_then(|c| Cpf::parse(c).ok())
            .ok_or_else(|| ApiError::invalid_parameter("loggedUser"))?;
        let business_entity = match data.get("businessEntity") {
            None => None,
            Some(entity) => Some(
                entity
                    .get("document")
                    .filter(|d| d.get("rel").and_then(Value::as_str) == Some("CNPJ"))
                    .and_then(|d| d.get("identification"))
                    .and_then(Value::as_str)
                    .filter(|c| c.len() == 14)
                    .and_then(|c| Cnpj::parse(c).ok())
                    .ok_or_else(|| ApiError::invalid_parameter("businessEntity"))?,
            ),
        };
        let expiration_date_time = match data.get("expirationDateTime") {
            None | Some(Value::Null) => None,
            Some(Value::String(t)) => Some(
                Timestamp::parse(t)
                    .map_err(|_| ApiError::invalid_parameter("expirationDateTime"))?,
            ),
            Some(_) => return Err(ApiError::invalid_parameter("expirationDateTime")),
        };
        let consent = self
            .consents
            .extend(
                self.brand.id(),
                &access.client_id,
                id,
                ExtendDataConsent {
                    expiration_date_time,
                    logged_user,
                    business_entity,
                    customer_ip_address,
                    customer_user_agent,
                },
            )
            .await?;
        let mut data = json!({
            "consentId": consent.id,
            "creationDateTime": consent.creation_date_time,
            "status": consent.status,
            "statusUpdateDateTime": consent.status_update_date_time,
            "permissions": consent.permissions,
        });
        if let Some(expiration) = consent.expiration_date_time {
            data["expirationDateTime"] = json!(expiration);
        }
        let link = self
            .brand
            .api_url(&format!("{BASE_PATH}/{}/extends", consent.id))
            .map_err(|_| ApiError::internal())?;
        let body = serde_json::to_value(Envelope::single(data, &link, self.clock.now()))
            .map_err(|_| ApiError::internal())?;
        Ok(json_response(StatusCode::CREATED, &body))
    }

    async fn extensions(
        &self,
        access: &VerifiedAccess,
        id: &ConsentId,
        query: Option<&str>,
    ) -> Result<Response<Full<Bytes>>, ApiError> {
        let params: Vec<(String, String)> =
            url::form_urlencoded::parse(query.unwrap_or("").as_bytes())
                .into_owned()
                .collect();
        let get = |name: &str| {
            params
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
        };
        let request = PageRequest::parse(get("page"), get("page-size"), PagePolicy::FLOOR_25)?;
        let consent = self
            .consents
            .get(self.brand.id(), &access.client_id, id)
            .await?;
        // Newest first.
        let all: Vec<Value> = consent
            .extensions
            .iter()
            .rev()
            .map(|e| {
                let mut item = json!({
                    "loggedUser": {"document": {"identification": e.logged_user.as_str(), "rel": "CPF"}},
                    "requestDateTime": e.request_date_time,
                    "xFapiCustomerIpAddress": e.x_fapi_customer_ip_address,
                    "xCustomerUserAgent": e.x_customer_user_agent,
                });
                if let Some(t) = e.expiration_date_time {
                    item["expirationDateTime"] = json!(t);
                }
                if let Some(t) = e.previous_expiration_date_time {
                    item["previousExpirationDateTime"] = json!(t);
                }
                item
            })
            .collect();
        let total = all.len() as u64;
        let items = all
            .into_iter()
            .skip(usize::try_from(request.offset()).unwrap_or(usize::MAX))
            .take(request.page_size as usize)
            .collect();
        let mut link = self
            .brand
            .api_url(&format!("{BASE_PATH}/{}/extensions", consent.id))
            .map_err(|_| ApiError::internal())?;
        link.set_query(query);
        let page = Page {
            items,
            total_records: total,
        };
        let body = serde_json::to_value(Envelope::page(page, &request, &link, self.clock.now()))
            .map_err(|_| ApiError::internal())?;
        Ok(json_response(StatusCode::OK, &body))
    }

    async fn json_body<B>(&self, request: Request<B>) -> Result<Bytes, ApiError>
    where
        B: http_body::Body + Send,
        B::Data: Send,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let json = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"));
        if !json {
            return Err(ApiError::unsupported_media_type());
        }
        Ok(Limited::new(request.into_body(), MAX_BODY)
            .collect()
            .await
            .map_err(|_| ApiError::invalid_parameter("body"))?
            .to_bytes())
    }

    async fn create<B>(
        &self,
        access: &VerifiedAccess,
        request: Request<B>,
    ) -> Result<Response<Full<Bytes>>, ApiError>
    where
        B: http_body::Body + Send,
        B::Data: Send,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let json = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"));
        if !json {
            return Err(ApiError::unsupported_media_type());
        }
        let body = Limited::new(request.into_body(), MAX_BODY)
            .collect()
            .await
            .map_err(|_| ApiError::invalid_parameter("body"))?
            .to_bytes();
        let create = parse_create(&body)?;
        let consent = self
            .consents
            .create(self.brand.id(), &access.client_id, create)
            .await?;
        self.envelope(StatusCode::CREATED, &consent)
    }

    async fn read(
        &self,
        access: &VerifiedAccess,
        id: &ConsentId,
    ) -> Result<Response<Full<Bytes>>, ApiError> {
        let consent = self
            .consents
            .get(self.brand.id(), &access.client_id, id)
            .await?;
        self.envelope(StatusCode::OK, &consent)
    }

    async fn delete(
        &self,
        access: &VerifiedAccess,
        id: &ConsentId,
    ) -> Result<Response<Full<Bytes>>, ApiError> {
        self.consents
            .delete(self.brand.id(), &access.client_id, id)
            .await?;
        let mut response = Response::new(Full::new(Bytes::new()));
        *response.status_mut() = StatusCode::NO_CONTENT;
        Ok(response)
    }

    fn envelope(
        &self,
        status: StatusCode,
        consent: &DataConsent,
    ) -> Result<Response<Full<Bytes>>, ApiError> {
        let link = self
            .brand
            .api_url(&format!("{BASE_PATH}/{}", consent.id))
            .map_err(|_| ApiError::internal())?;
        let envelope = Envelope::single(representation(consent), &link, self.clock.now());
        let body = serde_json::to_value(&envelope).map_err(|_| ApiError::internal())?;
        Ok(json_response(status, &body))
    }
}

opus_fapi::http_service!(ConsentsApi, |api| api.inner.clone(), |inner, request| {
    inner.handle(request).await
});
