//! The account holder of the OPUS Open Finance Brasil SDK.
//!
//! [`PixPaymentsApi`] serves, for one brand, the Pix payments endpoints of
//! Payments API 4.0.0 (`POST /pix/payments`, `GET /pix/payments/{paymentId}`,
//! `PATCH /pix/payments/{paymentId}`)
//! behind the bank's [`PixConnector`]:
//!
//! - request bodies are signed JWTs verified against the initiator
//!   organisation's directory keys; 2xx and 422 answers are signed by the
//!   brand's key (`opus_fapi::message`);
//! - `x-idempotency-key` is required: the same key with the same `data`
//!   within 24 hours answers the same payments, with other `data` 422
//!   `ERRO_IDEMPOTENCIA`; a concurrent duplicate waits its turn (429); a
//!   payment refused with a business 422 keeps its key and the refusal;
//! - the payments must match their consent (amount, creditor account,
//!   local instrument, number of occurrences) and the consent is consumed
//!   atomically in the store with their creation, so of two payments racing
//!   for one consent exactly one is created, on any number of replicas;
//! - immediate payments go to the connector at once (`ACSC`, `ACPD` or
//!   `RJCT` with its reason; an unreachable back office leaves them
//!   `PDNG`); scheduled ones are `SCHD` until [`PixPaymentsApi::settle_due`]
//!   submits those due on a date. Reading a payment the back office has not
//!   finished with (`RCVD`, `ACCP`, `ACPD`, `PDNG`) asks the connector
//!   again, and submits it again when it never arrived.
//!
//! - `PATCH /pix/payments/{paymentId}` cancels a scheduled or pending
//!   payment (`CANC`, with its `cancellation`); anything else is 422
//!   `PAGAMENTO_NAO_PERMITE_CANCELAMENTO`. `PATCH
//!   /pix/payments/consents/{consentId}` cancels every such payment of a
//!   consent (with an idempotency key).
//!
//! Every status change of a payment, and the consumption of its consent,
//! leaves a webhook notice in the outbox in the same store operation;
//! [`webhook::WebhookSender`] delivers them to the initiator.
//!
//! With [`PixPaymentsApi::with_recurring`], [`RecurringPixPaymentsApi`]
//! serves the recurring Pix payments of Automatic Payments API 2.0.0
//! ([`recurring`]): sweeping and Pix Automático payments under long-lived
//! consents, whose limits hold under concurrent payments.

pub mod recurring;
pub mod webhook;

pub use recurring::RecurringPixPaymentsApi;

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use http_body_util::Full;
use opus_consent::{PaymentConsent, PaymentConsents, RecurringConsents};
use opus_core::connector::{
    LocalInstrument, PaymentAccount, PixConnector, PixOutcome, PixPaymentOrder,
};
use opus_core::consent::ConsentStatus;
use opus_core::directory::Directory;
use opus_core::keys::KeyCustody;
use opus_core::limits::IDEMPOTENCY_KEY_RETENTION;
use opus_core::money::{Amount, Currency};
use opus_core::payment::PaymentStatus;
use opus_core::seal::{SealContext, Sealer};
use opus_core::store::{
    IdempotencyBegin, IdempotencyScope, PaymentRecord, RequestFingerprint, StoreError,
    StoredResponse,
};
use opus_core::{
    ApiError, Brand, ClientId, Clock, Cnpj, ConsentId, Date, InteractionId, OrganisationId,
    PaymentId, Storage, Timestamp,
};
use opus_fapi::message::{self, RequestContext};
use opus_fapi::server::guard::VerifiedAccess;
use serde_json::{Map, Value, json};

/// Where the API lives under the brand's API base URL.
pub const BASE_PATH: &str = "open-banking/payments/v4/pix/payments";
const MAX_BODY: usize = 256 * 1024;
const IDEMPOTENCY_LEASE: Duration = Duration::from_secs(30);

fn unprocessable(code: &'static str, detail: &'static str) -> ApiError {
    let title = match code {
        "CONSENTIMENTO_INVALIDO" => "Consentimento inválido.",
        "PAGAMENTO_DIVERGENTE_CONSENTIMENTO" => "Pagamento divergente do consentimento.",
        "DETALHE_PAGAMENTO_INVALIDO" => "Detalhe do pagamento inválido.",
        "ERRO_IDEMPOTENCIA" => "Erro de idempotência.",
        "PARAMETRO_NAO_INFORMADO" => "Parâmetro não informado.",
        "CONSENTIMENTO_PENDENTE_AUTORIZACAO" => "Consentimento pendente de autorização.",
        _ => "Parâmetro inválido.",
    };
    ApiError::unprocessable(code, title, detail)
}

fn store_error(e: &StoreError) -> ApiError {
    tracing::warn!(error = %e, "payment store failed");
    ApiError::internal()
}

/// `E` + 8-digit ISPB + `yyyyMMddHHmm` + 11 alphanumerics; the date part.
fn end_to_end_date(id: &str) -> Option<Date> {
    let bytes = id.as_bytes();
    let ok = bytes.len() == 32
        && bytes[0] == b'E'
        && bytes[1..21].iter().all(u8::is_ascii_digit)
        && bytes[21..].iter().all(u8::is_ascii_alphanumeric);
    if !ok {
        return None;
    }
    let (year, month, day) = (&id[9..13], &id[13..15], &id[15..17]);
    let (hour, minute) = (&id[17..19], &id[19..21]);
    let valid_time =
        hour.parse::<u8>().is_ok_and(|h| h < 24) && minute.parse::<u8>().is_ok_and(|m| m < 60);
    if !valid_time {
        return None;
    }
    Date::parse(&format!("{year}-{month}-{day}")).ok()
}

/// How many payments a consent's `payment` allows.
fn occurrences(payment: &Value) -> usize {
    let Some(schedule) = payment.get("schedule").and_then(Value::as_object) else {
        return 1;
    };
    schedule
        .iter()
        .next()
        .map_or(1, |(kind, value)| match kind.as_str() {
            "daily" | "weekly" | "monthly" => value
                .get("quantity")
                .and_then(Value::as_u64)
                .and_then(|q| usize::try_from(q).ok())
                .unwrap_or(1),
            "custom" => value
                .get("dates")
                .and_then(Value::as_array)
                .map_or(1, Vec::len),
            _ => 1,
        })
}

/// The Pix payments endpoints of one brand.
#[derive(Clone)]
pub struct PixPaymentsApi {
    inner: Arc<Inner>,
}

struct Inner {
    brand: Brand,
    consents: PaymentConsents,
    storage: Storage,
    sealer: Arc<Sealer>,
    clock: Arc<dyn Clock>,
    directory: Arc<dyn Directory>,
    keys: Arc<dyn KeyCustody>,
    spi: Arc<dyn PixConnector>,
    prefix: String,
    /// Recurring consents, when the brand offers automatic payments.
    recurring: Option<RecurringConsents>,
    recurring_prefix: String,
}

impl std::fmt::Debug for PixPaymentsApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PixPaymentsApi")
            .field("brand", self.inner.brand.id())
            .finish_non_exhaustive()
    }
}

/// What the API needs besides the brand.
#[derive(Clone)]
pub struct PixPaymentsParts {
    /// Payment consents (the ones payments consume).
    pub consents: PaymentConsents,
    /// The storage ports.
    pub storage: Storage,
    /// Sealing at rest.
    pub sealer: Arc<Sealer>,
    /// Time.
    pub clock: Arc<dyn Clock>,
    /// Initiators' keys.
    pub directory: Arc<dyn Directory>,
    /// The brand's signing key.
    pub keys: Arc<dyn KeyCustody>,
    /// The bank's Pix back office.
    pub spi: Arc<dyn PixConnector>,
}

impl std::fmt::Debug for PixPaymentsParts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PixPaymentsParts").finish_non_exhaustive()
    }
}

impl PixPaymentsApi {
    /// The API of `brand`.
    pub fn new(brand: Brand, parts: PixPaymentsParts) -> Self {
        let base = brand.api_base_url().path().trim_end_matches('/');
        let prefix = format!("{base}/{BASE_PATH}");
        let recurring_prefix = format!("{base}/{}", recurring::BASE_PATH);
        Self {
            inner: Arc::new(Inner {
                brand,
                consents: parts.consents,
                storage: parts.storage,
                sealer: parts.sealer,
                clock: parts.clock,
                directory: parts.directory,
                keys: parts.keys,
                spi: parts.spi,
                prefix,
                recurring: None,
                recurring_prefix,
            }),
        }
    }

    /// Submits to the connector every `SCHD` payment due on `date` (the
    /// bank's scheduler calls it daily); answers how many were submitted.
    ///
    /// # Errors
    /// 500 when the store fails.
    pub async fn settle_due(&self, date: Date) -> Result<usize, ApiError> {
        let due = self
            .inner
            .storage
            .payments
            .list_payments_due(self.inner.brand.id(), PaymentStatus::Schd, date, 500)
            .await
            .map_err(|e| store_error(&e))?;
        let mut submitted = 0;
        for record in due {
            let body = self.inner.open(&record).await?;
            if self.inner.cancelled_by_revocation(&record, &body).await? {
                continue;
            }
            let mut order = self.inner.order(&record, &body, None)?;
            // Due now: settled like an immediate payment.
            order.scheduled_for = None;
            self.inner.submit(record, body, &order).await?;
            submitted += 1;
        }
        Ok(submitted)
    }
}

/// A 2xx or 422 body to sign.
struct Outcome {
    status: StatusCode,
    body: Value,
}

fn plain(error: &ApiError, now: Timestamp) -> Response<Full<Bytes>> {
    error
        .to_http_response(now)
        .map(|b| Full::new(Bytes::from(b)))
}

impl Inner {
    fn seal_context<'a>(&'a self, id: &'a PaymentId) -> SealContext<'a> {
        SealContext::new("payment", self.brand.id(), id.as_str())
    }

    async fn open(&self, record: &PaymentRecord) -> Result<Map<String, Value>, ApiError> {
        self.sealer
            .open_json(&self.seal_context(&record.id), &record.body)
            .await
            .map_err(|_| ApiError::internal())
    }

    /// A payment as the API shows it.
    fn representation(record: &PaymentRecord, body: &Map<String, Value>) -> Value {
        let mut item = Value::Object(body.clone());
        item["status"] = json!(record.status);
        item["creationDateTime"] = json!(record.created_at);
        item["statusUpdateDateTime"] = json!(record.status_updated_at);
        item
    }

    fn order(
        &self,
        record: &PaymentRecord,
        body: &Map<String, Value>,
        interaction: Option<InteractionId>,
    ) -> Result<PixPaymentOrder, ApiError> {
        let get = |name: &str| body.get(name).cloned().unwrap_or(Value::Null);
        let text = |name: &str| body.get(name).and_then(Value::as_str).map(str::to_owned);
        let parse = |v: Value| -> Result<PaymentAccount, ApiError> {
            serde_json::from_value(v).map_err(|_| ApiError::internal())
        };
        Ok(PixPaymentOrder {
            brand: record.brand.clone(),
            payment_id: record.id.clone(),
            consent_id: record.consent_id.clone(),
            initiator: body
                .get("initiatorOrganisation")
                .and_then(Value::as_str)
                .and_then(|o| OrganisationId::parse(o).ok())
                .ok_or_else(ApiError::internal)?,
            cnpj_initiator: text("cnpjInitiator")
                .and_then(|c| Cnpj::parse(&c).ok())
                .ok_or_else(ApiError::internal)?,
            end_to_end_id: text("endToEndId").unwrap_or_default(),
            amount: body
                .get("payment")
                .and_then(|p| p.get("amount"))
                .and_then(Value::as_str)
                .and_then(|a| Amount::parse(a).ok())
                .ok_or_else(ApiError::internal)?,
            currency: Currency::BRL,
            local_instrument: serde_json::from_value::<LocalInstrument>(get("localInstrument"))
                .map_err(|_| ApiError::internal())?,
            debtor_account: parse(get("debtorAccount"))?,
            debtor: body
                .get("debtor")
                .and_then(Value::as_str)
                .and_then(|c| opus_core::Cpf::parse(c).ok())
                .ok_or_else(ApiError::internal)?,
            business_entity: body
                .get("businessEntity")
                .and_then(Value::as_str)
                .and_then(|c| Cnpj::parse(c).ok()),
            creditor_account: parse(get("creditorAccount"))?,
            proxy: text("proxy"),
            qr_code: text("qrCode"),
            remittance_information: text("remittanceInformation"),
            transaction_identification: text("transactionIdentification"),
            scheduled_for: record.scheduled_for,
            interaction_id: interaction.unwrap_or_else(InteractionId::random),
        })
    }

    /// Sends `order` to the connector and records what it answered.
    async fn submit(
        &self,
        record: PaymentRecord,
        body: Map<String, Value>,
        order: &PixPaymentOrder,
    ) -> Result<(PaymentRecord, Map<String, Value>), ApiError> {
        let outcome = self.spi.submit(order).await;
        self.record_outcome(record, body, outcome).await
    }

    /// A payment the back office has not finished with (`RCVD`, `ACCP`,
    /// `ACPD`, `PDNG`) as the connector sees it now: asked again, or
    /// submitted again when it never arrived (submission is idempotent on
    /// the payment id); other payments as they are.
    async fn refresh(
        &self,
        record: PaymentRecord,
        body: Map<String, Value>,
    ) -> Result<(PaymentRecord, Map<String, Value>), ApiError> {
        if !matches!(
            record.status,
            PaymentStatus::Rcvd | PaymentStatus::Accp | PaymentStatus::Acpd | PaymentStatus::Pdng
        ) {
            return Ok((record, body));
        }
        let outcome = match self.spi.status(self.brand.id(), &record.id).await {
            Err(opus_core::connector::ConnectorError::NotFound) => {
                let mut order = self.order(&record, &body, None)?;
                order.scheduled_for = None;
                self.spi.submit(&order).await
            }
            outcome => outcome,
        };
        match self
            .record_outcome(record.clone(), body.clone(), outcome)
            .await
        {
            Ok(done) => Ok(done),
            // Moved meanwhile: what is stored is the news.
            Err(_) => Ok((record, body)),
        }
    }

    /// Records what the connector answered about a payment.
    async fn record_outcome(
        &self,
        record: PaymentRecord,
        mut body: Map<String, Value>,
        outcome: Result<PixOutcome, opus_core::connector::ConnectorError>,
    ) -> Result<(PaymentRecord, Map<String, Value>), ApiError> {
        let status = match outcome {
            Ok(PixOutcome::Status(status)) => status,
            Ok(PixOutcome::Rejected { code, detail }) => {
                body.insert(
                    "rejectionReason".to_owned(),
                    json!({"code": code, "detail": detail}),
                );
                PaymentStatus::Rjct
            }
            Ok(_) => PaymentStatus::Pdng,
            // The back office did not answer: pending, to be checked later.
            Err(e) => {
                tracing::warn!(error = %e, payment = %record.id, "Pix connector failed");
                PaymentStatus::Pdng
            }
        };
        if status == record.status {
            return Ok((record, body));
        }
        let updated = PaymentRecord {
            status,
            status_updated_at: self.clock.now(),
            body: self
                .sealer
                .seal_json(&self.seal_context(&record.id), &body)
                .map_err(|_| ApiError::internal())?,
            ..record.clone()
        };
        let notice = notice(
            &record.brand,
            &record.client_id,
            payment_path(&record.id, &body),
            updated.status_updated_at,
        )?;
        let stored = self
            .storage
            .payments
            .update_payment(&updated, record.version, &[notice])
            .await
            .map_err(|e| store_error(&e))?;
        Ok((stored, body))
    }

    async fn handle<B>(&self, request: Request<B>) -> Response<Full<Bytes>>
    where
        B: http_body::Body + Send,
        B::Data: Send,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let now = self.clock.now();
        let Some(access) = request.extensions().get::<VerifiedAccess>().cloned() else {
            return plain(&ApiError::unauthorized(), now);
        };
        if access.brand != *self.brand.id() || !access.scopes.iter().any(|s| s == "payments") {
            return plain(&ApiError::forbidden(), now);
        }
        let client = match self
            .storage
            .clients
            .get_client(self.brand.id(), &access.client_id)
            .await
        {
            Ok(Some(client)) => client,
            Ok(None) => return plain(&ApiError::unauthorized(), now),
            Err(e) => return plain(&store_error(&e), now),
        };
        let path = request.uri().path().to_owned();
        let Some(rest) = path.strip_prefix(&self.prefix) else {
            return plain(&ApiError::not_found(), now);
        };
        let method = request.method().clone();
        let result = match (rest.trim_start_matches('/'), &method) {
            ("", &Method::POST) => match &access.consent_id {
                // Payments need the customer's token for the consent.
                Some(consent) => {
                    let consent = consent.clone();
                    self.create(&access, &consent, &client.organisation_id, request)
                        .await
                }
                None => Err(ApiError::forbidden()),
            },
            ("", _) => Err(ApiError::method_not_allowed()),
            (id, &Method::GET) if access.consent_id.is_none() => {
                self.read(&access.client_id, id).await
            }
            (rest, &Method::PATCH)
                if access.consent_id.is_none() && rest.starts_with("consents/") =>
            {
                let consent = rest.trim_start_matches("consents/").to_owned();
                self.cancel_consent(&access, &consent, &client.organisation_id, request)
                    .await
            }
            (id, &Method::PATCH) if access.consent_id.is_none() => {
                let id = id.to_owned();
                self.cancel(&access, &id, &client.organisation_id, request)
                    .await
            }
            (_, &Method::GET | &Method::PATCH) => Err(ApiError::forbidden()),
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

    async fn read(&self, client: &ClientId, id: &str) -> Result<Outcome, ApiError> {
        let id = PaymentId::new(id).map_err(|_| ApiError::invalid_parameter("paymentId"))?;
        let record = self
            .storage
            .payments
            .get_payment(self.brand.id(), &id)
            .await
            .map_err(|e| store_error(&e))?
            .ok_or_else(ApiError::not_found)?;
        if &record.client_id != client {
            return Err(ApiError::forbidden());
        }
        let body = self.open(&record).await?;
        let (record, body) = self.refresh(record, body).await?;
        let link = self
            .brand
            .api_url(&format!("{BASE_PATH}/{id}"))
            .map_err(|_| ApiError::internal())?;
        let envelope = opus_core::Envelope::single(
            public(Self::representation(&record, &body)),
            &link,
            self.clock.now(),
        );
        Ok(Outcome {
            status: StatusCode::OK,
            body: serde_json::to_value(envelope).map_err(|_| ApiError::internal())?,
        })
    }

    /// `PATCH /pix/payments/{paymentId}`: the payer cancels a scheduled or
    /// pending payment through the initiator.
    async fn cancel<B>(
        &self,
        access: &VerifiedAccess,
        id: &str,
        organisation: &OrganisationId,
        request: Request<B>,
    ) -> Result<Outcome, ApiError>
    where
        B: http_body::Body + Send,
        B::Data: Send,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let path = format!("{BASE_PATH}/{id}");
        let claims = self
            .signed_request(access, organisation, request, &path)
            .await?;
        let by = cancelled_by(&claims)?;
        let id = PaymentId::new(id).map_err(|_| ApiError::invalid_parameter("paymentId"))?;
        let (stored, body) = self
            .cancel_one(&id, &Canceller::payer(&access.client_id, &by))
            .await?
            .ok_or_else(not_cancellable)?;
        let link = self
            .brand
            .api_url(&path)
            .map_err(|_| ApiError::internal())?;
        let envelope = opus_core::Envelope::single(
            public(Self::representation(&stored, &body)),
            &link,
            self.clock.now(),
        );
        Ok(Outcome {
            status: StatusCode::OK,
            body: serde_json::to_value(envelope).map_err(|_| ApiError::internal())?,
        })
    }

    /// `PATCH /pix/payments/consents/{consentId}`: cancels every scheduled
    /// or pending payment of the consent (idempotency key required).
    async fn cancel_consent<B>(
        &self,
        access: &VerifiedAccess,
        consent: &str,
        organisation: &OrganisationId,
        request: Request<B>,
    ) -> Result<Outcome, ApiError>
    where
        B: http_body::Body + Send,
        B::Data: Send,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let key = message::idempotency_key(request.headers())?;
        let path = format!("{BASE_PATH}/consents/{consent}");
        let claims = self
            .signed_request(access, organisation, request, &path)
            .await?;
        let by = cancelled_by(&claims)?;
        let consent = ConsentId::new(consent).map_err(|_| ApiError::not_found())?;
        let found = self.consents.find(self.brand.id(), &consent).await?;
        if found.client_id != access.client_id {
            return Err(ApiError::forbidden());
        }
        let data = claims.get("data").cloned().unwrap_or(Value::Null);
        let records = self
            .idempotent(
                access,
                &format!("payments-v4:PATCH:/pix/payments/consents/{consent}"),
                key,
                &data,
                false,
                || async {
                    let payments = self
                        .storage
                        .payments
                        .list_payments_by_consent(self.brand.id(), &consent)
                        .await
                        .map_err(|e| store_error(&e))?;
                    let mut cancelled = Vec::new();
                    for payment in payments.iter().filter(|p| p.status.is_cancellable()) {
                        if let Some(done) = self
                            .cancel_one(&payment.id, &Canceller::payer(&access.client_id, &by))
                            .await?
                        {
                            cancelled.push(done);
                        }
                    }
                    if cancelled.is_empty() {
                        return Err(not_cancellable());
                    }
                    Ok(cancelled)
                },
            )
            .await?;
        let items: Vec<Value> = records
            .iter()
            .map(|(r, _)| json!({"paymentId": r.id, "statusUpdateDateTime": r.status_updated_at}))
            .collect();
        let link = self
            .brand
            .api_url(&path)
            .map_err(|_| ApiError::internal())?;
        let envelope = opus_core::Envelope::single(items, &link, self.clock.now());
        Ok(Outcome {
            status: StatusCode::OK,
            body: serde_json::to_value(envelope).map_err(|_| ApiError::internal())?,
        })
    }

    /// Moves payment `id` to `CANC` with its `cancellation` by `by`;
    /// `None` when it cannot be cancelled (any status but SCHD or PDNG, or
    /// — unless the institution cancels it — a SCHD payment due today or
    /// earlier).
    async fn cancel_one(
        &self,
        id: &PaymentId,
        by: &Canceller<'_>,
    ) -> Result<Option<(PaymentRecord, Map<String, Value>)>, ApiError> {
        for _ in 0..3 {
            let record = self
                .storage
                .payments
                .get_payment(self.brand.id(), id)
                .await
                .map_err(|e| store_error(&e))?
                .ok_or_else(ApiError::not_found)?;
            if by.client.is_some_and(|c| c != &record.client_id) {
                return Err(ApiError::forbidden());
            }
            if !record.status.is_cancellable() {
                return Ok(None);
            }
            let now = self.clock.now();
            // A scheduled payment can be cancelled until 23:59 (Brasília)
            // of the day before its date.
            if record.status == PaymentStatus::Schd
                && by.client.is_some()
                && record
                    .scheduled_for
                    .is_some_and(|date| date <= now.date_in_brasilia())
            {
                return Ok(None);
            }
            let mut body = self.open(&record).await?;
            let reason = if record.status == PaymentStatus::Schd {
                "CANCELADO_AGENDAMENTO"
            } else {
                "CANCELADO_PENDENCIA"
            };
            body.insert(
                "cancellation".to_owned(),
                json!({
                    "reason": reason,
                    "cancelledFrom": if by.client.is_some() { "INICIADORA" } else { "DETENTORA" },
                    "cancelledAt": now,
                    "cancelledBy": {"document": {"identification": by.document, "rel": by.rel}},
                }),
            );
            let updated = PaymentRecord {
                status: PaymentStatus::Canc,
                status_updated_at: now,
                body: self
                    .sealer
                    .seal_json(&self.seal_context(&record.id), &body)
                    .map_err(|_| ApiError::internal())?,
                ..record.clone()
            };
            let notice = notice(
                &record.brand,
                &record.client_id,
                payment_path(&record.id, &body),
                now,
            )?;
            match self
                .storage
                .payments
                .update_payment(&updated, record.version, &[notice])
                .await
            {
                Ok(stored) => {
                    if let Err(e) = self.spi.cancel(self.brand.id(), &stored.id).await {
                        tracing::warn!(error = %e, payment = %stored.id, "Pix connector cancellation failed");
                    }
                    return Ok(Some((stored, body)));
                }
                // Moved meanwhile (settled?): look again.
                Err(StoreError::Conflict) => {}
                Err(e) => return Err(store_error(&e)),
            }
        }
        Err(ApiError::internal())
    }

    /// A signed request body addressed to `path` (under the API base).
    async fn signed_request<B>(
        &self,
        access: &VerifiedAccess,
        organisation: &OrganisationId,
        request: Request<B>,
        path: &str,
    ) -> Result<Map<String, Value>, ApiError>
    where
        B: http_body::Body + Send,
        B::Data: Send,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let audience = self.brand.api_url(path).map_err(|_| ApiError::internal())?;
        message::read_signed_request(
            request,
            MAX_BODY,
            self.directory.as_ref(),
            self.storage.replay.as_ref(),
            RequestContext {
                brand: self.brand.id(),
                client: &access.client_id,
                organisation,
                audience: audience.as_str(),
                now: self.clock.now(),
            },
        )
        .await
    }

    async fn create<B>(
        &self,
        access: &VerifiedAccess,
        consent_id: &ConsentId,
        organisation: &OrganisationId,
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
        let claims = self
            .signed_request(access, organisation, request, BASE_PATH)
            .await?;
        let data = claims
            .get("data")
            .and_then(Value::as_array)
            .filter(|d| !d.is_empty())
            .ok_or_else(|| {
                unprocessable(
                    "PARAMETRO_NAO_INFORMADO",
                    "data deve ser uma lista de pagamentos.",
                )
            })?;
        let records = self
            .idempotent(
                access,
                "payments-v4:POST:/pix/payments",
                key,
                &Value::Array(data.clone()),
                true,
                || self.consume(access, consent_id, organisation, data),
            )
            .await?;
        self.created(&records)
    }

    /// Runs `work` once per idempotency key and `data` (24 hours): a
    /// repeat answers the payments of the first run in their current state;
    /// another `data` under the key is 422 `ERRO_IDEMPOTENCIA`; a run in
    /// flight elsewhere is 429. A failed run gives its key back, except a
    /// business refusal (422) when `keep_refusals`: payment creation keeps
    /// the key and answers the same refusal to a repeat.
    async fn idempotent<F, Fut>(
        &self,
        access: &VerifiedAccess,
        operation: &str,
        key: opus_core::IdempotencyKey,
        data: &Value,
        keep_refusals: bool,
        work: F,
    ) -> Result<Vec<(PaymentRecord, Map<String, Value>)>, ApiError>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<Vec<(PaymentRecord, Map<String, Value>)>, ApiError>>,
    {
        let now = self.clock.now();
        let scope = IdempotencyScope {
            brand: self.brand.id().clone(),
            client_id: access.client_id.clone(),
            operation: operation.to_owned(),
            key,
        };
        // serde_json maps are ordered: the same `data` gives the same bytes.
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
                if stored.status == 422 {
                    let refusal: Value = self
                        .sealer
                        .open_json(&context, &stored.body)
                        .await
                        .map_err(|_| ApiError::internal())?;
                    let text = |name: &str| {
                        refusal
                            .get(name)
                            .and_then(Value::as_str)
                            .unwrap_or_default()
                            .to_owned()
                    };
                    return Err(ApiError::unprocessable(
                        text("code"),
                        text("title"),
                        text("detail"),
                    ));
                }
                let ids: Vec<String> = self
                    .sealer
                    .open_json(&context, &stored.body)
                    .await
                    .map_err(|_| ApiError::internal())?;
                let mut records = Vec::new();
                for id in ids {
                    let id = PaymentId::new(id).map_err(|_| ApiError::internal())?;
                    if let Some(record) = self
                        .storage
                        .payments
                        .get_payment(self.brand.id(), &id)
                        .await
                        .map_err(|e| store_error(&e))?
                    {
                        let body = self.open(&record).await?;
                        records.push((record, body));
                    }
                }
                return Ok(records);
            }
            IdempotencyBegin::Mismatch => {
                return Err(unprocessable(
                    "ERRO_IDEMPOTENCIA",
                    "A chave de idempotência já foi usada com outro conteúdo.",
                ));
            }
            _ => return Err(ApiError::too_many_requests(Duration::from_secs(1))),
        }
        match work().await {
            Ok(records) => {
                let ids: Vec<String> = records.iter().map(|(r, _)| r.id.to_string()).collect();
                let sealed = self
                    .sealer
                    .seal_json(&context, &ids)
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
                Ok(records)
            }
            Err(e) if keep_refusals && e.kind() == opus_core::ApiErrorKind::Unprocessable => {
                let body =
                    serde_json::to_value(e.to_body(now)).map_err(|_| ApiError::internal())?;
                let refusal = body.pointer("/errors/0").cloned().unwrap_or(Value::Null);
                let sealed = self
                    .sealer
                    .seal_json(&context, &refusal)
                    .map_err(|_| ApiError::internal())?;
                if let Err(complete) = self
                    .storage
                    .idempotency
                    .complete(
                        &scope,
                        fingerprint,
                        &StoredResponse {
                            status: 422,
                            body: sealed,
                        },
                    )
                    .await
                {
                    tracing::warn!(error = %complete, "idempotency record not completed");
                }
                Err(e)
            }
            Err(e) => {
                if let Err(release) = self.storage.idempotency.release(&scope).await {
                    tracing::warn!(error = %release, "idempotency key not released");
                }
                Err(e)
            }
        }
    }

    fn created(
        &self,
        records: &[(PaymentRecord, Map<String, Value>)],
    ) -> Result<Outcome, ApiError> {
        let items: Vec<Value> = records
            .iter()
            .map(|(r, b)| public(Self::representation(r, b)))
            .collect();
        let link = self
            .brand
            .api_url(BASE_PATH)
            .map_err(|_| ApiError::internal())?;
        let envelope = opus_core::Envelope::single(items, &link, self.clock.now());
        Ok(Outcome {
            status: StatusCode::CREATED,
            body: serde_json::to_value(envelope).map_err(|_| ApiError::internal())?,
        })
    }

    /// Checks the payments against the consent, creates them consuming the
    /// consent in one store operation, and submits the immediate ones.
    async fn consume(
        &self,
        access: &VerifiedAccess,
        consent_id: &ConsentId,
        organisation: &OrganisationId,
        data: &[Value],
    ) -> Result<Vec<(PaymentRecord, Map<String, Value>)>, ApiError> {
        let consent = self.consents.find(self.brand.id(), consent_id).await?;
        match consent.status {
            ConsentStatus::Authorised => {}
            ConsentStatus::PartiallyAccepted => {
                return Err(unprocessable(
                    "CONSENTIMENTO_PENDENTE_AUTORIZACAO",
                    "O consentimento aguarda outras autorizações.",
                ));
            }
            _ => {
                return Err(unprocessable(
                    "CONSENTIMENTO_INVALIDO",
                    "O consentimento não está autorizado.",
                ));
            }
        }
        if consent.client_id != access.client_id {
            return Err(ApiError::forbidden());
        }
        let payment = consent
            .request
            .get("payment")
            .cloned()
            .unwrap_or(Value::Null);
        if data.len() != occurrences(&payment) {
            return Err(unprocessable(
                "PARAMETRO_INVALIDO",
                "A quantidade de pagamentos não corresponde ao consentimento.",
            ));
        }
        let debtor_account = consent
            .request
            .get("debtorAccount")
            .cloned()
            .ok_or_else(|| {
                unprocessable("NAO_INFORMADO", "O consentimento não tem conta de origem.")
            })?;
        let now = self.clock.now();
        let scheduled = payment.get("schedule").is_some();
        let mut records = Vec::new();
        for item in data {
            let body = self.check_item(&consent, &payment, item, scheduled)?;
            let mut body = body;
            body.insert("debtorAccount".to_owned(), debtor_account.clone());
            body.insert("consentId".to_owned(), json!(consent.id));
            body.insert(
                "initiatorOrganisation".to_owned(),
                json!(organisation.to_string()),
            );
            body.insert("debtor".to_owned(), json!(consent.logged_user.as_str()));
            if let Some(cnpj) = &consent.business_entity {
                body.insert("businessEntity".to_owned(), json!(cnpj.as_str()));
            }
            let id = PaymentId::new(uuid::Uuid::new_v4().to_string())
                .map_err(|_| ApiError::internal())?;
            body.insert("paymentId".to_owned(), json!(id));
            let scheduled_for = if scheduled {
                body.get("endToEndId")
                    .and_then(Value::as_str)
                    .and_then(end_to_end_date)
            } else {
                None
            };
            records.push(PaymentRecord {
                brand: self.brand.id().clone(),
                id: id.clone(),
                consent_id: consent.id.clone(),
                client_id: access.client_id.clone(),
                status: if scheduled {
                    PaymentStatus::Schd
                } else {
                    PaymentStatus::Rcvd
                },
                version: 0,
                created_at: now,
                status_updated_at: now,
                scheduled_for,
                body: self
                    .sealer
                    .seal_json(&self.seal_context(&id), &body)
                    .map_err(|_| ApiError::internal())?,
            });
        }
        // Consumed in the same store operation that creates the payments,
        // with the webhook notices of both.
        let mut notices = vec![consent.notice(now)?];
        for record in &records {
            notices.push(notice(
                self.brand.id(),
                &access.client_id,
                payment_path(&record.id, &Map::new()),
                now,
            )?);
        }
        let mut consumed: PaymentConsent = consent.clone();
        consumed.status = ConsentStatus::Consumed;
        consumed.status_update_date_time = now;
        let created = match self
            .storage
            .payments
            .create_consuming(
                &consumed.seal(&self.sealer)?,
                consent.version,
                &records,
                &notices,
            )
            .await
        {
            Ok(created) => created,
            Err(StoreError::Conflict) => {
                return Err(unprocessable(
                    "CONSENTIMENTO_INVALIDO",
                    "O consentimento já foi consumido.",
                ));
            }
            Err(e) => return Err(store_error(&e)),
        };
        let mut out = Vec::new();
        for record in created {
            let body = self.open(&record).await?;
            if record.status == PaymentStatus::Rcvd {
                let order = self.order(&record, &body, Some(access.interaction_id))?;
                out.push(self.submit(record, body, &order).await?);
            } else {
                out.push((record, body));
            }
        }
        Ok(out)
    }

    /// One requested payment against its consent; the stored body.
    fn check_item(
        &self,
        consent: &PaymentConsent,
        payment: &Value,
        item: &Value,
        scheduled: bool,
    ) -> Result<Map<String, Value>, ApiError> {
        let diverges = |detail| unprocessable("PAGAMENTO_DIVERGENTE_CONSENTIMENTO", detail);
        let object = item
            .as_object()
            .ok_or_else(|| unprocessable("PARAMETRO_INVALIDO", "Pagamento inválido."))?;
        let end_to_end = object
            .get("endToEndId")
            .and_then(Value::as_str)
            .ok_or_else(|| unprocessable("PARAMETRO_NAO_INFORMADO", "endToEndId não informado."))?;
        let date = end_to_end_date(end_to_end)
            .ok_or_else(|| unprocessable("PARAMETRO_INVALIDO", "endToEndId inválido."))?;
        if !scheduled && date != self.clock.now().date_in_brasilia() {
            return Err(unprocessable(
                "PARAMETRO_INVALIDO",
                "O endToEndId de um pagamento imediato é de hoje.",
            ));
        }
        let details = payment.get("details").cloned().unwrap_or(Value::Null);
        if object.get("localInstrument") != details.get("localInstrument") {
            return Err(diverges("localInstrument diverge do consentimento."));
        }
        if object.get("payment")
            != Some(&json!({
                "amount": payment.get("amount").cloned().unwrap_or(Value::Null),
                "currency": payment.get("currency").cloned().unwrap_or(Value::Null),
            }))
        {
            return Err(diverges("Valor ou moeda divergem do consentimento."));
        }
        if object.get("creditorAccount") != details.get("creditorAccount") {
            return Err(diverges("creditorAccount diverge do consentimento."));
        }
        if details.get("proxy").is_some() && object.get("proxy") != details.get("proxy") {
            return Err(diverges("proxy diverge do consentimento."));
        }
        if object.get("qrCode") != details.get("qrCode") {
            return Err(diverges("qrCode diverge do consentimento."));
        }
        if object
            .get("consentId")
            .is_some_and(|c| c.as_str() != Some(consent.id.as_str()))
        {
            return Err(diverges("consentId diverge do consentimento."));
        }
        // `transactionIdentification` (txid) belongs to payments the
        // creditor initiated or QR codes, never to MANU or DICT.
        if object.contains_key("transactionIdentification")
            && matches!(
                object.get("localInstrument").and_then(Value::as_str),
                Some("MANU" | "DICT")
            )
        {
            return Err(unprocessable(
                "DETALHE_PAGAMENTO_INVALIDO",
                "transactionIdentification não se aplica a MANU ou DICT.",
            ));
        }
        if !object
            .get("cnpjInitiator")
            .and_then(Value::as_str)
            .is_some_and(|c| c.len() == 14 && Cnpj::parse(c).is_ok())
        {
            return Err(unprocessable(
                "PARAMETRO_INVALIDO",
                "cnpjInitiator inválido.",
            ));
        }
        let mut body = Map::new();
        for name in [
            "endToEndId",
            "localInstrument",
            "payment",
            "creditorAccount",
            "remittanceInformation",
            "qrCode",
            "proxy",
            "cnpjInitiator",
            "transactionIdentification",
            "ibgeTownCode",
            "authorisationFlow",
        ] {
            if let Some(value) = object.get(name) {
                body.insert(name.to_owned(), value.clone());
            }
        }
        Ok(body)
    }
}

/// Who cancels a payment: the payer or the creditor through the
/// initiator's `client`, or the institution itself (`client` `None`).
struct Canceller<'a> {
    client: Option<&'a ClientId>,
    document: &'a str,
    rel: &'a str,
}

impl<'a> Canceller<'a> {
    /// The payer (CPF `document`) through `client`.
    fn payer(client: &'a ClientId, document: &'a str) -> Self {
        Self {
            client: Some(client),
            document,
            rel: "CPF",
        }
    }
}

/// The webhook notice of a change of `path` for `client` at `now`.
fn notice(
    brand: &opus_core::BrandId,
    client: &ClientId,
    path: String,
    now: Timestamp,
) -> Result<opus_core::store::OutboxMessage, ApiError> {
    webhook::WebhookNotice {
        client_id: client.clone(),
        path,
        timestamp: now,
    }
    .message(brand)
    .map_err(|_| ApiError::internal())
}

/// The resource path of a payment in webhook notices: a Pix payment or a
/// recurring Pix payment (whose body carries `recurringPaymentId`).
fn payment_path(id: &PaymentId, body: &Map<String, Value>) -> String {
    if body.contains_key("recurringPaymentId") {
        format!("automatic-payments/v2/pix/recurring-payments/{id}")
    } else {
        format!("payments/v4/pix/payments/{id}")
    }
}

fn not_cancellable() -> ApiError {
    ApiError::unprocessable(
        "PAGAMENTO_NAO_PERMITE_CANCELAMENTO",
        "Pagamento não permite cancelamento.",
        "Somente pagamentos agendados ou pendentes podem ser cancelados.",
    )
}

/// The payer's CPF of a cancellation request (`data.status` must be `CANC`).
fn cancelled_by(claims: &Map<String, Value>) -> Result<String, ApiError> {
    let data = claims.get("data").cloned().unwrap_or(Value::Null);
    if data.get("status").and_then(Value::as_str) != Some("CANC") {
        return Err(unprocessable(
            "PARAMETRO_INVALIDO",
            "Somente o status CANC é aceito.",
        ));
    }
    data.pointer("/cancellation/cancelledBy/document/identification")
        .and_then(Value::as_str)
        .filter(|c| c.len() == 11 && opus_core::Cpf::parse(c).is_ok())
        .map(str::to_owned)
        .ok_or_else(|| unprocessable("PARAMETRO_INVALIDO", "cancelledBy inválido."))
}

/// The stored body without the fields kept only for the connector.
fn public(mut item: Value) -> Value {
    if let Some(object) = item.as_object_mut() {
        for internal in [
            "initiatorOrganisation",
            "debtor",
            "businessEntity",
            "qrCode",
        ] {
            object.remove(internal);
        }
    }
    item
}

opus_fapi::http_service!(PixPaymentsApi, |api| api.inner.clone(), |inner, request| {
    inner.handle(request).await
});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn end_to_end_ids_carry_their_date() {
        assert_eq!(
            end_to_end_date("E9040088820210128000800123873170"),
            Date::parse("2021-01-28").ok()
        );
        assert!(end_to_end_date("E90400888202101280008001238731").is_none());
        assert!(end_to_end_date("X9040088820210128000800123873170").is_none());
        assert!(end_to_end_date("E9040088820211328000800123873170").is_none());
        assert!(end_to_end_date("E9040088820210128250800123873170").is_none());
    }
}
