//! The connector tester passes the synthetic back office and names each
//! fault of a broken one: an invalid field, a window ignored, a resource
//! the consent does not share answered, a call that never ends, an
//! unknown id answered with the wrong error.
// Tests fail by panicking; these lints are for library code.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use async_trait::async_trait;
use opus_core::connector::{
    Account, AccountBalances, AccountIdentification, AccountOverdraftLimits, AccountTransaction,
    AccountType, AccountsConnector, ConnectorError, DataRequestContext, Financings,
    InvoiceFinancings, Loans, ResourcesConnector, TransactionQuery, UnarrangedAccountsOverdraft,
};
use opus_core::envelope::Page;
use opus_core::store::Window;
use opus_core::{Cpf, Date, ResourceId};
use opus_testkit::bank::{MARIA_CPF, SyntheticBank};
use opus_testkit::connector_tester::{ConnectorTester, Report};
use opus_testkit::openapi::OpenApi;

fn today() -> Date {
    Date::from_calendar_date(2026, 11, 2).unwrap()
}

fn maria() -> Cpf {
    Cpf::parse(MARIA_CPF).unwrap()
}

fn tester(bank: &SyntheticBank) -> ConnectorTester {
    ConnectorTester::for_customer(maria(), None, bank.resource_ids(&maria(), None), today())
        .unwrap()
}

fn failures_of(report: &Report, method: &str, aspect: &str) -> Vec<String> {
    report
        .failures()
        .into_iter()
        .filter(|c| c.method == method && c.aspect == aspect)
        .filter_map(|c| c.failure.clone())
        .collect()
}

#[tokio::test]
async fn the_synthetic_back_office_passes_every_check() {
    let bank = SyntheticBank::new(today());
    let tester = tester(&bank);
    let mut report = tester
        .accounts(&bank, &OpenApi::load("accounts", "2.4.2").unwrap())
        .await;
    report.extend(
        tester
            .credit_operations::<Loans>(&bank, &OpenApi::load("loans", "2.5.0").unwrap())
            .await,
    );
    report.extend(
        tester
            .credit_operations::<Financings>(&bank, &OpenApi::load("financings", "2.4.0").unwrap())
            .await,
    );
    report.extend(
        tester
            .credit_operations::<InvoiceFinancings>(
                &bank,
                &OpenApi::load("invoice-financings", "2.4.0").unwrap(),
            )
            .await,
    );
    report.extend(
        tester
            .credit_operations::<UnarrangedAccountsOverdraft>(
                &bank,
                &OpenApi::load("unarranged-accounts-overdraft", "2.5.0").unwrap(),
            )
            .await,
    );
    report.extend(
        tester
            .resources(&bank, &OpenApi::load("resources", "3.1.0").unwrap())
            .await,
    );
    assert!(report.passed(), "{report}");
    // Every aspect ran, on every kind of method.
    for (method, aspect) in [
        ("accounts.accounts", "schema"),
        ("accounts.accounts", "pagination"),
        ("accounts.accounts", "scoping"),
        ("accounts.balances", "schema"),
        ("accounts.transactions", "pagination"),
        ("accounts.account", "not found"),
        ("accounts.account", "scoping"),
        ("loans.contracts", "pagination"),
        ("loans.contract", "schema"),
        ("loans.warranties", "schema"),
        ("loans.scheduled_instalments", "schema"),
        ("loans.payments", "schema"),
        ("loans.contract", "scoping"),
        ("resources.resources", "scoping"),
    ] {
        assert!(
            report
                .checks
                .iter()
                .any(|c| c.method == method && c.aspect == aspect),
            "no {aspect} check of {method}:\n{report}"
        );
    }
}

/// The synthetic accounts back office with one fault switched on.
struct Broken {
    bank: SyntheticBank,
    fault: Fault,
}

#[derive(Clone, Copy, PartialEq)]
enum Fault {
    /// A COMPE code of two digits in the list.
    InvalidField,
    /// Every list answers everything whatever the window.
    IgnoresWindow,
    /// Single-account calls answer any of the customer's accounts.
    IgnoresConsent,
    /// Balances never answer.
    Hangs,
    /// An unknown account is a back-office failure, not `NotFound`.
    WrongNotFound,
}

impl Broken {
    fn ctx(&self, ctx: &DataRequestContext) -> DataRequestContext {
        let mut ctx = ctx.clone();
        if self.fault == Fault::IgnoresConsent {
            ctx.resources = self.bank.resource_ids(&ctx.customer, None);
        }
        ctx
    }

    fn window(&self, window: Window) -> Window {
        if self.fault == Fault::IgnoresWindow {
            Window {
                offset: 0,
                limit: 1000,
            }
        } else {
            window
        }
    }

    fn not_found(&self, answer: ConnectorError) -> ConnectorError {
        match (self.fault, answer) {
            (Fault::WrongNotFound, ConnectorError::NotFound) => {
                ConnectorError::Backend("no such account".into())
            }
            (_, other) => other,
        }
    }
}

#[async_trait]
impl AccountsConnector for Broken {
    async fn accounts(
        &self,
        ctx: &DataRequestContext,
        account_type: Option<AccountType>,
        window: Window,
    ) -> Result<Page<Account>, ConnectorError> {
        let mut page = self
            .bank
            .accounts(ctx, account_type, self.window(window))
            .await?;
        if self.fault == Fault::InvalidField {
            for account in &mut page.items {
                account.compe_code = "12".to_owned();
            }
        }
        Ok(page)
    }

    async fn account(
        &self,
        ctx: &DataRequestContext,
        account_id: &ResourceId,
    ) -> Result<AccountIdentification, ConnectorError> {
        self.bank
            .account(&self.ctx(ctx), account_id)
            .await
            .map_err(|e| self.not_found(e))
    }

    async fn balances(
        &self,
        ctx: &DataRequestContext,
        account_id: &ResourceId,
    ) -> Result<AccountBalances, ConnectorError> {
        if self.fault == Fault::Hangs {
            std::future::pending::<()>().await;
        }
        self.bank.balances(&self.ctx(ctx), account_id).await
    }

    async fn overdraft_limits(
        &self,
        ctx: &DataRequestContext,
        account_id: &ResourceId,
    ) -> Result<AccountOverdraftLimits, ConnectorError> {
        self.bank.overdraft_limits(&self.ctx(ctx), account_id).await
    }

    async fn transactions(
        &self,
        ctx: &DataRequestContext,
        account_id: &ResourceId,
        query: &TransactionQuery,
        window: Window,
    ) -> Result<Page<AccountTransaction>, ConnectorError> {
        self.bank
            .transactions(&self.ctx(ctx), account_id, query, self.window(window))
            .await
    }
}

async fn run(fault: Fault) -> Report {
    let bank = SyntheticBank::new(today());
    let broken = Broken {
        bank: bank.clone(),
        fault,
    };
    tester(&bank)
        .timeout(Duration::from_secs(2))
        .accounts(&broken, &OpenApi::load("accounts", "2.4.2").unwrap())
        .await
}

#[tokio::test(start_paused = true)]
async fn each_fault_of_a_broken_back_office_is_named() {
    let report = run(Fault::InvalidField).await;
    assert!(!report.passed());
    let schema = failures_of(&report, "accounts.accounts", "schema");
    assert_eq!(schema.len(), 1, "{report}");
    assert!(schema[0].contains("compeCode"), "{report}");
    assert_eq!(report.failures().len(), 1, "{report}");

    let report = run(Fault::IgnoresWindow).await;
    assert!(!failures_of(&report, "accounts.accounts", "pagination").is_empty());
    assert!(!failures_of(&report, "accounts.transactions", "pagination").is_empty());
    assert!(failures_of(&report, "accounts.accounts", "schema").is_empty());

    let report = run(Fault::IgnoresConsent).await;
    assert!(
        !failures_of(&report, "accounts.account", "scoping").is_empty(),
        "{report}"
    );
    assert!(!failures_of(&report, "accounts.balances", "scoping").is_empty());
    assert!(failures_of(&report, "accounts.accounts", "scoping").is_empty());

    // With paused time the two-second timeout passes at once.
    let report = run(Fault::Hangs).await;
    let time = failures_of(&report, "accounts.balances", "time");
    assert!(!time.is_empty(), "{report}");
    assert!(time[0].contains("2s"), "{time:?}");
    assert!(failures_of(&report, "accounts.account", "time").is_empty());

    let report = run(Fault::WrongNotFound).await;
    let not_found = failures_of(&report, "accounts.account", "not found");
    assert_eq!(not_found.len(), 1, "{report}");
    assert!(
        not_found[0].contains("back office failure"),
        "{not_found:?}"
    );
    assert!(!report.to_string().is_empty());
}

/// Resources outside the consent are named.
struct Oversharing(SyntheticBank);

#[async_trait]
impl ResourcesConnector for Oversharing {
    async fn resources(
        &self,
        ctx: &DataRequestContext,
    ) -> Result<Vec<opus_core::connector::Resource>, ConnectorError> {
        let mut all = ctx.clone();
        all.resources = self.0.resource_ids(&ctx.customer, None);
        self.0.resources(&all).await
    }
}

#[tokio::test]
async fn a_resources_list_beyond_the_consent_fails_scoping() {
    let bank = SyntheticBank::new(today());
    let mut shared = bank.resource_ids(&maria(), None);
    let left_out = shared.pop().unwrap();
    let tester = ConnectorTester::for_customer(maria(), None, shared, today()).unwrap();
    let spec = OpenApi::load("resources", "3.1.0").unwrap();
    assert!(tester.resources(&bank, &spec).await.passed());
    let report = tester.resources(&Oversharing(bank), &spec).await;
    let scoping = failures_of(&report, "resources.resources", "scoping");
    assert_eq!(scoping.len(), 1, "{report}");
    assert!(scoping[0].contains(left_out.as_str()), "{scoping:?}");
}
