//! The Customer Data API: one view of a person across every institution,
//! as JSON over a `tower::Service`. Mount it behind the integrator's own
//! authentication; the person is named by the `x-opus-customer` header
//! (CPF or CNPJ, never in the URL, so it stays out of access logs).
//!
//! | call | answer `data` |
//! |---|---|
//! | `GET /institutions` | per holder, its consents: state, expiry, last refresh of each feed |
//! | `GET /accounts` | accounts (`holder` filter) |
//! | `GET /balances` | balances as last read (`holder` filter) |
//! | `GET /statement` | one statement of every account's transactions, oldest first: `fromDate`, `toDate` (`YYYY-MM-DD`, default the last 30 days), `holder`, `creditDebitType`, `page`, `page-size` (≤ 1000); `meta.totalRecords`, `meta.totalPages` |
//! | `GET /contracts` | credit contracts (`holder`, `api` filters) |
//! | `GET /cards` | credit-card accounts with their bills (`holder` filter) |
//!
//! Errors are `{"error", "detail"}`: 400 (bad input), 404, 405, 500.

use std::collections::BTreeMap;

use bytes::Bytes;
use http::{Method, Response, StatusCode};
use http_body_util::Full;
use opus_core::{Cnpj, Cpf, Date, Document};
use serde::Serialize;
use serde_json::{Value, json};

use crate::{OdrError, OpenDataReceiver};

/// The header naming the person.
pub const CUSTOMER_HEADER: &str = "x-opus-customer";

/// See the module docs.
#[derive(Debug, Clone)]
pub struct CustomerDataApi {
    receiver: OpenDataReceiver,
}

impl CustomerDataApi {
    /// The API over `receiver`'s data.
    pub fn new(receiver: OpenDataReceiver) -> Self {
        Self { receiver }
    }
}

struct Failure(StatusCode, &'static str, String);

fn bad(detail: impl Into<String>) -> Failure {
    Failure(StatusCode::BAD_REQUEST, "invalid_request", detail.into())
}

impl From<OdrError> for Failure {
    fn from(e: OdrError) -> Self {
        tracing::warn!(error = %e, "customer data API: store failed");
        Failure(
            StatusCode::INTERNAL_SERVER_ERROR,
            "server_error",
            "internal error".to_owned(),
        )
    }
}

fn list<T: Serialize>(records: &[T]) -> Result<Value, Failure> {
    Ok(json!({ "data": serde_json::to_value(records).map_err(|_| bad("encoding"))? }))
}

impl CustomerDataApi {
    async fn answer(
        &self,
        method: &Method,
        path: &str,
        query: &BTreeMap<String, String>,
        customer: Option<&str>,
    ) -> Result<Value, Failure> {
        if method != Method::GET {
            return Err(Failure(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                method.to_string(),
            ));
        }
        let route = path.trim_matches('/');
        if ![
            "institutions",
            "accounts",
            "balances",
            "statement",
            "contracts",
            "cards",
        ]
        .contains(&route)
        {
            return Err(Failure(StatusCode::NOT_FOUND, "not_found", path.to_owned()));
        }
        let person = customer
            .and_then(|c| {
                Cpf::parse(c)
                    .map(Document::from)
                    .or_else(|_| Cnpj::parse(c).map(Document::from))
                    .ok()
            })
            .ok_or_else(|| bad(format!("{CUSTOMER_HEADER}: a CPF or CNPJ")))?;
        let holder = query.get("holder");
        let of_holder = |h: &str| holder.is_none_or(|wanted| wanted == h);
        let receiver = &self.receiver;
        match route {
            "institutions" => {
                let mut by_holder: BTreeMap<String, Vec<Value>> = BTreeMap::new();
                for status in receiver.subscriptions(&person).await? {
                    if of_holder(&status.holder) {
                        by_holder
                            .entry(status.holder.clone())
                            .or_default()
                            .push(serde_json::to_value(&status).map_err(|_| bad("encoding"))?);
                    }
                }
                Ok(json!({"data": by_holder
                    .into_iter()
                    .map(|(holder, consents)| json!({"holder": holder, "consents": consents}))
                    .collect::<Vec<_>>()}))
            }
            "accounts" => {
                let mut records = receiver.accounts(&person).await?;
                records.retain(|r| of_holder(&r.holder));
                list(&records)
            }
            "balances" => {
                let mut records = receiver.balances(&person).await?;
                records.retain(|r| of_holder(&r.holder));
                list(&records)
            }
            "cards" => {
                let mut records = receiver.cards(&person).await?;
                records.retain(|r| of_holder(&r.holder));
                list(&records)
            }
            "contracts" => {
                let mut records = receiver.contracts(&person).await?;
                records.retain(|r| {
                    of_holder(&r.holder) && query.get("api").is_none_or(|api| api == &r.api)
                });
                list(&records)
            }
            _ => {
                let date = |name: &str| -> Result<Option<Date>, Failure> {
                    query
                        .get(name)
                        .map(|d| Date::parse(d).map_err(|_| bad(format!("{name}: YYYY-MM-DD"))))
                        .transpose()
                };
                let today = receiver.inner.clock.now().date_in_brasilia();
                let to = date("toDate")?.unwrap_or(today);
                let from = date("fromDate")?.unwrap_or(to.add_days(-30).unwrap_or(to));
                if from > to {
                    return Err(bad("fromDate after toDate"));
                }
                let number = |name: &str, default: u64, max: u64| -> Result<u64, Failure> {
                    match query.get(name) {
                        None => Ok(default),
                        Some(v) => v
                            .parse::<u64>()
                            .ok()
                            .filter(|n| (1..=max).contains(n))
                            .ok_or_else(|| bad(format!("{name}: 1 to {max}"))),
                    }
                };
                let page = number("page", 1, u64::from(u32::MAX))?;
                let size = number("page-size", 25, 1_000)?;
                let mut lines = receiver.statement(&person, from, to).await?;
                lines.retain(|t| {
                    of_holder(&t.holder)
                        && query
                            .get("creditDebitType")
                            .is_none_or(|k| k == &t.credit_debit_type)
                });
                let total = lines.len() as u64;
                let pages = total.div_ceil(size).max(1);
                let start = usize::try_from((page - 1).saturating_mul(size)).unwrap_or(usize::MAX);
                let shown: Vec<_> = lines
                    .into_iter()
                    .skip(start)
                    .take(usize::try_from(size).unwrap_or(usize::MAX))
                    .collect();
                let mut body = list(&shown)?;
                body["meta"] = json!({"totalRecords": total, "totalPages": pages});
                Ok(body)
            }
        }
    }
}

opus_fapi::http_service!(CustomerDataApi, |this| this.clone(), |api, request| {
    let (parts, _) = request.into_parts();
    let query: BTreeMap<String, String> = parts
        .uri
        .query()
        .map(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .into_owned()
                .collect()
        })
        .unwrap_or_default();
    let customer = parts
        .headers
        .get(CUSTOMER_HEADER)
        .and_then(|v| v.to_str().ok());
    let (status, body) = match api
        .answer(&parts.method, parts.uri.path(), &query, customer)
        .await
    {
        Ok(body) => (StatusCode::OK, body),
        Err(Failure(status, error, detail)) => (status, json!({"error": error, "detail": detail})),
    };
    let mut response = Response::new(Full::new(Bytes::from(body.to_string())));
    *response.status_mut() = status;
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    response
});
