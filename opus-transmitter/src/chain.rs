//! The validation chain in front of every connector call.
//!
//! In order, each step with the spec's answer when it fails:
//!
//! 1. the resource guard has verified the token, its certificate binding and
//!    that its consent is authorised (401 otherwise, before this chain);
//! 2. the token carries the API's scope (403);
//! 3. the consent, read with any expiry due applied, is still `AUTHORISED`
//!    and belongs to the calling client (401 / 403);
//! 4. the consent grants this endpoint's permission (403);
//! 5. the resource of the call is one the customer chose to share (403);
//! 6. the monthly operational limit of this endpoint, object, customer and
//!    consuming institution is not spent (423) — follow-up pages carrying a
//!    valid `pagination-key` are not counted, and a call that does not end
//!    in 2xx gives its count back.
//!
//! Only then does a connector run, with a [`DataRequestContext`] built here.

use std::sync::Arc;

use opus_consent::DataConsents;
use opus_core::connector::DataRequestContext;
use opus_core::consent::ConsentStatus;
use opus_core::envelope::PaginationKey;
use opus_core::limits;
use opus_core::seal::{SealContext, Sealer};
use opus_core::store::{CounterKey, CounterOutcome};
use opus_core::{ApiError, ApiErrorKind, BrandId, Clock, Document, ResourceId, Storage, Timestamp};
use opus_fapi::server::guard::VerifiedAccess;
use serde::{Deserialize, Serialize};

pub use opus_core::data_apis::Endpoint;

/// What the chain established for one call.
#[derive(Debug)]
pub(crate) struct Checked {
    /// For the connector.
    pub(crate) ctx: DataRequestContext,
    /// The counter this call took one from, to give back if it fails.
    counted: Option<CounterKey>,
    /// The `pagination-key` the response's links carry.
    pub(crate) pagination_key: Option<PaginationKey>,
}

/// What a `pagination-key` seals.
#[derive(Serialize, Deserialize)]
struct KeyClaims {
    /// Minted at, Unix seconds.
    iat: i64,
}

pub(crate) struct Chain {
    pub(crate) brand: BrandId,
    pub(crate) consents: DataConsents,
    pub(crate) storage: Storage,
    pub(crate) sealer: Arc<Sealer>,
    pub(crate) clock: Arc<dyn Clock>,
}

fn forbidden(detail: &'static str) -> ApiError {
    ApiError::new(
        ApiErrorKind::Forbidden,
        "FORBIDDEN",
        "Acesso negado.",
        detail,
    )
}

fn unauthorized_consent() -> ApiError {
    ApiError::new(
        ApiErrorKind::Unauthorized,
        "UNAUTHORIZED",
        "Não autorizado.",
        "O consentimento não está autorizado.",
    )
}

impl Chain {
    /// Runs steps 2–6 for `endpoint` about `object` (the resource of the
    /// call, if any). `paged` endpoints read and mint `pagination-key`s.
    pub(crate) async fn check(
        &self,
        access: &VerifiedAccess,
        endpoint: &Endpoint,
        object: Option<&ResourceId>,
        pagination_key: Option<&str>,
        paged: bool,
    ) -> Result<Checked, ApiError> {
        if access.brand != self.brand {
            return Err(ApiError::unauthorized());
        }
        if !access.scopes.iter().any(|s| s == endpoint.scope) {
            return Err(forbidden("O token não tem o escopo desta API."));
        }
        let consent_id = access
            .consent_id
            .as_ref()
            .ok_or_else(|| forbidden("O token não está vinculado a um consentimento."))?;
        let consent = match self.consents.find(&self.brand, consent_id).await {
            Ok(consent) => consent,
            Err(e) if e.kind() == ApiErrorKind::NotFound => return Err(unauthorized_consent()),
            Err(e) => return Err(e),
        };
        if consent.status != ConsentStatus::Authorised {
            return Err(unauthorized_consent());
        }
        if consent.client_id != access.client_id {
            return Err(forbidden("O consentimento pertence a outro cliente."));
        }
        if !consent.permissions.contains(&endpoint.permission) {
            return Err(forbidden(
                "O consentimento não concede a permissão deste endpoint.",
            ));
        }
        if let Some(object) = object
            && !consent.resources.contains(object)
        {
            return Err(forbidden("O recurso não faz parte do consentimento."));
        }
        let client = self
            .storage
            .clients
            .get_client(&self.brand, &access.client_id)
            .await
            .map_err(|e| {
                tracing::warn!(error = %e, "client store failed");
                ApiError::internal()
            })?
            .ok_or_else(ApiError::unauthorized)?;
        let now = self.clock.now();
        let object_name = object.map_or_else(|| consent.id.to_string(), |o| o.to_string());
        let key_context = format!("{}|{}|{}", consent.id, endpoint.template, object_name);
        let carried = match pagination_key {
            Some(raw) if paged => self.open_key(raw, &key_context, now).await,
            _ => None,
        };
        let customer = match &consent.business_entity {
            Some(cnpj) => Document::Cnpj(cnpj.clone()),
            None => Document::Cpf(consent.logged_user.clone()),
        };
        let mut counted = None;
        if let Some(limit) = endpoint.monthly_limit
            && carried.is_none()
        {
            let date = now.date_in_brasilia();
            let key = CounterKey {
                brand: self.brand.clone(),
                period: format!("{:04}-{:02}", date.year(), date.month()),
                endpoint: endpoint.template.to_owned(),
                object: object_name.clone(),
                customer: self
                    .sealer
                    .blind_index(&customer)
                    .map_err(|_| ApiError::internal())?,
                organisation: client.organisation_id,
            };
            match self.storage.counters.try_increment(&key, limit).await {
                Ok(CounterOutcome::Counted(_)) => counted = Some(key),
                Ok(_) => return Err(ApiError::operational_limit_reached()),
                Err(e) => {
                    tracing::warn!(error = %e, "counter store failed");
                    return Err(ApiError::internal());
                }
            }
        }
        let pagination_key = match (paged, carried) {
            (false, _) => None,
            (true, Some(key)) => Some(key),
            (true, None) => Some(self.mint_key(&key_context, now)?),
        };
        Ok(Checked {
            ctx: DataRequestContext {
                brand: self.brand.clone(),
                consent_id: consent.id.clone(),
                customer: consent.logged_user.clone(),
                business_entity: consent.business_entity.clone(),
                permissions: consent.permissions.clone(),
                client_organisation: client.organisation_id,
                interaction_id: access.interaction_id,
                resources: consent.resources.clone(),
            },
            counted,
            pagination_key,
        })
    }

    /// Gives back the count of a call that did not end in 2xx.
    pub(crate) async fn refund(&self, checked: &Checked) {
        if let Some(key) = &checked.counted
            && let Err(e) = self.storage.counters.refund(key).await
        {
            tracing::warn!(error = %e, "operational-limit refund failed");
        }
    }

    fn mint_key(&self, context: &str, now: Timestamp) -> Result<PaginationKey, ApiError> {
        let sealed = self
            .sealer
            .seal_json(
                &SealContext::new("pagination-key", &self.brand, context),
                &KeyClaims {
                    iat: now.unix_seconds(),
                },
            )
            .map_err(|_| ApiError::internal())?;
        PaginationKey::new(sealed.as_str()).map_err(|_| ApiError::internal())
    }

    /// The carried key, when it is ours, for this consent, endpoint and
    /// object, and younger than 60 minutes; anything else is ignored (a new
    /// key is minted and the call counted).
    async fn open_key(&self, raw: &str, context: &str, now: Timestamp) -> Option<PaginationKey> {
        let key = PaginationKey::new(raw).ok()?;
        let sealed = opus_core::seal::Sealed::from_stored(raw.to_owned()).ok()?;
        let claims: KeyClaims = self
            .sealer
            .open_json(
                &SealContext::new("pagination-key", &self.brand, context),
                &sealed,
            )
            .await
            .ok()?;
        let age = now.unix_seconds().saturating_sub(claims.iat);
        let max_age = i64::try_from(limits::PAGINATION_KEY_VALIDITY.as_secs()).unwrap_or(3600);
        (0..max_age).contains(&age).then_some(key)
    }
}
