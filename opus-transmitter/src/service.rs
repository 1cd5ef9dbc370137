//! The data APIs of one brand as a `tower::Service`.

use std::collections::BTreeMap;
use std::sync::Arc;

use bytes::Bytes;
use http::request::Parts;
use http::{HeaderValue, Method, Request, Response, StatusCode, header};
use http_body_util::Full;
use opus_consent::DataConsents;
use opus_core::connector::models::credit_cards::EnumCreditCardTransactionType;
use opus_core::connector::{
    AccountType, AccountsConnector, CardTransactionQuery, ConnectorError, CreditCardsConnector,
    CreditDebitType, CreditOperationsConnector, CreditProduct, CustomersConnector,
    DataRequestContext, ResourcesConnector, TransactionQuery,
};
use opus_core::envelope::{Envelope, Page, PagePolicy, PageRequest};
use opus_core::seal::Sealer;
use opus_core::store::Window;
use opus_core::{ApiError, ApiErrorKind, Brand, Clock, Date, ResourceId, Storage, Timestamp};
use opus_fapi::server::guard::VerifiedAccess;
use serde::Serialize;
use serde_json::Value;
use url::Url;

use crate::chain::{Chain, Checked, Endpoint};

/// The endpoints served, with their scope, permission and monthly quota
/// (defined with the data APIs' vocabulary in `opus_core::data_apis`).
pub use opus_core::data_apis::endpoints;

/// How far back and ahead `/transactions` may look (accounts 2.4.2: 12 months).
const TRANSACTIONS_WINDOW_DAYS: i64 = 365;
/// `/transactions-current` looks back at most D-6 (seven days inclusive).
const CURRENT_WINDOW_DAYS: i64 = 6;

/// The data APIs of one brand.
#[derive(Clone)]
pub struct DataApis {
    inner: Arc<Inner>,
}

struct Inner {
    brand: Brand,
    chain: Chain,
    /// The API base path, e.g. `/banco-azul/api`.
    prefix: String,
    accounts: Option<Arc<dyn AccountsConnector>>,
    customers: Option<Arc<dyn CustomersConnector>>,
    resources: Option<Arc<dyn ResourcesConnector>>,
    cards: Option<Arc<dyn CreditCardsConnector>>,
    credit: Vec<Arc<dyn CreditApi>>,
    /// Monthly quotas the institution set instead of the spec's minimums.
    limits: BTreeMap<&'static str, Option<u64>>,
}

/// A credit-operations API with its product's models erased to JSON.
#[async_trait::async_trait]
trait CreditApi: Send + Sync + 'static {
    fn api(&self) -> &'static str;
    fn endpoints(&self) -> &'static endpoints::CreditEndpoints;
    async fn contracts(
        &self,
        ctx: &DataRequestContext,
        window: Window,
    ) -> Result<Page<Value>, ConnectorError>;
    async fn contract(
        &self,
        ctx: &DataRequestContext,
        id: &ResourceId,
    ) -> Result<Value, ConnectorError>;
    async fn warranties(
        &self,
        ctx: &DataRequestContext,
        id: &ResourceId,
        window: Window,
    ) -> Result<Page<Value>, ConnectorError>;
    async fn instalments(
        &self,
        ctx: &DataRequestContext,
        id: &ResourceId,
    ) -> Result<Value, ConnectorError>;
    async fn payments(
        &self,
        ctx: &DataRequestContext,
        id: &ResourceId,
    ) -> Result<Value, ConnectorError>;
}

struct Credit<P: CreditProduct> {
    connector: Arc<dyn CreditOperationsConnector<P>>,
    endpoints: &'static endpoints::CreditEndpoints,
}

fn json_of<T: Serialize>(value: T) -> Result<Value, ConnectorError> {
    serde_json::to_value(value).map_err(|e| ConnectorError::Backend(Box::new(e)))
}

fn page_json<T: Serialize>(page: Page<T>) -> Result<Page<Value>, ConnectorError> {
    Ok(Page {
        items: page
            .items
            .into_iter()
            .map(json_of)
            .collect::<Result<_, _>>()?,
        total_records: page.total_records,
    })
}

#[async_trait::async_trait]
impl<P: CreditProduct> CreditApi for Credit<P> {
    fn api(&self) -> &'static str {
        P::API
    }
    fn endpoints(&self) -> &'static endpoints::CreditEndpoints {
        self.endpoints
    }
    async fn contracts(
        &self,
        ctx: &DataRequestContext,
        window: Window,
    ) -> Result<Page<Value>, ConnectorError> {
        page_json(self.connector.contracts(ctx, window).await?)
    }
    async fn contract(
        &self,
        ctx: &DataRequestContext,
        id: &ResourceId,
    ) -> Result<Value, ConnectorError> {
        json_of(self.connector.contract(ctx, id).await?)
    }
    async fn warranties(
        &self,
        ctx: &DataRequestContext,
        id: &ResourceId,
        window: Window,
    ) -> Result<Page<Value>, ConnectorError> {
        page_json(self.connector.warranties(ctx, id, window).await?)
    }
    async fn instalments(
        &self,
        ctx: &DataRequestContext,
        id: &ResourceId,
    ) -> Result<Value, ConnectorError> {
        json_of(self.connector.scheduled_instalments(ctx, id).await?)
    }
    async fn payments(
        &self,
        ctx: &DataRequestContext,
        id: &ResourceId,
    ) -> Result<Value, ConnectorError> {
        json_of(self.connector.payments(ctx, id).await?)
    }
}

impl std::fmt::Debug for DataApis {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DataApis")
            .field("brand", self.inner.brand.id())
            .field("accounts", &self.inner.accounts.is_some())
            .field("customers", &self.inner.customers.is_some())
            .field("resources", &self.inner.resources.is_some())
            .finish_non_exhaustive()
    }
}

/// Builder of [`DataApis`]; an API whose connector is not given is not served (404).
pub struct DataApisBuilder {
    brand: Brand,
    consents: DataConsents,
    storage: Storage,
    sealer: Arc<Sealer>,
    clock: Arc<dyn Clock>,
    accounts: Option<Arc<dyn AccountsConnector>>,
    customers: Option<Arc<dyn CustomersConnector>>,
    resources: Option<Arc<dyn ResourcesConnector>>,
    cards: Option<Arc<dyn CreditCardsConnector>>,
    credit: Vec<Arc<dyn CreditApi>>,
    limits: BTreeMap<&'static str, Option<u64>>,
}

impl std::fmt::Debug for DataApisBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DataApisBuilder")
            .field("brand", self.brand.id())
            .finish_non_exhaustive()
    }
}

impl DataApis {
    /// Starts the APIs of `brand`: consents read through `consents`, counters
    /// and clients through `storage`, pagination keys sealed by `sealer`.
    pub fn builder(
        brand: Brand,
        consents: DataConsents,
        storage: Storage,
        sealer: Arc<Sealer>,
        clock: Arc<dyn Clock>,
    ) -> DataApisBuilder {
        DataApisBuilder {
            brand,
            consents,
            storage,
            sealer,
            clock,
            accounts: None,
            customers: None,
            resources: None,
            cards: None,
            credit: Vec::new(),
            limits: BTreeMap::new(),
        }
    }
}

impl DataApisBuilder {
    /// Serves the accounts API over `connector`.
    pub fn accounts(mut self, connector: Arc<dyn AccountsConnector>) -> Self {
        self.accounts = Some(connector);
        self
    }

    /// Serves the customers API over `connector`.
    pub fn customers(mut self, connector: Arc<dyn CustomersConnector>) -> Self {
        self.customers = Some(connector);
        self
    }

    /// Serves the resources API over `connector`.
    pub fn resources(mut self, connector: Arc<dyn ResourcesConnector>) -> Self {
        self.resources = Some(connector);
        self
    }

    /// Serves the credit-card accounts API over `connector`.
    pub fn credit_cards(mut self, connector: Arc<dyn CreditCardsConnector>) -> Self {
        self.cards = Some(connector);
        self
    }

    /// Serves the credit-operations API of product `P` (loans, financings,
    /// invoice financings, unarranged overdraft) over `connector`.
    pub fn credit_operations<P: CreditProduct>(
        mut self,
        connector: Arc<dyn CreditOperationsConnector<P>>,
    ) -> Self {
        let endpoints = match P::API {
            "loans" => &endpoints::LOANS,
            "financings" => &endpoints::FINANCINGS,
            "invoice-financings" => &endpoints::INVOICE_FINANCINGS,
            _ => &endpoints::UNARRANGED_ACCOUNTS_OVERDRAFT,
        };
        self.credit.retain(|c| c.api() != P::API);
        self.credit.push(Arc::new(Credit::<P> {
            connector,
            endpoints,
        }));
        self
    }

    /// The monthly quota of `endpoint`: operational limits are minimums an
    /// institution may raise (directory-and-limits §6), or `None` to not
    /// count the endpoint at all. Lowering a quota below the spec's minimum
    /// is refused (the default stays).
    pub fn monthly_limit(mut self, endpoint: &Endpoint, limit: Option<u64>) -> Self {
        let below_minimum = matches!(
            (limit, endpoint.monthly_limit),
            (Some(new), Some(minimum)) if new < minimum
        );
        if below_minimum {
            tracing::warn!(
                endpoint = endpoint.template,
                "a quota below the spec's minimum was ignored"
            );
        } else {
            self.limits.insert(endpoint.template, limit);
        }
        self
    }

    /// The service.
    pub fn build(self) -> DataApis {
        let prefix = self
            .brand
            .api_base_url()
            .path()
            .trim_end_matches('/')
            .to_owned();
        DataApis {
            inner: Arc::new(Inner {
                chain: Chain {
                    brand: self.brand.id().clone(),
                    consents: self.consents,
                    storage: self.storage,
                    sealer: self.sealer,
                    clock: self.clock,
                },
                brand: self.brand,
                prefix,
                accounts: self.accounts,
                customers: self.customers,
                resources: self.resources,
                cards: self.cards,
                credit: self.credit,
                limits: self.limits,
            }),
        }
    }
}

/// The query parameters; a repeated name is a malformed request.
struct Query(BTreeMap<String, String>);

impl Query {
    fn parse(raw: Option<&str>) -> Result<Self, ApiError> {
        let mut out = BTreeMap::new();
        for (k, v) in url::form_urlencoded::parse(raw.unwrap_or("").as_bytes()) {
            if out.insert(k.into_owned(), v.into_owned()).is_some() {
                return Err(ApiError::invalid_parameter("query"));
            }
        }
        Ok(Self(out))
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    fn page(&self, policy: PagePolicy) -> Result<PageRequest, ApiError> {
        PageRequest::parse(self.get("page"), self.get("page-size"), policy)
    }
}

fn connector_error(e: ConnectorError) -> ApiError {
    match e {
        ConnectorError::NotFound => ApiError::not_found(),
        ConnectorError::ResourceUnavailable => ApiError::new(
            ApiErrorKind::Forbidden,
            "STATUS_RESOURCE_UNAVAILABLE",
            "Recurso indisponível.",
            "O recurso solicitado está indisponível.",
        ),
        ConnectorError::ResourceTemporarilyUnavailable => ApiError::new(
            ApiErrorKind::Forbidden,
            "STATUS_RESOURCE_TEMPORARILY_UNAVAILABLE",
            "Recurso temporariamente indisponível.",
            "O recurso solicitado está temporariamente indisponível.",
        ),
        ConnectorError::ResourceAwaitingAuthorisation => ApiError::new(
            ApiErrorKind::Forbidden,
            "STATUS_RESOURCE_AWAITING_AUTHORIZATION",
            "Recurso aguardando autorização.",
            "O recurso solicitado aguarda a autorização de outros titulares.",
        ),
        ConnectorError::Timeout => ApiError::gateway_timeout(),
        e => {
            tracing::warn!(error = %e, "connector failed");
            ApiError::internal()
        }
    }
}

fn to_value<T: Serialize>(value: &T) -> Result<Value, ApiError> {
    serde_json::to_value(value).map_err(|_| ApiError::internal())
}

fn invalid_period(detail: &'static str) -> ApiError {
    ApiError::unprocessable("PARAMETRO_INVALIDO", "Parâmetro inválido.", detail)
}

/// The `fromBookingDate`/`toBookingDate` window: both or neither (today),
/// in order, within `back` days before and a year after today.
fn booking_window(query: &Query, today: Date, back: i64) -> Result<(Date, Date), ApiError> {
    date_window(query, ("fromBookingDate", "toBookingDate"), today, back)
}

/// A `from…`/`to…` date window: both or neither (today), in order, within
/// `back` days before and a year after today.
fn date_window(
    query: &Query,
    (from_name, to_name): (&'static str, &'static str),
    today: Date,
    back: i64,
) -> Result<(Date, Date), ApiError> {
    let parse = |name: &'static str| -> Result<Option<Date>, ApiError> {
        query
            .get(name)
            .map(|v| Date::parse(v).map_err(|_| ApiError::invalid_parameter(name)))
            .transpose()
    };
    let (from, to) = match (parse(from_name)?, parse(to_name)?) {
        (Some(from), Some(to)) => (from, to),
        (None, None) => (today, today),
        (None, Some(_)) => return Err(ApiError::missing_parameter(from_name)),
        (Some(_), None) => return Err(ApiError::missing_parameter(to_name)),
    };
    if from.days_until(to) < 0 {
        return Err(invalid_period(
            "A data inicial não pode ser posterior à data final.",
        ));
    }
    if today.days_until(from) < -back || today.days_until(to) > TRANSACTIONS_WINDOW_DAYS {
        return Err(invalid_period("O período pedido excede o permitido."));
    }
    Ok((from, to))
}

fn credit_debit(query: &Query) -> Result<Option<CreditDebitType>, ApiError> {
    match query.get("creditDebitIndicator") {
        None => Ok(None),
        Some("CREDITO") => Ok(Some(CreditDebitType::Credito)),
        Some("DEBITO") => Ok(Some(CreditDebitType::Debito)),
        Some(_) => Err(ApiError::invalid_parameter("creditDebitIndicator")),
    }
}

fn account_type(query: &Query) -> Result<Option<AccountType>, ApiError> {
    query
        .get("accountType")
        .map(|v| {
            serde_json::from_value(Value::String(v.to_owned()))
                .map_err(|_| ApiError::invalid_parameter("accountType"))
        })
        .transpose()
}

/// Transactions lists: links without `last`, meta with only
/// `requestDateTime` (`TransactionsLinks`, `MetaOnlyRequestDateTime`).
fn transactions_shape(body: &mut Value) {
    if let Some(links) = body.get_mut("links").and_then(Value::as_object_mut) {
        links.remove("last");
    }
    if let Some(meta) = body.get_mut("meta").and_then(Value::as_object_mut) {
        meta.retain(|k, _| k == "requestDateTime");
    }
}

/// What a route resolved to.
enum Route {
    Resources,
    Accounts,
    Account(ResourceId, AccountPart),
    Customers(&'static Endpoint),
    Cards,
    Card(ResourceId, CardPart),
    Contracts(String),
    Contract(String, ResourceId, ContractPart),
}

enum CardPart {
    Identification,
    Limits,
    Transactions,
    TransactionsCurrent,
    Bills,
    BillTransactions(ResourceId),
}

enum ContractPart {
    Identification,
    Warranties,
    Instalments,
    Payments,
}

enum AccountPart {
    Identification,
    Balances,
    Transactions,
    TransactionsCurrent,
    OverdraftLimits,
}

fn route(rest: &str) -> Result<Route, ApiError> {
    let segments: Vec<&str> = rest.split('/').collect();
    match segments.as_slice() {
        ["open-banking", "resources", "v3", "resources"] => Ok(Route::Resources),
        ["open-banking", "accounts", "v2", "accounts"] => Ok(Route::Accounts),
        ["open-banking", "accounts", "v2", "accounts", id, tail @ ..] => {
            let id = ResourceId::new(*id).map_err(|_| ApiError::invalid_parameter("accountId"))?;
            let part = match tail {
                [] => AccountPart::Identification,
                ["balances"] => AccountPart::Balances,
                ["transactions"] => AccountPart::Transactions,
                ["transactions-current"] => AccountPart::TransactionsCurrent,
                ["overdraft-limits"] => AccountPart::OverdraftLimits,
                _ => return Err(ApiError::not_found()),
            };
            Ok(Route::Account(id, part))
        }
        ["open-banking", "credit-cards-accounts", "v2", "accounts"] => Ok(Route::Cards),
        [
            "open-banking",
            "credit-cards-accounts",
            "v2",
            "accounts",
            id,
            tail @ ..,
        ] => {
            let id = ResourceId::new(*id)
                .map_err(|_| ApiError::invalid_parameter("creditCardAccountId"))?;
            let part = match tail {
                [] => CardPart::Identification,
                ["limits"] => CardPart::Limits,
                ["transactions"] => CardPart::Transactions,
                ["transactions-current"] => CardPart::TransactionsCurrent,
                ["bills"] => CardPart::Bills,
                ["bills", bill, "transactions"] => CardPart::BillTransactions(
                    ResourceId::new(*bill).map_err(|_| ApiError::invalid_parameter("billId"))?,
                ),
                _ => return Err(ApiError::not_found()),
            };
            Ok(Route::Card(id, part))
        }
        ["open-banking", api, "v2", "contracts"] => Ok(Route::Contracts((*api).to_owned())),
        ["open-banking", api, "v2", "contracts", id, tail @ ..] => {
            let id = ResourceId::new(*id).map_err(|_| ApiError::invalid_parameter("contractId"))?;
            let part = match tail {
                [] => ContractPart::Identification,
                ["warranties"] => ContractPart::Warranties,
                ["scheduled-instalments"] => ContractPart::Instalments,
                ["payments"] => ContractPart::Payments,
                _ => return Err(ApiError::not_found()),
            };
            Ok(Route::Contract((*api).to_owned(), id, part))
        }
        ["open-banking", "customers", "v2", kind, what] => {
            let endpoint = match (*kind, *what) {
                ("personal", "identifications") => &endpoints::PERSONAL_IDENTIFICATIONS,
                ("personal", "qualifications") => &endpoints::PERSONAL_QUALIFICATIONS,
                ("personal", "financial-relations") => &endpoints::PERSONAL_FINANCIAL_RELATIONS,
                ("business", "identifications") => &endpoints::BUSINESS_IDENTIFICATIONS,
                ("business", "qualifications") => &endpoints::BUSINESS_QUALIFICATIONS,
                ("business", "financial-relations") => &endpoints::BUSINESS_FINANCIAL_RELATIONS,
                _ => return Err(ApiError::not_found()),
            };
            Ok(Route::Customers(endpoint))
        }
        _ => Err(ApiError::not_found()),
    }
}

/// A successful body and, for list pages, nothing else to do.
type Outcome = Result<Value, ApiError>;

impl Inner {
    fn self_link(&self, parts: &Parts, pagination_key: Option<&str>) -> Result<Url, ApiError> {
        let mut url = self.brand.api_base_url().clone();
        url.set_path(parts.uri.path());
        url.set_query(parts.uri.query());
        if let Some(key) = pagination_key {
            let kept: Vec<(String, String)> = url
                .query_pairs()
                .filter(|(k, _)| k != "pagination-key")
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect();
            let mut pairs = url.query_pairs_mut();
            pairs.clear();
            for (k, v) in &kept {
                pairs.append_pair(k, v);
            }
            pairs.append_pair("pagination-key", key);
        }
        if url.query() == Some("") {
            url.set_query(None);
        }
        Ok(url)
    }

    fn single<T: Serialize>(&self, parts: &Parts, data: T, now: Timestamp) -> Outcome {
        let link = self.self_link(parts, None)?;
        to_value(&Envelope::single(data, &link, now))
    }

    fn paged<T: Serialize>(
        &self,
        parts: &Parts,
        checked: &Checked,
        page: Page<T>,
        request: &PageRequest,
        now: Timestamp,
    ) -> Outcome {
        let key = checked.pagination_key.as_ref().map(|k| k.as_str());
        let link = self.self_link(parts, key)?;
        to_value(&Envelope::page(page, request, &link, now))
    }

    async fn run(&self, parts: &Parts) -> Outcome {
        if parts.method != Method::GET {
            return Err(ApiError::method_not_allowed());
        }
        let rest = parts
            .uri
            .path()
            .strip_prefix(&self.prefix)
            .and_then(|r| r.strip_prefix('/'))
            .ok_or_else(ApiError::not_found)?;
        let route = route(rest)?;
        let access = parts
            .extensions
            .get::<VerifiedAccess>()
            .ok_or_else(ApiError::unauthorized)?;
        let query = Query::parse(parts.uri.query())?;
        match route {
            Route::Resources => self.resources(parts, access, &query).await,
            Route::Accounts => self.accounts(parts, access, &query).await,
            Route::Account(id, part) => self.account(parts, access, &query, &id, part).await,
            Route::Customers(endpoint) => self.customers(parts, access, &query, endpoint).await,
            Route::Cards => self.cards(parts, access, &query).await,
            Route::Card(id, part) => self.card(parts, access, &query, &id, part).await,
            Route::Contracts(api) => self.contracts(parts, access, &query, &api).await,
            Route::Contract(api, id, part) => {
                self.contract(parts, access, &query, &api, &id, part).await
            }
        }
    }

    /// Runs the chain for `endpoint`, then `body`; gives the count back when
    /// the body fails.
    async fn guarded<F, Fut>(
        &self,
        access: &VerifiedAccess,
        endpoint: &Endpoint,
        object: Option<&ResourceId>,
        query: &Query,
        paged: bool,
        body: F,
    ) -> Outcome
    where
        F: FnOnce(Checked) -> Fut,
        Fut: std::future::Future<Output = (Checked, Outcome)>,
    {
        let mut endpoint = *endpoint;
        if let Some(limit) = self.limits.get(endpoint.template) {
            endpoint.monthly_limit = *limit;
        }
        let checked = self
            .chain
            .check(
                access,
                &endpoint,
                object,
                query.get("pagination-key"),
                paged,
            )
            .await?;
        let (checked, outcome) = body(checked).await;
        if outcome.is_err() {
            self.chain.refund(&checked).await;
        }
        outcome
    }

    async fn resources(&self, parts: &Parts, access: &VerifiedAccess, query: &Query) -> Outcome {
        let connector = self.resources.clone().ok_or_else(ApiError::not_found)?;
        let request = query.page(PagePolicy::FLOOR_25)?;
        let now = self.chain.clock.now();
        self.guarded(
            access,
            &endpoints::RESOURCES,
            None,
            query,
            false,
            |checked| async move {
                let outcome = async {
                    let allowed: Vec<_> = checked
                        .ctx
                        .permissions
                        .iter()
                        .filter_map(|p| p.resource_type())
                        .collect();
                    let mut all = connector
                        .resources(&checked.ctx)
                        .await
                        .map_err(connector_error)?;
                    all.retain(|r| {
                        checked.ctx.resources.contains(&r.resource_id)
                            && allowed.contains(&r.resource_type)
                    });
                    let total = all.len() as u64;
                    let items = all
                        .into_iter()
                        .skip(usize::try_from(request.offset()).unwrap_or(usize::MAX))
                        .take(request.page_size as usize)
                        .collect();
                    let page = Page {
                        items,
                        total_records: total,
                    };
                    let link = self.self_link(parts, None)?;
                    to_value(&Envelope::page(page, &request, &link, now))
                }
                .await;
                (checked, outcome)
            },
        )
        .await
    }

    async fn accounts(&self, parts: &Parts, access: &VerifiedAccess, query: &Query) -> Outcome {
        let connector = self.accounts.clone().ok_or_else(ApiError::not_found)?;
        let request = query.page(PagePolicy::DATA_API)?;
        let kind = account_type(query)?;
        let now = self.chain.clock.now();
        self.guarded(
            access,
            &endpoints::ACCOUNTS,
            None,
            query,
            true,
            |checked| async move {
                let outcome = async {
                    let mut page = connector
                        .accounts(&checked.ctx, kind, Window::of_page(&request))
                        .await
                        .map_err(connector_error)?;
                    page.items
                        .retain(|a| checked.ctx.resources.contains(&a.account_id));
                    self.paged(parts, &checked, page, &request, now)
                }
                .await;
                (checked, outcome)
            },
        )
        .await
    }

    async fn account(
        &self,
        parts: &Parts,
        access: &VerifiedAccess,
        query: &Query,
        id: &ResourceId,
        part: AccountPart,
    ) -> Outcome {
        let connector = self.accounts.clone().ok_or_else(ApiError::not_found)?;
        let now = self.chain.clock.now();
        let today = now.date_in_brasilia();
        match part {
            AccountPart::Identification => {
                self.guarded(
                    access,
                    &endpoints::ACCOUNT,
                    Some(id),
                    query,
                    false,
                    |c| async move {
                        let outcome = match connector.account(&c.ctx, id).await {
                            Ok(data) => self.single(parts, data, now),
                            Err(e) => Err(connector_error(e)),
                        };
                        (c, outcome)
                    },
                )
                .await
            }
            AccountPart::Balances => {
                self.guarded(
                    access,
                    &endpoints::BALANCES,
                    Some(id),
                    query,
                    false,
                    |c| async move {
                        let outcome = match connector.balances(&c.ctx, id).await {
                            Ok(data) => self.single(parts, data, now),
                            Err(e) => Err(connector_error(e)),
                        };
                        (c, outcome)
                    },
                )
                .await
            }
            AccountPart::OverdraftLimits => {
                let endpoint = &endpoints::OVERDRAFT_LIMITS;
                self.guarded(access, endpoint, Some(id), query, false, |c| async move {
                    let outcome = match connector.overdraft_limits(&c.ctx, id).await {
                        Ok(data) => self.single(parts, data, now),
                        Err(e) => Err(connector_error(e)),
                    };
                    (c, outcome)
                })
                .await
            }
            AccountPart::Transactions | AccountPart::TransactionsCurrent => {
                let (endpoint, back) = match part {
                    AccountPart::Transactions => {
                        (&endpoints::TRANSACTIONS, TRANSACTIONS_WINDOW_DAYS)
                    }
                    _ => (&endpoints::TRANSACTIONS_CURRENT, CURRENT_WINDOW_DAYS),
                };
                let request = query.page(PagePolicy::DATA_API)?;
                let (from, to) = booking_window(query, today, back)?;
                let transaction_query = TransactionQuery {
                    from,
                    to,
                    credit_debit: credit_debit(query)?,
                };
                self.guarded(access, endpoint, Some(id), query, true, |c| async move {
                    let outcome = async {
                        let page = connector
                            .transactions(&c.ctx, id, &transaction_query, Window::of_page(&request))
                            .await
                            .map_err(connector_error)?;
                        let mut body = self.paged(parts, &c, page, &request, now)?;
                        transactions_shape(&mut body);
                        Ok(body)
                    }
                    .await;
                    (c, outcome)
                })
                .await
            }
        }
    }

    async fn cards(&self, parts: &Parts, access: &VerifiedAccess, query: &Query) -> Outcome {
        let connector = self.cards.clone().ok_or_else(ApiError::not_found)?;
        let request = query.page(PagePolicy::DATA_API)?;
        let now = self.chain.clock.now();
        self.guarded(
            access,
            &endpoints::CARDS,
            None,
            query,
            true,
            |c| async move {
                let outcome = async {
                    let page = connector
                        .accounts(&c.ctx, Window::of_page(&request))
                        .await
                        .map_err(connector_error)?;
                    let mut page = page_json(page).map_err(connector_error)?;
                    page.items.retain(|card| {
                        card.get("creditCardAccountId")
                            .and_then(Value::as_str)
                            .is_some_and(|id| c.ctx.resources.iter().any(|r| r.as_str() == id))
                    });
                    self.paged(parts, &c, page, &request, now)
                }
                .await;
                (c, outcome)
            },
        )
        .await
    }

    async fn card(
        &self,
        parts: &Parts,
        access: &VerifiedAccess,
        query: &Query,
        id: &ResourceId,
        part: CardPart,
    ) -> Outcome {
        let connector = self.cards.clone().ok_or_else(ApiError::not_found)?;
        let now = self.chain.clock.now();
        let today = now.date_in_brasilia();
        let transaction_type = query
            .get("transactionType")
            .map(|v| {
                serde_json::from_value::<EnumCreditCardTransactionType>(Value::String(v.to_owned()))
                    .map_err(|_| ApiError::invalid_parameter("transactionType"))
            })
            .transpose()?;
        let payee_mcc = query
            .get("payeeMCC")
            .map(|v| {
                v.parse::<i64>()
                    .map_err(|_| ApiError::invalid_parameter("payeeMCC"))
            })
            .transpose()?;
        match part {
            CardPart::Identification => {
                self.guarded(
                    access,
                    &endpoints::CARD,
                    Some(id),
                    query,
                    false,
                    |c| async move {
                        let outcome = match connector.account(&c.ctx, id).await {
                            Ok(data) => self.single(parts, data, now),
                            Err(e) => Err(connector_error(e)),
                        };
                        (c, outcome)
                    },
                )
                .await
            }
            CardPart::Limits => {
                self.guarded(
                    access,
                    &endpoints::CARD_LIMITS,
                    Some(id),
                    query,
                    false,
                    |c| async move {
                        let outcome = match connector.limits(&c.ctx, id).await {
                            // A list served whole: its totals, one page.
                            Ok(data) => {
                                let size = u32::try_from(data.len()).unwrap_or(u32::MAX).max(1);
                                let page = Page {
                                    total_records: data.len() as u64,
                                    items: data,
                                };
                                let request = PageRequest {
                                    page: 1,
                                    page_size: size,
                                };
                                self.self_link(parts, None).and_then(|link| {
                                    to_value(&Envelope::page(page, &request, &link, now))
                                })
                            }
                            Err(e) => Err(connector_error(e)),
                        };
                        (c, outcome)
                    },
                )
                .await
            }
            CardPart::Bills => {
                let request = query.page(PagePolicy::DATA_API)?;
                let due = match (query.get("fromDueDate"), query.get("toDueDate")) {
                    (None, None) => None,
                    _ => Some(date_window(
                        query,
                        ("fromDueDate", "toDueDate"),
                        today,
                        TRANSACTIONS_WINDOW_DAYS,
                    )?),
                };
                self.guarded(
                    access,
                    &endpoints::CARD_BILLS,
                    Some(id),
                    query,
                    true,
                    |c| async move {
                        let outcome = match connector
                            .bills(&c.ctx, id, due, Window::of_page(&request))
                            .await
                        {
                            Ok(page) => self.paged(parts, &c, page, &request, now),
                            Err(e) => Err(connector_error(e)),
                        };
                        (c, outcome)
                    },
                )
                .await
            }
            CardPart::Transactions
            | CardPart::TransactionsCurrent
            | CardPart::BillTransactions(_) => {
                let request = query.page(PagePolicy::DATA_API)?;
                let (endpoint, back) = match &part {
                    CardPart::Transactions => {
                        (&endpoints::CARD_TRANSACTIONS, TRANSACTIONS_WINDOW_DAYS)
                    }
                    CardPart::TransactionsCurrent => {
                        (&endpoints::CARD_TRANSACTIONS_CURRENT, CURRENT_WINDOW_DAYS)
                    }
                    _ => (&endpoints::CARD_BILL_TRANSACTIONS, TRANSACTIONS_WINDOW_DAYS),
                };
                let names = ("fromTransactionDate", "toTransactionDate");
                let (from, to) = match (&part, query.get(names.0), query.get(names.1)) {
                    // A bill's transactions default to the whole bill.
                    (CardPart::BillTransactions(_), None, None) => (
                        today.add_days(-TRANSACTIONS_WINDOW_DAYS).unwrap_or(today),
                        today.add_days(TRANSACTIONS_WINDOW_DAYS).unwrap_or(today),
                    ),
                    _ => date_window(query, names, today, back)?,
                };
                let card_query = CardTransactionQuery {
                    from,
                    to,
                    transaction_type,
                    payee_mcc,
                };
                self.guarded(access, endpoint, Some(id), query, true, |c| async move {
                    let outcome = async {
                        let window = Window::of_page(&request);
                        let mut body = match &part {
                            CardPart::BillTransactions(bill) => {
                                let page = connector
                                    .bill_transactions(&c.ctx, id, bill, &card_query, window)
                                    .await
                                    .map_err(connector_error)?;
                                self.paged(parts, &c, page, &request, now)?
                            }
                            _ => {
                                let page = connector
                                    .transactions(&c.ctx, id, &card_query, window)
                                    .await
                                    .map_err(connector_error)?;
                                self.paged(parts, &c, page, &request, now)?
                            }
                        };
                        if !matches!(part, CardPart::BillTransactions(_)) {
                            transactions_shape(&mut body);
                        }
                        Ok(body)
                    }
                    .await;
                    (c, outcome)
                })
                .await
            }
        }
    }

    fn credit_api(&self, api: &str) -> Result<Arc<dyn CreditApi>, ApiError> {
        self.credit
            .iter()
            .find(|c| c.api() == api)
            .cloned()
            .ok_or_else(ApiError::not_found)
    }

    async fn contracts(
        &self,
        parts: &Parts,
        access: &VerifiedAccess,
        query: &Query,
        api: &str,
    ) -> Outcome {
        let credit = self.credit_api(api)?;
        let request = query.page(PagePolicy::DATA_API)?;
        let now = self.chain.clock.now();
        let endpoint = &credit.endpoints().contracts;
        self.guarded(access, endpoint, None, query, true, |c| async move {
            let outcome = async {
                let mut page = credit
                    .contracts(&c.ctx, Window::of_page(&request))
                    .await
                    .map_err(connector_error)?;
                page.items.retain(|contract| {
                    contract
                        .get("contractId")
                        .and_then(Value::as_str)
                        .is_some_and(|id| c.ctx.resources.iter().any(|r| r.as_str() == id))
                });
                self.paged(parts, &c, page, &request, now)
            }
            .await;
            (c, outcome)
        })
        .await
    }

    async fn contract(
        &self,
        parts: &Parts,
        access: &VerifiedAccess,
        query: &Query,
        api: &str,
        id: &ResourceId,
        part: ContractPart,
    ) -> Outcome {
        let credit = self.credit_api(api)?;
        let now = self.chain.clock.now();
        let endpoints = credit.endpoints();
        let (endpoint, paged) = match part {
            ContractPart::Identification => (&endpoints.contract, false),
            ContractPart::Warranties => (&endpoints.warranties, true),
            ContractPart::Instalments => (&endpoints.instalments, false),
            ContractPart::Payments => (&endpoints.payments, false),
        };
        let request = query.page(PagePolicy::DATA_API)?;
        self.guarded(access, endpoint, Some(id), query, paged, |c| async move {
            let outcome = async {
                match part {
                    ContractPart::Identification => {
                        let data = credit.contract(&c.ctx, id).await.map_err(connector_error)?;
                        self.single(parts, data, now)
                    }
                    ContractPart::Warranties => {
                        let page = credit
                            .warranties(&c.ctx, id, Window::of_page(&request))
                            .await
                            .map_err(connector_error)?;
                        self.paged(parts, &c, page, &request, now)
                    }
                    ContractPart::Instalments => {
                        let data = credit
                            .instalments(&c.ctx, id)
                            .await
                            .map_err(connector_error)?;
                        self.single(parts, data, now)
                    }
                    ContractPart::Payments => {
                        let data = credit.payments(&c.ctx, id).await.map_err(connector_error)?;
                        self.single(parts, data, now)
                    }
                }
            }
            .await;
            (c, outcome)
        })
        .await
    }

    async fn customers(
        &self,
        parts: &Parts,
        access: &VerifiedAccess,
        query: &Query,
        endpoint: &'static Endpoint,
    ) -> Outcome {
        let connector = self.customers.clone().ok_or_else(ApiError::not_found)?;
        let now = self.chain.clock.now();
        let paged = endpoint.template.ends_with("identifications");
        let request = query.page(PagePolicy::DATA_API)?;
        self.guarded(access, endpoint, None, query, paged, |c| async move {
            let ctx = &c.ctx;
            let window = Window::of_page(&request);
            let outcome = match endpoint.template {
                t if t == endpoints::PERSONAL_IDENTIFICATIONS.template => {
                    match connector.personal_identifications(ctx, window).await {
                        Ok(page) => self.paged(parts, &c, page, &request, now),
                        Err(e) => Err(connector_error(e)),
                    }
                }
                t if t == endpoints::BUSINESS_IDENTIFICATIONS.template => {
                    match connector.business_identifications(ctx, window).await {
                        Ok(page) => self.paged(parts, &c, page, &request, now),
                        Err(e) => Err(connector_error(e)),
                    }
                }
                t if t == endpoints::PERSONAL_QUALIFICATIONS.template => connector
                    .personal_qualifications(ctx)
                    .await
                    .map_err(connector_error)
                    .and_then(|d| self.single(parts, d, now)),
                t if t == endpoints::PERSONAL_FINANCIAL_RELATIONS.template => connector
                    .personal_financial_relations(ctx)
                    .await
                    .map_err(connector_error)
                    .and_then(|d| self.single(parts, d, now)),
                t if t == endpoints::BUSINESS_QUALIFICATIONS.template => connector
                    .business_qualifications(ctx)
                    .await
                    .map_err(connector_error)
                    .and_then(|d| self.single(parts, d, now)),
                _ => connector
                    .business_financial_relations(ctx)
                    .await
                    .map_err(connector_error)
                    .and_then(|d| self.single(parts, d, now)),
            };
            (c, outcome)
        })
        .await
    }
}

fn json(status: StatusCode, body: &Value) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body.to_string())));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    response
}

/// APIs whose `Meta` schema requires `totalRecords` and `totalPages` on
/// every body, single resources and errors included (accounts 2.4.2:
/// `Meta` in `ResponseAccountIdentification` and `ResponseError`): those
/// bodies carry `1` and `1`. Lists keep their real totals; transactions keep
/// only `requestDateTime` (`MetaOnlyRequestDateTime`).
fn totals_everywhere(path: &str) -> bool {
    [
        "/open-banking/accounts/",
        "/open-banking/credit-cards-accounts/",
        "/open-banking/loans/",
        "/open-banking/financings/",
        "/open-banking/invoice-financings/",
        "/open-banking/unarranged-accounts-overdraft/",
    ]
    .iter()
    .any(|api| path.contains(api))
}

fn with_single_totals(body: &mut Value) {
    if body.get("data").is_some_and(Value::is_array) {
        return;
    }
    if let Some(meta) = body.get_mut("meta").and_then(Value::as_object_mut) {
        meta.entry("totalRecords").or_insert(Value::from(1));
        meta.entry("totalPages").or_insert(Value::from(1));
    }
}

impl DataApis {
    async fn handle<B>(&self, request: Request<B>) -> Response<Full<Bytes>> {
        let (parts, _) = request.into_parts();
        let now = self.inner.chain.clock.now();
        let totals = totals_everywhere(parts.uri.path());
        match self.inner.run(&parts).await {
            Ok(mut body) => {
                if totals {
                    with_single_totals(&mut body);
                }
                json(StatusCode::OK, &body)
            }
            Err(error) if totals => {
                let mut body = to_value(&error.to_body(now)).unwrap_or(Value::Null);
                with_single_totals(&mut body);
                let mut response = json(error.status(), &body);
                if let Some(after) = error.retry_after()
                    && let Ok(value) = HeaderValue::from_str(&after.as_secs().max(1).to_string())
                {
                    response.headers_mut().insert(header::RETRY_AFTER, value);
                }
                response
            }
            Err(error) => error
                .to_http_response(now)
                .map(|b| Full::new(Bytes::from(b))),
        }
    }
}

opus_fapi::http_service!(DataApis, |apis| apis.clone(), |this, request| {
    this.handle(request).await
});
