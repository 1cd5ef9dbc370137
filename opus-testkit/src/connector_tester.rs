//! The connector tester: a suite a bank runs against its own back-office
//! connectors before it plugs them into the data transmitter.
//!
//! For one test customer (a [`DataRequestContext`] whose `resources` are
//! what the customer shares), it checks every method of the accounts,
//! credit-operations and resources connectors:
//!
//! - **schema**: every record, serialised as the transmitter would answer
//!   it, is valid against the official OpenAPI schema of the endpoint's
//!   `data`;
//! - **pagination**: walking a list one record per window gives the same
//!   records as one large window, in the same order, with the same
//!   `total_records`, and a window past the end is empty;
//! - **scoping and errors**: an unknown id answers
//!   [`ConnectorError::NotFound`]; a resource the consent does not share is
//!   neither listed nor answered;
//! - **time**: every call answers within the timeout (15 seconds, the
//!   ecosystem's, by default).
//!
//! The [`Report`] reads as a checklist and tells whether everything
//! passed; `cargo run -p opus-examples --bin connector-tester` prints it
//! for the synthetic bank.

use std::fmt;
use std::future::Future;
use std::time::Duration;

use opus_core::connector::{
    AccountsConnector, ConnectorError, CreditOperationsConnector, CreditProduct,
    DataRequestContext, ResourcesConnector, TransactionQuery,
};
use opus_core::consent::Permission;
use opus_core::envelope::Page;
use opus_core::store::Window;
use opus_core::{
    BrandId, Cnpj, ConsentId, Cpf, Date, InteractionId, InvalidValue, OrganisationId, ResourceId,
};
use serde::Serialize;
use serde_json::Value;

use crate::openapi::OpenApi;

/// One check and how it went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    /// The connector method, e.g. `accounts.balances`.
    pub method: String,
    /// What was checked: `schema`, `pagination`, `scoping`, `not found`, `time`.
    pub aspect: &'static str,
    /// `None` when it passed; what is wrong otherwise.
    pub failure: Option<String>,
}

/// Every check of a run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// In the order they ran.
    pub checks: Vec<Check>,
}

impl Report {
    /// Whether every check passed (and there was at least one).
    pub fn passed(&self) -> bool {
        !self.checks.is_empty() && self.checks.iter().all(|c| c.failure.is_none())
    }

    /// The failed checks.
    pub fn failures(&self) -> Vec<&Check> {
        self.checks.iter().filter(|c| c.failure.is_some()).collect()
    }

    /// Adds another run's checks.
    pub fn extend(&mut self, other: Report) {
        self.checks.extend(other.checks);
    }

    fn record(&mut self, method: &str, aspect: &'static str, failure: Option<String>) {
        self.checks.push(Check {
            method: method.to_owned(),
            aspect,
            failure,
        });
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for check in &self.checks {
            match &check.failure {
                None => writeln!(f, "  ok    {:<40} {}", check.method, check.aspect)?,
                Some(why) => writeln!(f, "  FAIL  {:<40} {}: {why}", check.method, check.aspect)?,
            }
        }
        let failed = self.failures().len();
        write!(
            f,
            "{} checks, {} passed, {failed} failed",
            self.checks.len(),
            self.checks.len() - failed
        )
    }
}

/// Runs the suite; see the module docs.
#[derive(Debug)]
pub struct ConnectorTester {
    ctx: DataRequestContext,
    today: Date,
    timeout: Duration,
}

/// An id no back office has.
const UNKNOWN: &str = "opus-connector-tester-unknown";

/// What a call gave, or why it gave nothing.
enum Called<T> {
    Answered(Result<T, ConnectorError>),
    TimedOut,
}

impl ConnectorTester {
    /// Tests as the customer and consent of `ctx`, dates around `today`.
    pub fn new(ctx: DataRequestContext, today: Date) -> Self {
        Self {
            ctx,
            today,
            timeout: Duration::from_secs(15),
        }
    }

    /// Tests as `customer` (acting for `business` on a PJ consent) under a
    /// consent that shares `resources` and grants every data permission:
    /// the context the transmitter would build after its checks.
    ///
    /// # Errors
    /// [`InvalidValue`] never in practice (the tester's fixed ids are valid).
    pub fn for_customer(
        customer: Cpf,
        business: Option<Cnpj>,
        resources: Vec<ResourceId>,
        today: Date,
    ) -> Result<Self, InvalidValue> {
        use Permission as P;
        let ctx = DataRequestContext {
            brand: BrandId::new("connector-tester")?,
            consent_id: ConsentId::new("urn:opus:connector-tester")?,
            customer,
            business_entity: business,
            permissions: vec![
                P::AccountsRead,
                P::AccountsBalancesRead,
                P::AccountsTransactionsRead,
                P::AccountsOverdraftLimitsRead,
                P::LoansRead,
                P::LoansScheduledInstalmentsRead,
                P::LoansPaymentsRead,
                P::LoansWarrantiesRead,
                P::FinancingsRead,
                P::FinancingsScheduledInstalmentsRead,
                P::FinancingsPaymentsRead,
                P::FinancingsWarrantiesRead,
                P::InvoiceFinancingsRead,
                P::InvoiceFinancingsScheduledInstalmentsRead,
                P::InvoiceFinancingsPaymentsRead,
                P::InvoiceFinancingsWarrantiesRead,
                P::UnarrangedAccountsOverdraftRead,
                P::UnarrangedAccountsOverdraftScheduledInstalmentsRead,
                P::UnarrangedAccountsOverdraftPaymentsRead,
                P::UnarrangedAccountsOverdraftWarrantiesRead,
                P::ResourcesRead,
            ],
            client_organisation: OrganisationId::from_uuid(uuid::Uuid::nil()),
            interaction_id: InteractionId::random(),
            resources,
        };
        Ok(Self::new(ctx, today))
    }

    /// Each call must answer within `timeout`.
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    async fn call<T>(
        &self,
        report: &mut Report,
        method: &str,
        call: impl Future<Output = Result<T, ConnectorError>>,
    ) -> Called<T> {
        match tokio::time::timeout(self.timeout, call).await {
            Ok(answer) => {
                report.record(method, "time", None);
                Called::Answered(answer)
            }
            Err(_) => {
                report.record(
                    method,
                    "time",
                    Some(format!("no answer within {:?}", self.timeout)),
                );
                Called::TimedOut
            }
        }
    }

    /// The context without `id` among the shared resources.
    fn without(&self, id: &ResourceId) -> DataRequestContext {
        let mut ctx = self.ctx.clone();
        ctx.resources.retain(|r| r != id);
        ctx
    }

    fn schema<T: Serialize>(
        report: &mut Report,
        spec: &OpenApi,
        method: &str,
        template: &str,
        records: &[T],
    ) {
        let mut problems = Vec::new();
        for (n, record) in records.iter().enumerate() {
            match serde_json::to_value(record) {
                Ok(value) => match spec.data_problems("get", template, &value) {
                    Ok(found) => {
                        problems.extend(found.into_iter().map(|p| format!("record {n}: {p}")));
                    }
                    Err(e) => problems.push(e.to_string()),
                },
                Err(e) => problems.push(format!("record {n} does not serialise: {e}")),
            }
        }
        report.record(
            method,
            "schema",
            (!problems.is_empty())
                .then(|| problems.into_iter().take(5).collect::<Vec<_>>().join("; ")),
        );
    }

    /// Walks `list` one record at a time and compares with one window.
    /// `None` when the list failed (already reported).
    async fn pagination<T, F, Fut>(
        &self,
        report: &mut Report,
        method: &str,
        list: F,
    ) -> Option<Vec<T>>
    where
        T: Serialize,
        F: Fn(Window) -> Fut,
        Fut: Future<Output = Result<Page<T>, ConnectorError>>,
    {
        let whole = match self
            .call(
                report,
                method,
                list(Window {
                    offset: 0,
                    limit: 1000,
                }),
            )
            .await
        {
            Called::Answered(Ok(page)) => page,
            Called::Answered(Err(e)) => {
                report.record(method, "pagination", Some(format!("failed: {e}")));
                return None;
            }
            Called::TimedOut => return None,
        };
        let as_json = |items: &[T]| -> Vec<Value> {
            items
                .iter()
                .map(|i| serde_json::to_value(i).unwrap_or(Value::Null))
                .collect()
        };
        let expected = as_json(&whole.items);
        let mut walked = Vec::new();
        let mut failure = None;
        if whole.total_records != whole.items.len() as u64 {
            failure = Some(format!(
                "total_records {} for {} records",
                whole.total_records,
                whole.items.len()
            ));
        }
        let mut offset = 0u64;
        while failure.is_none() && offset <= whole.total_records {
            match tokio::time::timeout(self.timeout, list(Window { offset, limit: 1 })).await {
                Ok(Ok(page)) => {
                    if page.total_records != whole.total_records {
                        failure = Some(format!(
                            "total_records {} at offset {offset}, {} in one window",
                            page.total_records, whole.total_records
                        ));
                    } else if page.items.len() > 1 {
                        failure = Some(format!(
                            "{} records in a window of one at offset {offset}",
                            page.items.len()
                        ));
                    } else if offset == whole.total_records && !page.items.is_empty() {
                        failure = Some("records past the end".to_owned());
                    } else {
                        walked.extend(as_json(&page.items));
                    }
                }
                Ok(Err(e)) => failure = Some(format!("offset {offset}: {e}")),
                Err(_) => failure = Some(format!("offset {offset}: no answer in time")),
            }
            offset += 1;
        }
        if failure.is_none() && walked != expected {
            failure = Some(format!(
                "one record at a time gave {} records, one window {}, or another order",
                walked.len(),
                expected.len()
            ));
        }
        report.record(method, "pagination", failure);
        Some(whole.items)
    }

    /// `NotFound` for an unknown id and for `shared` once unshared.
    async fn scoped<T, F, Fut>(
        &self,
        report: &mut Report,
        method: &str,
        shared: &ResourceId,
        call: F,
    ) where
        F: Fn(DataRequestContext, ResourceId) -> Fut,
        Fut: Future<Output = Result<T, ConnectorError>>,
    {
        let unknown = ResourceId::new(UNKNOWN).ok();
        if let Some(unknown) = unknown {
            let failure = match self
                .call(report, method, call(self.ctx.clone(), unknown))
                .await
            {
                Called::Answered(Err(ConnectorError::NotFound)) | Called::TimedOut => None,
                Called::Answered(Err(e)) => {
                    Some(format!("an unknown id answered {e}, not NotFound"))
                }
                Called::Answered(Ok(_)) => Some("an unknown id answered data".to_owned()),
            };
            report.record(method, "not found", failure);
        }
        let failure = match self
            .call(report, method, call(self.without(shared), shared.clone()))
            .await
        {
            Called::Answered(Err(ConnectorError::NotFound)) | Called::TimedOut => None,
            Called::Answered(Err(e)) => Some(format!(
                "a resource the consent does not share answered {e}, not NotFound"
            )),
            Called::Answered(Ok(_)) => {
                Some("a resource the consent does not share answered data".to_owned())
            }
        };
        report.record(method, "scoping", failure);
    }

    /// A list must leave out a resource the consent does not share.
    async fn list_scoped<T, F, Fut>(
        &self,
        report: &mut Report,
        method: &str,
        shared: &ResourceId,
        id_of: impl Fn(&T) -> String,
        list: F,
    ) where
        F: Fn(DataRequestContext) -> Fut,
        Fut: Future<Output = Result<Page<T>, ConnectorError>>,
    {
        let failure = match self.call(report, method, list(self.without(shared))).await {
            Called::Answered(Ok(page)) => page
                .items
                .iter()
                .any(|item| id_of(item) == shared.as_str())
                .then(|| format!("{shared} listed though the consent does not share it")),
            Called::Answered(Err(e)) => Some(format!("failed: {e}")),
            Called::TimedOut => None,
        };
        report.record(method, "scoping", failure);
    }

    /// The accounts connector (accounts API 2.4.2).
    pub async fn accounts(&self, connector: &dyn AccountsConnector, spec: &OpenApi) -> Report {
        let mut report = Report::default();
        let ctx = &self.ctx;
        let Some(accounts) = self
            .pagination(&mut report, "accounts.accounts", |window| {
                connector.accounts(ctx, None, window)
            })
            .await
        else {
            return report;
        };
        Self::schema(
            &mut report,
            spec,
            "accounts.accounts",
            "/accounts",
            &accounts,
        );
        let Some(first) = accounts.first() else {
            report.record(
                "accounts.accounts",
                "data",
                Some("the test customer has no shared account".to_owned()),
            );
            return report;
        };
        let id = first.account_id.clone();
        self.list_scoped(
            &mut report,
            "accounts.accounts",
            &id,
            |a: &opus_core::connector::Account| a.account_id.to_string(),
            |ctx| async move {
                connector
                    .accounts(
                        &ctx,
                        None,
                        Window {
                            offset: 0,
                            limit: 1000,
                        },
                    )
                    .await
            },
        )
        .await;
        for account in &accounts {
            let id = &account.account_id;
            self.one(
                &mut report,
                spec,
                "accounts.account",
                "/accounts/{accountId}",
                connector.account(ctx, id),
            )
            .await;
            self.one(
                &mut report,
                spec,
                "accounts.balances",
                "/accounts/{accountId}/balances",
                connector.balances(ctx, id),
            )
            .await;
            self.one(
                &mut report,
                spec,
                "accounts.overdraft_limits",
                "/accounts/{accountId}/overdraft-limits",
                connector.overdraft_limits(ctx, id),
            )
            .await;
            let query = TransactionQuery {
                from: self.today.add_days(-365).unwrap_or(self.today),
                to: self.today,
                credit_debit: None,
            };
            if let Some(transactions) = self
                .pagination(&mut report, "accounts.transactions", |window| {
                    connector.transactions(ctx, id, &query, window)
                })
                .await
            {
                Self::schema(
                    &mut report,
                    spec,
                    "accounts.transactions",
                    "/accounts/{accountId}/transactions",
                    &transactions,
                );
            }
        }
        self.scoped(&mut report, "accounts.account", &id, |ctx, id| async move {
            connector.account(&ctx, &id).await
        })
        .await;
        self.scoped(
            &mut report,
            "accounts.balances",
            &id,
            |ctx, id| async move { connector.balances(&ctx, &id).await },
        )
        .await;
        report
    }

    /// Calls a single-record method and checks its answer.
    async fn one<T: Serialize>(
        &self,
        report: &mut Report,
        spec: &OpenApi,
        method: &str,
        template: &str,
        call: impl Future<Output = Result<T, ConnectorError>>,
    ) {
        if let Called::Answered(answer) = self.call(report, method, call).await {
            self.single(report, spec, method, template, answer);
        }
    }

    /// One record's answer: valid, or `Unavailable`-like errors the spec
    /// maps (a resource blocked or closed is a valid answer too).
    fn single<T: Serialize>(
        &self,
        report: &mut Report,
        spec: &OpenApi,
        method: &str,
        template: &str,
        answer: Result<T, ConnectorError>,
    ) {
        match answer {
            Ok(record) => Self::schema(report, spec, method, template, &[record]),
            Err(
                ConnectorError::ResourceUnavailable
                | ConnectorError::ResourceTemporarilyUnavailable
                | ConnectorError::ResourceAwaitingAuthorisation,
            ) => report.record(method, "schema", None),
            Err(e) => report.record(method, "schema", Some(format!("failed: {e}"))),
        }
    }

    /// A credit-operations connector (loans, financings, invoice
    /// financings, unarranged overdraft), against its API's spec.
    pub async fn credit_operations<P: CreditProduct>(
        &self,
        connector: &dyn CreditOperationsConnector<P>,
        spec: &OpenApi,
    ) -> Report {
        let mut report = Report::default();
        let ctx = &self.ctx;
        let api = P::API;
        let method = |name: &str| format!("{api}.{name}");
        let Some(contracts) = self
            .pagination(&mut report, &method("contracts"), |window| {
                connector.contracts(ctx, window)
            })
            .await
        else {
            return report;
        };
        Self::schema(
            &mut report,
            spec,
            &method("contracts"),
            "/contracts",
            &contracts,
        );
        let ids: Vec<ResourceId> = contracts
            .iter()
            .filter_map(|c| {
                serde_json::to_value(c)
                    .ok()
                    .and_then(|v| {
                        v.get("contractId")
                            .and_then(Value::as_str)
                            .map(str::to_owned)
                    })
                    .and_then(|id| ResourceId::new(id).ok())
            })
            .collect();
        let Some(first) = ids.first().cloned() else {
            return report;
        };
        self.list_scoped(
            &mut report,
            &method("contracts"),
            &first,
            |c| {
                serde_json::to_value(c)
                    .ok()
                    .and_then(|v| {
                        v.get("contractId")
                            .and_then(Value::as_str)
                            .map(str::to_owned)
                    })
                    .unwrap_or_default()
            },
            |ctx| async move {
                connector
                    .contracts(
                        &ctx,
                        Window {
                            offset: 0,
                            limit: 1000,
                        },
                    )
                    .await
            },
        )
        .await;
        for id in &ids {
            self.one(
                &mut report,
                spec,
                &method("contract"),
                "/contracts/{contractId}",
                connector.contract(ctx, id),
            )
            .await;
            if let Some(warranties) = self
                .pagination(&mut report, &method("warranties"), |window| {
                    connector.warranties(ctx, id, window)
                })
                .await
            {
                Self::schema(
                    &mut report,
                    spec,
                    &method("warranties"),
                    "/contracts/{contractId}/warranties",
                    &warranties,
                );
            }
            self.one(
                &mut report,
                spec,
                &method("scheduled_instalments"),
                "/contracts/{contractId}/scheduled-instalments",
                connector.scheduled_instalments(ctx, id),
            )
            .await;
            self.one(
                &mut report,
                spec,
                &method("payments"),
                "/contracts/{contractId}/payments",
                connector.payments(ctx, id),
            )
            .await;
        }
        self.scoped(
            &mut report,
            &method("contract"),
            &first,
            |ctx, id| async move { connector.contract(&ctx, &id).await },
        )
        .await;
        report
    }

    /// The resources connector (resources API 3.1.0): only shared
    /// resources are listed, each valid.
    pub async fn resources(&self, connector: &dyn ResourcesConnector, spec: &OpenApi) -> Report {
        let mut report = Report::default();
        if let Called::Answered(answer) = self
            .call(
                &mut report,
                "resources.resources",
                connector.resources(&self.ctx),
            )
            .await
        {
            match answer {
                Ok(resources) => {
                    Self::schema(
                        &mut report,
                        spec,
                        "resources.resources",
                        "/resources",
                        &resources,
                    );
                    let foreign: Vec<String> = resources
                        .iter()
                        .filter(|r| !self.ctx.resources.contains(&r.resource_id))
                        .map(|r| r.resource_id.to_string())
                        .collect();
                    report.record(
                        "resources.resources",
                        "scoping",
                        (!foreign.is_empty())
                            .then(|| format!("not shared by the consent: {}", foreign.join(", "))),
                    );
                }
                Err(e) => report.record(
                    "resources.resources",
                    "schema",
                    Some(format!("failed: {e}")),
                ),
            }
        }
        report
    }
}
