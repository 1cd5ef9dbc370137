//! The management API for the bank's own channels (internet banking, app,
//! call centre): the regulatory channel through which customers see and
//! revoke the consents they gave, and through which the bank ends consents.
//!
//! JSON over HTTP under a base path the bank chooses, as a `tower::Service`;
//! every request is first authenticated by the bank's [`ChannelAuthenticator`]
//! (its session cookie, its internal token…):
//!
//! | method, path | what |
//! |---|---|
//! | `GET {base}` | a page of consents: `document` (CPF or CNPJ, looked up through the blind index), `clientId`, `status`, `page`, `page-size` |
//! | `GET {base}/{consentId}` | one consent |
//! | `POST {base}/{consentId}/revoke` | ends it: `{"rejectedBy": "USER"}` (the customer, `CUSTOMER_MANUALLY_REVOKED`) or `{"rejectedBy": "ASPSP", "reason": "INTERNAL_SECURITY_REASON"}` (the bank) |
//!
//! A customer principal sees and revokes only the consents they authorised
//! (their CPF is the `loggedUser`) and those of companies they act for; an operator principal sees every consent of
//! the brand and must name what it lists. Responses use the OFB envelope
//! (`data`, `links`, `meta`) and error body.

use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use http::request::Parts;
use http::{HeaderValue, Method, Request, header};
use http_body_util::{BodyExt, Full, Limited};
use opus_core::consent::{ConsentStatus, DataConsent, DataRejectionCode};
use opus_core::envelope::{Envelope, PagePolicy, PageRequest};
use opus_core::store::{ConsentFilter, Window};
use opus_core::{ApiError, Brand, ClientId, Clock, Cnpj, ConsentId, Cpf, Document};
use serde::Deserialize;
use serde_json::{Value, json};
use url::Url;

use crate::data::DataConsents;

const MAX_BODY: usize = 16 * 1024;

/// Who is calling through a bank channel.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ChannelPrincipal {
    /// A customer in their own session: sees only their consents.
    Customer {
        /// The customer.
        cpf: Cpf,
        /// The companies they may act for.
        companies: Vec<Cnpj>,
    },
    /// A bank operator (call centre, fraud team): sees the brand's consents.
    Operator {
        /// The operator, for the audit trail.
        id: String,
    },
}

/// The bank's authentication of its channels (the pluggable hook).
#[async_trait]
pub trait ChannelAuthenticator: Send + Sync + 'static {
    /// Who sent `request` (from its session cookie, token, …), or `None`
    /// for an unauthenticated request (answered 401).
    async fn authenticate(&self, request: &Parts) -> Option<ChannelPrincipal>;
}

/// The management API of one brand.
#[derive(Clone)]
pub struct ManagementApi {
    inner: Arc<Inner>,
}

struct Inner {
    brand: Brand,
    consents: DataConsents,
    clock: Arc<dyn Clock>,
    authenticator: Arc<dyn ChannelAuthenticator>,
    base_path: String,
    base_url: Url,
}

impl std::fmt::Debug for ManagementApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ManagementApi")
            .field("brand", self.inner.brand.id())
            .field("base", &self.inner.base_url.as_str())
            .finish_non_exhaustive()
    }
}

impl ManagementApi {
    /// The API of `brand` at `base_url` (its path is the routing prefix),
    /// authenticating callers with `authenticator`.
    pub fn new(
        brand: Brand,
        consents: DataConsents,
        clock: Arc<dyn Clock>,
        authenticator: Arc<dyn ChannelAuthenticator>,
        base_url: Url,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                base_path: base_url.path().trim_end_matches('/').to_owned(),
                brand,
                consents,
                clock,
                authenticator,
                base_url,
            }),
        }
    }
}

/// How the management API shows a consent: the Consents API fields plus
/// who it belongs to, the client and the chosen resources.
fn representation(consent: &DataConsent) -> Value {
    let mut data = json!({
        "consentId": consent.id,
        "clientId": consent.client_id,
        "status": consent.status,
        "creationDateTime": consent.creation_date_time,
        "statusUpdateDateTime": consent.status_update_date_time,
        "permissions": consent.permissions,
        "loggedUser": {"document": {"identification": consent.logged_user.as_str(), "rel": "CPF"}},
        "resources": consent.resources,
    });
    if let Some(cnpj) = &consent.business_entity {
        data["businessEntity"] =
            json!({"document": {"identification": cnpj.as_str(), "rel": "CNPJ"}});
    }
    if let Some(expiration) = consent.expiration_date_time {
        data["expirationDateTime"] = json!(expiration);
    }
    if let Some(rejection) = &consent.rejection {
        data["rejection"] = json!(rejection);
    }
    data
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RevokeBody {
    rejected_by: String,
    #[serde(default)]
    reason: Option<DataRejectionCode>,
}

fn parse_document(raw: &str) -> Result<Document, ApiError> {
    let digits: String = raw.chars().filter(char::is_ascii_alphanumeric).collect();
    match digits.len() {
        11 => Cpf::parse(&digits).map(Document::Cpf),
        14 => Cnpj::parse(&digits).map(Document::Cnpj),
        _ => return Err(ApiError::invalid_parameter("document")),
    }
    .map_err(|_| ApiError::invalid_parameter("document"))
}

impl Inner {
    fn may_see(principal: &ChannelPrincipal, consent: &DataConsent) -> bool {
        match principal {
            ChannelPrincipal::Operator { .. } => true,
            // The consents they authorised, and those of companies they act for.
            ChannelPrincipal::Customer { cpf, companies } => {
                &consent.logged_user == cpf
                    || consent
                        .business_entity
                        .as_ref()
                        .is_some_and(|c| companies.contains(c))
            }
        }
    }

    fn link(&self, parts: &Parts) -> Url {
        let mut url = self.base_url.clone();
        url.set_path(parts.uri.path());
        url.set_query(parts.uri.query());
        url
    }

    async fn one(&self, principal: &ChannelPrincipal, id: &str) -> Result<DataConsent, ApiError> {
        let id = ConsentId::new(id).map_err(|_| ApiError::not_found())?;
        let consent = self.consents.find(self.brand.id(), &id).await?;
        // Someone else's consent does not exist for this principal.
        if !Self::may_see(principal, &consent) {
            return Err(ApiError::not_found());
        }
        Ok(consent)
    }

    async fn list(&self, principal: &ChannelPrincipal, parts: &Parts) -> Result<Value, ApiError> {
        let query: Vec<(String, String)> =
            url::form_urlencoded::parse(parts.uri.query().unwrap_or("").as_bytes())
                .into_owned()
                .collect();
        let get = |name: &str| -> Result<Option<&str>, ApiError> {
            let mut values = query
                .iter()
                .filter(|(k, _)| k == name)
                .map(|(_, v)| v.as_str());
            let first = values.next();
            if values.next().is_some() {
                return Err(ApiError::invalid_parameter("query"));
            }
            Ok(first)
        };
        let request = PageRequest::parse(get("page")?, get("page-size")?, PagePolicy::DATA_API)?;
        let mut filter = ConsentFilter::brand(self.brand.id().clone());
        let document = get("document")?.map(parse_document).transpose()?;
        match (principal, &document) {
            (ChannelPrincipal::Customer { cpf, .. }, None) => {
                filter.subject = Some(self.consents.blind_index(&Document::Cpf(cpf.clone()))?);
            }
            (ChannelPrincipal::Customer { cpf, companies }, Some(document)) => {
                let own = match document {
                    Document::Cpf(c) => c == cpf,
                    Document::Cnpj(c) => companies.contains(c),
                    _ => false,
                };
                if !own {
                    return Err(ApiError::forbidden());
                }
            }
            (ChannelPrincipal::Operator { .. }, None) if get("clientId")?.is_none() => {
                return Err(ApiError::missing_parameter("document"));
            }
            _ => {}
        }
        match &document {
            Some(Document::Cpf(cpf)) => {
                filter.subject = Some(self.consents.blind_index(&Document::Cpf(cpf.clone()))?);
            }
            Some(Document::Cnpj(cnpj)) => {
                filter.business_entity =
                    Some(self.consents.blind_index(&Document::Cnpj(cnpj.clone()))?);
            }
            _ => {}
        }
        if let Some(client) = get("clientId")? {
            filter.client_id =
                Some(ClientId::new(client).map_err(|_| ApiError::invalid_parameter("clientId"))?);
        }
        if let Some(status) = get("status")? {
            let status: ConsentStatus = serde_json::from_value(Value::String(status.to_owned()))
                .map_err(|_| ApiError::invalid_parameter("status"))?;
            filter.statuses = vec![status];
        }
        let page = self
            .consents
            .list(&filter, Window::of_page(&request))
            .await?;
        let items: Vec<Value> = page.items.iter().map(representation).collect();
        let page = opus_core::envelope::Page {
            items,
            total_records: page.total_records,
        };
        let now = self.clock.now();
        serde_json::to_value(Envelope::page(page, &request, &self.link(parts), now))
            .map_err(|_| ApiError::internal())
    }

    async fn revoke(
        &self,
        principal: &ChannelPrincipal,
        id: &str,
        body: &[u8],
    ) -> Result<DataConsent, ApiError> {
        let consent = self.one(principal, id).await?;
        let request: RevokeBody = if body.is_empty() {
            RevokeBody {
                rejected_by: "USER".to_owned(),
                reason: None,
            }
        } else {
            serde_json::from_slice(body).map_err(|_| ApiError::invalid_parameter("body"))?
        };
        match (request.rejected_by.as_str(), principal) {
            ("USER", _) if request.reason.is_none() => {
                self.consents
                    .end_by_customer(self.brand.id(), &consent.id)
                    .await
            }
            ("ASPSP", ChannelPrincipal::Operator { id: operator }) => {
                let code = request
                    .reason
                    .ok_or_else(|| ApiError::missing_parameter("reason"))?;
                if !matches!(
                    code,
                    DataRejectionCode::InternalSecurityReason
                        | DataRejectionCode::ConsentTechnicalIssue
                ) {
                    return Err(ApiError::invalid_parameter("reason"));
                }
                tracing::info!(operator = %operator, consent = %consent.id, "consent ended by the institution");
                self.consents
                    .end_by_institution(self.brand.id(), &consent.id, code)
                    .await
            }
            ("ASPSP", ChannelPrincipal::Customer { .. }) => Err(ApiError::forbidden()),
            _ => Err(ApiError::invalid_parameter("rejectedBy")),
        }
    }

    async fn handle<B>(&self, request: Request<B>) -> Result<Value, ApiError>
    where
        B: http_body::Body + Send,
        B::Data: Send,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let (parts, body) = request.into_parts();
        let rest = parts
            .uri
            .path()
            .strip_prefix(&self.base_path)
            .ok_or_else(ApiError::not_found)?
            .trim_start_matches('/')
            .to_owned();
        let principal = self
            .authenticator
            .authenticate(&parts)
            .await
            .ok_or_else(ApiError::unauthorized)?;
        let segments: Vec<&str> = if rest.is_empty() {
            Vec::new()
        } else {
            rest.split('/').collect()
        };
        let now = self.clock.now();
        match (segments.as_slice(), &parts.method) {
            ([], &Method::GET) => self.list(&principal, &parts).await,
            ([id], &Method::GET) => {
                let consent = self.one(&principal, id).await?;
                serde_json::to_value(Envelope::single(
                    representation(&consent),
                    &self.link(&parts),
                    now,
                ))
                .map_err(|_| ApiError::internal())
            }
            ([id, "revoke"], &Method::POST) => {
                let bytes = Limited::new(body, MAX_BODY)
                    .collect()
                    .await
                    .map_err(|_| ApiError::invalid_parameter("body"))?
                    .to_bytes();
                let ended = self.revoke(&principal, id, &bytes).await?;
                serde_json::to_value(Envelope::single(
                    representation(&ended),
                    &self.link(&parts),
                    now,
                ))
                .map_err(|_| ApiError::internal())
            }
            ([] | [_] | [_, "revoke"], _) => Err(ApiError::method_not_allowed()),
            _ => Err(ApiError::not_found()),
        }
    }
}

opus_fapi::http_service!(ManagementApi, |api| api.inner.clone(), |inner, request| {
    let now = inner.clock.now();
    match inner.handle(request).await {
        Ok(body) => {
            let mut response = opus_fapi::json_ok(&body);
            response
                .headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            response
        }
        Err(error) => error
            .to_http_response(now)
            .map(|b| Full::new(Bytes::from(b))),
    }
});
