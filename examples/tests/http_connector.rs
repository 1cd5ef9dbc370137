//! The HTTP connector against a REST back office (the synthetic bank
//! behind the connector contract over HTTPS): the connector tester passes
//! it, and a back office that is gone fails every check, named.
// Tests fail by panicking; these lints are for library code.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use opus_core::connector::{Financings, InvoiceFinancings, Loans, UnarrangedAccountsOverdraft};
use opus_core::{Cpf, Date};
use opus_examples::fintech::anonymous_tls;
use opus_examples::http_connector::{HttpConnector, start_back_office};
use opus_testkit::bank::MARIA_CPF;
use opus_testkit::connector_tester::{ConnectorTester, Report};
use opus_testkit::openapi::OpenApi;
use opus_testkit::{SyntheticBank, TestPki};

async fn suite(connector: &HttpConnector, bank: &SyntheticBank, today: Date) -> Report {
    let maria = Cpf::parse(MARIA_CPF).unwrap();
    let tester =
        ConnectorTester::for_customer(maria.clone(), None, bank.resource_ids(&maria, None), today)
            .unwrap()
            .timeout(Duration::from_secs(5));
    let mut report = tester
        .accounts(connector, &OpenApi::load("accounts", "2.4.2").unwrap())
        .await;
    report.extend(
        tester
            .credit_operations::<Loans>(connector, &OpenApi::load("loans", "2.5.0").unwrap())
            .await,
    );
    report.extend(
        tester
            .credit_operations::<Financings>(
                connector,
                &OpenApi::load("financings", "2.4.0").unwrap(),
            )
            .await,
    );
    report.extend(
        tester
            .credit_operations::<InvoiceFinancings>(
                connector,
                &OpenApi::load("invoice-financings", "2.4.0").unwrap(),
            )
            .await,
    );
    report.extend(
        tester
            .credit_operations::<UnarrangedAccountsOverdraft>(
                connector,
                &OpenApi::load("unarranged-accounts-overdraft", "2.5.0").unwrap(),
            )
            .await,
    );
    report.extend(
        tester
            .resources(connector, &OpenApi::load("resources", "3.1.0").unwrap())
            .await,
    );
    report
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_connector_tester_passes_the_http_connector_over_a_rest_back_office() {
    let today = Date::from_calendar_date(2026, 11, 2).unwrap();
    let bank = SyntheticBank::new(today);
    let pki = TestPki::generate("Back office").unwrap();
    let base = start_back_office(bank.clone(), &pki).await.unwrap();
    let anchors = vec![rustls::pki_types::CertificateDer::from(
        pki.root_der().to_vec(),
    )];
    let connector = HttpConnector::new(base, client_tls(&anchors));
    let report = suite(&connector, &bank, today).await;
    assert!(report.passed(), "{report}");
    assert!(report.checks.len() > 50, "{report}");

    // A back office that does not answer: every call fails, and says so.
    let gone = HttpConnector::new(
        url::Url::parse("https://127.0.0.1:9/").unwrap(),
        client_tls(&anchors),
    );
    let report = suite(&gone, &bank, today).await;
    assert!(!report.passed());
    assert!(
        report
            .failures()
            .iter()
            .any(|c| c.method == "accounts.accounts"
                && c.failure.as_deref().unwrap_or_default().contains("failed")),
        "{report}"
    );
}

fn client_tls(
    anchors: &[rustls::pki_types::CertificateDer<'static>],
) -> std::sync::Arc<rustls::ClientConfig> {
    anonymous_tls(anchors).unwrap()
}
