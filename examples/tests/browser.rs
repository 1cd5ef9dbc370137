//! A person's browser against the loopback bank: headless Chromium, driven
//! through WebDriver (chromedriver), completes a data consent by clicking
//! (the brand's login and consent pages, the permissions in Portuguese),
//! then a second consent handed off from the first page to a second
//! browser (the "phone") through the hand-off link; the fintech gets its
//! tokens each time. The customer then revokes the first consent on the
//! bank's app page and the fintech's next read is refused; an operator
//! registers an outage on the back-office page and the status API shows
//! it. Screenshots go to `target/screenshots/`.
//!
//! Needs `OPUS_CHROMEDRIVER` (chromedriver) and `OPUS_CHROMIUM` (the
//! browser binary); skipped without them, except under `CI=true`.

// Test helpers outside #[test] functions: a failed expectation must panic.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use base64::Engine;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use opus_core::consent::Permission;
use opus_examples::bank::{LoopbackBank, sandbox_customer};
use opus_examples::fintech::{FINTECH_REDIRECT, SandboxFintech, anonymous_tls, pem_certificates};
use opus_fapi::mtls;
use serde_json::{Value, json};
use url::Url;

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

fn tools() -> Option<(String, String)> {
    match (
        std::env::var("OPUS_CHROMEDRIVER"),
        std::env::var("OPUS_CHROMIUM"),
    ) {
        (Ok(driver), Ok(browser)) => Some((driver, browser)),
        _ if std::env::var("CI").as_deref() == Ok("true") => {
            panic!("CI=true but OPUS_CHROMEDRIVER or OPUS_CHROMIUM is not set")
        }
        _ => {
            eprintln!(
                "skipping the browser test: install chromium and chromium-driver, set OPUS_CHROMEDRIVER and OPUS_CHROMIUM"
            );
            None
        }
    }
}

/// chromedriver, stopped when dropped.
struct Driver {
    child: std::process::Child,
    port: u16,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Driver {
    async fn start(path: &str) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = std::process::Command::new(path)
            .arg(format!("--port={port}"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let driver = Self { child, port };
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                return driver;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("chromedriver did not listen within ten seconds");
    }

    /// One WebDriver command; its `value`.
    async fn call(&self, method: http::Method, path: &str, body: Option<Value>) -> Value {
        let stream = tokio::net::TcpStream::connect(("127.0.0.1", self.port))
            .await
            .unwrap();
        let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .unwrap();
        tokio::spawn(connection);
        let request = http::Request::builder()
            .method(method)
            .uri(path)
            .header(http::header::HOST, format!("127.0.0.1:{}", self.port))
            .header(http::header::CONTENT_TYPE, "application/json")
            .body(Full::new(Bytes::from(
                body.map(|b| b.to_string()).unwrap_or_default(),
            )))
            .unwrap();
        let response = sender.send_request(request).await.unwrap();
        let status = response.status();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        let value: Value = serde_json::from_slice(&bytes).unwrap();
        assert!(status.is_success(), "{path}: {status} {value}");
        value["value"].clone()
    }

    async fn session(&self, browser: &str) -> Session<'_> {
        let created = self
            .call(
                http::Method::POST,
                "/session",
                Some(json!({"capabilities": {"alwaysMatch": {
                    "browserName": "chrome",
                    "acceptInsecureCerts": true,
                    "goog:chromeOptions": {
                        "binary": browser,
                        "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                                 "--disable-dev-shm-usage", "--window-size=900,1100"],
                    },
                }}})),
            )
            .await;
        let session = Session {
            driver: self,
            id: created["sessionId"].as_str().unwrap().to_owned(),
        };
        // Element lookups wait for the next page (up to ten seconds).
        self.call(
            http::Method::POST,
            &format!("/session/{}/timeouts", session.id),
            Some(json!({"implicit": 10_000, "pageLoad": 30_000})),
        )
        .await;
        session
    }
}

struct Session<'a> {
    driver: &'a Driver,
    id: String,
}

impl Session<'_> {
    async fn go(&self, url: &str) {
        self.driver
            .call(
                http::Method::POST,
                &format!("/session/{}/url", self.id),
                Some(json!({"url": url})),
            )
            .await;
    }

    async fn find(&self, css: &str) -> String {
        let found = self
            .driver
            .call(
                http::Method::POST,
                &format!("/session/{}/element", self.id),
                Some(json!({"using": "css selector", "value": css})),
            )
            .await;
        found[ELEMENT]
            .as_str()
            .unwrap_or_else(|| panic!("{css}: {found}"))
            .to_owned()
    }

    async fn type_into(&self, css: &str, text: &str) {
        let element = self.find(css).await;
        self.driver
            .call(
                http::Method::POST,
                &format!("/session/{}/element/{element}/value", self.id),
                Some(json!({"text": text})),
            )
            .await;
    }

    async fn click(&self, css: &str) {
        let element = self.find(css).await;
        self.driver
            .call(
                http::Method::POST,
                &format!("/session/{}/element/{element}/click", self.id),
                Some(json!({})),
            )
            .await;
    }

    async fn url(&self) -> String {
        self.driver
            .call(
                http::Method::GET,
                &format!("/session/{}/url", self.id),
                None,
            )
            .await
            .as_str()
            .unwrap()
            .to_owned()
    }

    async fn source(&self) -> String {
        self.driver
            .call(
                http::Method::GET,
                &format!("/session/{}/source", self.id),
                None,
            )
            .await
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// The page source once it contains `text` (a click that submits a
    /// form may return before the next page has loaded).
    async fn wait_for(&self, text: &str) -> String {
        let mut source = String::new();
        for _ in 0..100 {
            source = self.source().await;
            if source.contains(text) {
                return source;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the page never showed {text:?}:\n{source}");
    }

    async fn attribute(&self, css: &str, name: &str) -> String {
        let element = self.find(css).await;
        self.driver
            .call(
                http::Method::GET,
                &format!("/session/{}/element/{element}/attribute/{name}", self.id),
                None,
            )
            .await
            .as_str()
            .unwrap()
            .to_owned()
    }

    async fn screenshot(&self, name: &str) {
        let png = self
            .driver
            .call(
                http::Method::GET,
                &format!("/session/{}/screenshot", self.id),
                None,
            )
            .await;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(png.as_str().unwrap())
            .unwrap();
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("../screenshots");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("{name}.png")), bytes).unwrap();
    }

    /// Waits until the browser is at the fintech's redirect URI; its
    /// fragment parameters.
    async fn back_at_fintech(&self) -> BTreeMap<String, String> {
        for _ in 0..100 {
            let at = self.url().await;
            if at.starts_with(FINTECH_REDIRECT) {
                let url = Url::parse(&at).unwrap();
                return url::form_urlencoded::parse(url.fragment().unwrap_or_default().as_bytes())
                    .into_owned()
                    .collect();
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!(
            "the browser never came back to the fintech: {}",
            self.url().await
        );
    }

    async fn close(self) {
        self.driver
            .call(http::Method::DELETE, &format!("/session/{}", self.id), None)
            .await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_customer_consents_by_clicking_hands_off_to_a_phone_and_revokes() {
    let Some((driver_path, browser)) = tools() else {
        return;
    };
    let bank = LoopbackBank::start().await.unwrap();
    let fintech = SandboxFintech::join(&bank, "navegador", &["DADOS"], None)
        .await
        .unwrap();
    let receiver = opus_drx::DataReceiver::new(
        fintech.client(),
        bank.api_url("").unwrap(),
        Url::parse(FINTECH_REDIRECT).unwrap(),
    );
    let customer = sandbox_customer().unwrap();
    let expiration = "2030-01-01T00:00:00Z";
    let permissions = [
        Permission::AccountsRead,
        Permission::AccountsBalancesRead,
        Permission::ResourcesRead,
    ];
    let driver = Driver::start(&driver_path).await;

    // 1. The whole consent on one device, by clicking.
    let consent = receiver
        .create_consent(&customer, &permissions, expiration, "accounts resources")
        .await
        .unwrap();
    let desktop = driver.session(&browser).await;
    desktop.go(consent.pending.authorization_url.as_str()).await;
    desktop.wait_for("Entrar").await;
    desktop.screenshot("1-login").await;
    desktop
        .type_into("input[name=cpf]", customer.as_str())
        .await;
    desktop
        .type_into("input[name=password]", "senha-de-teste")
        .await;
    desktop.click("form[action$='/authenticate'] button").await;
    let consent_page = desktop.wait_for("Autorizar compartilhamento").await;
    desktop.screenshot("2-consent").await;
    assert!(
        consent_page.contains("Autorizar compartilhamento"),
        "{consent_page}"
    );
    assert!(consent_page.contains("Contas: saldos"), "{consent_page}");
    desktop.click("button[value=approve]").await;
    let params = desktop.back_at_fintech().await;
    desktop.screenshot("3-back-at-the-fintech").await;
    let tokens = receiver.complete(&consent, &params).await.unwrap();
    assert!(!receiver.accounts(&tokens).await.unwrap().is_empty());

    // 2. A second consent, handed off from the desktop to a phone.
    let second = receiver
        .create_consent(&customer, &permissions, expiration, "accounts resources")
        .await
        .unwrap();
    desktop.go(second.pending.authorization_url.as_str()).await;
    desktop.click("form[action$='/handoff'] button").await;
    desktop.wait_for("<svg").await;
    desktop.screenshot("4-hand-off").await;
    let link = desktop.attribute("#handoff-link", "href").await;
    let phone = driver.session(&browser).await;
    phone.go(&link).await;
    phone.type_into("input[name=cpf]", customer.as_str()).await;
    phone
        .type_into("input[name=password]", "senha-de-teste")
        .await;
    phone.click("form[action$='/authenticate'] button").await;
    phone.wait_for("Autorizar compartilhamento").await;
    phone.click("button[value=approve]").await;
    phone.wait_for("Pronto").await;
    phone.screenshot("5-phone-done").await;
    phone.close().await;
    // Back on the desktop, the customer carries on; the fintech gets the answer.
    desktop.click("form[method=get] button").await;
    let params = desktop.back_at_fintech().await;
    let second_tokens = receiver.complete(&second, &params).await.unwrap();
    assert!(!receiver.accounts(&second_tokens).await.unwrap().is_empty());
    desktop.close().await;

    // 3. The customer revokes the first consent in the bank's app (its
    //    web page over the management API).
    let app = driver.session(&browser).await;
    let base = bank.base_url().as_str().trim_end_matches('/').to_owned();
    let brand = bank.brand().id().as_str().to_owned();
    app.go(&format!("{base}/{brand}/app")).await;
    app.type_into("input[name=cpf]", customer.as_str()).await;
    app.click("button[type=submit]").await;
    let listed = app.wait_for("Contas: saldos").await;
    assert!(listed.contains(&consent.consent_id), "{listed}");
    assert!(listed.contains("Contas: saldos"), "{listed}");
    app.screenshot("6-app-consents").await;
    app.click(&format!("tr[data-consent='{}'] button", consent.consent_id))
        .await;
    let after = app.wait_for("Encerrado").await;
    app.screenshot("7-app-revoked").await;
    assert!(after.contains("Encerrado"), "{after}");
    assert!(receiver.accounts(&tokens).await.is_err());
    assert!(!receiver.accounts(&second_tokens).await.unwrap().is_empty());

    // 4. An operator registers an outage on the back-office page and the
    //    public status API shows it.
    app.go(&format!("{base}/{brand}/painel")).await;
    app.wait_for("Disponibilidade").await;
    app.type_into("input[name=explanation]", "Falha no serviço de saldos.")
        .await;
    app.click("form[action$='/painel/outage'] button").await;
    app.wait_for("Indisponibilidade registrada.").await;
    app.screenshot("8-back-office").await;
    app.close().await;
    let tls = anonymous_tls(&pem_certificates(bank.ca_pem())).unwrap();
    let status_url = bank.status_url().unwrap();
    let request = http::Request::get(status_url.as_str())
        .body(Bytes::new())
        .unwrap();
    let answer = mtls::exchange(&tls, request, &status_url, Duration::from_secs(15), 1 << 20)
        .await
        .unwrap();
    let status: Value = serde_json::from_slice(&answer.body).unwrap();
    assert_eq!(
        status["data"]["status"][0]["code"], "UNAVAILABLE",
        "{status}"
    );
    bank.stop().await;
}
