//! Automatic payments (Automatic Payments API 2.0.0): recurring consents
//! and recurring Pix payments behind the resource guard over the simulated
//! SPI — signed bodies, idempotency, the sweeping limits (also under a race),
//! Pix Automático amounts, references, retries and cancellation, revocation
//! and edition; every payload checked against the official OpenAPI file.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use http::{Method, StatusCode};
use opus_consent::RecurringConsentAuthorisation;
use opus_core::connector::PixRejectionCode;
use opus_core::interaction::{Acr, ConsentAuthorisation, InteractionApproval};
use opus_core::{ClientId, Clock, ConsentId, Cpf, ResourceId, Storage};
use opus_store::MemoryStore;
use opus_testkit::SpiBehaviour;
use opus_testkit::bank::MARIA_CPF;
use opus_testkit::openapi::OpenApi;
use serde_json::{Value, json};
use support::{Answer, Api, CLIENT, Instance, OTHER_CLIENT, World};

/// The creditor of the Pix Automático consents (a company).
const CREDITOR_CNPJ: &str = "11444777000161";

fn spec() -> &'static OpenApi {
    static SPEC: OnceLock<OpenApi> = OnceLock::new();
    SPEC.get_or_init(|| OpenApi::load("automatic-payments", "2.0.0").unwrap())
}

#[track_caller]
fn conforms(method: &str, template: &str, answer: &Answer) {
    let problems = spec()
        .response_problems(method, template, answer.status.as_u16(), &answer.body)
        .unwrap();
    assert!(
        problems.is_empty(),
        "{method} {template} {}: {problems:?}\n{}",
        answer.status,
        answer.body
    );
}

#[track_caller]
fn refused(answer: &Answer, code: &str) {
    assert_eq!(
        answer.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        answer.body
    );
    assert!(answer.signed, "422s are signed");
    assert_eq!(answer.body["errors"][0]["code"], code, "{}", answer.body);
}

struct Fixture {
    world: Arc<World>,
    one: Instance,
}

impl Fixture {
    async fn new() -> Self {
        let world = World::new().await;
        let one = world
            .instance(Storage::from_backend(Arc::new(MemoryStore::new())), true)
            .await;
        Self { world, one }
    }

    fn today(&self, offset: i64) -> String {
        self.world
            .clock
            .now()
            .date_in_brasilia()
            .add_days(offset)
            .unwrap()
            .to_string()
    }

    async fn client_token(&self) -> String {
        self.one
            .token_with(&self.world, None, "recurring-payments".to_owned())
            .await
    }

    async fn consent_token(&self, consent: &ConsentId) -> String {
        self.one
            .token_with(
                &self.world,
                Some(consent),
                format!("openid recurring-payments recurring-consent:{consent}"),
            )
            .await
    }

    /// `POST /recurring-consents`.
    async fn create_consent(&self, data: Value, key: &str) -> Answer {
        let token = self.client_token().await;
        let jwt = self.world.signed(Api::RecurringConsents, "", data).await;
        self.one
            .call_api(
                &self.world,
                Api::RecurringConsents,
                Method::POST,
                "",
                &token,
                Some(jwt),
                Some(key),
            )
            .await
    }

    async fn get_consent(&self, id: &str) -> Answer {
        let token = self.client_token().await;
        self.one
            .call_api(
                &self.world,
                Api::RecurringConsents,
                Method::GET,
                &format!("/{id}"),
                &token,
                None,
                None,
            )
            .await
    }

    async fn patch_consent(&self, id: &str, data: Value, key: &str) -> Answer {
        let token = self.client_token().await;
        let path = format!("/{id}");
        let jwt = self.world.signed(Api::RecurringConsents, &path, data).await;
        self.one
            .call_api(
                &self.world,
                Api::RecurringConsents,
                Method::PATCH,
                &path,
                &token,
                Some(jwt),
                Some(key),
            )
            .await
    }

    /// A consent of `data`, authorised by Maria paying from her checking
    /// account.
    async fn authorised(&self, data: Value) -> ConsentId {
        let created = self
            .create_consent(data, &uuid::Uuid::new_v4().to_string())
            .await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
        let id =
            ConsentId::new(created.body["data"]["recurringConsentId"].as_str().unwrap()).unwrap();
        let port = RecurringConsentAuthorisation::new(self.one.recurring.clone())
            .with_debtor_accounts(self.world.bank.clone());
        port.authorise(
            self.world.brand.id(),
            &id,
            &ClientId::new(CLIENT).unwrap(),
            &InteractionApproval {
                subject: Cpf::parse(MARIA_CPF).unwrap(),
                business_entity: None,
                acr: Acr::Loa2,
                auth_time: self.world.clock.now(),
                resources: vec![ResourceId::new("acc-maria-corrente").unwrap()],
            },
        )
        .await
        .unwrap()
        .unwrap();
        id
    }

    /// `POST /pix/recurring-payments` under `consent`.
    async fn pay(&self, consent: &ConsentId, data: Value, key: &str) -> Answer {
        let token = self.consent_token(consent).await;
        let jwt = self.world.signed(Api::RecurringPayments, "", data).await;
        self.one
            .call_api(
                &self.world,
                Api::RecurringPayments,
                Method::POST,
                "",
                &token,
                Some(jwt),
                Some(key),
            )
            .await
    }

    async fn get_payment(&self, path: &str) -> Answer {
        let token = self.client_token().await;
        self.one
            .call_api(
                &self.world,
                Api::RecurringPayments,
                Method::GET,
                path,
                &token,
                None,
                None,
            )
            .await
    }

    async fn cancel(&self, id: &str, document: &str, rel: &str) -> Answer {
        let token = self.client_token().await;
        let path = format!("/{id}");
        let data = json!({
            "status": "CANC",
            "cancellation": {"cancelledBy": {"document": {"identification": document, "rel": rel}}},
        });
        let jwt = self.world.signed(Api::RecurringPayments, &path, data).await;
        self.one
            .call_api(
                &self.world,
                Api::RecurringPayments,
                Method::PATCH,
                &path,
                &token,
                Some(jwt),
                Some("cancel"),
            )
            .await
    }
}

fn maria() -> Value {
    json!({"document": {"identification": MARIA_CPF, "rel": "CPF"}})
}

/// Sweeping between Maria's own accounts.
fn sweeping(limits: Value) -> Value {
    let mut sweeping = limits;
    sweeping["useOverdraftLimit"] = json!(false);
    json!({
        "loggedUser": maria(),
        "creditors": [{"personType": "PESSOA_NATURAL", "cpfCnpj": MARIA_CPF, "name": "Maria Silva"}],
        "recurringConfiguration": {"sweeping": sweeping},
    })
}

/// Pix Automático: a monthly bill of a company.
fn automatic(f: &Fixture, amount: &Value) -> Value {
    let mut automatic = json!({
        "contractId": "CONTRATO123",
        "interval": "MENSAL",
        "contractDebtor": {"name": "Maria Silva", "document": {"identification": MARIA_CPF, "rel": "CPF"}},
        "isRetryAccepted": true,
        "referenceStartDate": f.today(1),
    });
    for (name, value) in amount.as_object().unwrap() {
        automatic[name] = value.clone();
    }
    json!({
        "loggedUser": maria(),
        "creditors": [{"personType": "PESSOA_JURIDICA", "cpfCnpj": CREDITOR_CNPJ, "name": "Academia Forte"}],
        "expirationDateTime": format!("{}T23:59:59Z", f.today(200)),
        "recurringConfiguration": {"automatic": automatic},
    })
}

/// An `endToEndId` for `date` (`yyyy-mm-dd`).
fn end_to_end(date: &str, n: u32) -> String {
    let compact: String = date.chars().filter(char::is_ascii_digit).collect();
    format!("E12345678{compact}1500{n:011}")
}

fn sweep(date: &str, n: u32, amount: &str) -> Value {
    json!({
        "endToEndId": end_to_end(date, n),
        "date": date,
        "payment": {"amount": amount, "currency": "BRL"},
        "creditorAccount": {"ispb": "12345678", "issuer": "0001", "number": "9876543", "accountType": "SVGS"},
        "cnpjInitiator": "11222333000181",
        "localInstrument": "MANU",
        "document": {"identification": MARIA_CPF, "rel": "CPF"},
    })
}

fn bill(date: &str, n: u32, amount: &str, reference: &str) -> Value {
    json!({
        "endToEndId": end_to_end(date, n),
        "date": date,
        "payment": {"amount": amount, "currency": "BRL"},
        "creditorAccount": {"ispb": "12345678", "issuer": "0001", "number": "5555555", "accountType": "CACC"},
        "cnpjInitiator": "11222333000181",
        "localInstrument": "MANU",
        "document": {"identification": CREDITOR_CNPJ, "rel": "CNPJ"},
        "paymentReference": reference,
    })
}

fn payment_id(answer: &Answer) -> String {
    answer.body["data"]["recurringPaymentId"]
        .as_str()
        .unwrap_or_else(|| panic!("{}", answer.body))
        .to_owned()
}

#[tokio::test]
async fn a_recurring_consent_is_created_authorised_and_revoked_as_the_spec_says() {
    let f = Fixture::new().await;
    let data = sweeping(json!({"transactionLimit": "500.00"}));
    let created = f.create_consent(data.clone(), "consent-1").await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert!(created.signed);
    conforms("post", "/recurring-consents", &created);
    assert_eq!(created.body["data"]["status"], "AWAITING_AUTHORISATION");
    let id = created.body["data"]["recurringConsentId"]
        .as_str()
        .unwrap()
        .to_owned();

    // The same key and data answer the same consent; other data under the key is refused.
    let again = f.create_consent(data, "consent-1").await;
    assert_eq!(again.body["data"]["recurringConsentId"], id.as_str());
    let other = f
        .create_consent(sweeping(json!({"transactionLimit": "600.00"})), "consent-1")
        .await;
    refused(&other, "ERRO_IDEMPOTENCIA");
    conforms("post", "/recurring-consents", &other);

    // Authorised at the holder: the account the customer chose is the debtor's.
    let port = RecurringConsentAuthorisation::new(f.one.recurring.clone())
        .with_debtor_accounts(f.world.bank.clone());
    port.authorise(
        f.world.brand.id(),
        &ConsentId::new(id.as_str()).unwrap(),
        &ClientId::new(CLIENT).unwrap(),
        &InteractionApproval {
            subject: Cpf::parse(MARIA_CPF).unwrap(),
            business_entity: None,
            acr: Acr::Loa2,
            auth_time: f.world.clock.now(),
            resources: vec![ResourceId::new("acc-maria-corrente").unwrap()],
        },
    )
    .await
    .unwrap()
    .unwrap();
    let read = f.get_consent(&id).await;
    conforms("get", "/recurring-consents/{recurringConsentId}", &read);
    assert_eq!(read.body["data"]["status"], "AUTHORISED");
    assert!(read.body["data"]["authorisedAtDateTime"].is_string());
    assert!(read.body["data"]["debtorAccount"]["number"].is_string());

    // A rejection no longer applies; a revocation by the user does.
    let reject = f
        .patch_consent(
            &id,
            json!({"status": "REJECTED", "rejection": {"rejectedBy": "USUARIO", "rejectedFrom": "INICIADORA", "reason": {"code": "REJEITADO_USUARIO", "detail": "Desistiu."}}}),
            "reject-1",
        )
        .await;
    refused(&reject, "CONSENTIMENTO_NAO_PERMITE_CANCELAMENTO");
    conforms("patch", "/recurring-consents/{recurringConsentId}", &reject);
    let revoke = json!({"status": "REVOKED", "revocation": {"revokedBy": "USUARIO", "revokedFrom": "INICIADORA", "reason": {"code": "REVOGADO_USUARIO", "detail": "Não quer mais."}}});
    let revoked = f.patch_consent(&id, revoke.clone(), "revoke-1").await;
    assert_eq!(revoked.status, StatusCode::OK, "{}", revoked.body);
    conforms(
        "patch",
        "/recurring-consents/{recurringConsentId}",
        &revoked,
    );
    assert_eq!(revoked.body["data"]["status"], "REVOKED");
    assert_eq!(revoked.body["data"]["revocation"]["revokedBy"], "USUARIO");
    // Replaying the key answers the same; a new revocation is refused.
    let replay = f.patch_consent(&id, revoke.clone(), "revoke-1").await;
    assert_eq!(replay.status, StatusCode::OK, "{}", replay.body);
    let twice = f.patch_consent(&id, revoke, "revoke-2").await;
    refused(&twice, "CONSENTIMENTO_NAO_PERMITE_CANCELAMENTO");

    // Another client's consent is not readable.
    let unknown = f.get_consent("urn:banco-azul:nao-existe").await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    conforms("get", "/recurring-consents/{recurringConsentId}", &unknown);
}

#[tokio::test]
async fn creation_rules_of_sweeping_and_pix_automatico() {
    let f = Fixture::new().await;
    // Sweeping moves money between the customer's own accounts.
    let mut stranger = sweeping(json!({}));
    stranger["creditors"][0]["cpfCnpj"] = json!("11144477735");
    let answer = f.create_consent(stranger, "k1").await;
    refused(&answer, "PARAMETRO_INVALIDO");
    conforms("post", "/recurring-consents", &answer);
    // A transaction limit above the total is inconsistent.
    let answer = f
        .create_consent(
            sweeping(json!({"transactionLimit": "500.00", "totalAllowedAmount": "100.00"})),
            "k2",
        )
        .await;
    refused(&answer, "PARAMETRO_INVALIDO");
    // Variable recurring payments are not in force.
    let mut vrp = sweeping(json!({}));
    vrp["recurringConfiguration"] = json!({"vrp": {"transactionLimit": "100.00"}});
    let answer = f.create_consent(vrp, "k3").await;
    refused(&answer, "FUNCIONALIDADE_NAO_HABILITADA");
    conforms("post", "/recurring-consents", &answer);
    // Pix Automático: fixed XOR variable amount, expiration at 23:59:59 UTC.
    let answer = f
        .create_consent(
            automatic(
                &f,
                &json!({"fixedAmount": "100.00", "maximumVariableAmount": "200.00"}),
            ),
            "k4",
        )
        .await;
    refused(&answer, "PARAMETRO_INVALIDO");
    let mut noon = automatic(&f, &json!({"fixedAmount": "100.00"}));
    noon["expirationDateTime"] = json!(format!("{}T12:00:00Z", f.today(200)));
    let answer = f.create_consent(noon, "k5").await;
    refused(&answer, "PARAMETRO_INVALIDO");
    // Unsigned bodies are refused before anything else.
    let created = f
        .create_consent(automatic(&f, &json!({"fixedAmount": "100.00"})), "k6")
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    conforms("post", "/recurring-consents", &created);

    // Not authorised within the hour: rejected by the institution.
    f.world.clock.advance(Duration::from_secs(61 * 60));
    let id = created.body["data"]["recurringConsentId"].as_str().unwrap();
    let read = f.get_consent(id).await;
    conforms("get", "/recurring-consents/{recurringConsentId}", &read);
    assert_eq!(read.body["data"]["status"], "REJECTED");
    assert_eq!(
        read.body["data"]["rejection"]["reason"]["code"],
        "TEMPO_EXPIRADO_AUTORIZACAO"
    );
}

#[tokio::test]
async fn sweeping_payments_respect_every_limit_of_the_consent() {
    let f = Fixture::new().await;
    let consent = f
        .authorised(sweeping(json!({
            "transactionLimit": "500.00",
            "totalAllowedAmount": "1000.00",
            "periodicLimits": {"day": {"quantityLimit": 2, "transactionLimit": "600.00"}},
        })))
        .await;
    let today = f.today(0);
    let first = f.pay(&consent, sweep(&today, 1, "300.00"), "p1").await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);
    assert!(first.signed);
    conforms("post", "/pix/recurring-payments", &first);
    assert_eq!(first.body["data"]["status"], "ACSC");
    assert_eq!(first.body["data"]["recurringConsentId"], consent.as_str());

    let answer = f.pay(&consent, sweep(&today, 2, "501.00"), "p2").await;
    refused(&answer, "LIMITE_VALOR_TRANSACAO_CONSENTIMENTO_EXCEDIDO");
    conforms("post", "/pix/recurring-payments", &answer);
    let answer = f.pay(&consent, sweep(&today, 3, "400.00"), "p3").await;
    refused(&answer, "LIMITE_PERIODO_VALOR_EXCEDIDO");
    let second = f.pay(&consent, sweep(&today, 4, "200.00"), "p4").await;
    assert_eq!(second.status, StatusCode::CREATED, "{}", second.body);
    let answer = f.pay(&consent, sweep(&today, 5, "10.00"), "p5").await;
    refused(&answer, "LIMITE_PERIODO_QUANTIDADE_EXCEDIDO");

    // A rejected payment does not count.
    f.world
        .spi
        .set(SpiBehaviour::Reject(PixRejectionCode::SaldoInsuficiente));
    f.world.clock.advance(Duration::from_secs(24 * 3600));
    let tomorrow = f.today(0);
    let rejected = f.pay(&consent, sweep(&tomorrow, 6, "400.00"), "p6").await;
    assert_eq!(rejected.status, StatusCode::CREATED, "{}", rejected.body);
    assert_eq!(rejected.body["data"]["status"], "RJCT");
    conforms("post", "/pix/recurring-payments", &rejected);
    f.world.spi.set(SpiBehaviour::Settle);
    let third = f.pay(&consent, sweep(&tomorrow, 7, "400.00"), "p7").await;
    assert_eq!(third.status, StatusCode::CREATED, "{}", third.body);
    // 300 + 200 + 400 settled: 150 more passes the day but not the total.
    let answer = f.pay(&consent, sweep(&tomorrow, 8, "150.00"), "p8").await;
    refused(&answer, "LIMITE_VALOR_TOTAL_CONSENTIMENTO_EXCEDIDO");

    // Sweeping is immediate; a past or future date is out of the window.
    let answer = f.pay(&consent, sweep(&f.today(1), 9, "10.00"), "p9").await;
    refused(&answer, "FORA_PRAZO_PERMITIDO");
    // Another creditor is not the consent's.
    let mut stranger = sweep(&tomorrow, 10, "10.00");
    stranger["document"] = json!({"identification": "11144477735", "rel": "CPF"});
    let answer = f.pay(&consent, stranger, "p10").await;
    refused(&answer, "PAGAMENTO_DIVERGENTE_CONSENTIMENTO");

    // Reads: one payment, and the consent's payments (filtered by date).
    let read = f.get_payment(&format!("/{}", payment_id(&first))).await;
    assert_eq!(read.status, StatusCode::OK, "{}", read.body);
    conforms("get", "/pix/recurring-payments/{recurringPaymentId}", &read);
    let all = f
        .get_payment(&format!("?recurringConsentId={consent}"))
        .await;
    assert_eq!(all.status, StatusCode::OK, "{}", all.body);
    conforms("get", "/pix/recurring-payments", &all);
    assert_eq!(all.body["data"].as_array().unwrap().len(), 4);
    let later = f
        .get_payment(&format!(
            "?recurringConsentId={consent}&startDate={tomorrow}"
        ))
        .await;
    assert_eq!(later.body["data"].as_array().unwrap().len(), 2);
    let missing = f.get_payment("").await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST);
    conforms("get", "/pix/recurring-payments", &missing);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn payments_racing_for_the_last_allowance_never_exceed_it() {
    let f = Arc::new(Fixture::new().await);
    let consent = f
        .authorised(sweeping(json!({"totalAllowedAmount": "1000.00"})))
        .await;
    let today = f.today(0);
    let mut tasks = Vec::new();
    for n in 0..10 {
        let f = f.clone();
        let consent = consent.clone();
        let today = today.clone();
        tasks.push(tokio::spawn(async move {
            f.pay(&consent, sweep(&today, n, "300.00"), &format!("race-{n}"))
                .await
        }));
    }
    let mut created = 0;
    for task in tasks {
        let answer = task.await.unwrap();
        match answer.status {
            StatusCode::CREATED => created += 1,
            _ => refused(&answer, "LIMITE_VALOR_TOTAL_CONSENTIMENTO_EXCEDIDO"),
        }
    }
    assert_eq!(created, 3, "3 × 300 fit in 1000, a fourth does not");
}

#[tokio::test]
async fn pix_automatico_bills_references_retries_and_cancellation() {
    let f = Fixture::new().await;
    let consent = f
        .authorised(automatic(&f, &json!({"fixedAmount": "100.00"})))
        .await;
    let due = f.today(3);
    let scheduled = f
        .pay(&consent, bill(&due, 1, "100.00", "M01-2027"), "b1")
        .await;
    assert_eq!(scheduled.status, StatusCode::CREATED, "{}", scheduled.body);
    conforms("post", "/pix/recurring-payments", &scheduled);
    assert_eq!(scheduled.body["data"]["status"], "SCHD");

    refused(
        &f.pay(&consent, bill(&due, 2, "150.00", "M02-2027"), "b2")
            .await,
        "PAGAMENTO_DIVERGENTE_CONSENTIMENTO",
    );
    let mut unreferenced = bill(&due, 3, "100.00", "M03-2027");
    unreferenced
        .as_object_mut()
        .unwrap()
        .remove("paymentReference");
    refused(
        &f.pay(&consent, unreferenced, "b3").await,
        "DETALHE_PAGAMENTO_INVALIDO",
    );
    refused(
        &f.pay(&consent, bill(&f.today(201), 4, "100.00", "M04-2027"), "b4")
            .await,
        "FORA_PRAZO_PERMITIDO",
    );

    // The creditor cancels the scheduled bill the day before.
    let id = payment_id(&scheduled);
    let cancelled = f.cancel(&id, CREDITOR_CNPJ, "CNPJ").await;
    assert_eq!(cancelled.status, StatusCode::OK, "{}", cancelled.body);
    conforms(
        "patch",
        "/pix/recurring-payments/{recurringPaymentId}",
        &cancelled,
    );
    assert_eq!(cancelled.body["data"]["status"], "CANC");
    assert_eq!(
        cancelled.body["data"]["cancellation"]["cancelledBy"]["document"]["rel"],
        "CNPJ"
    );
    let again = f.cancel(&id, MARIA_CPF, "CPF").await;
    refused(&again, "PAGAMENTO_NAO_PERMITE_CANCELAMENTO");
    conforms(
        "patch",
        "/pix/recurring-payments/{recurringPaymentId}",
        &again,
    );

    // A bill rejected by the SPI is retried at most three times.
    f.world
        .spi
        .set(SpiBehaviour::Reject(PixRejectionCode::SaldoInsuficiente));
    let today = f.today(0);
    let original = f
        .pay(&consent, bill(&today, 5, "100.00", "M05-2027"), "b5")
        .await;
    assert_eq!(original.body["data"]["status"], "RJCT", "{}", original.body);
    let original_id = payment_id(&original);
    for attempt in 0..3 {
        let mut retry = bill(&today, 6 + attempt, "100.00", "M05-2027");
        retry["originalRecurringPaymentId"] = json!(original_id);
        let answer = f.pay(&consent, retry, &format!("retry-{attempt}")).await;
        assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.body);
        conforms("post", "/pix/recurring-payments", &answer);
    }
    let mut fourth = bill(&today, 9, "100.00", "M05-2027");
    fourth["originalRecurringPaymentId"] = json!(original_id);
    refused(
        &f.pay(&consent, fourth, "retry-4").await,
        "LIMITE_TENTATIVAS_EXCEDIDO",
    );
    // A retry must be of a rejected payment of this consent.
    let mut bogus = bill(&today, 10, "100.00", "M06-2027");
    bogus["originalRecurringPaymentId"] = json!(id);
    refused(
        &f.pay(&consent, bogus, "retry-5").await,
        "DETALHE_TENTATIVA_INVALIDO",
    );
    let retries = f
        .get_payment(&format!(
            "?recurringConsentId={consent}&originalRecurringPaymentId={original_id}"
        ))
        .await;
    conforms("get", "/pix/recurring-payments", &retries);
    assert_eq!(retries.body["data"].as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn a_revocation_cancels_the_bills_due_after_the_next_day() {
    let f = Fixture::new().await;
    let consent = f
        .authorised(automatic(&f, &json!({"maximumVariableAmount": "300.00"})))
        .await;
    let soon = f
        .pay(&consent, bill(&f.today(1), 1, "120.00", "M01-2027"), "s")
        .await;
    let later = f
        .pay(&consent, bill(&f.today(5), 2, "130.00", "M02-2027"), "l")
        .await;
    assert_eq!(later.body["data"]["status"], "SCHD", "{}", later.body);
    refused(
        &f.pay(&consent, bill(&f.today(6), 3, "301.00", "M03-2027"), "x")
            .await,
        "LIMITE_VALOR_TRANSACAO_CONSENTIMENTO_EXCEDIDO",
    );

    // Edited at the initiator: a new maximum, with the risk signals.
    let edition = json!({
        "loggedUser": maria(),
        "creditors": [{"name": "Academia Forte Ltda"}],
        "expirationDateTime": format!("{}T23:59:59Z", f.today(300)),
        "recurringConfiguration": {"automatic": {"maximumVariableAmount": "500.00"}},
    });
    let unsignalled = f
        .patch_consent(consent.as_str(), edition.clone(), "edit-0")
        .await;
    refused(&unsignalled, "FALTAM_SINAIS_OBRIGATORIOS_PLATAFORMA");
    conforms(
        "patch",
        "/recurring-consents/{recurringConsentId}",
        &unsignalled,
    );
    let mut signalled = edition;
    signalled["riskSignals"] = json!({"deviceId": "d-1", "isRootedDevice": false, "screenBrightness": 0.5, "elapsedTimeSinceBoot": 1000, "osVersion": "17", "userTimeZoneOffset": "-03", "language": "pt", "screenDimensions": {"height": 100, "width": 50}, "accountTenure": "2020-01-01"});
    let edited = f.patch_consent(consent.as_str(), signalled, "edit-1").await;
    assert_eq!(edited.status, StatusCode::OK, "{}", edited.body);
    conforms("patch", "/recurring-consents/{recurringConsentId}", &edited);
    assert_eq!(
        edited.body["data"]["recurringConfiguration"]["automatic"]["maximumVariableAmount"],
        "500.00"
    );
    assert_eq!(
        edited.body["data"]["creditors"][0]["name"],
        "Academia Forte Ltda"
    );
    assert!(edited.body["data"]["updatedAtDateTime"].is_string());

    let revoked = f
        .patch_consent(
            consent.as_str(),
            json!({"status": "REVOKED", "revocation": {"revokedBy": "INICIADORA", "revokedFrom": "INICIADORA", "reason": {"code": "REVOGADO_RECEBEDOR", "detail": "Contrato encerrado."}}}),
            "revoke",
        )
        .await;
    assert_eq!(revoked.status, StatusCode::OK, "{}", revoked.body);
    refused(
        &f.pay(
            &consent,
            bill(&f.today(2), 4, "100.00", "M04-2027"),
            "after",
        )
        .await,
        "CONSENTIMENTO_INVALIDO",
    );

    // The bill of tomorrow survives; the later one is cancelled when due.
    let tomorrow = f.world.clock.now().date_in_brasilia().add_days(1).unwrap();
    assert_eq!(f.one.api.settle_due(tomorrow).await.unwrap(), 1);
    let read = f.get_payment(&format!("/{}", payment_id(&soon))).await;
    assert_eq!(read.body["data"]["status"], "ACSC", "{}", read.body);
    let fifth = tomorrow.add_days(4).unwrap();
    assert_eq!(f.one.api.settle_due(fifth).await.unwrap(), 0);
    let read = f.get_payment(&format!("/{}", payment_id(&later))).await;
    conforms("get", "/pix/recurring-payments/{recurringPaymentId}", &read);
    assert_eq!(read.body["data"]["status"], "CANC", "{}", read.body);
    assert_eq!(
        read.body["data"]["cancellation"]["cancelledFrom"],
        "DETENTORA"
    );

    // The initiator was told of every change: the consent authorised, edited
    // and revoked, and each bill created, then settled or cancelled.
    let now = f.world.clock.now();
    let claimed = f
        .one
        .storage
        .outbox
        .claim(
            &opus_core::store::Topic::new(opus_holder::webhook::WEBHOOKS_TOPIC).unwrap(),
            100,
            now,
            now.saturating_add(Duration::from_secs(60)),
        )
        .await
        .unwrap();
    let paths: Vec<String> = claimed
        .iter()
        .map(|c| {
            serde_json::from_slice::<opus_holder::webhook::WebhookNotice>(&c.message.payload)
                .unwrap()
                .path
        })
        .collect();
    let consent_path = format!("automatic-payments/v2/recurring-consents/{consent}");
    assert_eq!(
        paths.iter().filter(|p| **p == consent_path).count(),
        3,
        "{paths:?}"
    );
    for payment in [&soon, &later] {
        let path = format!(
            "automatic-payments/v2/pix/recurring-payments/{}",
            payment_id(payment)
        );
        assert_eq!(paths.iter().filter(|p| **p == path).count(), 2, "{paths:?}");
    }
}

#[tokio::test]
async fn another_clients_payment_is_a_bad_request_and_tokens_must_fit_the_endpoint() {
    let f = Fixture::new().await;
    let consent = f.authorised(sweeping(json!({}))).await;
    let paid = f.pay(&consent, sweep(&f.today(0), 1, "10.00"), "k").await;
    let id = payment_id(&paid);
    // Another client (even of the same initiator) gets 400, not the payment.
    let other = f
        .one
        .token_of(
            &f.world,
            OTHER_CLIENT,
            None,
            "recurring-payments".to_owned(),
        )
        .await;
    let answer = f
        .one
        .call_api(
            &f.world,
            Api::RecurringPayments,
            Method::GET,
            &format!("/{id}"),
            &other,
            None,
            None,
        )
        .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{}", answer.body);
    conforms(
        "get",
        "/pix/recurring-payments/{recurringPaymentId}",
        &answer,
    );
    let token = f.client_token().await;
    let unknown = f.get_payment("/nao-existe").await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    conforms(
        "get",
        "/pix/recurring-payments/{recurringPaymentId}",
        &unknown,
    );
    // A payments (v4) token does not open automatic payments.
    let v4 = f
        .one
        .token_with(&f.world, None, "payments".to_owned())
        .await;
    let answer = f
        .one
        .call_api(
            &f.world,
            Api::RecurringPayments,
            Method::GET,
            &format!("/{id}"),
            &v4,
            None,
            None,
        )
        .await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    // A client-credentials token does not create payments.
    let jwt = f
        .world
        .signed(Api::RecurringPayments, "", sweep(&f.today(0), 2, "10.00"))
        .await;
    let answer = f
        .one
        .call_api(
            &f.world,
            Api::RecurringPayments,
            Method::POST,
            "",
            &token,
            Some(jwt),
            Some("cc"),
        )
        .await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_on_one_postgresql_keep_the_limit_of_a_consent() {
    let Some(url) = support::postgres_url() else {
        return;
    };
    let schema = format!("opus_rec_{}", uuid::Uuid::new_v4().simple());
    let world = World::new().await;
    let a = Arc::new(Fixture {
        world: world.clone(),
        one: world
            .instance(support::postgres(&url, &schema, true).await, true)
            .await,
    });
    let b = Arc::new(Fixture {
        world: world.clone(),
        one: world
            .instance(support::postgres(&url, &schema, false).await, false)
            .await,
    });
    let consent = a
        .authorised(sweeping(json!({"totalAllowedAmount": "1000.00"})))
        .await;
    let today = a.today(0);
    let mut tasks = Vec::new();
    for n in 0..10u32 {
        let instance = if n % 2 == 0 { a.clone() } else { b.clone() };
        let (consent, today) = (consent.clone(), today.clone());
        tasks.push(tokio::spawn(async move {
            instance
                .pay(&consent, sweep(&today, n, "300.00"), &format!("pg-{n}"))
                .await
        }));
    }
    let mut created = 0;
    for task in tasks {
        let answer = task.await.unwrap();
        if answer.status == StatusCode::CREATED {
            created += 1;
        } else {
            refused(&answer, "LIMITE_VALOR_TOTAL_CONSENTIMENTO_EXCEDIDO");
        }
    }
    assert_eq!(created, 3, "one limit across both instances");
    let stored = b
        .one
        .storage
        .payments
        .list_payments_by_consent(world.brand.id(), &consent)
        .await
        .unwrap();
    assert_eq!(stored.len(), 3);
}
