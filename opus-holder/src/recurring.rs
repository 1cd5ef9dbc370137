//! Recurring Pix payments (Automatic Payments API 2.0.0):
//! `POST /pix/recurring-payments` under an authorised recurring consent,
//! `GET /pix/recurring-payments?recurringConsentId=…`,
//! `GET /pix/recurring-payments/{recurringPaymentId}` and `PATCH` to cancel.
//!
//! A recurring consent is not consumed by a payment: each payment bumps the
//! consent's version in the same store operation that creates it, so two
//! payments racing for the consent's last allowance are serialised and the
//! limits hold on any number of replicas:
//!
//! - sweeping: `transactionLimit`, `totalAllowedAmount` and the periodic
//!   limits (day, Sunday-to-Saturday week, calendar month and year, in
//!   Brasília), counting every payment not `RJCT` or `CANC`; the creditor
//!   must be one of the consent's; the payment is immediate;
//! - Pix Automático: `paymentReference`, the fixed or variable amount,
//!   retries (`originalRecurringPaymentId`) only when the consent accepts
//!   them, of a rejected payment, at most three; the payment is
//!   scheduled for its `date`;
//! - any date after the consent's expiration is `FORA_PRAZO_PERMITIDO`.
//!
//! A revoked consent's payments due after the day following the revocation
//! are cancelled by the institution when they come due
//! ([`crate::PixPaymentsApi::settle_due`]).

use std::sync::Arc;

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use http_body_util::Full;
use opus_consent::RecurringConsents;
use opus_consent::recurring::{Period, RecurringConsent, RecurringProduct};
use opus_core::consent::ConsentStatus;
use opus_core::money::Amount;
use opus_core::payment::PaymentStatus;
use opus_core::store::{PaymentRecord, StoreError};
use opus_core::{ApiError, Cnpj, ConsentId, Cpf, Date, OrganisationId, PaymentId, Timestamp};
use opus_fapi::server::guard::VerifiedAccess;
use serde_json::{Map, Value, json};

use super::{
    Canceller, Inner, Outcome, PixPaymentsApi, end_to_end_date, not_cancellable, notice,
    payment_path, public, store_error, unprocessable,
};

/// Where the API lives under the brand's API base URL.
pub const BASE_PATH: &str = "open-banking/automatic-payments/v2/pix/recurring-payments";

/// How many retries of one rejected Pix Automático payment are accepted.
pub const MAX_RETRIES: usize = 3;

/// How many times a payment re-reads its consent when other payments of the
/// same consent win the race to the store.
const CONTENDED_ATTEMPTS: usize = 32;

/// The recurring Pix payments endpoints of one brand, sharing the store,
/// connector and keys of its [`PixPaymentsApi`]; see the module docs.
#[derive(Clone)]
pub struct RecurringPixPaymentsApi {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for RecurringPixPaymentsApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecurringPixPaymentsApi")
            .field("brand", self.inner.brand.id())
            .finish_non_exhaustive()
    }
}

impl PixPaymentsApi {
    /// Offers automatic payments with `consents`: the Pix payments API and
    /// [`PixPaymentsApi::recurring`] then share one store, connector and
    /// scheduler ([`PixPaymentsApi::settle_due`] settles both kinds).
    pub fn with_recurring(self, consents: RecurringConsents) -> Self {
        let inner = &self.inner;
        Self {
            inner: Arc::new(Inner {
                brand: inner.brand.clone(),
                consents: inner.consents.clone(),
                storage: inner.storage.clone(),
                sealer: inner.sealer.clone(),
                clock: inner.clock.clone(),
                directory: inner.directory.clone(),
                keys: inner.keys.clone(),
                spi: inner.spi.clone(),
                prefix: inner.prefix.clone(),
                recurring: Some(consents),
                recurring_prefix: inner.recurring_prefix.clone(),
            }),
        }
    }

    /// The recurring payments endpoints; `None` unless
    /// [`PixPaymentsApi::with_recurring`] configured them.
    pub fn recurring(&self) -> Option<RecurringPixPaymentsApi> {
        self.inner
            .recurring
            .as_ref()
            .map(|_| RecurringPixPaymentsApi {
                inner: self.inner.clone(),
            })
    }
}

fn diverges(detail: &'static str) -> ApiError {
    unprocessable("PAGAMENTO_DIVERGENTE_CONSENTIMENTO", detail)
}

fn str_at<'a>(value: &'a Value, pointer: &str) -> Option<&'a str> {
    value.pointer(pointer).and_then(Value::as_str)
}

/// A payment's amount and date, as the limits count them.
fn counted(record: &PaymentRecord, body: &Map<String, Value>) -> Option<(Amount, Date)> {
    if matches!(record.status, PaymentStatus::Rjct | PaymentStatus::Canc) {
        return None;
    }
    let amount = body
        .get("payment")
        .and_then(|p| p.get("amount"))
        .and_then(Value::as_str)
        .and_then(|a| Amount::parse(a).ok())?;
    Some((amount, record.scheduled_for?))
}

impl Inner {
    fn recurring_consents(&self) -> Result<&RecurringConsents, ApiError> {
        self.recurring.as_ref().ok_or_else(ApiError::not_found)
    }

    async fn handle_recurring<B>(&self, request: Request<B>) -> Response<Full<Bytes>>
    where
        B: http_body::Body + Send,
        B::Data: Send,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let now = self.clock.now();
        let plain = |e: &ApiError| e.to_http_response(now).map(|b| Full::new(Bytes::from(b)));
        let Some(access) = request.extensions().get::<VerifiedAccess>().cloned() else {
            return plain(&ApiError::unauthorized());
        };
        if access.brand != *self.brand.id()
            || !access.scopes.iter().any(|s| s == "recurring-payments")
        {
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
        let Some(rest) = path.strip_prefix(&self.recurring_prefix) else {
            return plain(&ApiError::not_found());
        };
        let query = request.uri().query().unwrap_or("").to_owned();
        let method = request.method().clone();
        let organisation = client.organisation_id;
        let result = match (rest.trim_start_matches('/'), &method) {
            ("", &Method::POST) => match &access.consent_id {
                Some(consent) => {
                    let consent = consent.clone();
                    self.create_recurring(&access, &consent, &organisation, request)
                        .await
                }
                None => Err(ApiError::forbidden()),
            },
            ("", &Method::GET) => self.list_recurring(&access, &query).await,
            ("", _) => Err(ApiError::method_not_allowed()),
            (id, &Method::GET) => self.read_recurring(&access, id).await,
            (id, &Method::PATCH) if access.consent_id.is_none() => {
                let id = id.to_owned();
                self.cancel_recurring(&access, &id, &organisation, request)
                    .await
            }
            (_, &Method::PATCH) => Err(ApiError::forbidden()),
            _ => Err(ApiError::method_not_allowed()),
        };
        opus_fapi::message::respond(
            self.keys.as_ref(),
            result.map(|o| (o.status, o.body)),
            self.brand.organisation_id(),
            &organisation,
            now,
        )
        .await
    }

    fn recurring_envelope(
        &self,
        status: StatusCode,
        path: &str,
        data: Value,
    ) -> Result<Outcome, ApiError> {
        let link = self.brand.api_url(path).map_err(|_| ApiError::internal())?;
        let envelope = opus_core::Envelope::single(data, &link, self.clock.now());
        Ok(Outcome {
            status,
            body: serde_json::to_value(envelope).map_err(|_| ApiError::internal())?,
        })
    }

    /// A recurring payment of the calling client: another client's is 400
    /// (the specification's answer, so as not to reveal it exists).
    async fn own_recurring(
        &self,
        access: &VerifiedAccess,
        id: &str,
    ) -> Result<(PaymentRecord, Map<String, Value>), ApiError> {
        let id =
            PaymentId::new(id).map_err(|_| ApiError::invalid_parameter("recurringPaymentId"))?;
        let record = self
            .storage
            .payments
            .get_payment(self.brand.id(), &id)
            .await
            .map_err(|e| store_error(&e))?
            .ok_or_else(ApiError::not_found)?;
        let body = self.open(&record).await?;
        if !body.contains_key("recurringPaymentId") {
            return Err(ApiError::not_found());
        }
        if record.client_id != access.client_id {
            return Err(ApiError::invalid_parameter("recurringPaymentId"));
        }
        Ok((record, body))
    }

    async fn read_recurring(&self, access: &VerifiedAccess, id: &str) -> Result<Outcome, ApiError> {
        let (record, body) = self.own_recurring(access, id).await?;
        let (record, body) = self.refresh(record, body).await?;
        self.recurring_envelope(
            StatusCode::OK,
            &format!("{BASE_PATH}/{}", record.id),
            public(Self::representation(&record, &body)),
        )
    }

    async fn list_recurring(
        &self,
        access: &VerifiedAccess,
        query: &str,
    ) -> Result<Outcome, ApiError> {
        let mut consent = None;
        let mut start = None;
        let mut end = None;
        let mut original = None;
        for (name, value) in url::form_urlencoded::parse(query.as_bytes()) {
            match name.as_ref() {
                "recurringConsentId" => {
                    consent = Some(
                        ConsentId::new(value.as_ref())
                            .map_err(|_| ApiError::invalid_parameter("recurringConsentId"))?,
                    );
                }
                "startDate" => {
                    start = Some(
                        Date::parse(&value)
                            .map_err(|_| ApiError::invalid_parameter("startDate"))?,
                    );
                }
                "endDate" => {
                    end = Some(
                        Date::parse(&value).map_err(|_| ApiError::invalid_parameter("endDate"))?,
                    );
                }
                "originalRecurringPaymentId" => original = Some(value.into_owned()),
                _ => {}
            }
        }
        let consent = consent.ok_or_else(|| ApiError::missing_parameter("recurringConsentId"))?;
        if start.zip(end).is_some_and(|(s, e)| s > e) {
            return Err(ApiError::invalid_parameter("endDate"));
        }
        let found = self
            .recurring_consents()?
            .find(self.brand.id(), &consent)
            .await?;
        if found.client_id != access.client_id {
            return Err(ApiError::invalid_parameter("recurringConsentId"));
        }
        let records = self
            .storage
            .payments
            .list_payments_by_consent(self.brand.id(), &consent)
            .await
            .map_err(|e| store_error(&e))?;
        let mut items = Vec::new();
        for record in records {
            let date = record.scheduled_for;
            if start.is_some_and(|s| date.is_none_or(|d| d < s))
                || end.is_some_and(|e| date.is_none_or(|d| d > e))
            {
                continue;
            }
            let body = self.open(&record).await?;
            if original.as_deref().is_some_and(|o| {
                body.get("originalRecurringPaymentId")
                    .and_then(Value::as_str)
                    != Some(o)
            }) {
                continue;
            }
            items.push(public(Self::representation(&record, &body)));
        }
        let mut path = format!("{BASE_PATH}?recurringConsentId={consent}");
        if !query.is_empty() {
            path = format!("{BASE_PATH}?{query}");
        }
        self.recurring_envelope(StatusCode::OK, &path, Value::Array(items))
    }

    async fn create_recurring<B>(
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
        if !opus_fapi::message::is_signed_body(request.headers()) {
            return Err(ApiError::unsupported_media_type());
        }
        let key = opus_fapi::message::idempotency_key(request.headers())?;
        let claims = self
            .signed_request(access, organisation, request, BASE_PATH)
            .await?;
        let data = claims
            .get("data")
            .filter(|d| d.is_object())
            .cloned()
            .ok_or_else(|| unprocessable("PARAMETRO_NAO_INFORMADO", "data não informado."))?;
        let records = self
            .idempotent(
                access,
                "automatic-payments-v2:POST:/pix/recurring-payments",
                key,
                &data,
                true,
                || async {
                    self.pay_recurring(access, consent_id, organisation, &data)
                        .await
                        .map(|created| vec![created])
                },
            )
            .await?;
        let (record, body) = records.into_iter().next().ok_or_else(ApiError::internal)?;
        self.recurring_envelope(
            StatusCode::CREATED,
            BASE_PATH,
            public(Self::representation(&record, &body)),
        )
    }

    /// Checks `data` against the consent and its payments, then creates the
    /// payment bumping the consent's version (retrying when other payments
    /// of the consent got there first), and submits it when it is due today.
    async fn pay_recurring(
        &self,
        access: &VerifiedAccess,
        consent_id: &ConsentId,
        organisation: &OrganisationId,
        data: &Value,
    ) -> Result<(PaymentRecord, Map<String, Value>), ApiError> {
        let consents = self.recurring_consents()?;
        for _ in 0..CONTENDED_ATTEMPTS {
            let consent = consents.find(self.brand.id(), consent_id).await?;
            match consent.status {
                ConsentStatus::Authorised => {}
                ConsentStatus::PartiallyAccepted | ConsentStatus::AwaitingAuthorisation => {
                    return Err(unprocessable(
                        "CONSENTIMENTO_PENDENTE_AUTORIZACAO",
                        "O consentimento não está autorizado.",
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
            let existing = self
                .storage
                .payments
                .list_payments_by_consent(self.brand.id(), consent_id)
                .await
                .map_err(|e| store_error(&e))?;
            let mut history = Vec::new();
            for record in existing {
                let body = self.open(&record).await?;
                history.push((record, body));
            }
            let (mut body, date) = self.check_recurring(&consent, data, &history)?;
            let now = self.clock.now();
            let id = PaymentId::new(uuid::Uuid::new_v4().to_string())
                .map_err(|_| ApiError::internal())?;
            body.insert("recurringPaymentId".to_owned(), json!(id));
            body.insert("recurringConsentId".to_owned(), json!(consent.id));
            body.insert(
                "initiatorOrganisation".to_owned(),
                json!(organisation.to_string()),
            );
            body.insert("debtor".to_owned(), json!(consent.logged_user.as_str()));
            if let Some(cnpj) = &consent.business_entity {
                body.insert("businessEntity".to_owned(), json!(cnpj.as_str()));
            }
            if let Some(account) = consent.request.get("debtorAccount") {
                body.insert("debtorAccount".to_owned(), account.clone());
            } else {
                return Err(unprocessable(
                    "NAO_INFORMADO",
                    "O consentimento não tem conta de origem.",
                ));
            }
            let scheduled = date > now.date_in_brasilia();
            let record = PaymentRecord {
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
                scheduled_for: Some(date),
                body: self
                    .sealer
                    .seal_json(&self.seal_context(&id), &body)
                    .map_err(|_| ApiError::internal())?,
            };
            let notices = [notice(
                self.brand.id(),
                &access.client_id,
                payment_path(&id, &body),
                now,
            )?];
            // The consent is unchanged but for its version: the token that
            // serialises payments of one consent across replicas.
            let sealed = consent.seal(&self.sealer)?;
            match self
                .storage
                .payments
                .create_consuming(&sealed, consent.version, &[record], &notices)
                .await
            {
                Ok(created) => {
                    let record = created.into_iter().next().ok_or_else(ApiError::internal)?;
                    if record.status == PaymentStatus::Rcvd {
                        let mut order = self.order(&record, &body, Some(access.interaction_id))?;
                        // Due today: settled at once.
                        order.scheduled_for = None;
                        return self.submit(record, body, &order).await;
                    }
                    return Ok((record, body));
                }
                // Another payment of the consent got there first: the limits
                // are counted again with it.
                Err(StoreError::Conflict) => continue,
                Err(e) => return Err(store_error(&e)),
            }
        }
        Err(ApiError::too_many_requests(std::time::Duration::from_secs(
            1,
        )))
    }

    /// One requested recurring payment against its consent and the
    /// consent's payments so far; the stored body and the payment date.
    fn check_recurring(
        &self,
        consent: &RecurringConsent,
        data: &Value,
        history: &[(PaymentRecord, Map<String, Value>)],
    ) -> Result<(Map<String, Value>, Date), ApiError> {
        let invalid = |detail| unprocessable("PARAMETRO_INVALIDO", detail);
        let object = data.as_object().ok_or_else(|| invalid("data inválido."))?;
        if object
            .get("recurringConsentId")
            .is_some_and(|c| c.as_str() != Some(consent.id.as_str()))
        {
            return Err(diverges("recurringConsentId diverge do consentimento."));
        }
        let date = str_at(data, "/date")
            .and_then(|d| Date::parse(d).ok())
            .ok_or_else(|| unprocessable("PARAMETRO_NAO_INFORMADO", "date não informado."))?;
        let end_to_end = str_at(data, "/endToEndId")
            .ok_or_else(|| unprocessable("PARAMETRO_NAO_INFORMADO", "endToEndId não informado."))?;
        if end_to_end_date(end_to_end) != Some(date) {
            return Err(invalid("O endToEndId não corresponde à data do pagamento."));
        }
        let now = self.clock.now();
        let today = now.date_in_brasilia();
        if date < today {
            return Err(unprocessable(
                "FORA_PRAZO_PERMITIDO",
                "A data do pagamento já passou.",
            ));
        }
        if consent
            .expiration
            .is_some_and(|e| date > e.date_in_brasilia())
        {
            return Err(unprocessable(
                "FORA_PRAZO_PERMITIDO",
                "A data do pagamento é posterior à expiração do consentimento.",
            ));
        }
        if str_at(data, "/payment/currency") != Some("BRL") {
            return Err(invalid("currency inválido."));
        }
        let amount = str_at(data, "/payment/amount")
            .and_then(|a| Amount::parse(a).ok())
            .filter(|a| a.cents() > 0)
            .ok_or_else(|| unprocessable("VALOR_INVALIDO", "amount inválido."))?;
        if !str_at(data, "/cnpjInitiator").is_some_and(|c| c.len() == 14 && Cnpj::parse(c).is_ok())
        {
            return Err(invalid("cnpjInitiator inválido."));
        }
        let document = str_at(data, "/document/identification").unwrap_or("");
        let document_ok = match str_at(data, "/document/rel") {
            Some("CPF") => Cpf::parse(document).is_ok(),
            Some("CNPJ") => document.len() == 14 && Cnpj::parse(document).is_ok(),
            _ => false,
        };
        if !document_ok {
            return Err(invalid("document inválido."));
        }
        if !consent.creditors().iter().any(|c| c == document) {
            return Err(diverges(
                "O recebedor não é um dos recebedores do consentimento.",
            ));
        }
        if !data.get("creditorAccount").is_some_and(Value::is_object) {
            return Err(unprocessable(
                "PARAMETRO_NAO_INFORMADO",
                "creditorAccount não informado.",
            ));
        }
        match (str_at(data, "/localInstrument"), data.get("proxy")) {
            (Some("MANU"), None) | (Some("DICT" | "INIC"), Some(_)) => {}
            (Some("MANU" | "DICT" | "INIC"), _) => {
                return Err(unprocessable(
                    "DETALHE_PAGAMENTO_INVALIDO",
                    "proxy não corresponde ao localInstrument.",
                ));
            }
            _ => return Err(invalid("localInstrument inválido.")),
        }
        if data.get("transactionIdentification").is_some()
            && matches!(str_at(data, "/localInstrument"), Some("MANU" | "DICT"))
        {
            return Err(unprocessable(
                "DETALHE_PAGAMENTO_INVALIDO",
                "transactionIdentification não se aplica a MANU ou DICT.",
            ));
        }
        let counted: Vec<(Amount, Date)> =
            history.iter().filter_map(|(r, b)| counted(r, b)).collect();
        let limits = consent.limits();
        match consent.product() {
            RecurringProduct::Sweeping => {
                if date != today {
                    return Err(unprocessable(
                        "FORA_PRAZO_PERMITIDO",
                        "Transferências inteligentes são imediatas.",
                    ));
                }
                let start = str_at(consent.configuration(), "/startDateTime")
                    .and_then(|s| Timestamp::parse(s).ok());
                if start.is_some_and(|s| now < s) {
                    return Err(unprocessable(
                        "FORA_PRAZO_PERMITIDO",
                        "O consentimento ainda não começou a valer.",
                    ));
                }
                check_limits(amount, date, &limits, &counted)?;
            }
            RecurringProduct::Automatic => {
                self.check_automatic(consent, data, amount, history)?;
            }
            _ => {
                return Err(unprocessable(
                    "CONSENTIMENTO_INVALIDO",
                    "Produto não habilitado.",
                ));
            }
        }
        let mut body = Map::new();
        for name in [
            "endToEndId",
            "date",
            "payment",
            "creditorAccount",
            "remittanceInformation",
            "cnpjInitiator",
            "ibgeTownCode",
            "authorisationFlow",
            "localInstrument",
            "proxy",
            "transactionIdentification",
            "document",
            "originalRecurringPaymentId",
            "paymentReference",
        ] {
            if let Some(value) = object.get(name) {
                body.insert(name.to_owned(), value.clone());
            }
        }
        Ok((body, date))
    }

    /// Pix Automático: the reference, the amount and the retries.
    fn check_automatic(
        &self,
        consent: &RecurringConsent,
        data: &Value,
        amount: Amount,
        history: &[(PaymentRecord, Map<String, Value>)],
    ) -> Result<(), ApiError> {
        let config = consent.configuration();
        let reference = str_at(data, "/paymentReference").ok_or_else(|| {
            unprocessable(
                "DETALHE_PAGAMENTO_INVALIDO",
                "paymentReference é obrigatório no Pix Automático.",
            )
        })?;
        if !payment_reference_ok(reference) {
            return Err(unprocessable(
                "DETALHE_PAGAMENTO_INVALIDO",
                "paymentReference inválido.",
            ));
        }
        if reference == "zero"
            && data.get("creditorAccount") != config.pointer("/firstPayment/creditorAccount")
        {
            return Err(diverges(
                "O primeiro pagamento vai para a conta informada no consentimento.",
            ));
        }
        let limits = consent.limits();
        if let Some(fixed) = limits.fixed
            && amount != fixed
            && reference != "zero"
        {
            return Err(diverges("O valor difere do valor fixo do consentimento."));
        }
        if limits.transaction.is_some_and(|max| amount > max) {
            return Err(unprocessable(
                "LIMITE_VALOR_TRANSACAO_CONSENTIMENTO_EXCEDIDO",
                "O valor excede o máximo do consentimento.",
            ));
        }
        if limits.minimum.is_some_and(|min| amount < min) {
            return Err(unprocessable(
                "VALOR_INVALIDO",
                "O valor está abaixo do mínimo do consentimento.",
            ));
        }
        if let Some(original) = str_at(data, "/originalRecurringPaymentId") {
            let invalid_retry = |detail| unprocessable("DETALHE_TENTATIVA_INVALIDO", detail);
            if config.get("isRetryAccepted") != Some(&Value::Bool(true)) {
                return Err(invalid_retry(
                    "O consentimento não aceita novas tentativas.",
                ));
            }
            let Some((first, first_body)) = history.iter().find(|(r, _)| r.id.as_str() == original)
            else {
                return Err(invalid_retry(
                    "O pagamento original não é deste consentimento.",
                ));
            };
            if first.status != PaymentStatus::Rjct
                || first_body.get("paymentReference") != data.get("paymentReference")
                || first_body.get("payment") != data.get("payment")
            {
                return Err(invalid_retry(
                    "Somente um pagamento rejeitado pode ser tentado de novo, com os mesmos dados.",
                ));
            }
            let retries = history
                .iter()
                .filter(|(_, b)| {
                    b.get("originalRecurringPaymentId").and_then(Value::as_str) == Some(original)
                })
                .count();
            if retries >= MAX_RETRIES {
                return Err(unprocessable(
                    "LIMITE_TENTATIVAS_EXCEDIDO",
                    "Todas as tentativas permitidas já foram feitas.",
                ));
            }
        }
        Ok(())
    }

    /// `PATCH /pix/recurring-payments/{id}`: the payer (CPF of the consent's
    /// user) or, for Pix Automático, the creditor (its CNPJ) cancels a
    /// scheduled or pending payment within the spec's hours.
    async fn cancel_recurring<B>(
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
        let data = claims.get("data").cloned().unwrap_or(Value::Null);
        if str_at(&data, "/status") != Some("CANC") {
            return Err(unprocessable(
                "PARAMETRO_INVALIDO",
                "Somente o status CANC é aceito.",
            ));
        }
        let document = str_at(&data, "/cancellation/cancelledBy/document/identification")
            .ok_or_else(|| unprocessable("PARAMETRO_NAO_INFORMADO", "cancelledBy não informado."))?
            .to_owned();
        let rel = str_at(&data, "/cancellation/cancelledBy/document/rel")
            .filter(|r| matches!(*r, "CPF" | "CNPJ"))
            .ok_or_else(|| unprocessable("PARAMETRO_INVALIDO", "cancelledBy inválido."))?
            .to_owned();
        let (record, body) = self.own_recurring(access, id).await?;
        let consent_id = ConsentId::new(
            body.get("recurringConsentId")
                .and_then(Value::as_str)
                .unwrap_or_default(),
        )
        .map_err(|_| ApiError::internal())?;
        let consent = self
            .recurring_consents()?
            .find(self.brand.id(), &consent_id)
            .await?;
        let payer = rel == "CPF" && document == consent.logged_user.as_str();
        let creditor = consent.creditors().iter().any(|c| c == &document);
        let creditor_may = creditor && consent.product() == RecurringProduct::Automatic;
        if !(payer || creditor_may) {
            return Err(unprocessable(
                "PARAMETRO_INVALIDO",
                "Quem cancela é o pagador ou, no Pix Automático, o recebedor.",
            ));
        }
        if !record.status.is_cancellable() {
            return Err(not_cancellable());
        }
        if record.status == PaymentStatus::Schd {
            check_cancellation_window(&record, &body, payer, consent.product(), self.clock.now())?;
        }
        let (stored, body) = self
            .cancel_one(
                &record.id,
                &Canceller {
                    client: Some(&access.client_id),
                    document: &document,
                    rel: &rel,
                },
            )
            .await?
            .ok_or_else(not_cancellable)?;
        self.recurring_envelope(
            StatusCode::OK,
            &path,
            public(Self::representation(&stored, &body)),
        )
    }

    /// Cancels, as the institution, a due recurring payment of a consent
    /// revoked before the day preceding the payment's date; `true` when it
    /// did.
    pub(crate) async fn cancelled_by_revocation(
        &self,
        record: &PaymentRecord,
        body: &Map<String, Value>,
    ) -> Result<bool, ApiError> {
        let (Some(consents), Some(consent_id)) = (
            self.recurring.as_ref(),
            body.get("recurringConsentId").and_then(Value::as_str),
        ) else {
            return Ok(false);
        };
        let consent_id = ConsentId::new(consent_id).map_err(|_| ApiError::internal())?;
        let consent = consents.find(self.brand.id(), &consent_id).await?;
        let revoked_on = consent
            .revocation
            .as_ref()
            .and_then(|r| r.get("revokedAt"))
            .and_then(Value::as_str)
            .and_then(|at| Timestamp::parse(at).ok())
            .map(|at| at.date_in_brasilia());
        // Payments up to the day after the revocation survive it.
        let survives = match (consent.status, revoked_on, record.scheduled_for) {
            (ConsentStatus::Revoked, Some(on), Some(date)) => {
                on.add_days(1).is_some_and(|limit| date <= limit)
            }
            (ConsentStatus::Revoked, _, _) => false,
            _ => return Ok(false),
        };
        if survives {
            return Ok(false);
        }
        let payer = consent.logged_user.as_str().to_owned();
        let cancelled = self
            .cancel_one(
                &record.id,
                &Canceller {
                    client: None,
                    document: &payer,
                    rel: "CPF",
                },
            )
            .await?;
        Ok(cancelled.is_some())
    }
}

/// The sweeping limits for a new payment of `amount` on `date`, given the
/// consent's payments that count.
fn check_limits(
    amount: Amount,
    date: Date,
    limits: &opus_consent::recurring::RecurringLimits,
    counted: &[(Amount, Date)],
) -> Result<(), ApiError> {
    if limits.transaction.is_some_and(|max| amount > max) {
        return Err(unprocessable(
            "LIMITE_VALOR_TRANSACAO_CONSENTIMENTO_EXCEDIDO",
            "O valor excede o limite por transação do consentimento.",
        ));
    }
    let sum = |items: &[Amount]| -> Option<Amount> {
        items.iter().try_fold(amount, |s, a| s.checked_add(*a))
    };
    if let Some(total) = limits.total
        && sum(&counted.iter().map(|(a, _)| *a).collect::<Vec<_>>()).is_none_or(|s| s > total)
    {
        return Err(unprocessable(
            "LIMITE_VALOR_TOTAL_CONSENTIMENTO_EXCEDIDO",
            "O valor excede o limite total do consentimento.",
        ));
    }
    for (period, limit) in &limits.periodic {
        let (first, last) = period.window(date);
        let in_window: Vec<Amount> = counted
            .iter()
            .filter(|(_, d)| (first..=last).contains(d))
            .map(|(a, _)| *a)
            .collect();
        if limit.quantity.is_some_and(|q| in_window.len() as u64 >= q) {
            return Err(unprocessable(
                "LIMITE_PERIODO_QUANTIDADE_EXCEDIDO",
                period_detail(*period, "A quantidade de pagamentos"),
            ));
        }
        if let Some(max) = limit.amount
            && sum(&in_window).is_none_or(|s| s > max)
        {
            return Err(unprocessable(
                "LIMITE_PERIODO_VALOR_EXCEDIDO",
                period_detail(*period, "O valor dos pagamentos"),
            ));
        }
    }
    Ok(())
}

fn period_detail(period: Period, what: &'static str) -> &'static str {
    match (period, what) {
        (Period::Day, "A quantidade de pagamentos") => {
            "A quantidade de pagamentos excede o limite diário."
        }
        (Period::Week, "A quantidade de pagamentos") => {
            "A quantidade de pagamentos excede o limite semanal."
        }
        (Period::Month, "A quantidade de pagamentos") => {
            "A quantidade de pagamentos excede o limite mensal."
        }
        (_, "A quantidade de pagamentos") => "A quantidade de pagamentos excede o limite anual.",
        (Period::Day, _) => "O valor dos pagamentos excede o limite diário.",
        (Period::Week, _) => "O valor dos pagamentos excede o limite semanal.",
        (Period::Month, _) => "O valor dos pagamentos excede o limite mensal.",
        _ => "O valor dos pagamentos excede o limite anual.",
    }
}

/// Pix Automático references: `zero`, `W<1-53>-<yyyy>`, `M<01-12>-<yyyy>`,
/// `Q<1-4>-<yyyy>`, `S<1-2>-<yyyy>`, `Y<yyyy>`.
fn payment_reference_ok(reference: &str) -> bool {
    let year = |y: &str| y.len() == 4 && y.bytes().all(|b| b.is_ascii_digit());
    let numbered = |rest: &str, range: std::ops::RangeInclusive<u8>, width: Option<usize>| {
        rest.split_once('-').is_some_and(|(n, y)| {
            width.is_none_or(|w| n.len() == w)
                && !n.is_empty()
                && n.len() <= 2
                && n.parse::<u8>().is_ok_and(|n| range.contains(&n))
                && year(y)
        })
    };
    match reference.split_at_checked(1) {
        _ if reference == "zero" => true,
        Some(("W", rest)) => numbered(rest, 1..=53, None),
        Some(("M", rest)) => numbered(rest, 1..=12, Some(2)),
        Some(("Q", rest)) => numbered(rest, 1..=4, Some(1)),
        Some(("S", rest)) => numbered(rest, 1..=2, Some(1)),
        Some(("Y", rest)) => year(rest),
        _ => false,
    }
}

/// Scheduled Pix Automático payments: the payer cancels until 23:59 and the
/// creditor until 22:00 (Brasília) of the day before; a retry on a later
/// day only the creditor. Sweeping: the payer, until the day before.
fn check_cancellation_window(
    record: &PaymentRecord,
    body: &Map<String, Value>,
    payer: bool,
    product: RecurringProduct,
    now: Timestamp,
) -> Result<(), ApiError> {
    let out_of_window = || {
        unprocessable(
            "CANCELAMENTO_FORA_PERIODO_PERMITIDO",
            "O cancelamento está fora do período permitido.",
        )
    };
    let Some(date) = record.scheduled_for else {
        return Ok(());
    };
    let today = now.date_in_brasilia();
    if date <= today {
        return Err(out_of_window());
    }
    if product == RecurringProduct::Automatic {
        if payer && body.contains_key("originalRecurringPaymentId") {
            return Err(unprocessable(
                "PAGAMENTO_NAO_PERMITE_CANCELAMENTO",
                "O pagador não cancela uma nova tentativa.",
            ));
        }
        // 22:00 in Brasília (UTC-3) is 01:00 UTC of the next day.
        let creditor_deadline_passed = date.add_days(-1) == Some(today)
            && now
                .to_rfc3339_millis()
                .get(11..13)
                .is_some_and(|hour| hour.parse::<u8>().is_ok_and(|h| (1..3).contains(&h)));
        if !payer && creditor_deadline_passed {
            return Err(out_of_window());
        }
    }
    Ok(())
}

opus_fapi::http_service!(
    RecurringPixPaymentsApi,
    |api| api.inner.clone(),
    |inner, request| inner.handle_recurring(request).await
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payment_references_follow_the_interval_forms() {
        for ok in [
            "zero", "W1-2026", "W53-2026", "M09-2026", "Q4-2026", "S2-2026", "Y2026",
        ] {
            assert!(payment_reference_ok(ok), "{ok}");
        }
        for bad in [
            "", "W0-2026", "W54-2026", "M9-2026", "M13-2026", "Q5-2026", "S3-2026", "Y26",
            "X1-2026", "M09-26",
        ] {
            assert!(!payment_reference_ok(bad), "{bad}");
        }
    }
}
