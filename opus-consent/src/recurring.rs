//! Recurring consents (Automatic Payments API 2.0.0): long-lived payment
//! consents for sweeping between the customer's own accounts
//! (Transferências Inteligentes, `sweeping`) and creditor-driven recurring
//! bills (Pix Automático, `automatic`). The `vrp` configuration is answered
//! `FUNCIONALIDADE_NAO_HABILITADA`: the product is not in force.
//!
//! Lifecycle: `AWAITING_AUTHORISATION` → `AUTHORISED` | `REJECTED`;
//! `AUTHORISED` → `REVOKED` (by the initiator, the payer or the institution)
//! | `CONSUMED` (at its `expirationDateTime`). A consent not authorised
//! within [`RECURRING_CONSENT_AUTHORISATION_TIMEOUT`] is rejected with
//! `TEMPO_EXPIRADO_AUTORIZACAO`. Every ending revokes the consent's tokens.
//!
//! The limits a payment must respect are read by [`RecurringConsent::limits`]
//! (the account holder checks them against the consent's payments).

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use http_body_util::Full;
use opus_core::consent::{ConsentKind, ConsentStatus, open_consent_body, seal_consent_body};
use opus_core::directory::Directory;
use opus_core::keys::KeyCustody;
use opus_core::limits::IDEMPOTENCY_KEY_RETENTION;
use opus_core::seal::{SealContext, Sealer};
use opus_core::store::{
    ConsentRecord, IdempotencyBegin, IdempotencyScope, RequestFingerprint, StoreError,
    StoredResponse,
};
use opus_core::{
    Amount, ApiError, ApiErrorKind, Brand, BrandId, ClientId, Clock, Cnpj, ConsentId, Cpf, Date,
    Document, Envelope, IdempotencyKey, OrganisationId, Storage, Timestamp,
};
use opus_fapi::message::{self, RequestContext};
use opus_fapi::server::guard::VerifiedAccess;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

/// Where the API lives under the brand's API base URL.
pub const BASE_PATH: &str = "open-banking/automatic-payments/v2/recurring-consents";
const MAX_BODY: usize = 64 * 1024;
const IDEMPOTENCY_LEASE: Duration = Duration::from_secs(30);

/// How long a recurring consent may wait for the customer before it is
/// rejected with `TEMPO_EXPIRADO_AUTORIZACAO`. The specification leaves the
/// deadline to the institution; sixty minutes, as for data consents.
pub const RECURRING_CONSENT_AUTHORISATION_TIMEOUT: Duration = Duration::from_secs(60 * 60);

/// The product a recurring consent is for (`recurringConfiguration`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RecurringProduct {
    /// Pix Automático (`automatic`).
    Automatic,
    /// Transferências Inteligentes (`sweeping`).
    Sweeping,
    /// Variable recurring payments (`vrp`); not in force.
    Vrp,
}

/// A limit window (Brasília calendar): day, week (Sunday to Saturday),
/// calendar month, calendar year.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Period {
    /// 00:00 to 23:59 of one day.
    Day,
    /// Sunday to Saturday.
    Week,
    /// The calendar month.
    Month,
    /// The calendar year.
    Year,
}

impl Period {
    /// The first and last dates of the window holding `date`.
    pub fn window(self, date: Date) -> (Date, Date) {
        let on = |month: u8, day: u8| Date::from_calendar_date(date.year(), month, day).ok();
        let window = match self {
            Period::Day => Some((date, date)),
            Period::Week => date
                .add_days(-i64::from(date.days_from_sunday()))
                .and_then(|first| Some((first, first.add_days(6)?))),
            Period::Month => on(date.month(), 1).zip(on(date.month(), date.days_in_month())),
            Period::Year => on(1, 1).zip(on(12, 31)),
        };
        window.unwrap_or((date, date))
    }
}

/// One periodic limit: how many payments and how much in the window.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PeriodicLimit {
    /// `quantityLimit`.
    pub quantity: Option<u64>,
    /// `transactionLimit` (the sum in the window).
    pub amount: Option<Amount>,
}

/// What a payment under a recurring consent must respect.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecurringLimits {
    /// Per payment (`transactionLimit`; Pix Automático: `maximumVariableAmount`).
    pub transaction: Option<Amount>,
    /// Pix Automático: `minimumVariableAmount`.
    pub minimum: Option<Amount>,
    /// Pix Automático: `fixedAmount` — every payment is exactly this.
    pub fixed: Option<Amount>,
    /// The sum of every payment (`totalAllowedAmount`).
    pub total: Option<Amount>,
    /// Per window (`periodicLimits`).
    pub periodic: Vec<(Period, PeriodicLimit)>,
}

/// A recurring consent, in the clear.
#[derive(Debug, Clone, PartialEq)]
pub struct RecurringConsent {
    /// The brand.
    pub brand: BrandId,
    /// `recurringConsentId`.
    pub id: ConsentId,
    /// The initiator's client.
    pub client_id: ClientId,
    /// `status`.
    pub status: ConsentStatus,
    /// The store's version.
    pub version: u64,
    /// `creationDateTime`.
    pub creation_date_time: Timestamp,
    /// `statusUpdateDateTime`.
    pub status_update_date_time: Timestamp,
    /// `loggedUser.document.identification`.
    pub logged_user: Cpf,
    /// `businessEntity.document.identification`.
    pub business_entity: Option<Cnpj>,
    /// `expirationDateTime`; `None`: indefinite.
    pub expiration: Option<Timestamp>,
    /// `authorisedAtDateTime`.
    pub authorised_at: Option<Timestamp>,
    /// `updatedAtDateTime` (last edition).
    pub updated_at: Option<Timestamp>,
    /// The validated request (`loggedUser`, `businessEntity`, `creditors`,
    /// `expirationDateTime`, `additionalInformation`, `debtorAccount`,
    /// `recurringConfiguration`), with `debtorAccount` filled in at
    /// authorisation.
    pub request: Map<String, Value>,
    /// `rejection`, once rejected.
    pub rejection: Option<Value>,
    /// `revocation`, once revoked.
    pub revocation: Option<Value>,
}

#[derive(Serialize, Deserialize)]
struct Body {
    logged_user: Cpf,
    business_entity: Option<Cnpj>,
    expiration: Option<Timestamp>,
    authorised_at: Option<Timestamp>,
    updated_at: Option<Timestamp>,
    request: Map<String, Value>,
    rejection: Option<Value>,
    revocation: Option<Value>,
}

fn invalid(code: &'static str, detail: &'static str) -> ApiError {
    ApiError::unprocessable(code, detail, detail)
}

fn amount_at(value: &Value, pointer: &str) -> Result<Option<Amount>, ApiError> {
    match value.pointer(pointer) {
        None => Ok(None),
        Some(v) => v
            .as_str()
            .and_then(|a| Amount::parse(a).ok())
            .filter(|a| a.cents() > 0)
            .map(Some)
            .ok_or_else(|| invalid("PARAMETRO_INVALIDO", "Valor inválido.")),
    }
}

fn store_error(e: &StoreError) -> ApiError {
    tracing::warn!(error = %e, "recurring consent store failed");
    ApiError::internal()
}

impl RecurringConsent {
    /// The product of the consent.
    pub fn product(&self) -> RecurringProduct {
        product_of(
            self.request
                .get("recurringConfiguration")
                .unwrap_or(&Value::Null),
        )
        .unwrap_or(RecurringProduct::Vrp)
    }

    /// The configuration object of the product (`recurringConfiguration.sweeping`…).
    pub fn configuration(&self) -> &Value {
        let key = match self.product() {
            RecurringProduct::Automatic => "automatic",
            RecurringProduct::Sweeping => "sweeping",
            RecurringProduct::Vrp => "vrp",
        };
        self.request
            .get("recurringConfiguration")
            .and_then(|c| c.get(key))
            .unwrap_or(&Value::Null)
    }

    /// The limits of the consent.
    pub fn limits(&self) -> RecurringLimits {
        limits_of(self.product(), self.configuration()).unwrap_or_default()
    }

    /// The creditors' documents (`creditors[].cpfCnpj`).
    pub fn creditors(&self) -> Vec<String> {
        self.request
            .get("creditors")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|c| c.get("cpfCnpj").and_then(Value::as_str))
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    }

    /// When the current status ends by the clock.
    pub fn deadline(&self) -> Option<Timestamp> {
        match self.status {
            ConsentStatus::AwaitingAuthorisation => Some(
                self.creation_date_time
                    .saturating_add(RECURRING_CONSENT_AUTHORISATION_TIMEOUT),
            ),
            ConsentStatus::Authorised => self.expiration,
            _ => None,
        }
    }

    /// The storage form.
    ///
    /// # Errors
    /// 500 when sealing fails.
    pub fn seal(&self, sealer: &Sealer) -> Result<ConsentRecord, ApiError> {
        let body = Body {
            logged_user: self.logged_user.clone(),
            business_entity: self.business_entity.clone(),
            expiration: self.expiration,
            authorised_at: self.authorised_at,
            updated_at: self.updated_at,
            request: self.request.clone(),
            rejection: self.rejection.clone(),
            revocation: self.revocation.clone(),
        };
        Ok(ConsentRecord {
            brand: self.brand.clone(),
            id: self.id.clone(),
            kind: ConsentKind::Recurring,
            client_id: self.client_id.clone(),
            status: self.status,
            version: self.version,
            created_at: self.creation_date_time,
            status_updated_at: self.status_update_date_time,
            expires_at: self.deadline(),
            subject: Some(
                sealer
                    .blind_index(&Document::Cpf(self.logged_user.clone()))
                    .map_err(|_| ApiError::internal())?,
            ),
            business_entity: self
                .business_entity
                .as_ref()
                .map(|c| sealer.blind_index(&Document::Cnpj(c.clone())))
                .transpose()
                .map_err(|_| ApiError::internal())?,
            body: seal_consent_body(sealer, &self.brand, &self.id, &body)
                .map_err(|_| ApiError::internal())?,
        })
    }

    /// Opens a stored recurring consent.
    ///
    /// # Errors
    /// 500 when the record is not a recurring consent or does not open.
    pub async fn open(record: &ConsentRecord, sealer: &Sealer) -> Result<Self, ApiError> {
        if record.kind != ConsentKind::Recurring {
            return Err(ApiError::internal());
        }
        let body: Body = open_consent_body(sealer, &record.brand, &record.id, &record.body)
            .await
            .map_err(|_| ApiError::internal())?;
        Ok(Self {
            brand: record.brand.clone(),
            id: record.id.clone(),
            client_id: record.client_id.clone(),
            status: record.status,
            version: record.version,
            creation_date_time: record.created_at,
            status_update_date_time: record.status_updated_at,
            logged_user: body.logged_user,
            business_entity: body.business_entity,
            expiration: body.expiration,
            authorised_at: body.authorised_at,
            updated_at: body.updated_at,
            request: body.request,
            rejection: body.rejection,
            revocation: body.revocation,
        })
    }

    /// The consent as the API shows it (`data` of `ResponseRecurringConsent`).
    pub fn representation(&self) -> Value {
        let mut data = json!({
            "recurringConsentId": self.id,
            "creationDateTime": self.creation_date_time,
            "statusUpdateDateTime": self.status_update_date_time,
            "status": self.status,
        });
        for name in [
            "loggedUser",
            "businessEntity",
            "creditors",
            "additionalInformation",
            "debtorAccount",
            "recurringConfiguration",
        ] {
            if let Some(value) = self.request.get(name) {
                data[name] = value.clone();
            }
        }
        if let Some(expiration) = self.expiration {
            data["expirationDateTime"] = json!(expiration);
        }
        // What the institution decides: no overdraft unless agreed, and a
        // sweeping consent starts when it was created unless told otherwise.
        let product = self.product();
        if let Some(config) = data.pointer_mut(match product {
            RecurringProduct::Automatic => "/recurringConfiguration/automatic",
            RecurringProduct::Sweeping => "/recurringConfiguration/sweeping",
            RecurringProduct::Vrp => "/recurringConfiguration/vrp",
        }) && product != RecurringProduct::Vrp
        {
            if config.get("useOverdraftLimit").is_none() {
                config["useOverdraftLimit"] = json!(false);
            }
            if product == RecurringProduct::Sweeping && config.get("startDateTime").is_none() {
                config["startDateTime"] = json!(self.creation_date_time);
            }
        }
        if let Some(at) = self.authorised_at {
            data["authorisedAtDateTime"] = json!(at);
        }
        if let Some(at) = self.updated_at {
            data["updatedAtDateTime"] = json!(at);
        }
        if let Some(rejection) = &self.rejection {
            data["rejection"] = rejection.clone();
        }
        if let Some(revocation) = &self.revocation {
            data["revocation"] = revocation.clone();
        }
        data
    }
}

fn product_of(configuration: &Value) -> Option<RecurringProduct> {
    let object = configuration.as_object()?;
    if object.len() != 1 {
        return None;
    }
    match object.keys().next().map(String::as_str) {
        Some("automatic") => Some(RecurringProduct::Automatic),
        Some("sweeping") => Some(RecurringProduct::Sweeping),
        Some("vrp") => Some(RecurringProduct::Vrp),
        _ => None,
    }
}

fn limits_of(product: RecurringProduct, config: &Value) -> Result<RecurringLimits, ApiError> {
    let mut limits = RecurringLimits::default();
    match product {
        RecurringProduct::Automatic => {
            limits.fixed = amount_at(config, "/fixedAmount")?;
            limits.transaction = amount_at(config, "/maximumVariableAmount")?;
            limits.minimum = amount_at(config, "/minimumVariableAmount")?;
        }
        RecurringProduct::Sweeping | RecurringProduct::Vrp => {
            limits.transaction = amount_at(config, "/transactionLimit")?;
            limits.total = amount_at(config, "/totalAllowedAmount")?;
            for (name, period) in [
                ("day", Period::Day),
                ("week", Period::Week),
                ("month", Period::Month),
                ("year", Period::Year),
            ] {
                let Some(limit) = config.pointer(&format!("/periodicLimits/{name}")) else {
                    continue;
                };
                let quantity =
                    match limit.get("quantityLimit") {
                        None => None,
                        Some(q) => Some(q.as_u64().filter(|q| *q > 0).ok_or_else(|| {
                            invalid("PARAMETRO_INVALIDO", "quantityLimit inválido.")
                        })?),
                    };
                let amount = amount_at(limit, "/transactionLimit")?;
                limits
                    .periodic
                    .push((period, PeriodicLimit { quantity, amount }));
            }
        }
    }
    Ok(limits)
}

/// A document of the request: `(identification, rel)`.
fn document_at<'a>(value: &'a Value, pointer: &str) -> Option<(&'a str, &'a str)> {
    let document = value.pointer(pointer)?;
    Some((
        document.get("identification")?.as_str()?,
        document.get("rel")?.as_str()?,
    ))
}

/// Validates a creation request; the parties and the expiration.
fn validate(
    data: &Value,
    now: Timestamp,
) -> Result<(Cpf, Option<Cnpj>, Option<Timestamp>), ApiError> {
    let missing = |detail| invalid("PARAMETRO_NAO_INFORMADO", detail);
    let logged_user = match document_at(data, "/loggedUser/document") {
        Some((id, "CPF")) => {
            Cpf::parse(id).map_err(|_| invalid("PARAMETRO_INVALIDO", "loggedUser inválido."))?
        }
        Some(_) => return Err(invalid("PARAMETRO_INVALIDO", "loggedUser inválido.")),
        None => return Err(missing("loggedUser não informado.")),
    };
    let business_entity = match data.get("businessEntity") {
        None => None,
        Some(_) => match document_at(data, "/businessEntity/document") {
            Some((id, "CNPJ")) => Some(
                Cnpj::parse(id)
                    .map_err(|_| invalid("PARAMETRO_INVALIDO", "businessEntity inválido."))?,
            ),
            _ => return Err(invalid("PARAMETRO_INVALIDO", "businessEntity inválido.")),
        },
    };
    let creditors = data
        .get("creditors")
        .and_then(Value::as_array)
        .filter(|c| !c.is_empty())
        .ok_or_else(|| missing("creditors não informado."))?;
    for creditor in creditors {
        let document = creditor
            .get("cpfCnpj")
            .and_then(Value::as_str)
            .unwrap_or("");
        let well_formed = match creditor.get("personType").and_then(Value::as_str) {
            Some("PESSOA_NATURAL") => Cpf::parse(document).is_ok(),
            Some("PESSOA_JURIDICA") => document.len() == 14 && Cnpj::parse(document).is_ok(),
            _ => false,
        };
        let named = creditor
            .get("name")
            .and_then(Value::as_str)
            .is_some_and(|n| !n.trim().is_empty() && n.chars().count() <= 120);
        if !well_formed || !named {
            return Err(invalid("PARAMETRO_INVALIDO", "creditors inválido."));
        }
    }
    let expiration = match data.get("expirationDateTime") {
        None => None,
        Some(v) => {
            let at = v
                .as_str()
                .and_then(|s| Timestamp::parse(s).ok())
                .ok_or_else(|| invalid("PARAMETRO_INVALIDO", "expirationDateTime inválido."))?;
            if at <= now {
                return Err(invalid(
                    "PARAMETRO_INVALIDO",
                    "expirationDateTime deve estar no futuro.",
                ));
            }
            Some(at)
        }
    };
    if data
        .get("additionalInformation")
        .is_some_and(|a| a.as_str().is_none_or(|a| a.chars().count() > 140))
    {
        return Err(invalid(
            "PARAMETRO_INVALIDO",
            "additionalInformation inválido.",
        ));
    }
    let configuration = data
        .get("recurringConfiguration")
        .ok_or_else(|| missing("recurringConfiguration não informado."))?;
    let product = product_of(configuration).ok_or_else(|| {
        invalid(
            "PARAMETRO_INVALIDO",
            "recurringConfiguration deve ter exatamente um produto.",
        )
    })?;
    let config = configuration
        .as_object()
        .and_then(|o| o.values().next())
        .filter(|c| c.is_object())
        .ok_or_else(|| invalid("PARAMETRO_INVALIDO", "recurringConfiguration inválido."))?;
    let documents: Vec<&str> = creditors
        .iter()
        .filter_map(|c| c.get("cpfCnpj").and_then(Value::as_str))
        .collect();
    match product {
        RecurringProduct::Vrp => {
            return Err(invalid(
                "FUNCIONALIDADE_NAO_HABILITADA",
                "Pagamentos recorrentes de valor variável (vrp) não estão habilitados.",
            ));
        }
        RecurringProduct::Sweeping => {
            // Same ownership: the customer's own CPF, or CNPJs of the
            // company's root.
            let same_owner = match &business_entity {
                None => documents.len() == 1 && documents[0] == logged_user.as_str(),
                Some(cnpj) => documents
                    .iter()
                    .all(|d| d.len() == 14 && d[..8] == cnpj.as_str()[..8]),
            };
            if !same_owner {
                return Err(invalid(
                    "PARAMETRO_INVALIDO",
                    "Transferências inteligentes exigem a mesma titularidade.",
                ));
            }
            let limits = limits_of(product, config)?;
            if let (Some(transaction), Some(total)) = (limits.transaction, limits.total)
                && transaction > total
            {
                return Err(invalid(
                    "PARAMETRO_INVALIDO",
                    "transactionLimit acima de totalAllowedAmount.",
                ));
            }
            if let Some(start) = config.get("startDateTime")
                && start
                    .as_str()
                    .and_then(|s| Timestamp::parse(s).ok())
                    .is_none()
            {
                return Err(invalid("PARAMETRO_INVALIDO", "startDateTime inválido."));
            }
        }
        RecurringProduct::Automatic => {
            if documents.len() != 1 || documents[0].len() != 14 {
                return Err(invalid(
                    "PARAMETRO_INVALIDO",
                    "Pix Automático tem um único recebedor pessoa jurídica.",
                ));
            }
            // The second settlement window needs the consent to end at 23:59:59 UTC.
            if let Some(at) = expiration
                && !at.to_rfc3339_millis().ends_with("T23:59:59.000Z")
            {
                return Err(invalid(
                    "PARAMETRO_INVALIDO",
                    "expirationDateTime deve terminar às 23:59:59 (UTC).",
                ));
            }
            let contract = config.get("contractId").and_then(Value::as_str);
            if !contract.is_some_and(|c| {
                (1..=35).contains(&c.len()) && c.bytes().all(|b| b.is_ascii_alphanumeric())
            }) {
                return Err(invalid("PARAMETRO_INVALIDO", "contractId inválido."));
            }
            let limits = limits_of(product, config)?;
            if limits.fixed.is_some() && (limits.transaction.is_some() || limits.minimum.is_some())
            {
                return Err(invalid(
                    "PARAMETRO_INVALIDO",
                    "fixedAmount exclui os valores variáveis.",
                ));
            }
            if let (Some(min), Some(max)) = (limits.minimum, limits.transaction)
                && min > max
            {
                return Err(invalid(
                    "PARAMETRO_INVALIDO",
                    "minimumVariableAmount acima de maximumVariableAmount.",
                ));
            }
            if !matches!(
                config.get("interval").and_then(Value::as_str),
                Some("SEMANAL" | "MENSAL" | "TRIMESTRAL" | "SEMESTRAL" | "ANUAL")
            ) {
                return Err(invalid("PARAMETRO_INVALIDO", "interval inválido."));
            }
            if document_at(config, "/contractDebtor/document").is_none()
                || config
                    .pointer("/contractDebtor/name")
                    .and_then(Value::as_str)
                    .is_none()
            {
                return Err(invalid(
                    "PARAMETRO_NAO_INFORMADO",
                    "contractDebtor não informado.",
                ));
            }
            if !config.get("isRetryAccepted").is_some_and(Value::is_boolean) {
                return Err(invalid(
                    "PARAMETRO_NAO_INFORMADO",
                    "isRetryAccepted não informado.",
                ));
            }
            let today = now.date_in_brasilia();
            if config
                .get("referenceStartDate")
                .and_then(Value::as_str)
                .and_then(|d| Date::parse(d).ok())
                .is_none_or(|d| d < today)
            {
                return Err(invalid(
                    "PARAMETRO_INVALIDO",
                    "referenceStartDate inválido.",
                ));
            }
            if let Some(first) = config.get("firstPayment") {
                let dated = first
                    .get("date")
                    .and_then(Value::as_str)
                    .and_then(|d| Date::parse(d).ok())
                    .is_some_and(|d| d >= today);
                if !dated || amount_at(first, "/amount")?.is_none() {
                    return Err(invalid(
                        "DETALHE_PAGAMENTO_INVALIDO",
                        "firstPayment inválido.",
                    ));
                }
            }
        }
    }
    Ok((logged_user, business_entity, expiration))
}

// ---------------------------------------------------------------- service

/// Recurring consents over the storage ports.
#[derive(Clone)]
pub struct RecurringConsents {
    storage: Storage,
    sealer: Arc<Sealer>,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for RecurringConsents {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecurringConsents").finish_non_exhaustive()
    }
}

/// Who ended a consent, and from where (`rejectedBy`/`revokedBy`, `…From`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum EndedBy {
    /// The initiator, on its own or for the customer (`INICIADORA`).
    Initiator,
    /// The customer at the initiator (`USUARIO`, from `INICIADORA`).
    UserAtInitiator,
    /// The customer at the institution (`USUARIO`, from `DETENTORA`).
    UserAtHolder,
    /// The institution (`DETENTORA`).
    Holder,
}

impl EndedBy {
    fn parts(self) -> (&'static str, &'static str) {
        match self {
            EndedBy::Initiator => ("INICIADORA", "INICIADORA"),
            EndedBy::UserAtInitiator => ("USUARIO", "INICIADORA"),
            EndedBy::UserAtHolder => ("USUARIO", "DETENTORA"),
            EndedBy::Holder => ("DETENTORA", "DETENTORA"),
        }
    }
}

impl RecurringConsents {
    /// Recurring consents over `storage`, sealed with `sealer`.
    pub fn new(storage: Storage, sealer: Arc<Sealer>, clock: Arc<dyn Clock>) -> Self {
        Self {
            storage,
            sealer,
            clock,
        }
    }

    /// The clock the consents run on.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// The sealer of the consents.
    pub fn sealer(&self) -> &Arc<Sealer> {
        &self.sealer
    }

    /// `POST /recurring-consents`: validates `data` and stores a new consent.
    ///
    /// # Errors
    /// 422 with the spec's creation codes; 500 when the store fails.
    pub async fn create(
        &self,
        brand: &BrandId,
        client: &ClientId,
        data: &Value,
    ) -> Result<RecurringConsent, ApiError> {
        let now = self.clock.now();
        let (logged_user, business_entity, expiration) = validate(data, now)?;
        let mut request = data
            .as_object()
            .cloned()
            .ok_or_else(|| invalid("PARAMETRO_INVALIDO", "data deve ser um objeto."))?;
        // Risk signals inform the decision; they are not the consent's.
        request.remove("riskSignals");
        request.remove("expirationDateTime");
        let nid: String = brand
            .as_str()
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
            .take(32)
            .collect();
        let id = ConsentId::new(format!("urn:{nid}:{}", uuid::Uuid::new_v4()))
            .map_err(|_| ApiError::internal())?;
        let consent = RecurringConsent {
            brand: brand.clone(),
            id,
            client_id: client.clone(),
            status: ConsentStatus::AwaitingAuthorisation,
            version: 0,
            creation_date_time: now,
            status_update_date_time: now,
            logged_user,
            business_entity,
            expiration,
            authorised_at: None,
            updated_at: None,
            request,
            rejection: None,
            revocation: None,
        };
        let stored = self
            .storage
            .consents
            .insert_consent(&consent.seal(&self.sealer)?, &[])
            .await
            .map_err(|e| store_error(&e))?;
        Ok(RecurringConsent {
            version: stored.version,
            ..consent
        })
    }

    /// The consent `id`, with a deadline due by the clock applied and
    /// stored: `REJECTED` (`TEMPO_EXPIRADO_AUTORIZACAO`) or `CONSUMED` at
    /// its expiration.
    ///
    /// # Errors
    /// 404 for an unknown recurring consent; 500 when the store fails.
    pub async fn find(
        &self,
        brand: &BrandId,
        id: &ConsentId,
    ) -> Result<RecurringConsent, ApiError> {
        for _ in 0..3 {
            let record = self
                .storage
                .consents
                .get_consent(brand, id)
                .await
                .map_err(|e| store_error(&e))?
                .filter(|r| r.kind == ConsentKind::Recurring)
                .ok_or_else(ApiError::not_found)?;
            let mut consent = RecurringConsent::open(&record, &self.sealer).await?;
            let now = self.clock.now();
            match consent.deadline() {
                Some(deadline) if deadline <= now => {}
                _ => return Ok(consent),
            }
            if consent.status == ConsentStatus::AwaitingAuthorisation {
                consent.status = ConsentStatus::Rejected;
                consent.rejection = Some(rejection(
                    EndedBy::Holder,
                    "TEMPO_EXPIRADO_AUTORIZACAO",
                    "O consentimento não foi autorizado a tempo.",
                    now,
                ));
            } else {
                consent.status = ConsentStatus::Consumed;
            }
            consent.status_update_date_time = now;
            match self.replace(&consent).await {
                Ok(stored) => return Ok(stored),
                Err(StoreError::Conflict) => continue,
                Err(e) => return Err(store_error(&e)),
            }
        }
        Err(ApiError::internal())
    }

    /// The consent `id` of `client`.
    ///
    /// # Errors
    /// 404 when unknown; 403 for another client's consent.
    pub async fn get(
        &self,
        brand: &BrandId,
        client: &ClientId,
        id: &ConsentId,
    ) -> Result<RecurringConsent, ApiError> {
        let consent = self.find(brand, id).await?;
        if &consent.client_id != client {
            return Err(ApiError::forbidden());
        }
        Ok(consent)
    }

    /// Compare-and-set of `consent`'s new state (at its `version`) with the
    /// initiator's webhook notice; revokes its tokens when it has ended.
    async fn replace(&self, consent: &RecurringConsent) -> Result<RecurringConsent, StoreError> {
        let notice = crate::webhook_notice(
            &consent.brand,
            &consent.client_id,
            format!("automatic-payments/v2/recurring-consents/{}", consent.id),
            self.clock.now(),
        )
        .map_err(|e| StoreError::Other(Box::new(e)))?;
        let stored = self
            .storage
            .consents
            .update_consent(
                &consent
                    .seal(&self.sealer)
                    .map_err(|_| StoreError::Other("sealing failed".into()))?,
                consent.version,
                &[notice],
            )
            .await?;
        if !matches!(
            consent.status,
            ConsentStatus::AwaitingAuthorisation
                | ConsentStatus::PartiallyAccepted
                | ConsentStatus::Authorised
        ) {
            self.storage
                .grants
                .revoke_consent_tokens(&consent.brand, &consent.id, consent.status_update_date_time)
                .await?;
        }
        Ok(RecurringConsent {
            version: stored.version,
            ..consent.clone()
        })
    }

    /// Ends an authorised consent (`REVOKED`) with `reason`
    /// (`REVOGADO_USUARIO`, `REVOGADO_RECEBEDOR`, `NAO_INFORMADO`).
    ///
    /// # Errors
    /// 422 `CONSENTIMENTO_NAO_PERMITE_CANCELAMENTO` unless it is `AUTHORISED`;
    /// 404 when unknown.
    pub async fn revoke(
        &self,
        brand: &BrandId,
        id: &ConsentId,
        by: EndedBy,
        reason: (&str, &str),
    ) -> Result<RecurringConsent, ApiError> {
        self.end(brand, id, |consent, now| {
            if consent.status != ConsentStatus::Authorised {
                return false;
            }
            let (who, from) = by.parts();
            consent.status = ConsentStatus::Revoked;
            consent.revocation = Some(json!({
                "revokedBy": who,
                "revokedFrom": from,
                "revokedAt": now,
                "reason": {"code": reason.0, "detail": reason.1},
            }));
            true
        })
        .await
    }

    /// Rejects a consent still waiting for authorisation with `reason`.
    ///
    /// # Errors
    /// 422 `CONSENTIMENTO_NAO_PERMITE_CANCELAMENTO` once it is no longer
    /// waiting; 404 when unknown.
    pub async fn reject(
        &self,
        brand: &BrandId,
        id: &ConsentId,
        by: EndedBy,
        reason: (&str, &str),
    ) -> Result<RecurringConsent, ApiError> {
        self.end(brand, id, |consent, now| {
            if !matches!(
                consent.status,
                ConsentStatus::AwaitingAuthorisation | ConsentStatus::PartiallyAccepted
            ) {
                return false;
            }
            consent.status = ConsentStatus::Rejected;
            consent.rejection = Some(rejection(by, reason.0, reason.1, now));
            true
        })
        .await
    }

    async fn end<F>(
        &self,
        brand: &BrandId,
        id: &ConsentId,
        change: F,
    ) -> Result<RecurringConsent, ApiError>
    where
        F: Fn(&mut RecurringConsent, Timestamp) -> bool,
    {
        for _ in 0..3 {
            let mut consent = self.find(brand, id).await?;
            let now = self.clock.now();
            if !change(&mut consent, now) {
                return Err(invalid(
                    "CONSENTIMENTO_NAO_PERMITE_CANCELAMENTO",
                    "O consentimento não permite esta alteração no seu status atual.",
                ));
            }
            consent.status_update_date_time = now;
            match self.replace(&consent).await {
                Ok(stored) => return Ok(stored),
                Err(StoreError::Conflict) => continue,
                Err(e) => return Err(store_error(&e)),
            }
        }
        Err(ApiError::internal())
    }

    /// Edits an authorised Pix Automático consent (`ConsentEdition`): the
    /// creditors' names, `expirationDateTime` and `maximumVariableAmount`
    /// (omitted: indefinite). Risk signals are required; the logged user
    /// must be the consent's.
    ///
    /// # Errors
    /// 422 `CAMPO_NAO_PERMITIDO` for any other product or status,
    /// `FALTAM_SINAIS_OBRIGATORIOS_PLATAFORMA`, `PERMISSAO_INSUFICIENTE`,
    /// `DETALHE_EDICAO_INVALIDO`.
    pub async fn edit(
        &self,
        brand: &BrandId,
        id: &ConsentId,
        edition: &Value,
    ) -> Result<RecurringConsent, ApiError> {
        let not_allowed = || {
            invalid(
                "CAMPO_NAO_PERMITIDO",
                "Somente consentimentos de Pix Automático autorizados podem ser editados.",
            )
        };
        for _ in 0..3 {
            let mut consent = self.find(brand, id).await?;
            if consent.product() != RecurringProduct::Automatic
                || consent.status != ConsentStatus::Authorised
            {
                return Err(not_allowed());
            }
            if !edition.get("riskSignals").is_some_and(Value::is_object) {
                return Err(invalid(
                    "FALTAM_SINAIS_OBRIGATORIOS_PLATAFORMA",
                    "Os sinais de risco são obrigatórios na edição.",
                ));
            }
            let same_user = document_at(edition, "/loggedUser/document")
                .is_some_and(|(id, _)| id == consent.logged_user.as_str());
            let same_entity = match (&consent.business_entity, edition.get("businessEntity")) {
                (None, None) => true,
                (Some(cnpj), Some(_)) => document_at(edition, "/businessEntity/document")
                    .is_some_and(|(id, _)| id == cnpj.as_str()),
                _ => false,
            };
            if !same_user || !same_entity {
                return Err(invalid(
                    "PERMISSAO_INSUFICIENTE",
                    "O usuário não tem poderes plenos sobre o consentimento.",
                ));
            }
            let edited = edition.get("creditors").and_then(Value::as_array);
            let current = consent
                .request
                .get("creditors")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            let Some(edited) = edited.filter(|e| e.len() == current.len()) else {
                return Err(invalid("DETALHE_EDICAO_INVALIDO", "creditors inválido."));
            };
            let mut creditors = current.clone();
            for (creditor, change) in creditors.iter_mut().zip(edited) {
                let name = change
                    .get("name")
                    .and_then(Value::as_str)
                    .filter(|n| !n.trim().is_empty() && n.chars().count() <= 120)
                    .ok_or_else(|| invalid("DETALHE_EDICAO_INVALIDO", "name inválido."))?;
                creditor["name"] = json!(name);
            }
            let now = self.clock.now();
            let expiration = match edition.get("expirationDateTime") {
                None => None,
                Some(v) => Some(
                    v.as_str()
                        .and_then(|s| Timestamp::parse(s).ok())
                        .filter(|at| {
                            *at > now && at.to_rfc3339_millis().ends_with("T23:59:59.000Z")
                        })
                        .ok_or_else(|| {
                            invalid("DETALHE_EDICAO_INVALIDO", "expirationDateTime inválido.")
                        })?,
                ),
            };
            let maximum = amount_at(
                edition,
                "/recurringConfiguration/automatic/maximumVariableAmount",
            )
            .map_err(|_| invalid("DETALHE_EDICAO_INVALIDO", "maximumVariableAmount inválido."))?;
            let limits = consent.limits();
            if maximum.is_some() && limits.fixed.is_some() {
                return Err(invalid(
                    "DETALHE_EDICAO_INVALIDO",
                    "Um consentimento de valor fixo não tem valor máximo.",
                ));
            }
            if let (Some(max), Some(min)) = (maximum, limits.minimum)
                && max < min
            {
                return Err(invalid(
                    "DETALHE_EDICAO_INVALIDO",
                    "maximumVariableAmount abaixo de minimumVariableAmount.",
                ));
            }
            consent
                .request
                .insert("creditors".to_owned(), Value::Array(creditors));
            consent.expiration = expiration;
            if let Some(config) = consent
                .request
                .get_mut("recurringConfiguration")
                .and_then(|c| c.get_mut("automatic"))
                .and_then(Value::as_object_mut)
                && limits.fixed.is_none()
            {
                match maximum {
                    Some(max) => {
                        config.insert("maximumVariableAmount".to_owned(), json!(max));
                    }
                    None => {
                        config.remove("maximumVariableAmount");
                    }
                }
            }
            consent.updated_at = Some(now);
            match self.replace(&consent).await {
                Ok(stored) => return Ok(stored),
                Err(StoreError::Conflict) => continue,
                Err(e) => return Err(store_error(&e)),
            }
        }
        Err(ApiError::internal())
    }
}

fn rejection(by: EndedBy, code: &str, detail: &str, at: Timestamp) -> Value {
    let (who, from) = by.parts();
    json!({
        "rejectedBy": who,
        "rejectedFrom": from,
        "rejectedAt": at,
        "reason": {"code": code, "detail": detail},
    })
}

// ---------------------------------------------------------------- API

/// The recurring consents endpoints of Automatic Payments API 2.0.0
/// (`POST /recurring-consents`, `GET` and `PATCH
/// /recurring-consents/{recurringConsentId}`) for one brand, as a
/// `tower::Service`.
///
/// Mount it behind the resource guard; it needs a client-credentials token
/// with the `recurring-payments` scope. Request bodies are signed JWTs
/// verified against the initiator organisation's keys in the directory;
/// 2xx and 422 bodies are signed JWTs, other errors plain JSON.
/// `x-idempotency-key` is required on `POST` and `PATCH`.
#[derive(Clone)]
pub struct RecurringConsentsApi {
    inner: Arc<ApiInner>,
}

struct ApiInner {
    brand: Brand,
    consents: RecurringConsents,
    storage: Storage,
    directory: Arc<dyn Directory>,
    keys: Arc<dyn KeyCustody>,
    prefix: String,
}

impl std::fmt::Debug for RecurringConsentsApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecurringConsentsApi")
            .field("brand", self.inner.brand.id())
            .finish_non_exhaustive()
    }
}

impl RecurringConsentsApi {
    /// The API of `brand`: consents through `consents`, idempotency and
    /// replay through `storage`, initiators' keys from `directory`, the
    /// brand's signing key in `keys`.
    pub fn new(
        brand: Brand,
        consents: RecurringConsents,
        storage: Storage,
        directory: Arc<dyn Directory>,
        keys: Arc<dyn KeyCustody>,
    ) -> Self {
        let base = brand.api_base_url().path().trim_end_matches('/');
        let prefix = format!("{base}/{BASE_PATH}");
        Self {
            inner: Arc::new(ApiInner {
                brand,
                consents,
                storage,
                directory,
                keys,
                prefix,
            }),
        }
    }
}

impl ApiInner {
    fn outcome(
        &self,
        status: StatusCode,
        consent: &RecurringConsent,
    ) -> Result<(StatusCode, Value), ApiError> {
        let link = self
            .brand
            .api_url(&format!("{BASE_PATH}/{}", consent.id))
            .map_err(|_| ApiError::internal())?;
        let body = serde_json::to_value(Envelope::single(
            consent.representation(),
            &link,
            self.consents.clock.now(),
        ))
        .map_err(|_| ApiError::internal())?;
        Ok((status, body))
    }

    async fn handle<B>(&self, request: Request<B>) -> Response<Full<Bytes>>
    where
        B: http_body::Body + Send,
        B::Data: Send,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let now = self.consents.clock.now();
        let plain = |e: &ApiError| e.to_http_response(now).map(|b| Full::new(Bytes::from(b)));
        let Some(access) = request.extensions().get::<VerifiedAccess>().cloned() else {
            return plain(&ApiError::unauthorized());
        };
        if access.brand != *self.brand.id() {
            return plain(&ApiError::unauthorized());
        }
        if !access.scopes.iter().any(|s| s == "recurring-payments") || access.consent_id.is_some() {
            return plain(&ApiError::forbidden());
        }
        let client = match self
            .storage
            .clients
            .get_client(self.brand.id(), &access.client_id)
            .await
        {
            Ok(Some(client)) => client,
            Ok(None) => return plain(&ApiError::unauthorized()),
            Err(e) => return plain(&store_error(&e)),
        };
        let path = request.uri().path().to_owned();
        let Some(rest) = path.strip_prefix(&self.prefix) else {
            return plain(&ApiError::not_found());
        };
        let organisation = client.organisation_id;
        let method = request.method().clone();
        let result = match (rest.trim_start_matches('/'), &method) {
            ("", &Method::POST) => self.create(&access, &organisation, request).await,
            ("", _) => Err(ApiError::method_not_allowed()),
            (id, &Method::GET) => match ConsentId::new(id) {
                Ok(id) => self
                    .consents
                    .get(self.brand.id(), &access.client_id, &id)
                    .await
                    .and_then(|c| self.outcome(StatusCode::OK, &c)),
                Err(_) => Err(ApiError::invalid_parameter("recurringConsentId")),
            },
            (id, &Method::PATCH) => {
                let id = id.to_owned();
                self.patch(&access, &organisation, &id, request).await
            }
            _ => Err(ApiError::method_not_allowed()),
        };
        message::respond(
            self.keys.as_ref(),
            result,
            self.brand.organisation_id(),
            &organisation,
            now,
        )
        .await
    }

    async fn claims<B>(
        &self,
        access: &VerifiedAccess,
        organisation: &OrganisationId,
        request: Request<B>,
        path: &str,
    ) -> Result<(IdempotencyKey, Value), ApiError>
    where
        B: http_body::Body + Send,
        B::Data: Send,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        if !message::is_signed_body(request.headers()) {
            return Err(ApiError::unsupported_media_type());
        }
        let key = message::idempotency_key(request.headers())?;
        let audience = self.brand.api_url(path).map_err(|_| ApiError::internal())?;
        let claims = message::read_signed_request(
            request,
            MAX_BODY,
            self.directory.as_ref(),
            self.storage.replay.as_ref(),
            RequestContext {
                brand: self.brand.id(),
                client: &access.client_id,
                organisation,
                audience: audience.as_str(),
                now: self.consents.clock.now(),
            },
        )
        .await?;
        let data = claims
            .get("data")
            .filter(|d| d.is_object())
            .cloned()
            .ok_or_else(|| invalid("PARAMETRO_NAO_INFORMADO", "data não informado."))?;
        Ok((key, data))
    }

    /// Runs `work` once per idempotency key and `data` (24 hours); a repeat
    /// answers the consent of the first run in its current state.
    async fn idempotent<F, Fut>(
        &self,
        access: &VerifiedAccess,
        operation: String,
        key: IdempotencyKey,
        data: &Value,
        work: F,
    ) -> Result<RecurringConsent, ApiError>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<RecurringConsent, ApiError>>,
    {
        let now = self.consents.clock.now();
        let scope = IdempotencyScope {
            brand: self.brand.id().clone(),
            client_id: access.client_id.clone(),
            operation,
            key,
        };
        let fingerprint = RequestFingerprint::of(data.to_string().as_bytes());
        let context = SealContext::new("idempotency", self.brand.id(), scope.key.as_str());
        match self
            .storage
            .idempotency
            .begin(
                &scope,
                fingerprint,
                now,
                now.saturating_add(IDEMPOTENCY_LEASE),
                now.saturating_add(IDEMPOTENCY_KEY_RETENTION),
            )
            .await
            .map_err(|e| store_error(&e))?
        {
            IdempotencyBegin::Started => {}
            IdempotencyBegin::Completed(stored) => {
                let id: String = self
                    .consents
                    .sealer
                    .open_json(&context, &stored.body)
                    .await
                    .map_err(|_| ApiError::internal())?;
                let id = ConsentId::new(id).map_err(|_| ApiError::internal())?;
                return self
                    .consents
                    .get(self.brand.id(), &access.client_id, &id)
                    .await;
            }
            IdempotencyBegin::Mismatch => {
                return Err(invalid(
                    "ERRO_IDEMPOTENCIA",
                    "A chave de idempotência já foi usada com outro conteúdo.",
                ));
            }
            _ => return Err(ApiError::too_many_requests(Duration::from_secs(1))),
        }
        match work().await {
            Ok(consent) => {
                let sealed = self
                    .consents
                    .sealer
                    .seal_json(&context, &consent.id.to_string())
                    .map_err(|_| ApiError::internal())?;
                if let Err(e) = self
                    .storage
                    .idempotency
                    .complete(
                        &scope,
                        fingerprint,
                        &StoredResponse {
                            status: 200,
                            body: sealed,
                        },
                    )
                    .await
                {
                    tracing::warn!(error = %e, "idempotency record not completed");
                }
                Ok(consent)
            }
            Err(e) => {
                if let Err(release) = self.storage.idempotency.release(&scope).await {
                    tracing::warn!(error = %release, "idempotency key not released");
                }
                Err(e)
            }
        }
    }

    async fn create<B>(
        &self,
        access: &VerifiedAccess,
        organisation: &OrganisationId,
        request: Request<B>,
    ) -> Result<(StatusCode, Value), ApiError>
    where
        B: http_body::Body + Send,
        B::Data: Send,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let (key, data) = self
            .claims(access, organisation, request, BASE_PATH)
            .await?;
        let consent = self
            .idempotent(
                access,
                "automatic-payments-v2:POST:/recurring-consents".to_owned(),
                key,
                &data,
                || {
                    self.consents
                        .create(self.brand.id(), &access.client_id, &data)
                },
            )
            .await?;
        self.outcome(StatusCode::CREATED, &consent)
    }

    /// `PATCH`: a revocation (`status` `REVOKED`), a rejection (`status`
    /// `REJECTED`) or, without `status`, an edition.
    async fn patch<B>(
        &self,
        access: &VerifiedAccess,
        organisation: &OrganisationId,
        id: &str,
        request: Request<B>,
    ) -> Result<(StatusCode, Value), ApiError>
    where
        B: http_body::Body + Send,
        B::Data: Send,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let path = format!("{BASE_PATH}/{id}");
        let (key, data) = self.claims(access, organisation, request, &path).await?;
        let id = ConsentId::new(id).map_err(|_| ApiError::not_found())?;
        // Another client's consent is not this client's to change.
        self.consents
            .get(self.brand.id(), &access.client_id, &id)
            .await?;
        // `revocation`/`rejection`: who ended it, from where, and why.
        let ended_by =
            |object: &str, by: &str, from: &str| -> Result<(EndedBy, String, String), ApiError> {
                let field = |name: &str| {
                    data.pointer(&format!("/{object}/{name}"))
                        .and_then(Value::as_str)
                };
                let by = match (field(by), field(from)) {
                    (Some("INICIADORA"), Some("INICIADORA")) => EndedBy::Initiator,
                    (Some("USUARIO"), Some("INICIADORA")) => EndedBy::UserAtInitiator,
                    // The initiator speaks for itself and its user only.
                    _ => {
                        return Err(invalid(
                            "PARAMETRO_INVALIDO",
                            "Pela iniciadora, encerram o consentimento a iniciadora ou o usuário.",
                        ));
                    }
                };
                let code = field("reason/code")
                    .ok_or_else(|| invalid("PARAMETRO_NAO_INFORMADO", "reason não informado."))?;
                let detail = field("reason/detail")
                    .filter(|d| d.chars().count() <= 2048)
                    .ok_or_else(|| invalid("PARAMETRO_NAO_INFORMADO", "reason não informado."))?;
                Ok((by, code.to_owned(), detail.to_owned()))
            };
        let operation = format!("automatic-payments-v2:PATCH:/recurring-consents/{id}");
        let consent = match data.get("status").and_then(Value::as_str) {
            Some("REVOKED") => {
                let (by, code, detail) = ended_by("revocation", "revokedBy", "revokedFrom")?;
                if !matches!(
                    code.as_str(),
                    "REVOGADO_RECEBEDOR" | "REVOGADO_USUARIO" | "NAO_INFORMADO"
                ) {
                    return Err(invalid("PARAMETRO_INVALIDO", "reason.code inválido."));
                }
                self.idempotent(access, operation, key, &data, || {
                    self.consents
                        .revoke(self.brand.id(), &id, by, (&code, &detail))
                })
                .await?
            }
            Some("REJECTED") => {
                let (by, code, detail) = ended_by("rejection", "rejectedBy", "rejectedFrom")?;
                if !matches!(
                    code.as_str(),
                    "NAO_INFORMADO"
                        | "FALHA_INFRAESTRUTURA"
                        | "TEMPO_EXPIRADO_AUTORIZACAO"
                        | "REJEITADO_USUARIO"
                        | "CONTAS_ORIGEM_DESTINO_IGUAIS"
                        | "CONTA_NAO_PERMITE_PAGAMENTO"
                        | "SALDO_INSUFICIENTE"
                        | "VALOR_ACIMA_LIMITE"
                        | "AUTENTICACAO_DIVERGENTE"
                ) {
                    return Err(invalid("PARAMETRO_INVALIDO", "reason.code inválido."));
                }
                self.idempotent(access, operation, key, &data, || {
                    self.consents
                        .reject(self.brand.id(), &id, by, (&code, &detail))
                })
                .await?
            }
            Some(_) => return Err(invalid("PARAMETRO_INVALIDO", "status inválido.")),
            None => {
                self.idempotent(access, operation, key, &data, || {
                    self.consents.edit(self.brand.id(), &id, &data)
                })
                .await?
            }
        };
        self.outcome(StatusCode::OK, &consent)
    }
}

opus_fapi::http_service!(
    RecurringConsentsApi,
    |api| api.inner.clone(),
    |inner, request| inner.handle(request).await
);

// ---------------------------------------------------------------- authorisation

/// The consent port for recurring consents: what the consent screen shows
/// and what the customer's decision does. The customer chooses the account
/// to pay from when the initiator did not name one.
#[derive(Clone)]
pub struct RecurringConsentAuthorisation {
    consents: RecurringConsents,
    accounts: Option<Arc<dyn opus_core::connector::DebtorAccounts>>,
}

impl std::fmt::Debug for RecurringConsentAuthorisation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecurringConsentAuthorisation")
            .field("debtor_accounts", &self.accounts.is_some())
            .finish_non_exhaustive()
    }
}

impl RecurringConsentAuthorisation {
    /// Over `consents`.
    pub fn new(consents: RecurringConsents) -> Self {
        Self {
            consents,
            accounts: None,
        }
    }

    /// Fills `debtorAccount` from the account the customer chose.
    pub fn with_debtor_accounts(
        mut self,
        accounts: Arc<dyn opus_core::connector::DebtorAccounts>,
    ) -> Self {
        self.accounts = Some(accounts);
        self
    }
}

use crate::payments::port_error;

#[async_trait::async_trait]
impl opus_core::interaction::ConsentAuthorisation for RecurringConsentAuthorisation {
    async fn details(
        &self,
        brand: &BrandId,
        id: &ConsentId,
    ) -> Result<
        Option<opus_core::interaction::ConsentDetails>,
        opus_core::interaction::InteractionError,
    > {
        let consent = match self.consents.find(brand, id).await {
            Ok(consent) => consent,
            Err(e) if e.kind() == ApiErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(port_error(e)),
        };
        Ok(Some(crate::payments::payment_details(
            ConsentKind::Recurring,
            consent.id.clone(),
            consent.client_id.clone(),
            consent.status,
            consent.deadline(),
            (consent.logged_user, consent.business_entity),
        )))
    }

    async fn authorise(
        &self,
        brand: &BrandId,
        id: &ConsentId,
        client: &ClientId,
        approval: &opus_core::interaction::InteractionApproval,
    ) -> Result<
        Result<(), opus_core::interaction::DenialReason>,
        opus_core::interaction::InteractionError,
    > {
        use opus_core::interaction::DenialReason;
        let mut consent = match self.consents.find(brand, id).await {
            Ok(consent) => consent,
            Err(e) if e.kind() == ApiErrorKind::NotFound => return Ok(Err(DenialReason::Expired)),
            Err(e) => return Err(port_error(e)),
        };
        if let Err(denied) = crate::payments::approvable(
            consent.status,
            &consent.client_id,
            client,
            (&consent.logged_user, consent.business_entity.as_ref()),
            approval,
        ) {
            return Ok(Err(denied));
        }
        if !crate::payments::fill_debtor_account(
            self.accounts.as_deref(),
            brand,
            approval,
            (&consent.logged_user, consent.business_entity.as_ref()),
            &mut consent.request,
        )
        .await?
        {
            return Ok(Err(DenialReason::WrongCustomer));
        }
        let now = self.consents.clock.now();
        consent.status = ConsentStatus::Authorised;
        consent.status_update_date_time = now;
        consent.authorised_at = Some(now);
        match self.consents.replace(&consent).await {
            Ok(_) => Ok(Ok(())),
            Err(StoreError::Conflict) => Ok(Err(DenialReason::Expired)),
            Err(e) => Err(opus_core::interaction::InteractionError::Unavailable(
                Box::new(e),
            )),
        }
    }

    async fn reject(
        &self,
        brand: &BrandId,
        id: &ConsentId,
        reason: opus_core::interaction::DenialReason,
    ) -> Result<(), opus_core::interaction::InteractionError> {
        use opus_core::interaction::DenialReason;
        let (code, detail) = match reason {
            DenialReason::CustomerRejected => {
                ("REJEITADO_USUARIO", "O usuário rejeitou o consentimento.")
            }
            DenialReason::Expired => (
                "TEMPO_EXPIRADO_AUTORIZACAO",
                "O consentimento não foi autorizado a tempo.",
            ),
            _ => ("NAO_INFORMADO", "A autorização não foi concluída."),
        };
        let by = if reason == DenialReason::CustomerRejected {
            EndedBy::UserAtHolder
        } else {
            EndedBy::Holder
        };
        match self.consents.reject(brand, id, by, (code, detail)).await {
            Ok(_) => Ok(()),
            // Unknown, or already moved on: nothing to reject.
            Err(e)
                if matches!(
                    e.kind(),
                    ApiErrorKind::NotFound | ApiErrorKind::Unprocessable
                ) =>
            {
                Ok(())
            }
            Err(e) => Err(port_error(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(s: &str) -> Date {
        Date::parse(s).unwrap()
    }

    #[test]
    fn limit_windows_follow_the_brasilia_calendar() {
        // 2026-11-29 is a Sunday.
        assert_eq!(
            Period::Week.window(date("2026-11-29")),
            (date("2026-11-29"), date("2026-12-05"))
        );
        assert_eq!(
            Period::Week.window(date("2026-12-05")),
            (date("2026-11-29"), date("2026-12-05"))
        );
        assert_eq!(
            Period::Month.window(date("2028-02-10")),
            (date("2028-02-01"), date("2028-02-29"))
        );
        assert_eq!(
            Period::Year.window(date("2026-06-30")),
            (date("2026-01-01"), date("2026-12-31"))
        );
        assert_eq!(
            Period::Day.window(date("2026-06-30")),
            (date("2026-06-30"), date("2026-06-30"))
        );
    }
}
