//! The data-sharing consent lifecycle (Consents API 3.3.1).
//!
//! ```text
//! AWAITING_AUTHORISATION ──approve──► AUTHORISED
//!        │                                │
//!        ├─ customer refuses (USER, CUSTOMER_MANUALLY_REJECTED)
//!        ├─ receiver DELETE (TPP, CUSTOMER_MANUALLY_REJECTED)     ├─ DELETE / revocation (…, CUSTOMER_MANUALLY_REVOKED)
//!        └─ 60 minutes pass (ASPSP, CONSENT_EXPIRED)              └─ expirationDateTime reached (ASPSP, CONSENT_MAX_DATE_REACHED)
//!        ▼                                ▼
//!     REJECTED (terminal) ◄───────────────┘
//! ```
//!
//! Every transition is a compare-and-set in the consent store, writes a
//! [`opus_core::event::EventKind::ConsentStatusChanged`] to the outbox in the same
//! transaction, and — when the consent ends — revokes its tokens. Expiry by
//! the clock is applied whenever a consent is read, so no reader ever sees a
//! consent past its deadline as live.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use opus_core::consent::{
    ConsentKind, ConsentStatus, DataConsent, DataConsentExtension, DataRejection,
    DataRejectionCode, DataRejectionReason, Permission, RejectedBy,
};
use opus_core::envelope::Page;
use opus_core::seal::{BlindIndex, Sealer};
use opus_core::store::{ConsentFilter, OutboxMessage, StoreError, Window};
use opus_core::{
    ApiError, BrandId, ClientId, Clock, Cnpj, ConsentId, Cpf, Document, Storage, Timestamp,
};

use Permission as P;

/// How long a consent may wait for the customer (Consents API 3.3.1: 60 minutes).
pub const AUTHORISATION_WINDOW: Duration = opus_core::limits::DATA_CONSENT_AUTHORISATION_TIMEOUT;

/// The permission groups a receiver must request whole (Consents API 3.3.1,
/// "agrupamentos"); `RESOURCES_READ` belongs to all of them.
pub const PERMISSION_GROUPS: &[&[Permission]] = &[
    &[P::CustomersPersonalIdentificationsRead, P::ResourcesRead],
    &[P::CustomersPersonalAdittionalinfoRead, P::ResourcesRead],
    &[P::CustomersBusinessIdentificationsRead, P::ResourcesRead],
    &[P::CustomersBusinessAdittionalinfoRead, P::ResourcesRead],
    &[P::AccountsRead, P::AccountsBalancesRead, P::ResourcesRead],
    &[
        P::AccountsRead,
        P::AccountsOverdraftLimitsRead,
        P::ResourcesRead,
    ],
    &[
        P::AccountsRead,
        P::AccountsTransactionsRead,
        P::ResourcesRead,
    ],
    &[
        P::CreditCardsAccountsRead,
        P::CreditCardsAccountsLimitsRead,
        P::ResourcesRead,
    ],
    &[
        P::CreditCardsAccountsRead,
        P::CreditCardsAccountsTransactionsRead,
        P::ResourcesRead,
    ],
    &[
        P::CreditCardsAccountsRead,
        P::CreditCardsAccountsBillsRead,
        P::CreditCardsAccountsBillsTransactionsRead,
        P::ResourcesRead,
    ],
    CREDIT_OPERATIONS,
    INVESTMENTS,
    &[P::ExchangesRead, P::ResourcesRead],
];

/// Credit operations: one group, kept whole.
const CREDIT_OPERATIONS: &[Permission] = &[
    P::LoansRead,
    P::LoansWarrantiesRead,
    P::LoansScheduledInstalmentsRead,
    P::LoansPaymentsRead,
    P::FinancingsRead,
    P::FinancingsWarrantiesRead,
    P::FinancingsScheduledInstalmentsRead,
    P::FinancingsPaymentsRead,
    P::UnarrangedAccountsOverdraftRead,
    P::UnarrangedAccountsOverdraftWarrantiesRead,
    P::UnarrangedAccountsOverdraftScheduledInstalmentsRead,
    P::UnarrangedAccountsOverdraftPaymentsRead,
    P::InvoiceFinancingsRead,
    P::InvoiceFinancingsWarrantiesRead,
    P::InvoiceFinancingsScheduledInstalmentsRead,
    P::InvoiceFinancingsPaymentsRead,
    P::ResourcesRead,
];

/// Investments: one group, kept whole.
const INVESTMENTS: &[Permission] = &[
    P::BankFixedIncomesRead,
    P::CreditFixedIncomesRead,
    P::FundsRead,
    P::VariableIncomesRead,
    P::TreasureTitlesRead,
    P::ResourcesRead,
];

const PERSONAL: &[Permission] = &[
    P::CustomersPersonalIdentificationsRead,
    P::CustomersPersonalAdittionalinfoRead,
];
const BUSINESS: &[Permission] = &[
    P::CustomersBusinessIdentificationsRead,
    P::CustomersBusinessAdittionalinfoRead,
];

/// What the institution offers and how long consents may run.
#[derive(Debug, Clone)]
pub struct DataConsentPolicy {
    /// The permissions the institution serves; the rest of a request is
    /// dropped (grouped products are kept or dropped whole).
    pub supported: BTreeSet<Permission>,
    /// The longest sharing period accepted, if the institution caps it.
    pub max_duration: Option<Duration>,
}

impl Default for DataConsentPolicy {
    /// Every permission of the spec; no cap on the sharing period.
    fn default() -> Self {
        Self {
            supported: PERMISSION_GROUPS
                .iter()
                .flat_map(|g| g.iter().copied())
                .collect(),
            max_duration: None,
        }
    }
}

/// What the receiver sends in `POST /consents/{consentId}/extends`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtendDataConsent {
    /// The new expiration; `None` for an indefinite consent.
    pub expiration_date_time: Option<Timestamp>,
    /// Who renews (`loggedUser`).
    pub logged_user: Cpf,
    /// For which company (`businessEntity`), on PJ consents.
    pub business_entity: Option<Cnpj>,
    /// `x-fapi-customer-ip-address` (required on renewals).
    pub customer_ip_address: String,
    /// `x-customer-user-agent` (required on renewals).
    pub customer_user_agent: String,
}

/// A receiver's request (`POST /consents`), already parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateDataConsent {
    /// `loggedUser.document`.
    pub logged_user: Cpf,
    /// `businessEntity.document`.
    pub business_entity: Option<Cnpj>,
    /// `permissions`.
    pub permissions: Vec<Permission>,
    /// `expirationDateTime`.
    pub expiration_date_time: Option<Timestamp>,
}

fn unprocessable(code: &'static str, title: &'static str, detail: &'static str) -> ApiError {
    ApiError::unprocessable(code, title, detail)
}

/// Checks a permission request against the groups and PF/PJ rules; the
/// permissions granted (those the institution supports), in request order.
///
/// # Errors
/// The spec's 422 for an incomplete group, PF and PJ together, PJ
/// permissions without `businessEntity`, or nothing left to grant; 400 for
/// duplicates.
pub fn grantable_permissions(
    request: &CreateDataConsent,
    policy: &DataConsentPolicy,
) -> Result<Vec<Permission>, ApiError> {
    let requested: BTreeSet<Permission> = request.permissions.iter().copied().collect();
    if requested.len() != request.permissions.len() || requested.is_empty() {
        return Err(ApiError::invalid_parameter("permissions"));
    }
    let personal = requested.iter().any(|p| PERSONAL.contains(p));
    let business = requested.iter().any(|p| BUSINESS.contains(p));
    if personal && business {
        return Err(unprocessable(
            "PERMISSAO_PF_PJ_EM_CONJUNTO",
            "Permissão PF e PJ em conjunto.",
            "Não é possível solicitar permissões de pessoa natural e jurídica no mesmo consentimento.",
        ));
    }
    if business && request.business_entity.is_none() {
        return Err(unprocessable(
            "INFORMACOES_PJ_NAO_INFORMADAS",
            "Informações PJ não informadas.",
            "Permissões de pessoa jurídica exigem businessEntity.",
        ));
    }
    if personal && request.business_entity.is_some() {
        return Err(unprocessable(
            "PERMISSOES_PJ_INCORRETAS",
            "Permissões PJ incorretas.",
            "Um consentimento com businessEntity não pode pedir permissões de pessoa natural.",
        ));
    }
    // Every requested permission must be covered by a group requested whole.
    let whole: Vec<&[Permission]> = PERMISSION_GROUPS
        .iter()
        .copied()
        .filter(|g| g.iter().all(|p| requested.contains(p)))
        .collect();
    let covered: BTreeSet<Permission> = whole.iter().flat_map(|g| g.iter().copied()).collect();
    if covered != requested {
        return Err(unprocessable(
            "COMBINACAO_PERMISSOES_INCORRETA",
            "Combinação de permissões incorreta.",
            "As permissões devem formar agrupamentos completos.",
        ));
    }
    // Keep the groups the institution serves; grouped products whole or not at all.
    let kept: BTreeSet<Permission> = whole
        .iter()
        .filter(|g| g.iter().all(|p| policy.supported.contains(p)))
        .flat_map(|g| g.iter().copied())
        .collect();
    if kept.iter().all(|p| *p == P::ResourcesRead) {
        return Err(unprocessable(
            "SEM_PERMISSOES_FUNCIONAIS_RESTANTES",
            "Sem permissões funcionais restantes.",
            "Nenhuma das permissões solicitadas é oferecida pela instituição.",
        ));
    }
    Ok(request
        .permissions
        .iter()
        .copied()
        .filter(|p| kept.contains(p))
        .collect())
}

/// The data consents of an institution, over its storage ports.
#[derive(Clone)]
pub struct DataConsents {
    storage: Storage,
    sealer: Arc<Sealer>,
    clock: Arc<dyn Clock>,
    policy: Arc<DataConsentPolicy>,
}

impl std::fmt::Debug for DataConsents {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DataConsents").finish_non_exhaustive()
    }
}

fn store_error(e: &StoreError) -> ApiError {
    tracing::warn!(error = %e, "consent store failed");
    ApiError::internal()
}

impl DataConsents {
    /// Data consents over `storage`, sealed with `sealer`.
    pub fn new(
        storage: Storage,
        sealer: Arc<Sealer>,
        clock: Arc<dyn Clock>,
        policy: DataConsentPolicy,
    ) -> Self {
        Self {
            storage,
            sealer,
            clock,
            policy: Arc::new(policy),
        }
    }

    fn event(
        consent: &DataConsent,
        from: ConsentStatus,
        now: Timestamp,
    ) -> Result<OutboxMessage, ApiError> {
        consent
            .status_changed_message(from, now)
            .map_err(|_| ApiError::internal())
    }

    /// `POST /consents`: validates and stores a new consent for `client`.
    ///
    /// # Errors
    /// The spec's 400/422 for a bad request (see [`grantable_permissions`];
    /// `DATA_EXPIRACAO_INVALIDA` for an expiration not in the future or past
    /// the institution's cap); 500 when the store fails.
    pub async fn create(
        &self,
        brand: &BrandId,
        client: &ClientId,
        request: CreateDataConsent,
    ) -> Result<DataConsent, ApiError> {
        let now = self.clock.now();
        let permissions = grantable_permissions(&request, &self.policy)?;
        if let Some(expiration) = request.expiration_date_time {
            let too_far = self
                .policy
                .max_duration
                .is_some_and(|max| expiration > now.saturating_add(max));
            if expiration <= now || too_far {
                return Err(unprocessable(
                    "DATA_EXPIRACAO_INVALIDA",
                    "Data de expiração inválida.",
                    "A data de expiração do consentimento é inválida.",
                ));
            }
        }
        let nid = brand
            .as_str()
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
            .take(32)
            .collect::<String>();
        let id = ConsentId::new(format!("urn:{nid}:{}", uuid::Uuid::new_v4()))
            .map_err(|_| ApiError::internal())?;
        let consent = DataConsent {
            brand: brand.clone(),
            id,
            client_id: client.clone(),
            status: ConsentStatus::AwaitingAuthorisation,
            version: 0,
            permissions,
            logged_user: request.logged_user,
            business_entity: request.business_entity,
            creation_date_time: now,
            status_update_date_time: now,
            expiration_date_time: request.expiration_date_time,
            rejection: None,
            resources: Vec::new(),
            extensions: Vec::new(),
        };
        let record = consent
            .seal(&self.sealer)
            .map_err(|_| ApiError::internal())?;
        let event = Self::event(&consent, ConsentStatus::AwaitingAuthorisation, now)?;
        let stored = self
            .storage
            .consents
            .insert_consent(&record, &[event])
            .await
            .map_err(|e| store_error(&e))?;
        Ok(DataConsent {
            version: stored.version,
            ..consent
        })
    }

    /// The consent `id` of `brand`, with any expiry due by the clock applied.
    ///
    /// # Errors
    /// 404 when there is no such data consent; 500 when the store fails.
    pub async fn find(&self, brand: &BrandId, id: &ConsentId) -> Result<DataConsent, ApiError> {
        for _ in 0..3 {
            let record = self
                .storage
                .consents
                .get_consent(brand, id)
                .await
                .map_err(|e| store_error(&e))?
                .filter(|r| r.kind == ConsentKind::Data)
                .ok_or_else(ApiError::not_found)?;
            let consent = DataConsent::open(&record, &self.sealer)
                .await
                .map_err(|_| ApiError::internal())?;
            let now = self.clock.now();
            // The one deadline rule (opus-core): the authorisation window
            // while awaiting, the expiration once authorised.
            let due = match consent.deadline() {
                Some(deadline) if deadline <= now => match consent.status {
                    ConsentStatus::AwaitingAuthorisation => {
                        Some((RejectedBy::Aspsp, DataRejectionCode::ConsentExpired))
                    }
                    _ => Some((RejectedBy::Aspsp, DataRejectionCode::ConsentMaxDateReached)),
                },
                _ => None,
            };
            let Some((by, code)) = due else {
                return Ok(consent);
            };
            match self.reject_stored(consent, by, code, now).await {
                Ok(rejected) => return Ok(rejected),
                // Someone else moved it meanwhile: read again.
                Err(Transition::Conflict) => continue,
                Err(Transition::Failed(e)) => return Err(e),
            }
        }
        Err(ApiError::internal())
    }

    /// `GET /consents/{consentId}` for `client`: another client's consent is
    /// forbidden (403).
    ///
    /// # Errors
    /// 404 for an unknown consent, 403 for another client's.
    pub async fn get(
        &self,
        brand: &BrandId,
        client: &ClientId,
        id: &ConsentId,
    ) -> Result<DataConsent, ApiError> {
        let consent = self.find(brand, id).await?;
        // Another client's consent: 403 (the OFB functional suite's
        // cross-client check expects it for GET and DELETE).
        if &consent.client_id != client {
            return Err(ApiError::forbidden());
        }
        Ok(consent)
    }

    /// `DELETE /consents/{consentId}` by its receiver: an awaiting consent is
    /// rejected, an authorised one revoked (`rejectedBy: TPP`).
    ///
    /// # Errors
    /// 404 for an unknown or another client's consent; 422
    /// `CONSENTIMENTO_EM_STATUS_REJEITADO` when it already ended.
    pub async fn delete(
        &self,
        brand: &BrandId,
        client: &ClientId,
        id: &ConsentId,
    ) -> Result<(), ApiError> {
        self.end(brand, Some(client), id, RejectedBy::Tpp)
            .await
            .map(|_| ())
    }

    /// The customer refused at the institution (`rejectedBy: USER`) — or,
    /// if it was authorised, revoked it through a bank channel.
    ///
    /// # Errors
    /// As [`Self::delete`].
    pub async fn end_by_customer(
        &self,
        brand: &BrandId,
        id: &ConsentId,
    ) -> Result<DataConsent, ApiError> {
        self.end(brand, None, id, RejectedBy::User).await
    }

    /// `POST /consents/{consentId}/extends`: the customer renews an
    /// authorised consent without redirection; only its expiration changes
    /// and the renewal is recorded.
    ///
    /// # Errors
    /// 403 for another client's consent; 422 `ESTADO_CONSENTIMENTO_INVALIDO`
    /// when it is not `AUTHORISED`, `DATA_EXPIRACAO_INVALIDA` for a date not
    /// after now and after the current expiration (or past the institution's
    /// cap), `ERRO_NAO_MAPEADO` when the renewing customer may not renew it
    /// (a PF consent renews only by its `loggedUser`; a PJ one only for its
    /// `businessEntity`).
    pub async fn extend(
        &self,
        brand: &BrandId,
        client: &ClientId,
        id: &ConsentId,
        request: ExtendDataConsent,
    ) -> Result<DataConsent, ApiError> {
        for _ in 0..3 {
            let mut consent = self.get(brand, client, id).await?;
            if consent.status != ConsentStatus::Authorised {
                return Err(unprocessable(
                    "ESTADO_CONSENTIMENTO_INVALIDO",
                    "Estado inválido do consentimento.",
                    "Somente consentimentos autorizados podem ser renovados.",
                ));
            }
            let allowed = match &consent.business_entity {
                None => consent.logged_user == request.logged_user,
                Some(cnpj) => request.business_entity.as_ref() == Some(cnpj),
            };
            if !allowed {
                return Err(unprocessable(
                    "ERRO_NAO_MAPEADO",
                    "Renovação não permitida.",
                    "O usuário informado não pode renovar este consentimento sem redirecionamento.",
                ));
            }
            let now = self.clock.now();
            if let Some(expiration) = request.expiration_date_time {
                let too_far = self
                    .policy
                    .max_duration
                    .is_some_and(|max| expiration > now.saturating_add(max));
                let not_later = consent
                    .expiration_date_time
                    .is_some_and(|current| expiration <= current);
                if expiration <= now || too_far || not_later {
                    return Err(unprocessable(
                        "DATA_EXPIRACAO_INVALIDA",
                        "Data de expiração inválida.",
                        "A nova data de expiração do consentimento é inválida.",
                    ));
                }
            } else if self.policy.max_duration.is_some() {
                return Err(unprocessable(
                    "DATA_EXPIRACAO_INVALIDA",
                    "Data de expiração inválida.",
                    "A instituição não concede consentimentos por prazo indeterminado.",
                ));
            }
            consent.extensions.push(DataConsentExtension {
                expiration_date_time: request.expiration_date_time,
                previous_expiration_date_time: consent.expiration_date_time,
                logged_user: request.logged_user.clone(),
                request_date_time: now,
                x_fapi_customer_ip_address: request.customer_ip_address.clone(),
                x_customer_user_agent: request.customer_user_agent.clone(),
            });
            consent.expiration_date_time = request.expiration_date_time;
            let record = consent
                .seal(&self.sealer)
                .map_err(|_| ApiError::internal())?;
            match self
                .storage
                .consents
                .update_consent(&record, consent.version, &[])
                .await
            {
                Ok(stored) => {
                    consent.version = stored.version;
                    return Ok(consent);
                }
                Err(StoreError::Conflict) => continue,
                Err(e) => return Err(store_error(&e)),
            }
        }
        Err(ApiError::internal())
    }

    /// The institution ends consent `id` (`rejectedBy: ASPSP`) with `code`
    /// (e.g. `INTERNAL_SECURITY_REASON` on a fraud suspicion); its tokens are
    /// revoked.
    ///
    /// # Errors
    /// 404 for an unknown consent; 422 `CONSENTIMENTO_EM_STATUS_REJEITADO`
    /// when it already ended.
    pub async fn end_by_institution(
        &self,
        brand: &BrandId,
        id: &ConsentId,
        code: DataRejectionCode,
    ) -> Result<DataConsent, ApiError> {
        for _ in 0..3 {
            let consent = self.find(brand, id).await?;
            if consent.status.is_terminal() {
                return Err(unprocessable(
                    "CONSENTIMENTO_EM_STATUS_REJEITADO",
                    "Consentimento em status rejeitado.",
                    "O consentimento já está rejeitado.",
                ));
            }
            match self
                .reject_stored(consent, RejectedBy::Aspsp, code, self.clock.now())
                .await
            {
                Ok(ended) => return Ok(ended),
                Err(Transition::Conflict) => continue,
                Err(Transition::Failed(e)) => return Err(e),
            }
        }
        Err(ApiError::internal())
    }

    /// One page of the data consents `filter` selects, oldest first, each
    /// read with any expiry due applied. Look customers up with
    /// [`Self::blind_index`] of their document.
    ///
    /// # Errors
    /// 500 when the store fails.
    pub async fn list(
        &self,
        filter: &ConsentFilter,
        window: Window,
    ) -> Result<Page<DataConsent>, ApiError> {
        let mut filter = filter.clone();
        filter.kind = Some(ConsentKind::Data);
        let page = self
            .storage
            .consents
            .list_consents(&filter, window)
            .await
            .map_err(|e| store_error(&e))?;
        let mut items = Vec::with_capacity(page.items.len());
        for record in page.items {
            items.push(self.find(&record.brand, &record.id).await?);
        }
        Ok(Page {
            items,
            total_records: page.total_records,
        })
    }

    /// The blind index the consent store keeps for `document`.
    ///
    /// # Errors
    /// 500 when the index key is unavailable.
    pub fn blind_index(&self, document: &Document) -> Result<BlindIndex, ApiError> {
        self.sealer
            .blind_index(document)
            .map_err(|_| ApiError::internal())
    }

    async fn end(
        &self,
        brand: &BrandId,
        client: Option<&ClientId>,
        id: &ConsentId,
        by: RejectedBy,
    ) -> Result<DataConsent, ApiError> {
        for _ in 0..3 {
            let consent = self.find(brand, id).await?;
            if client.is_some_and(|c| c != &consent.client_id) {
                return Err(ApiError::forbidden());
            }
            let code = match consent.status {
                ConsentStatus::AwaitingAuthorisation => DataRejectionCode::CustomerManuallyRejected,
                ConsentStatus::Authorised => DataRejectionCode::CustomerManuallyRevoked,
                _ => {
                    return Err(unprocessable(
                        "CONSENTIMENTO_EM_STATUS_REJEITADO",
                        "Consentimento em status rejeitado.",
                        "O consentimento já está rejeitado.",
                    ));
                }
            };
            match self
                .reject_stored(consent, by, code, self.clock.now())
                .await
            {
                Ok(ended) => return Ok(ended),
                Err(Transition::Conflict) => continue,
                Err(Transition::Failed(e)) => return Err(e),
            }
        }
        Err(ApiError::internal())
    }

    async fn reject_stored(
        &self,
        mut consent: DataConsent,
        by: RejectedBy,
        code: DataRejectionCode,
        now: Timestamp,
    ) -> Result<DataConsent, Transition> {
        let from = consent.status;
        let version = consent.version;
        consent.status = ConsentStatus::Rejected;
        consent.status_update_date_time = now;
        consent.rejection = Some(DataRejection {
            rejected_by: by,
            reason: DataRejectionReason {
                code,
                additional_information: None,
            },
        });
        let record = consent
            .seal(&self.sealer)
            .map_err(|_| Transition::Failed(ApiError::internal()))?;
        let event = Self::event(&consent, from, now).map_err(Transition::Failed)?;
        match self
            .storage
            .consents
            .update_consent(&record, version, &[event])
            .await
        {
            Ok(stored) => consent.version = stored.version,
            Err(StoreError::Conflict) => return Err(Transition::Conflict),
            Err(e) => return Err(Transition::Failed(store_error(&e))),
        }
        self.storage
            .grants
            .revoke_consent_tokens(&consent.brand, &consent.id, now)
            .await
            .map_err(|e| Transition::Failed(store_error(&e)))?;
        Ok(consent)
    }
}

enum Transition {
    Conflict,
    Failed(ApiError),
}
