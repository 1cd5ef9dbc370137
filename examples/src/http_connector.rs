//! An HTTP connector: the data connectors (resources, accounts, the four
//! credit-operation products) forwarded to the bank's own REST back office
//! over HTTPS, and [`serve_back_office`], that contract served over a
//! back office in process (the synthetic bank, for tests and the sandbox).
//!
//! The contract: `POST {base}/{operation}` with a JSON body — `context`
//! (who asks, under which consent, the shared `resources`), and as the
//! operation needs `resourceId`, `window` (`offset`, `limit`), `query`
//! (`from`, `to`, `creditDebitType`) and `accountType`. Lists answer
//! `{"items": […], "totalRecords": n}`, single records the record, both in
//! the OFB API's `data` shape. `404` is "not found for this customer";
//! `403` with `{"code": "RESOURCE_UNAVAILABLE" | "RESOURCE_TEMPORARILY_UNAVAILABLE"
//! | "RESOURCE_AWAITING_AUTHORISATION"}` a resource the customer cannot
//! share now; `504` the back office's own timeout; anything else a failure.
//!
//! | operation | answers |
//! |---|---|
//! | `resources` | list of resources |
//! | `accounts`, `accounts/get`, `accounts/balances`, `accounts/overdraft-limits`, `accounts/transactions` | the accounts API's records |
//! | `{api}/contracts`, `{api}/contract`, `{api}/warranties`, `{api}/scheduled-instalments`, `{api}/payments` | the credit API's records (`{api}`: `loans`, `financings`, `invoice-financings`, `unarranged-accounts-overdraft`) |

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use http::{Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Full, Limited};
use opus_core::connector::{
    Account, AccountBalances, AccountIdentification, AccountOverdraftLimits, AccountTransaction,
    AccountType, AccountsConnector, ConnectorError, CreditDebitType, CreditOperationsConnector,
    CreditProduct, DataRequestContext, Financings, InvoiceFinancings, Loans, Resource,
    ResourcesConnector, TransactionQuery, UnarrangedAccountsOverdraft,
};
use opus_core::envelope::Page;
use opus_core::store::Window;
use opus_core::{Date, ResourceId};
use opus_fapi::mtls;
use opus_testkit::SyntheticBank;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use url::Url;

use crate::bank::Failure;

const MAX_BODY: usize = 8 * 1024 * 1024;

/// The data connectors over the bank's REST back office.
#[derive(Clone)]
pub struct HttpConnector {
    base: Url,
    tls: Arc<rustls::ClientConfig>,
    timeout: Duration,
}

impl std::fmt::Debug for HttpConnector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpConnector")
            .field("base", &self.base.as_str())
            .finish_non_exhaustive()
    }
}

fn context_json(ctx: &DataRequestContext) -> Value {
    json!({
        "brand": ctx.brand.as_str(),
        "consentId": ctx.consent_id.as_str(),
        "customer": ctx.customer.as_str(),
        "businessEntity": ctx.business_entity.as_ref().map(|c| c.as_str().to_owned()),
        "permissions": ctx.permissions,
        "clientOrganisation": ctx.client_organisation.to_string(),
        "interactionId": ctx.interaction_id.to_string(),
        "resources": ctx.resources,
    })
}

fn window_json(window: Window) -> Value {
    json!({"offset": window.offset, "limit": window.limit})
}

fn backend(why: impl Into<String>) -> ConnectorError {
    let why: String = why.into();
    ConnectorError::Backend(why.into())
}

impl HttpConnector {
    /// Forwards to the back office at `base` (operations are joined to
    /// it), over `tls` (its trust anchors, and the SDK's client
    /// certificate if the back office asks for one); 10-second timeout.
    pub fn new(base: Url, tls: Arc<rustls::ClientConfig>) -> Self {
        Self {
            base,
            tls,
            timeout: Duration::from_secs(10),
        }
    }

    /// Each call gives up after `timeout` ([`ConnectorError::Timeout`]).
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    async fn call<T: DeserializeOwned>(
        &self,
        operation: &str,
        ctx: &DataRequestContext,
        mut body: Value,
    ) -> Result<T, ConnectorError> {
        body["context"] = context_json(ctx);
        let url = self
            .base
            .join(operation)
            .map_err(|_| backend("bad operation URL"))?;
        let request = Request::post(url.as_str())
            .header(header::CONTENT_TYPE, "application/json")
            .header("x-fapi-interaction-id", ctx.interaction_id.to_string())
            .body(Bytes::from(body.to_string()))
            .map_err(|_| backend("bad request"))?;
        let answer = match tokio::time::timeout(
            self.timeout,
            mtls::exchange(&self.tls, request, &url, self.timeout, MAX_BODY),
        )
        .await
        {
            Err(_) => return Err(ConnectorError::Timeout),
            Ok(Err(e)) => return Err(ConnectorError::Backend(Box::new(e))),
            Ok(Ok(answer)) => answer,
        };
        match answer.status {
            StatusCode::OK => serde_json::from_slice(&answer.body)
                .map_err(|e| backend(format!("{operation}: unreadable answer: {e}"))),
            StatusCode::NOT_FOUND => Err(ConnectorError::NotFound),
            StatusCode::GATEWAY_TIMEOUT => Err(ConnectorError::Timeout),
            StatusCode::FORBIDDEN => {
                let code = serde_json::from_slice::<Value>(&answer.body)
                    .ok()
                    .and_then(|v| v["code"].as_str().map(str::to_owned))
                    .unwrap_or_default();
                Err(match code.as_str() {
                    "RESOURCE_TEMPORARILY_UNAVAILABLE" => {
                        ConnectorError::ResourceTemporarilyUnavailable
                    }
                    "RESOURCE_AWAITING_AUTHORISATION" => {
                        ConnectorError::ResourceAwaitingAuthorisation
                    }
                    _ => ConnectorError::ResourceUnavailable,
                })
            }
            other => Err(backend(format!(
                "{operation}: the back office answered {other}"
            ))),
        }
    }

    async fn page<T: DeserializeOwned>(
        &self,
        operation: &str,
        ctx: &DataRequestContext,
        body: Value,
    ) -> Result<Page<T>, ConnectorError> {
        #[derive(serde::Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Wire<T> {
            items: Vec<T>,
            total_records: u64,
        }
        let wire: Wire<T> = self.call(operation, ctx, body).await?;
        Ok(Page {
            items: wire.items,
            total_records: wire.total_records,
        })
    }
}

#[async_trait]
impl ResourcesConnector for HttpConnector {
    async fn resources(&self, ctx: &DataRequestContext) -> Result<Vec<Resource>, ConnectorError> {
        Ok(self.page("resources", ctx, json!({})).await?.items)
    }
}

#[async_trait]
impl AccountsConnector for HttpConnector {
    async fn accounts(
        &self,
        ctx: &DataRequestContext,
        account_type: Option<AccountType>,
        window: Window,
    ) -> Result<Page<Account>, ConnectorError> {
        self.page(
            "accounts",
            ctx,
            json!({"accountType": account_type, "window": window_json(window)}),
        )
        .await
    }

    async fn account(
        &self,
        ctx: &DataRequestContext,
        account_id: &ResourceId,
    ) -> Result<AccountIdentification, ConnectorError> {
        self.call("accounts/get", ctx, json!({"resourceId": account_id}))
            .await
    }

    async fn balances(
        &self,
        ctx: &DataRequestContext,
        account_id: &ResourceId,
    ) -> Result<AccountBalances, ConnectorError> {
        self.call("accounts/balances", ctx, json!({"resourceId": account_id}))
            .await
    }

    async fn overdraft_limits(
        &self,
        ctx: &DataRequestContext,
        account_id: &ResourceId,
    ) -> Result<AccountOverdraftLimits, ConnectorError> {
        self.call(
            "accounts/overdraft-limits",
            ctx,
            json!({"resourceId": account_id}),
        )
        .await
    }

    async fn transactions(
        &self,
        ctx: &DataRequestContext,
        account_id: &ResourceId,
        query: &TransactionQuery,
        window: Window,
    ) -> Result<Page<AccountTransaction>, ConnectorError> {
        self.page(
            "accounts/transactions",
            ctx,
            json!({
                "resourceId": account_id,
                "window": window_json(window),
                "query": {
                    "from": query.from.to_string(),
                    "to": query.to.to_string(),
                    "creditDebitType": query.credit_debit,
                },
            }),
        )
        .await
    }
}

#[async_trait]
impl<P: CreditProduct> CreditOperationsConnector<P> for HttpConnector {
    async fn contracts(
        &self,
        ctx: &DataRequestContext,
        window: Window,
    ) -> Result<Page<P::ContractSummary>, ConnectorError> {
        self.page(
            &format!("{}/contracts", P::API),
            ctx,
            json!({"window": window_json(window)}),
        )
        .await
    }

    async fn contract(
        &self,
        ctx: &DataRequestContext,
        contract_id: &ResourceId,
    ) -> Result<P::Contract, ConnectorError> {
        self.call(
            &format!("{}/contract", P::API),
            ctx,
            json!({"resourceId": contract_id}),
        )
        .await
    }

    async fn warranties(
        &self,
        ctx: &DataRequestContext,
        contract_id: &ResourceId,
        window: Window,
    ) -> Result<Page<P::Warranty>, ConnectorError> {
        self.page(
            &format!("{}/warranties", P::API),
            ctx,
            json!({"resourceId": contract_id, "window": window_json(window)}),
        )
        .await
    }

    async fn scheduled_instalments(
        &self,
        ctx: &DataRequestContext,
        contract_id: &ResourceId,
    ) -> Result<P::Instalments, ConnectorError> {
        self.call(
            &format!("{}/scheduled-instalments", P::API),
            ctx,
            json!({"resourceId": contract_id}),
        )
        .await
    }

    async fn payments(
        &self,
        ctx: &DataRequestContext,
        contract_id: &ResourceId,
    ) -> Result<P::Payments, ConnectorError> {
        self.call(
            &format!("{}/payments", P::API),
            ctx,
            json!({"resourceId": contract_id}),
        )
        .await
    }
}

// ---- the back-office side ----

fn json_answer(status: StatusCode, body: &Value) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body.to_string())));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    response
}

fn error_answer(error: &ConnectorError) -> Response<Full<Bytes>> {
    match error {
        ConnectorError::NotFound => json_answer(StatusCode::NOT_FOUND, &json!({})),
        ConnectorError::ResourceUnavailable => json_answer(
            StatusCode::FORBIDDEN,
            &json!({"code": "RESOURCE_UNAVAILABLE"}),
        ),
        ConnectorError::ResourceTemporarilyUnavailable => json_answer(
            StatusCode::FORBIDDEN,
            &json!({"code": "RESOURCE_TEMPORARILY_UNAVAILABLE"}),
        ),
        ConnectorError::ResourceAwaitingAuthorisation => json_answer(
            StatusCode::FORBIDDEN,
            &json!({"code": "RESOURCE_AWAITING_AUTHORISATION"}),
        ),
        ConnectorError::Timeout => json_answer(StatusCode::GATEWAY_TIMEOUT, &json!({})),
        _ => json_answer(StatusCode::INTERNAL_SERVER_ERROR, &json!({})),
    }
}

fn context_of(body: &Value) -> Option<DataRequestContext> {
    let ctx = &body["context"];
    Some(DataRequestContext {
        brand: opus_core::BrandId::new(ctx["brand"].as_str()?).ok()?,
        consent_id: opus_core::ConsentId::new(ctx["consentId"].as_str()?).ok()?,
        customer: opus_core::Cpf::parse(ctx["customer"].as_str()?).ok()?,
        business_entity: match ctx["businessEntity"].as_str() {
            Some(cnpj) => Some(opus_core::Cnpj::parse(cnpj).ok()?),
            None => None,
        },
        permissions: serde_json::from_value(ctx["permissions"].clone()).ok()?,
        client_organisation: opus_core::OrganisationId::parse(ctx["clientOrganisation"].as_str()?)
            .ok()?,
        interaction_id: opus_core::InteractionId::parse(ctx["interactionId"].as_str()?).ok()?,
        resources: serde_json::from_value(ctx["resources"].clone()).ok()?,
    })
}

fn window_of(body: &Value) -> Option<Window> {
    Some(Window {
        offset: body["window"]["offset"].as_u64()?,
        limit: u32::try_from(body["window"]["limit"].as_u64()?).ok()?,
    })
}

fn resource_of(body: &Value) -> Option<ResourceId> {
    ResourceId::new(body["resourceId"].as_str()?).ok()
}

fn page_json<T: Serialize>(page: Page<T>) -> Value {
    let items = serde_json::to_value(page.items).unwrap_or(Value::Null);
    json!({"items": items, "totalRecords": page.total_records})
}

fn record<T: Serialize>(answer: Result<T, ConnectorError>) -> Result<Value, ConnectorError> {
    answer.and_then(|r| serde_json::to_value(r).map_err(|e| ConnectorError::Backend(Box::new(e))))
}

async fn credit<P: CreditProduct>(
    bank: &SyntheticBank,
    what: &str,
    ctx: &DataRequestContext,
    body: &Value,
) -> Option<Result<Value, ConnectorError>>
where
    SyntheticBank: CreditOperationsConnector<P>,
{
    let connector: &dyn CreditOperationsConnector<P> = bank;
    Some(match what {
        "contracts" => connector
            .contracts(ctx, window_of(body)?)
            .await
            .map(page_json),
        "contract" => record(connector.contract(ctx, &resource_of(body)?).await),
        "warranties" => connector
            .warranties(ctx, &resource_of(body)?, window_of(body)?)
            .await
            .map(page_json),
        "scheduled-instalments" => record(
            connector
                .scheduled_instalments(ctx, &resource_of(body)?)
                .await,
        ),
        "payments" => record(connector.payments(ctx, &resource_of(body)?).await),
        _ => return None,
    })
}

/// One operation against `bank`; `None` when the request is malformed.
async fn operate(
    bank: &SyntheticBank,
    operation: &str,
    body: &Value,
) -> Option<Result<Value, ConnectorError>> {
    let ctx = context_of(body)?;
    let accounts: &dyn AccountsConnector = bank;
    Some(match operation {
        "resources" => ResourcesConnector::resources(bank, &ctx)
            .await
            .map(|items| json!({"totalRecords": items.len(), "items": items})),
        "accounts" => {
            let account_type = serde_json::from_value(body["accountType"].clone()).ok()?;
            accounts
                .accounts(&ctx, account_type, window_of(body)?)
                .await
                .map(page_json)
        }
        "accounts/get" => record(accounts.account(&ctx, &resource_of(body)?).await),
        "accounts/balances" => record(accounts.balances(&ctx, &resource_of(body)?).await),
        "accounts/overdraft-limits" => {
            record(accounts.overdraft_limits(&ctx, &resource_of(body)?).await)
        }
        "accounts/transactions" => {
            let query = TransactionQuery {
                from: Date::parse(body["query"]["from"].as_str()?).ok()?,
                to: Date::parse(body["query"]["to"].as_str()?).ok()?,
                credit_debit: serde_json::from_value::<Option<CreditDebitType>>(
                    body["query"]["creditDebitType"].clone(),
                )
                .ok()?,
            };
            accounts
                .transactions(&ctx, &resource_of(body)?, &query, window_of(body)?)
                .await
                .map(page_json)
        }
        other => {
            let (api, what) = other.split_once('/')?;
            match api {
                "loans" => credit::<Loans>(bank, what, &ctx, body).await?,
                "financings" => credit::<Financings>(bank, what, &ctx, body).await?,
                "invoice-financings" => credit::<InvoiceFinancings>(bank, what, &ctx, body).await?,
                "unarranged-accounts-overdraft" => {
                    credit::<UnarrangedAccountsOverdraft>(bank, what, &ctx, body).await?
                }
                _ => return None,
            }
        }
    })
}

/// Serves the contract over `bank` on `listener` with `tls` until
/// `shutdown` completes: a stand-in for a bank's REST back office.
pub async fn serve_back_office(
    bank: SyntheticBank,
    listener: tokio::net::TcpListener,
    tls: Arc<rustls::ServerConfig>,
    shutdown: impl std::future::Future<Output = ()>,
) {
    let bank = Arc::new(bank);
    let service = tower::service_fn(move |request: Request<hyper::body::Incoming>| {
        let bank = bank.clone();
        async move {
            let operation = request.uri().path().trim_start_matches('/').to_owned();
            let body = match Limited::new(request.into_body(), MAX_BODY).collect().await {
                Ok(body) => body.to_bytes(),
                Err(_) => {
                    return Ok::<_, Infallible>(json_answer(
                        StatusCode::PAYLOAD_TOO_LARGE,
                        &json!({}),
                    ));
                }
            };
            let Ok(body) = serde_json::from_slice::<Value>(&body) else {
                return Ok(json_answer(StatusCode::BAD_REQUEST, &json!({})));
            };
            Ok(match operate(&bank, &operation, &body).await {
                Some(Ok(value)) => json_answer(StatusCode::OK, &value),
                Some(Err(e)) => error_answer(&e),
                None => json_answer(StatusCode::BAD_REQUEST, &json!({})),
            })
        }
    });
    mtls::serve(listener, Some(tls), service, shutdown).await;
}

/// Starts [`serve_back_office`] on a free loopback port with a server
/// certificate for 127.0.0.1 from `pki`; its base URL.
///
/// # Errors
/// When the listener or the certificate cannot be set up.
pub async fn start_back_office(
    bank: SyntheticBank,
    pki: &opus_testkit::TestPki,
) -> Result<Url, Failure> {
    let leaf = pki.server_certificate(&["127.0.0.1"])?;
    let (chain, key) = mtls::identity(&leaf.chain_der, leaf.key_pkcs8_der.expose());
    let anchors = [rustls::pki_types::CertificateDer::from(
        pki.root_der().to_vec(),
    )];
    let tls = mtls::server_config(chain, key, &anchors, mtls::ClientCertPolicy::Optional)?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = Url::parse(&format!("https://{}/", listener.local_addr()?))?;
    tokio::spawn(serve_back_office(
        bank,
        listener,
        tls,
        std::future::pending(),
    ));
    Ok(url)
}
