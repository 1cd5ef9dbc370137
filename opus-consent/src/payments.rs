//! Payment consents (Payments API 4.0.0): creation with the spec's
//! validation, the authorisation and consumption deadlines applied by the
//! clock, and the Payments consents endpoints with signed bodies and
//! idempotency keys.
//!
//! Lifecycle: `AWAITING_AUTHORISATION` → `AUTHORISED` → `CONSUMED`; a
//! consent not authorised within 5 minutes ends `REJECTED`
//! (`TEMPO_EXPIRADO_AUTORIZACAO`), one authorised and not consumed within 60
//! minutes ends `REJECTED` (`TEMPO_EXPIRADO_CONSUMO`). The consent stores the
//! request's `loggedUser`, `businessEntity`, `creditor`, `payment` and
//! `debtorAccount` sealed, as the initiator sent them (after validation).

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use http_body_util::Full;
use opus_core::consent::{ConsentKind, ConsentStatus, open_consent_body, seal_consent_body};
use opus_core::directory::Directory;
use opus_core::keys::KeyCustody;
use opus_core::limits::{
    IDEMPOTENCY_KEY_RETENTION, PAYMENT_CONSENT_AUTHORISATION_TIMEOUT,
    PAYMENT_CONSENT_CONSUMPTION_TIMEOUT,
};
use opus_core::seal::Sealer;
use opus_core::store::{
    ConsentRecord, IdempotencyBegin, IdempotencyScope, RequestFingerprint, StoreError,
    StoredResponse,
};
use opus_core::{
    ApiError, ApiErrorKind, Brand, BrandId, ClientId, Clock, Cnpj, ConsentId, Cpf, Date, Document,
    Envelope, Storage, Timestamp,
};
use opus_fapi::message::{self, RequestContext};
use opus_fapi::server::guard::VerifiedAccess;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

/// Where the API lives under the brand's API base URL.
pub const BASE_PATH: &str = "open-banking/payments/v4/consents";
const MAX_BODY: usize = 64 * 1024;
/// How long an in-flight idempotent request holds its key.
const IDEMPOTENCY_LEASE: Duration = Duration::from_secs(30);

/// Why a payment consent was rejected (`rejectionReason`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentRejection {
    /// `code`, e.g. `TEMPO_EXPIRADO_AUTORIZACAO`, `REJEITADO_USUARIO`.
    pub code: String,
    /// `detail`.
    pub detail: String,
}

/// A payment consent, in the clear.
#[derive(Debug, Clone, PartialEq)]
pub struct PaymentConsent {
    /// The brand.
    pub brand: BrandId,
    /// `consentId`.
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
    /// The validated request (`loggedUser`, `businessEntity`, `creditor`,
    /// `payment`, `debtorAccount`), as sent.
    pub request: Map<String, Value>,
    /// `rejectionReason`, once rejected.
    pub rejection: Option<PaymentRejection>,
}

#[derive(Serialize, Deserialize)]
struct Body {
    logged_user: Cpf,
    business_entity: Option<Cnpj>,
    request: Map<String, Value>,
    rejection: Option<PaymentRejection>,
}

impl PaymentConsent {
    /// When the current status ends by the clock.
    pub fn deadline(&self) -> Option<Timestamp> {
        match self.status {
            ConsentStatus::AwaitingAuthorisation => Some(
                self.creation_date_time
                    .saturating_add(PAYMENT_CONSENT_AUTHORISATION_TIMEOUT),
            ),
            ConsentStatus::Authorised => Some(
                self.status_update_date_time
                    .saturating_add(PAYMENT_CONSENT_CONSUMPTION_TIMEOUT),
            ),
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
            request: self.request.clone(),
            rejection: self.rejection.clone(),
        };
        Ok(ConsentRecord {
            brand: self.brand.clone(),
            id: self.id.clone(),
            kind: ConsentKind::Payment,
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

    /// Opens a stored payment consent.
    ///
    /// # Errors
    /// 500 when the record is not a payment consent or does not open.
    pub async fn open(record: &ConsentRecord, sealer: &Sealer) -> Result<Self, ApiError> {
        if record.kind != ConsentKind::Payment {
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
            request: body.request,
            rejection: body.rejection,
        })
    }

    /// The initiator's webhook notice of a change of this consent at `at`.
    ///
    /// # Errors
    /// 500 when the notice cannot be written (never in practice).
    pub fn notice(&self, at: Timestamp) -> Result<opus_core::store::OutboxMessage, ApiError> {
        crate::webhook_notice(
            &self.brand,
            &self.client_id,
            format!("payments/v4/consents/{}", self.id),
            at,
        )
    }

    /// The consent as the API shows it (`data` of
    /// `ResponseCreatePaymentConsent` / `ResponsePaymentConsent`).
    pub fn representation(&self) -> Value {
        let mut data = json!({
            "consentId": self.id,
            "creationDateTime": self.creation_date_time,
            "expirationDateTime": self.deadline().unwrap_or(self.status_update_date_time),
            "statusUpdateDateTime": self.status_update_date_time,
            "status": self.status,
        });
        for name in [
            "loggedUser",
            "businessEntity",
            "creditor",
            "payment",
            "debtorAccount",
        ] {
            if let Some(value) = self.request.get(name) {
                data[name] = value.clone();
            }
        }
        if let Some(rejection) = &self.rejection {
            data["rejectionReason"] = json!({"code": rejection.code, "detail": rejection.detail});
        }
        data
    }
}

fn invalid(code: &'static str, detail: &'static str) -> ApiError {
    let title = match code {
        "FORMA_PAGAMENTO_INVALIDA" => "Forma de pagamento inválida.",
        "DATA_PAGAMENTO_INVALIDA" => "Data de pagamento inválida.",
        "DETALHE_PAGAMENTO_INVALIDO" => "Detalhe do pagamento inválido.",
        "PARAMETRO_NAO_INFORMADO" => "Parâmetro não informado.",
        _ => "Parâmetro inválido.",
    };
    ApiError::unprocessable(code, title, detail)
}

fn str_at<'a>(value: &'a Value, pointer: &str) -> Option<&'a str> {
    value.pointer(pointer).and_then(Value::as_str)
}

fn amount_ok(amount: &str) -> bool {
    amount.split_once('.').is_some_and(|(units, cents)| {
        (1..=16).contains(&units.len())
            && cents.len() == 2
            && units
                .bytes()
                .chain(cents.bytes())
                .all(|b| b.is_ascii_digit())
    }) && amount.bytes().any(|b| (b'1'..=b'9').contains(&b))
}

/// Checks `data` of `POST /consents` at `today` (Brasília); answers the
/// logged user and business entity.
fn validate(data: &Value, today: Date) -> Result<(Cpf, Option<Cnpj>), ApiError> {
    let missing = |what| invalid("PARAMETRO_NAO_INFORMADO", what);
    let logged_user = str_at(data, "/loggedUser/document/identification")
        .ok_or_else(|| missing("loggedUser não informado."))?;
    if str_at(data, "/loggedUser/document/rel") != Some("CPF") || logged_user.len() != 11 {
        return Err(invalid("PARAMETRO_INVALIDO", "loggedUser inválido."));
    }
    let logged_user = Cpf::parse(logged_user)
        .map_err(|_| invalid("PARAMETRO_INVALIDO", "loggedUser inválido."))?;
    let business_entity = match data.get("businessEntity") {
        None => None,
        Some(entity) => {
            let cnpj = str_at(entity, "/document/identification")
                .filter(|c| c.len() == 14)
                .filter(|_| str_at(entity, "/document/rel") == Some("CNPJ"))
                .ok_or_else(|| invalid("PARAMETRO_INVALIDO", "businessEntity inválido."))?;
            Some(
                Cnpj::parse(cnpj)
                    .map_err(|_| invalid("PARAMETRO_INVALIDO", "businessEntity inválido."))?,
            )
        }
    };
    // Creditor.
    let creditor = data
        .get("creditor")
        .ok_or_else(|| missing("creditor não informado."))?;
    let document = str_at(creditor, "/cpfCnpj").unwrap_or_default();
    let document_ok = match str_at(creditor, "/personType") {
        Some("PESSOA_NATURAL") => document.len() == 11 && Cpf::parse(document).is_ok(),
        Some("PESSOA_JURIDICA") => document.len() == 14 && Cnpj::parse(document).is_ok(),
        _ => false,
    };
    if !document_ok || str_at(creditor, "/name").is_none_or(str::is_empty) {
        return Err(invalid("PARAMETRO_INVALIDO", "creditor inválido."));
    }
    // Payment.
    let payment = data
        .get("payment")
        .ok_or_else(|| missing("payment não informado."))?;
    if str_at(payment, "/type") != Some("PIX") {
        return Err(invalid(
            "FORMA_PAGAMENTO_INVALIDA",
            "Forma de pagamento não suportada.",
        ));
    }
    if str_at(payment, "/currency") != Some("BRL")
        || !str_at(payment, "/amount").is_some_and(amount_ok)
    {
        return Err(invalid("PARAMETRO_INVALIDO", "Valor ou moeda inválidos."));
    }
    let single = match (payment.get("date"), payment.get("schedule")) {
        (Some(date), None) => {
            let date = date
                .as_str()
                .and_then(|d| Date::parse(d).ok())
                .ok_or_else(|| invalid("DATA_PAGAMENTO_INVALIDA", "Data de pagamento inválida."))?;
            if date != today {
                return Err(invalid(
                    "DATA_PAGAMENTO_INVALIDA",
                    "Um pagamento imediato é para hoje.",
                ));
            }
            true
        }
        (None, Some(schedule)) => validate_schedule(schedule, today)?,
        _ => {
            return Err(invalid(
                "PARAMETRO_INVALIDO",
                "Informe date ou schedule, nunca ambos.",
            ));
        }
    };
    validate_details(payment, single)?;
    Ok((logged_user, business_entity))
}

/// A schedule: its dates within D+1..D+730, at most 60; `true` for a single
/// date.
fn validate_schedule(schedule: &Value, today: Date) -> Result<bool, ApiError> {
    let date_in_range = |d: &str| -> Result<Date, ApiError> {
        let date = Date::parse(d)
            .map_err(|_| invalid("DATA_PAGAMENTO_INVALIDA", "Data de liquidação inválida."))?;
        let ahead = today.days_until(date);
        if !(1..=730).contains(&ahead) {
            return Err(invalid(
                "DATA_PAGAMENTO_INVALIDA",
                "Agendamentos são de D+1 a D+730.",
            ));
        }
        Ok(date)
    };
    let quantity = |v: &Value, max: u64| -> Result<u64, ApiError> {
        v.get("quantity")
            .and_then(Value::as_u64)
            .filter(|q| (2..=max).contains(q))
            .ok_or_else(|| {
                invalid(
                    "PARAMETRO_INVALIDO",
                    "Quantidade permitida de pagamentos excedida.",
                )
            })
    };
    let object = schedule
        .as_object()
        .filter(|o| o.len() == 1)
        .ok_or_else(|| invalid("PARAMETRO_INVALIDO", "schedule inválido."))?;
    let (kind, value) = object
        .iter()
        .next()
        .ok_or_else(|| invalid("PARAMETRO_INVALIDO", "schedule inválido."))?;
    let start = |v: &Value| -> Result<Date, ApiError> {
        date_in_range(str_at(v, "/startDate").unwrap_or_default())
    };
    match kind.as_str() {
        "single" => {
            date_in_range(str_at(value, "/date").unwrap_or_default())?;
            Ok(true)
        }
        "daily" => {
            let first = start(value)?;
            let n = quantity(value, 60)?;
            date_in_range(
                &first
                    .add_days(i64::try_from(n).unwrap_or(60) - 1)
                    .unwrap_or(first)
                    .to_string(),
            )?;
            Ok(false)
        }
        "weekly" => {
            let first = start(value)?;
            let n = quantity(value, 60)?;
            const DAYS: [&str; 7] = [
                "SEGUNDA_FEIRA",
                "TERCA_FEIRA",
                "QUARTA_FEIRA",
                "QUINTA_FEIRA",
                "SEXTA_FEIRA",
                "SABADO",
                "DOMINGO",
            ];
            if !str_at(value, "/dayOfWeek").is_some_and(|d| DAYS.contains(&d)) {
                return Err(invalid("PARAMETRO_INVALIDO", "dayOfWeek inválido."));
            }
            date_in_range(
                &first
                    .add_days(7 * (i64::try_from(n).unwrap_or(60) - 1) + 6)
                    .unwrap_or(first)
                    .to_string(),
            )?;
            Ok(false)
        }
        "monthly" => {
            start(value)?;
            let n = quantity(value, 24)?;
            if !value
                .get("dayOfMonth")
                .and_then(Value::as_u64)
                .is_some_and(|d| (1..=31).contains(&d))
            {
                return Err(invalid("PARAMETRO_INVALIDO", "dayOfMonth inválido."));
            }
            if n > 24 {
                return Err(invalid(
                    "PARAMETRO_INVALIDO",
                    "Quantidade permitida de pagamentos excedida.",
                ));
            }
            Ok(false)
        }
        "custom" => {
            let dates = value
                .get("dates")
                .and_then(Value::as_array)
                .filter(|d| (2..=60).contains(&d.len()))
                .ok_or_else(|| {
                    invalid(
                        "PARAMETRO_INVALIDO",
                        "Quantidade permitida de pagamentos excedida.",
                    )
                })?;
            let mut seen = Vec::new();
            for d in dates {
                let date = date_in_range(d.as_str().unwrap_or_default())?;
                if seen.contains(&date) {
                    return Err(invalid("PARAMETRO_INVALIDO", "Datas repetidas."));
                }
                seen.push(date);
            }
            Ok(false)
        }
        _ => Err(invalid("PARAMETRO_INVALIDO", "schedule inválido.")),
    }
}

/// `payment.details`: the local instrument's rules (FAPI-BR payments).
fn validate_details(payment: &Value, single: bool) -> Result<(), ApiError> {
    let bad = |detail| invalid("DETALHE_PAGAMENTO_INVALIDO", detail);
    let details = payment
        .get("details")
        .ok_or_else(|| invalid("PARAMETRO_NAO_INFORMADO", "details não informado."))?;
    let instrument = str_at(details, "/localInstrument").unwrap_or_default();
    let qr = details.get("qrCode").and_then(Value::as_str);
    let proxy = details.get("proxy").and_then(Value::as_str);
    let ok = match instrument {
        "MANU" => qr.is_none() && proxy.is_none(),
        "DICT" => qr.is_none() && proxy.is_some(),
        "QRDN" | "QRES" => qr.is_some_and(|q| q.len() <= 512) && proxy.is_some(),
        "INIC" => qr.is_none(),
        _ => return Err(bad("localInstrument inválido.")),
    };
    if !ok {
        return Err(bad("Os detalhes não correspondem ao localInstrument."));
    }
    // The key and the QR code themselves.
    if instrument == "DICT" && !proxy.is_some_and(opus_core::payment::is_pix_key) {
        return Err(bad("A chave Pix (proxy) é inválida."));
    }
    if let Some(payload) = qr {
        let code =
            opus_core::payment::BrCode::parse(payload).map_err(|_| bad("O qrCode é inválido."))?;
        if code.dynamic != (instrument == "QRDN") {
            return Err(bad("O qrCode não corresponde ao localInstrument."));
        }
        if instrument == "QRES" {
            if code.key.as_deref() != proxy {
                return Err(bad("A chave do qrCode difere do proxy."));
            }
            let amount = |a: &str| opus_core::money::Amount::parse(a).ok();
            if let Some(fixed) = &code.amount
                && amount(fixed) != str_at(payment, "/amount").and_then(amount)
            {
                return Err(bad("O valor do qrCode difere do pagamento."));
            }
        }
    }
    if !single && !matches!(instrument, "MANU" | "DICT" | "QRES") {
        return Err(bad("Agendamentos recorrentes aceitam MANU, DICT ou QRES."));
    }
    if proxy.is_some_and(|p| p.len() > 77) {
        return Err(bad("proxy excede 77 caracteres."));
    }
    let account = details
        .get("creditorAccount")
        .ok_or_else(|| invalid("PARAMETRO_NAO_INFORMADO", "creditorAccount não informado."))?;
    let kind = str_at(account, "/accountType").unwrap_or_default();
    let ispb_ok = str_at(account, "/ispb")
        .is_some_and(|i| i.len() == 8 && i.bytes().all(|b| b.is_ascii_digit()));
    let number_ok = str_at(account, "/number")
        .is_some_and(|n| (1..=20).contains(&n.len()) && n.bytes().all(|b| b.is_ascii_digit()));
    let issuer_ok = match kind {
        "CACC" | "SVGS" => str_at(account, "/issuer")
            .is_some_and(|i| (1..=4).contains(&i.len()) && i.bytes().all(|b| b.is_ascii_digit())),
        "TRAN" => true,
        _ => false,
    };
    if !(ispb_ok && number_ok && issuer_ok) {
        return Err(bad("creditorAccount inválido."));
    }
    Ok(())
}

/// Payment consents over the storage ports.
#[derive(Clone)]
pub struct PaymentConsents {
    storage: Storage,
    sealer: Arc<Sealer>,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for PaymentConsents {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PaymentConsents").finish_non_exhaustive()
    }
}

fn store_error(e: &StoreError) -> ApiError {
    tracing::warn!(error = %e, "consent store failed");
    ApiError::internal()
}

impl PaymentConsents {
    /// Payment consents over `storage`, sealed with `sealer`.
    pub fn new(storage: Storage, sealer: Arc<Sealer>, clock: Arc<dyn Clock>) -> Self {
        Self {
            storage,
            sealer,
            clock,
        }
    }

    /// `POST /consents`: validates `data` and stores a new consent.
    ///
    /// # Errors
    /// 422 with the spec's creation codes; 500 when the store fails.
    pub async fn create(
        &self,
        brand: &BrandId,
        client: &ClientId,
        data: &Value,
    ) -> Result<PaymentConsent, ApiError> {
        let now = self.clock.now();
        let (logged_user, business_entity) = validate(data, now.date_in_brasilia())?;
        let request = data
            .as_object()
            .cloned()
            .ok_or_else(|| invalid("PARAMETRO_INVALIDO", "data deve ser um objeto."))?;
        let nid: String = brand
            .as_str()
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
            .take(32)
            .collect();
        let id = ConsentId::new(format!("urn:{nid}:{}", uuid::Uuid::new_v4()))
            .map_err(|_| ApiError::internal())?;
        let consent = PaymentConsent {
            brand: brand.clone(),
            id,
            client_id: client.clone(),
            status: ConsentStatus::AwaitingAuthorisation,
            version: 0,
            creation_date_time: now,
            status_update_date_time: now,
            logged_user,
            business_entity,
            request,
            rejection: None,
        };
        let stored = self
            .storage
            .consents
            .insert_consent(&consent.seal(&self.sealer)?, &[])
            .await
            .map_err(|e| store_error(&e))?;
        Ok(PaymentConsent {
            version: stored.version,
            ..consent
        })
    }

    /// The consent `id`, with a deadline due by the clock applied (and
    /// stored): `TEMPO_EXPIRADO_AUTORIZACAO` or `TEMPO_EXPIRADO_CONSUMO`.
    ///
    /// # Errors
    /// 404 for an unknown payment consent; 500 when the store fails.
    pub async fn find(&self, brand: &BrandId, id: &ConsentId) -> Result<PaymentConsent, ApiError> {
        for _ in 0..3 {
            let record = self
                .storage
                .consents
                .get_consent(brand, id)
                .await
                .map_err(|e| store_error(&e))?
                .filter(|r| r.kind == ConsentKind::Payment)
                .ok_or_else(ApiError::not_found)?;
            let mut consent = PaymentConsent::open(&record, &self.sealer).await?;
            let now = self.clock.now();
            let reason = match consent.deadline() {
                Some(deadline) if deadline <= now => match consent.status {
                    ConsentStatus::AwaitingAuthorisation => (
                        "TEMPO_EXPIRADO_AUTORIZACAO",
                        "O consentimento não foi autorizado a tempo.",
                    ),
                    _ => (
                        "TEMPO_EXPIRADO_CONSUMO",
                        "O consentimento não foi consumido a tempo.",
                    ),
                },
                _ => return Ok(consent),
            };
            consent.status = ConsentStatus::Rejected;
            consent.status_update_date_time = now;
            consent.rejection = Some(PaymentRejection {
                code: reason.0.to_owned(),
                detail: reason.1.to_owned(),
            });
            match self
                .storage
                .consents
                .update_consent(
                    &consent.seal(&self.sealer)?,
                    record.version,
                    &[consent.notice(now)?],
                )
                .await
            {
                Ok(stored) => {
                    consent.version = stored.version;
                    self.storage
                        .grants
                        .revoke_consent_tokens(brand, id, now)
                        .await
                        .map_err(|e| store_error(&e))?;
                    return Ok(consent);
                }
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
    ) -> Result<PaymentConsent, ApiError> {
        let consent = self.find(brand, id).await?;
        if &consent.client_id != client {
            return Err(ApiError::forbidden());
        }
        Ok(consent)
    }
}

// ---------------------------------------------------------------- API

/// The payment consents endpoints (`POST /consents`, `GET /consents/{id}`)
/// of Payments API 4.0.0 for one brand, as a `tower::Service`.
///
/// Mount it behind the resource guard; it needs a client-credentials token
/// with the `payments` scope. Request bodies are signed JWTs verified
/// against the initiator organisation's keys in the directory; 2xx and 422
/// bodies are signed JWTs (`application/jwt`), other errors plain JSON as
/// the spec lists them. `x-idempotency-key` is required on `POST`: the same
/// key with the same `data` within 24 hours answers the same consent (with
/// its current status), with different `data` 422 `ERRO_IDEMPOTENCIA`.
#[derive(Clone)]
pub struct PaymentConsentsApi {
    inner: Arc<ApiInner>,
}

struct ApiInner {
    brand: Brand,
    consents: PaymentConsents,
    storage: Storage,
    sealer: Arc<Sealer>,
    clock: Arc<dyn Clock>,
    directory: Arc<dyn Directory>,
    keys: Arc<dyn KeyCustody>,
    prefix: String,
}

impl std::fmt::Debug for PaymentConsentsApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PaymentConsentsApi")
            .field("brand", self.inner.brand.id())
            .finish_non_exhaustive()
    }
}

impl PaymentConsentsApi {
    /// The API of `brand`: consents through `consents`, idempotency and
    /// replay through `storage`, initiators' keys from `directory`, the
    /// brand's signing key in `keys`.
    pub fn new(
        brand: Brand,
        consents: PaymentConsents,
        storage: Storage,
        sealer: Arc<Sealer>,
        clock: Arc<dyn Clock>,
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
                sealer,
                clock,
                directory,
                keys,
                prefix,
            }),
        }
    }
}

/// A response before signing: the status and the JSON body.
struct Outcome {
    status: StatusCode,
    body: Value,
}

fn plain_error(error: &ApiError, now: Timestamp) -> Response<Full<Bytes>> {
    error
        .to_http_response(now)
        .map(|b| Full::new(Bytes::from(b)))
}

impl ApiInner {
    fn consent_outcome(
        &self,
        status: StatusCode,
        consent: &PaymentConsent,
    ) -> Result<Outcome, ApiError> {
        let link = self
            .brand
            .api_url(&format!("{BASE_PATH}/{}", consent.id))
            .map_err(|_| ApiError::internal())?;
        let body = serde_json::to_value(Envelope::single(
            consent.representation(),
            &link,
            self.clock.now(),
        ))
        .map_err(|_| ApiError::internal())?;
        Ok(Outcome { status, body })
    }

    async fn handle<B>(&self, request: Request<B>) -> Response<Full<Bytes>>
    where
        B: http_body::Body + Send,
        B::Data: Send,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let now = self.clock.now();
        let Some(access) = request.extensions().get::<VerifiedAccess>().cloned() else {
            return plain_error(&ApiError::unauthorized(), now);
        };
        if access.brand != *self.brand.id() {
            return plain_error(&ApiError::unauthorized(), now);
        }
        if !access.scopes.iter().any(|s| s == "payments") || access.consent_id.is_some() {
            return plain_error(&ApiError::forbidden(), now);
        }
        let client = match self
            .storage
            .clients
            .get_client(self.brand.id(), &access.client_id)
            .await
        {
            Ok(Some(client)) => client,
            Ok(None) => return plain_error(&ApiError::unauthorized(), now),
            Err(e) => return plain_error(&store_error(&e), now),
        };
        let path = request.uri().path().to_owned();
        let Some(rest) = path.strip_prefix(&self.prefix) else {
            return plain_error(&ApiError::not_found(), now);
        };
        let method = request.method().clone();
        let result = match (rest.trim_start_matches('/'), &method) {
            ("", &Method::POST) => self.create(&access, &client.organisation_id, request).await,
            ("", _) => Err(ApiError::method_not_allowed()),
            (id, &Method::GET) => match ConsentId::new(id) {
                Ok(id) => self
                    .consents
                    .get(self.brand.id(), &access.client_id, &id)
                    .await
                    .and_then(|c| self.consent_outcome(StatusCode::OK, &c)),
                Err(_) => Err(ApiError::invalid_parameter("consentId")),
            },
            _ => Err(ApiError::method_not_allowed()),
        };
        message::respond(
            self.keys.as_ref(),
            result.map(|o| (o.status, o.body)),
            self.brand.organisation_id(),
            &client.organisation_id,
            now,
        )
        .await
    }

    async fn create<B>(
        &self,
        access: &VerifiedAccess,
        organisation: &opus_core::OrganisationId,
        request: Request<B>,
    ) -> Result<Outcome, ApiError>
    where
        B: http_body::Body + Send,
        B::Data: Send,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        if !message::is_signed_body(request.headers()) {
            return Err(ApiError::unsupported_media_type());
        }
        let key = message::idempotency_key(request.headers())?;
        let audience = self
            .brand
            .api_url(BASE_PATH)
            .map_err(|_| ApiError::internal())?;
        let now = self.clock.now();
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
                now,
            },
        )
        .await?;
        let data = claims
            .get("data")
            .ok_or_else(|| invalid("PARAMETRO_NAO_INFORMADO", "data não informado."))?;
        let scope = IdempotencyScope {
            brand: self.brand.id().clone(),
            client_id: access.client_id.clone(),
            operation: "payments-v4:POST:/consents".to_owned(),
            key,
        };
        // serde_json maps are ordered: the same `data` gives the same bytes.
        let fingerprint = RequestFingerprint::of(data.to_string().as_bytes());
        let begun = self
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
            .map_err(|e| store_error(&e))?;
        match begun {
            IdempotencyBegin::Started => {}
            IdempotencyBegin::Completed(stored) => {
                // The original outcome, with the consent's current status.
                let id: String = self
                    .sealer
                    .open_json(
                        &opus_core::seal::SealContext::new(
                            "idempotency",
                            self.brand.id(),
                            scope.key.as_str(),
                        ),
                        &stored.body,
                    )
                    .await
                    .map_err(|_| ApiError::internal())?;
                let id = ConsentId::new(id).map_err(|_| ApiError::internal())?;
                let consent = self
                    .consents
                    .get(self.brand.id(), &access.client_id, &id)
                    .await?;
                return self.consent_outcome(StatusCode::CREATED, &consent);
            }
            IdempotencyBegin::Mismatch => {
                return Err(invalid(
                    "ERRO_IDEMPOTENCIA",
                    "A chave de idempotência já foi usada com outro conteúdo.",
                ));
            }
            // In flight elsewhere (or a state this version does not know):
            // the initiator retries.
            _ => {
                return Err(ApiError::too_many_requests(Duration::from_secs(1)));
            }
        }
        match self
            .consents
            .create(self.brand.id(), &access.client_id, data)
            .await
        {
            Ok(consent) => {
                let sealed = self
                    .sealer
                    .seal_json(
                        &opus_core::seal::SealContext::new(
                            "idempotency",
                            self.brand.id(),
                            scope.key.as_str(),
                        ),
                        &consent.id.to_string(),
                    )
                    .map_err(|_| ApiError::internal())?;
                if let Err(e) = self
                    .storage
                    .idempotency
                    .complete(
                        &scope,
                        fingerprint,
                        &StoredResponse {
                            status: 201,
                            body: sealed,
                        },
                    )
                    .await
                {
                    tracing::warn!(error = %e, "idempotency record not completed");
                }
                self.consent_outcome(StatusCode::CREATED, &consent)
            }
            Err(e) => {
                // Consent creation keeps the key only on success.
                if let Err(release) = self.storage.idempotency.release(&scope).await {
                    tracing::warn!(error = %release, "idempotency key not released");
                }
                Err(e)
            }
        }
    }
}

opus_fapi::http_service!(
    PaymentConsentsApi,
    |api| api.inner.clone(),
    |inner, request| inner.handle(request).await
);

// ---------------------------------------------------------------- authorisation

/// The consent port for payment consents: what the consent screen shows
/// and what the customer's decision does. The customer chooses the account
/// to pay from (`ACCOUNT` resources).
#[derive(Clone)]
pub struct PaymentConsentAuthorisation {
    consents: PaymentConsents,
    accounts: Option<Arc<dyn opus_core::connector::DebtorAccounts>>,
}

impl std::fmt::Debug for PaymentConsentAuthorisation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PaymentConsentAuthorisation")
            .field("debtor_accounts", &self.accounts.is_some())
            .finish_non_exhaustive()
    }
}

impl PaymentConsentAuthorisation {
    /// Over `consents`.
    pub fn new(consents: PaymentConsents) -> Self {
        Self {
            consents,
            accounts: None,
        }
    }

    /// Fills the consent's `debtorAccount` from the account the customer
    /// chose, when the initiator did not send one (it is mandatory once
    /// the consent is authorised).
    pub fn with_debtor_accounts(
        mut self,
        accounts: Arc<dyn opus_core::connector::DebtorAccounts>,
    ) -> Self {
        self.accounts = Some(accounts);
        self
    }

    /// Compare-and-set of the consent's new state; `false` when another
    /// writer moved it on first.
    async fn store(
        &self,
        consent: &PaymentConsent,
    ) -> Result<bool, opus_core::interaction::InteractionError> {
        let record = consent.seal(&self.consents.sealer).map_err(port_error)?;
        match self
            .consents
            .storage
            .consents
            .update_consent(
                &record,
                consent.version,
                &[consent
                    .notice(self.consents.clock.now())
                    .map_err(port_error)?],
            )
            .await
        {
            Ok(_) => Ok(true),
            Err(StoreError::Conflict) => Ok(false),
            Err(e) => Err(opus_core::interaction::InteractionError::Unavailable(
                Box::new(e),
            )),
        }
    }
}

/// What the consent screen shows of a payment-family consent: the
/// customer pays from an account (`ACCOUNT` resources).
pub(crate) fn payment_details(
    kind: ConsentKind,
    id: ConsentId,
    client_id: ClientId,
    status: ConsentStatus,
    expiration: Option<Timestamp>,
    customer: (Cpf, Option<Cnpj>),
) -> opus_core::interaction::ConsentDetails {
    opus_core::interaction::ConsentDetails {
        expiration_date_time: expiration,
        id,
        kind,
        client_id,
        status,
        logged_user: Some(customer.0),
        business_entity: customer.1,
        permissions: Vec::new(),
        resource_types: vec![opus_core::connector::ResourceType::Account],
    }
}

/// Whether `approval` can authorise a consent in `status` of `owner`
/// named for `customer` when `client` asks.
pub(crate) fn approvable(
    status: ConsentStatus,
    owner: &ClientId,
    client: &ClientId,
    customer: (&Cpf, Option<&Cnpj>),
    approval: &opus_core::interaction::InteractionApproval,
) -> Result<(), opus_core::interaction::DenialReason> {
    use opus_core::interaction::DenialReason;
    if status != ConsentStatus::AwaitingAuthorisation || owner != client {
        return Err(DenialReason::Expired);
    }
    if customer.0 != &approval.subject || customer.1 != approval.business_entity.as_ref() {
        return Err(DenialReason::WrongCustomer);
    }
    Ok(())
}

pub(crate) fn port_error(e: ApiError) -> opus_core::interaction::InteractionError {
    opus_core::interaction::InteractionError::Unavailable(Box::new(e))
}

/// Fills `request`'s `debtorAccount`, when the initiator did not send one,
/// from the account the customer chose (the first resource approved) for
/// `customer` (CPF, CNPJ): `false` when the bank knows its accounts and
/// none of them was chosen (the payment needs an account to pay from).
pub(crate) async fn fill_debtor_account(
    accounts: Option<&dyn opus_core::connector::DebtorAccounts>,
    brand: &BrandId,
    approval: &opus_core::interaction::InteractionApproval,
    customer: (&Cpf, Option<&Cnpj>),
    request: &mut Map<String, Value>,
) -> Result<bool, opus_core::interaction::InteractionError> {
    use opus_core::interaction::InteractionError;
    if request.contains_key("debtorAccount") {
        return Ok(true);
    }
    let Some(accounts) = accounts else {
        return Ok(true);
    };
    let chosen = match approval.resources.first() {
        Some(resource) => accounts
            .debtor_account(brand, customer.0, customer.1, resource)
            .await
            .map_err(|e| InteractionError::Unavailable(Box::new(e)))?,
        None => None,
    };
    let Some(account) = chosen else {
        return Ok(false);
    };
    let value =
        serde_json::to_value(account).map_err(|e| InteractionError::Unavailable(Box::new(e)))?;
    request.insert("debtorAccount".to_owned(), value);
    Ok(true)
}

#[async_trait::async_trait]
impl opus_core::interaction::ConsentAuthorisation for PaymentConsentAuthorisation {
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
        Ok(Some(payment_details(
            ConsentKind::Payment,
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
        if let Err(denied) = approvable(
            consent.status,
            &consent.client_id,
            client,
            (&consent.logged_user, consent.business_entity.as_ref()),
            approval,
        ) {
            return Ok(Err(denied));
        }
        if !fill_debtor_account(
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
        consent.status = ConsentStatus::Authorised;
        consent.status_update_date_time = self.consents.clock.now();
        Ok(if self.store(&consent).await? {
            Ok(())
        } else {
            Err(DenialReason::Expired)
        })
    }

    async fn reject(
        &self,
        brand: &BrandId,
        id: &ConsentId,
        reason: opus_core::interaction::DenialReason,
    ) -> Result<(), opus_core::interaction::InteractionError> {
        use opus_core::interaction::DenialReason;
        let mut consent = match self.consents.find(brand, id).await {
            Ok(consent) => consent,
            Err(e) if e.kind() == ApiErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(port_error(e)),
        };
        if consent.status != ConsentStatus::AwaitingAuthorisation {
            return Ok(());
        }
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
        consent.status = ConsentStatus::Rejected;
        consent.status_update_date_time = self.consents.clock.now();
        consent.rejection = Some(PaymentRejection {
            code: code.to_owned(),
            detail: detail.to_owned(),
        });
        // `false`: someone else moved it on first, which is as good.
        self.store(&consent).await.map(|_| ())
    }
}

/// The consent port for every consent kind the institution offers: it
/// reads the consent's kind from the store and hands over to that kind's
/// port (data sharing, payments, recurring payments).
#[derive(Clone)]
pub struct ConsentRouter {
    storage: Storage,
    data: Arc<dyn opus_core::interaction::ConsentAuthorisation>,
    payments: Arc<dyn opus_core::interaction::ConsentAuthorisation>,
    recurring: Option<Arc<dyn opus_core::interaction::ConsentAuthorisation>>,
}

impl std::fmt::Debug for ConsentRouter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConsentRouter").finish_non_exhaustive()
    }
}

impl ConsentRouter {
    /// Data consents to `data`, payment consents to `payments`.
    pub fn new(
        storage: Storage,
        data: Arc<dyn opus_core::interaction::ConsentAuthorisation>,
        payments: Arc<dyn opus_core::interaction::ConsentAuthorisation>,
    ) -> Self {
        Self {
            storage,
            data,
            payments,
            recurring: None,
        }
    }

    /// Recurring consents to `recurring` (without it they are unknown here).
    pub fn with_recurring(
        mut self,
        recurring: Arc<dyn opus_core::interaction::ConsentAuthorisation>,
    ) -> Self {
        self.recurring = Some(recurring);
        self
    }

    async fn port(
        &self,
        brand: &BrandId,
        id: &ConsentId,
    ) -> Result<
        Option<&Arc<dyn opus_core::interaction::ConsentAuthorisation>>,
        opus_core::interaction::InteractionError,
    > {
        let record = self
            .storage
            .consents
            .get_consent(brand, id)
            .await
            .map_err(|e| opus_core::interaction::InteractionError::Unavailable(Box::new(e)))?;
        Ok(record.and_then(|r| match r.kind {
            ConsentKind::Payment => Some(&self.payments),
            ConsentKind::Recurring => self.recurring.as_ref(),
            _ => Some(&self.data),
        }))
    }
}

#[async_trait::async_trait]
impl opus_core::interaction::ConsentAuthorisation for ConsentRouter {
    async fn details(
        &self,
        brand: &BrandId,
        id: &ConsentId,
    ) -> Result<
        Option<opus_core::interaction::ConsentDetails>,
        opus_core::interaction::InteractionError,
    > {
        match self.port(brand, id).await? {
            Some(port) => port.details(brand, id).await,
            None => Ok(None),
        }
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
        match self.port(brand, id).await? {
            Some(port) => port.authorise(brand, id, client, approval).await,
            None => Ok(Err(opus_core::interaction::DenialReason::Expired)),
        }
    }

    async fn reject(
        &self,
        brand: &BrandId,
        id: &ConsentId,
        reason: opus_core::interaction::DenialReason,
    ) -> Result<(), opus_core::interaction::InteractionError> {
        match self.port(brand, id).await? {
            Some(port) => port.reject(brand, id, reason).await,
            None => Ok(()),
        }
    }
}
