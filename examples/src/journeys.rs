//! The sandbox's scripted journeys, between a running [`LoopbackBank`] and
//! fintechs built from the SDK's clients ([`SandboxFintech`]), each step
//! printed as it happens:
//!
//! 1. **Data sharing**: a data receiver creates a consent (`opus-drx`), the
//!    customer approves it at the bank, the receiver reads accounts and
//!    balances, the customer revokes the consent in the bank's app (the
//!    management API) and the next read is refused.
//! 2. **Pix payment**: an initiator (`opus-itp`) creates a payment consent,
//!    the customer approves, the payment settles (ACSC) and the bank's
//!    webhook reaches the initiator.
//! 3. **Scheduled payment**: a payment for tomorrow is accepted (SCHD);
//!    when its date comes the bank settles it and the initiator learns of
//!    it by webhook.

use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{Method, Request, StatusCode};
use opus_core::Cpf;
use opus_core::consent::Permission;
use opus_fapi::mtls;
use opus_itp::{HolderSettings, Initiator, WebhookReceiver};
use serde_json::{Value, json};
use url::Url;

use crate::bank::{Failure, LoopbackBank, TEST_CHANNEL_HEADER, sandbox_customer};
use crate::fintech::{FINTECH_REDIRECT, SandboxFintech, pem_certificates};

/// How one journey ended.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The journey's name.
    pub journey: &'static str,
    /// `None` when it completed; what went wrong otherwise.
    pub failure: Option<String>,
}

/// Prints the steps of the journeys as they happen.
pub struct Trace<'a> {
    out: &'a mut dyn Write,
    journey: usize,
    journeys: usize,
    step: usize,
}

impl std::fmt::Debug for Trace<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Trace")
            .field("journey", &self.journey)
            .field("step", &self.step)
            .finish_non_exhaustive()
    }
}

impl<'a> Trace<'a> {
    /// Prints to `out`.
    pub fn new(out: &'a mut dyn Write) -> Self {
        Self {
            out,
            journey: 0,
            journeys: JOURNEYS,
            step: 0,
        }
    }

    fn journey(&mut self, title: &str) {
        self.journey += 1;
        self.step = 0;
        let _ = writeln!(
            self.out,
            "\n[journey {}/{}] {title}",
            self.journey, self.journeys
        );
    }

    fn step(&mut self, text: &str) {
        self.step += 1;
        let _ = writeln!(self.out, "  {}. {text}", self.step);
    }

    fn detail(&mut self, text: &str) {
        let _ = writeln!(self.out, "       {text}");
    }

    fn outcome(&mut self, journey: &'static str, result: Result<(), Failure>) -> Outcome {
        let failure = result.err().map(|e| e.to_string());
        match &failure {
            None => {
                let _ = writeln!(self.out, "  ✓ {journey}: done");
            }
            Some(why) => {
                let _ = writeln!(self.out, "  ✗ {journey}: FAILED: {why}");
            }
        }
        let _ = self.out.flush();
        Outcome { journey, failure }
    }
}

const JOURNEYS: usize = 3;

/// Runs every journey against `bank`, printing to `trace`; one outcome per
/// journey (a failed journey does not stop the next).
pub async fn run_all(bank: &LoopbackBank, trace: &mut Trace<'_>) -> Vec<Outcome> {
    let mut outcomes = Vec::new();
    trace.journey("Data sharing: consent, approval, reads, revocation in the bank's app");
    let result = data_sharing(bank, trace).await;
    outcomes.push(trace.outcome("data sharing", result));

    trace.journey("Pix payment: consent, approval, payment to ACSC, webhook");
    let payer = match Payer::start(bank, trace).await {
        Ok(payer) => Some(payer),
        Err(e) => {
            outcomes.push(trace.outcome("pix payment", Err(e)));
            None
        }
    };
    if let Some(payer) = &payer {
        let result = pix_payment(bank, payer, trace).await;
        outcomes.push(trace.outcome("pix payment", result));
    }

    trace.journey("Scheduled payment: accepted for tomorrow, settled on its date");
    let result = match &payer {
        Some(payer) => scheduled_payment(bank, payer, trace).await,
        None => Err("the initiator could not join".into()),
    };
    outcomes.push(trace.outcome("scheduled payment", result));
    outcomes
}

async fn data_sharing(bank: &LoopbackBank, trace: &mut Trace<'_>) -> Result<(), Failure> {
    let fintech = SandboxFintech::join(bank, "receptora-sandbox", &["DADOS"], None).await?;
    trace.step(&format!(
        "A data receiver registers with the directory and, by DCR, with {}",
        bank.brand().display_name()
    ));
    trace.detail(&format!("client_id {}", fintech.client_id().as_str()));
    let receiver = opus_drx::DataReceiver::new(
        fintech.client(),
        bank.api_url("")?,
        Url::parse(FINTECH_REDIRECT)?,
    );
    let customer = sandbox_customer()?;
    let consent = data_consent(&receiver, bank.clock().as_ref(), &customer).await?;
    trace.step("It creates a consent (Consents API v3) and pushes its authorization request");
    trace.detail(&format!("consent {}", consent.consent_id));
    trace.detail(&format!(
        "the customer is sent to {}",
        consent.pending.authorization_url
    ));
    let params = fintech.browse(&consent.pending.authorization_url).await?;
    trace.step("The customer logs in at the bank (test mode) and approves");
    let tokens = receiver.complete(&consent, &params).await?;
    trace.step("The receiver validates the encrypted ID token and gets bound tokens");
    let accounts = receiver.accounts(&tokens).await?;
    let first = accounts.first().ok_or("no account was shared")?;
    let balances = receiver
        .account_balances(&tokens, first.account_id.as_str())
        .await?;
    trace.step(&format!(
        "It reads {} accounts; the first has {} {} available",
        accounts.len(),
        balances.available_amount.amount,
        balances.available_amount.currency.as_str(),
    ));
    revoke_in_channel(bank, &customer, &consent.consent_id).await?;
    trace.step("The customer revokes the consent in the bank's app (management API)");
    match receiver.accounts(&tokens).await {
        Ok(_) => Err("the bank still answered after the revocation".into()),
        Err(e) => {
            trace.step("The receiver's next read is refused");
            trace.detail(&e.to_string());
            let seen = receiver.consent(&consent.consent_id).await?;
            let status = seen["status"].as_str().unwrap_or_default();
            let by = seen
                .pointer("/rejection/rejectedBy")
                .and_then(Value::as_str)
                .unwrap_or_default();
            if (status, by) != ("REJECTED", "USER") {
                return Err(
                    format!("the consent is {status} by {by}, not REJECTED by USER").into(),
                );
            }
            trace.detail("and the Consents API shows it REJECTED by the USER");
            Ok(())
        }
    }
}

/// A 90-day consent of `customer` to the accounts, their balances and the
/// resources list, and its pushed authorization request: the journeys'
/// data consent.
///
/// # Errors
/// When the transmitter refuses or cannot be reached.
pub async fn data_consent(
    receiver: &opus_drx::DataReceiver,
    clock: &dyn opus_core::Clock,
    customer: &Cpf,
) -> Result<opus_drx::ConsentInProgress, Failure> {
    let expiration = clock
        .now()
        .saturating_add(Duration::from_secs(90 * 86_400))
        .truncated_to_seconds()
        .to_string();
    Ok(receiver
        .create_consent(
            customer,
            &[
                Permission::AccountsRead,
                Permission::AccountsBalancesRead,
                Permission::ResourcesRead,
            ],
            &expiration,
            "accounts resources",
        )
        .await?)
}

/// The customer revokes `consent_id` in the bank's app: the management API
/// as a test-mode channel.
async fn revoke_in_channel(
    bank: &LoopbackBank,
    customer: &Cpf,
    consent_id: &str,
) -> Result<(), Failure> {
    let tls = crate::fintech::anonymous_tls(&pem_certificates(bank.ca_pem()))?;
    let url = Url::parse(&format!("{}/{consent_id}/revoke", bank.channels_url()?))?;
    let request = Request::builder()
        .method(Method::POST)
        .uri(url.as_str())
        .header(TEST_CHANNEL_HEADER, customer.as_str())
        .header(http::header::CONTENT_TYPE, "application/json")
        .body(Bytes::from(json!({"rejectedBy": "USER"}).to_string()))?;
    let answer = mtls::exchange(&tls, request, &url, Duration::from_secs(15), 1 << 20).await?;
    if answer.status != StatusCode::OK {
        return Err(format!("the channel revocation answered {}", answer.status).into());
    }
    Ok(())
}

/// The payment initiator and its webhook endpoint.
struct Payer {
    fintech: SandboxFintech,
    initiator: Arc<Initiator>,
}

impl Payer {
    async fn start(bank: &LoopbackBank, trace: &mut Trace<'_>) -> Result<Self, Failure> {
        // The webhook endpoint: mutual TLS with the bank's certificate.
        let leaf = bank.receiver_certificate(&["127.0.0.1"])?;
        let (chain, key) = mtls::identity(&leaf.chain_der, leaf.key_pkcs8_der.expose());
        let tls = mtls::server_config(
            chain,
            key,
            &pem_certificates(bank.ca_pem()),
            mtls::ClientCertPolicy::Required,
        )?;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let webhook = Url::parse(&format!(
            "https://127.0.0.1:{}",
            listener.local_addr()?.port()
        ))?;
        let fintech =
            SandboxFintech::join(bank, "iniciadora-sandbox", &["PAGTO"], Some(&webhook)).await?;
        trace.step("A payment initiator registers, with its webhook URI");
        trace.detail(&format!(
            "client_id {}, webhooks at {webhook}",
            fintech.client_id().as_str()
        ));
        let client = fintech.client();
        let keys = client.server_keys().await?;
        let initiator = Arc::new(Initiator::new(
            client,
            fintech.organisation_id()?,
            HolderSettings {
                api_base: bank.api_url("")?,
                organisation: *bank.organisation_id(),
                keys,
                redirect_uri: Url::parse(FINTECH_REDIRECT)?,
            },
            bank.clock(),
        ));
        tokio::spawn(mtls::serve(
            listener,
            Some(tls),
            WebhookReceiver::new(initiator.clone()),
            std::future::pending(),
        ));
        Ok(Self { fintech, initiator })
    }

    /// Creates a consent for one payment on `date`, has it approved, and
    /// pays; the payment's id and status.
    async fn pay(
        &self,
        date: &str,
        scheduled: bool,
        n: u32,
        trace: &mut Trace<'_>,
    ) -> Result<(String, String), Failure> {
        let customer = sandbox_customer()?;
        let consent = self
            .initiator
            .create_payment_consent(Value::Object(payment_consent_data(
                date, scheduled, &customer,
            )))
            .await?;
        trace.step(&format!(
            "The initiator creates a signed payment consent for R$ 80.00 on {date}"
        ));
        trace.detail(&format!("consent {}", consent.consent_id));
        let params = self
            .fintech
            .browse(&consent.pending.authorization_url)
            .await?;
        trace.step("The customer approves at the bank");
        let paid = self
            .initiator
            .pay(&consent, &params, pix_order(date, n))
            .await?;
        let payment = paid
            .pointer("/data/0/paymentId")
            .and_then(Value::as_str)
            .ok_or("no paymentId")?
            .to_owned();
        let status = paid
            .pointer("/data/0/status")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        trace.step(&format!(
            "The payment is posted, signed both ways: {status}"
        ));
        trace.detail(&format!("payment {payment}"));
        Ok((payment, status))
    }

    /// Waits (up to two seconds) until the initiator has seen `status`.
    async fn sees(&self, payment: &str, status: &str) -> bool {
        for _ in 0..200 {
            if self.initiator.status_of(payment).as_deref() == Some(status) {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        false
    }
}

/// The consent body for one payment of R$ 80.00: immediate when `date` is
/// today, scheduled otherwise.
pub fn payment_consent_data(
    date: &str,
    scheduled: bool,
    customer: &Cpf,
) -> serde_json::Map<String, Value> {
    let details = json!({"localInstrument": "MANU",
        "creditorAccount": {"ispb": "12345678", "issuer": "1774", "number": "1234567890", "accountType": "CACC"}});
    let payment = if scheduled {
        json!({
            "type": "PIX", "schedule": {"single": {"date": date}}, "currency": "BRL", "amount": "80.00",
            "details": details,
        })
    } else {
        json!({"type": "PIX", "date": date, "currency": "BRL", "amount": "80.00", "details": details})
    };
    let mut data = serde_json::Map::new();
    data.insert(
        "loggedUser".into(),
        json!({"document": {"identification": customer.as_str(), "rel": "CPF"}}),
    );
    data.insert(
        "creditor".into(),
        json!({"personType": "PESSOA_NATURAL", "cpfCnpj": "11144477735", "name": "João Souza"}),
    );
    data.insert("payment".into(), payment);
    data
}

/// The `data` of `POST /pix/payments` for one payment of R$ 80.00 on
/// `date` (`n` tells the end-to-end ids apart).
pub fn pix_order(date: &str, n: u32) -> Value {
    let compact: String = date.chars().filter(char::is_ascii_digit).collect();
    json!([{
        "endToEndId": format!("E12345678{compact}1500{n:011}"),
        "localInstrument": "MANU",
        "payment": {"amount": "80.00", "currency": "BRL"},
        "creditorAccount": {"ispb": "12345678", "issuer": "1774", "number": "1234567890", "accountType": "CACC"},
        "cnpjInitiator": "11222333000181",
    }])
}

async fn pix_payment(
    bank: &LoopbackBank,
    payer: &Payer,
    trace: &mut Trace<'_>,
) -> Result<(), Failure> {
    let today = bank.clock().now().date_in_brasilia().to_string();
    let (payment, status) = payer.pay(&today, false, 1, trace).await?;
    if status != "ACSC" {
        let pass = bank.deliver_webhooks().await?;
        trace.detail(&format!("{} webhook notices delivered", pass.delivered));
        if !payer.sees(&payment, "ACSC").await {
            return Err(format!("the payment is {status}, not ACSC").into());
        }
    }
    let pass = bank.deliver_webhooks().await?;
    if pass.delivered == 0 {
        return Err("no webhook notice reached the initiator".into());
    }
    trace.step(&format!(
        "The bank's webhook reaches the initiator ({} notices, mutual TLS)",
        pass.delivered
    ));
    Ok(())
}

async fn scheduled_payment(
    bank: &LoopbackBank,
    payer: &Payer,
    trace: &mut Trace<'_>,
) -> Result<(), Failure> {
    let tomorrow = bank
        .clock()
        .now()
        .date_in_brasilia()
        .add_days(1)
        .ok_or("no tomorrow")?;
    let (payment, status) = payer.pay(&tomorrow.to_string(), true, 2, trace).await?;
    if status != "SCHD" {
        return Err(format!("the payment is {status}, not SCHD").into());
    }
    let settled = bank.settle_due(tomorrow).await?;
    trace.step(&format!(
        "Its date comes: the bank's scheduler submits {settled} payment to the SPI"
    ));
    let pass = bank.deliver_webhooks().await?;
    trace.detail(&format!("{} webhook notices delivered", pass.delivered));
    if !payer.sees(&payment, "ACSC").await {
        return Err(format!(
            "the initiator sees {:?}, not ACSC",
            payer.initiator.status_of(&payment)
        )
        .into());
    }
    trace.step("The initiator, told by webhook, reads the payment again: ACSC");
    Ok(())
}
