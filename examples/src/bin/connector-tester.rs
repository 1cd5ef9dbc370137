//! Runs the connector tester against the synthetic back office and prints
//! its checklist; exits non-zero when any check fails.
//!
//! A bank runs the same suite against its own connectors by building a
//! [`ConnectorTester`] for a test customer of its back office and calling
//! it with its connectors, as this program does with [`SyntheticBank`]:
//!
//! ```text
//! cargo run -p opus-examples --bin connector-tester
//! ```

use std::error::Error;
use std::process::ExitCode;

use opus_core::connector::{Financings, InvoiceFinancings, Loans, UnarrangedAccountsOverdraft};
use opus_core::{Clock, Cnpj, Cpf, SystemClock};
use opus_testkit::bank::{JOAO_CPF, MARIA_CPF, PADARIA_CNPJ, SyntheticBank};
use opus_testkit::connector_tester::{ConnectorTester, Report};
use opus_testkit::openapi::OpenApi;

#[tokio::main]
async fn main() -> Result<ExitCode, Box<dyn Error>> {
    let today = SystemClock.now().date_in_brasilia();
    let bank = SyntheticBank::new(today);
    let specs = [
        OpenApi::load("accounts", "2.4.2")?,
        OpenApi::load("loans", "2.5.0")?,
        OpenApi::load("financings", "2.4.0")?,
        OpenApi::load("invoice-financings", "2.4.0")?,
        OpenApi::load("unarranged-accounts-overdraft", "2.5.0")?,
        OpenApi::load("resources", "3.1.0")?,
    ];
    let [
        accounts,
        loans,
        financings,
        invoice_financings,
        unarranged,
        resources,
    ] = &specs;
    let customers = [
        ("Maria (PF)", Cpf::parse(MARIA_CPF)?, None),
        ("João (PF)", Cpf::parse(JOAO_CPF)?, None),
        (
            "Maria for Padaria Azul (PJ)",
            Cpf::parse(MARIA_CPF)?,
            Some(Cnpj::parse(PADARIA_CNPJ)?),
        ),
    ];
    let mut all = Report::default();
    for (who, cpf, business) in customers {
        let shared = bank.resource_ids(&cpf, business.as_ref());
        let tester = ConnectorTester::for_customer(cpf, business, shared, today)?;
        let mut report = tester.accounts(&bank, accounts).await;
        report.extend(tester.credit_operations::<Loans>(&bank, loans).await);
        report.extend(
            tester
                .credit_operations::<Financings>(&bank, financings)
                .await,
        );
        report.extend(
            tester
                .credit_operations::<InvoiceFinancings>(&bank, invoice_financings)
                .await,
        );
        report.extend(
            tester
                .credit_operations::<UnarrangedAccountsOverdraft>(&bank, unarranged)
                .await,
        );
        report.extend(tester.resources(&bank, resources).await);
        println!("\n{who}\n{report}");
        all.extend(report);
    }
    let failed = all.failures().len();
    println!(
        "\nsynthetic back office: {} checks, {failed} failed",
        all.checks.len()
    );
    Ok(if all.passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
