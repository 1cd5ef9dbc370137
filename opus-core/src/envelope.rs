//! Response envelopes and pagination of the OFB APIs.
//!
//! Every OFB response body is `{"data": …, "links": {"self": …}, "meta": {…}}`
//! (common response rules; `Links`, `Meta` and `MetaExtensions` in every
//! OpenAPI file). Paged lists add `first`/`prev` when not on the first page,
//! `next`/`last` when not on the last, and `meta.totalRecords`/`totalPages`.

use serde::{Deserialize, Serialize};
use url::Url;

use crate::datetime::Timestamp;
use crate::error::ApiError;
use crate::limits;

/// A successful response body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Envelope<T> {
    /// The payload: one object or a list.
    pub data: T,
    /// HATEOAS links.
    pub links: Links,
    /// Request time and, for lists, the totals.
    pub meta: Meta,
}

impl<T> Envelope<T> {
    /// The envelope of a single resource: `links.self` and `meta.requestDateTime`.
    pub fn single(data: T, self_link: &Url, now: Timestamp) -> Self {
        Self {
            data,
            links: Links::only_self(self_link),
            meta: Meta::single(now),
        }
    }
}

impl<T> Envelope<Vec<T>> {
    /// The envelope of one page of a list, with its links and totals.
    pub fn page(page: Page<T>, request: &PageRequest, self_link: &Url, now: Timestamp) -> Self {
        let totals = Totals::new(page.total_records, request.page_size);
        Self {
            links: Links::paged(self_link, request, totals),
            meta: Meta::paged(now, totals),
            data: page.items,
        }
    }
}

/// `links`: `self` always; the others on paged lists.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Links {
    /// The full URI that produced this response.
    #[serde(rename = "self")]
    pub self_: String,
    /// The first page (required when not on the first page).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub first: Option<String>,
    /// The previous page (required when not on the first page).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub prev: Option<String>,
    /// The next page (required when not on the last page).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub next: Option<String>,
    /// The last page (required when not on the last page).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub last: Option<String>,
}

impl Links {
    /// Links with only `self`.
    pub fn only_self(self_link: &Url) -> Self {
        Self {
            self_: self_link.to_string(),
            first: None,
            prev: None,
            next: None,
            last: None,
        }
    }

    /// Links of page `request.page` of a list with `totals`. Each link keeps
    /// the scheme, host, path and other query parameters of `self_link`, and
    /// sets `page` and `page-size`; `pagination-key` is carried over as it is.
    pub fn paged(self_link: &Url, request: &PageRequest, totals: Totals) -> Self {
        let page = request.page;
        let last_page = totals.total_pages.max(1);
        let at = |n: u32| page_url(self_link, n, request.page_size);
        Self {
            self_: self_link.to_string(),
            first: (page > 1).then(|| at(1)),
            prev: (page > 1).then(|| at(page.saturating_sub(1).min(last_page))),
            next: (page < last_page).then(|| at(page + 1)),
            last: (page < last_page).then(|| at(last_page)),
        }
    }
}

fn page_url(base: &Url, page: u32, page_size: u32) -> String {
    let mut url = base.clone();
    let kept: Vec<(String, String)> = base
        .query_pairs()
        .filter(|(k, _)| k != "page" && k != "page-size")
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    {
        let mut query = url.query_pairs_mut();
        query.clear();
        for (k, v) in &kept {
            query.append_pair(k, v);
        }
        query.append_pair("page", &page.to_string());
        query.append_pair("page-size", &page_size.to_string());
    }
    url.to_string()
}

/// `meta`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Meta {
    /// Total number of records of a list.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub total_records: Option<u64>,
    /// Total number of pages of a list (0 when empty).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub total_pages: Option<u32>,
    /// When the request was served (`YYYY-MM-DDTHH:MM:SSZ`); absent only on
    /// the public APIs (open data, common, admin).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub request_date_time: Option<Timestamp>,
}

impl Meta {
    /// `meta` of a single resource of a private API.
    pub fn single(now: Timestamp) -> Self {
        Self {
            total_records: None,
            total_pages: None,
            request_date_time: Some(now),
        }
    }

    /// `meta` of a page of a private API (`MetaExtensions`).
    pub fn paged(now: Timestamp, totals: Totals) -> Self {
        Self {
            total_records: Some(totals.total_records),
            total_pages: Some(totals.total_pages),
            request_date_time: Some(now),
        }
    }

    /// `meta` of a page of a public API (totals only).
    pub fn public_paged(totals: Totals) -> Self {
        Self {
            total_records: Some(totals.total_records),
            total_pages: Some(totals.total_pages),
            request_date_time: None,
        }
    }
}

/// Record and page totals of a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Totals {
    /// Records in the whole list.
    pub total_records: u64,
    /// Pages at the effective page size (0 for an empty list).
    pub total_pages: u32,
}

impl Totals {
    /// The totals of `total_records` records served `page_size` at a time.
    pub fn new(total_records: u64, page_size: u32) -> Self {
        let size = u64::from(page_size.max(1));
        let pages = total_records.div_ceil(size);
        Self {
            total_records,
            total_pages: u32::try_from(pages).unwrap_or(u32::MAX),
        }
    }
}

/// One page of records as a connector or store returns it.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    /// The records of this page.
    pub items: Vec<T>,
    /// Records in the whole list.
    pub total_records: u64,
}

/// How an API reads `page` and `page-size`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PagePolicy {
    /// `page-size` when the client sends none.
    pub default_size: u32,
    /// The API's maximum; a larger value is answered with 422.
    pub max_size: u32,
    /// Values below this are served at this size (25 on consents `/extensions`
    /// and resources; 1 elsewhere).
    pub floor: u32,
    /// The server's own cap, at most `max_size`: larger requests are served
    /// at the cap (the spec lets servers cap page sizes to keep their SLA).
    pub server_cap: u32,
}

impl PagePolicy {
    /// The common data-API policy: default 25, 1..=1000, no floor, no cap.
    pub const DATA_API: PagePolicy = PagePolicy {
        default_size: limits::DEFAULT_PAGE_SIZE,
        max_size: limits::MAX_PAGE_SIZE,
        floor: 1,
        server_cap: limits::MAX_PAGE_SIZE,
    };

    /// The policy of consents `/extensions` and resources: values below 25 are served as 25.
    pub const FLOOR_25: PagePolicy = PagePolicy {
        default_size: limits::DEFAULT_PAGE_SIZE,
        max_size: limits::MAX_PAGE_SIZE,
        floor: limits::PAGE_SIZE_FLOOR_25,
        server_cap: limits::MAX_PAGE_SIZE,
    };

    /// This policy with the server capping page sizes at `cap` (never above
    /// the API maximum, never below the floor).
    pub fn with_server_cap(self, cap: u32) -> Self {
        Self {
            server_cap: cap.clamp(self.floor.max(1), self.max_size),
            ..self
        }
    }
}

/// A validated page request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    /// The page number, from 1.
    pub page: u32,
    /// The effective page size (after floor and server cap).
    pub page_size: u32,
}

impl PageRequest {
    /// Reads the raw `page` and `page-size` query values under `policy`.
    ///
    /// # Errors
    /// [`ApiError`] 400 `PARAMETRO_INVALIDO` for a value that is not a
    /// positive integer; 422 `PARAMETRO_INVALIDO` for a `page-size` above
    /// the API maximum.
    pub fn parse(
        page: Option<&str>,
        page_size: Option<&str>,
        policy: PagePolicy,
    ) -> Result<Self, ApiError> {
        let positive = |raw: &str, name: &'static str| -> Result<u32, ApiError> {
            if raw.is_empty() || raw.len() > 10 || !raw.bytes().all(|b| b.is_ascii_digit()) {
                return Err(ApiError::invalid_parameter(name));
            }
            match raw.parse::<u32>() {
                Ok(v) if v >= 1 => Ok(v),
                _ => Err(ApiError::invalid_parameter(name)),
            }
        };
        let page = page.map(|p| positive(p, "page")).transpose()?.unwrap_or(1);
        let requested = page_size
            .map(|s| positive(s, "page-size"))
            .transpose()?
            .unwrap_or(policy.default_size);
        if requested > policy.max_size {
            return Err(ApiError::page_size_above_maximum(policy.max_size));
        }
        let page_size = requested.max(policy.floor).min(policy.server_cap);
        Ok(Self { page, page_size })
    }

    /// Index of the first record of this page.
    pub fn offset(&self) -> u64 {
        u64::from(self.page - 1) * u64::from(self.page_size)
    }
}

/// An opaque `pagination-key` minted by a transmitter (at most 2048 characters).
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PaginationKey(String);

impl PaginationKey {
    /// Validates length and alphabet (URL-safe printable ASCII).
    ///
    /// # Errors
    /// [`crate::InvalidValue`] for an empty or too long key, or one with
    /// characters that would need escaping in a URL.
    pub fn new(value: impl Into<String>) -> Result<Self, crate::InvalidValue> {
        let value = value.into();
        let ok = !value.is_empty()
            && value.len() <= limits::PAGINATION_KEY_MAX_LEN
            && value
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b));
        if ok {
            Ok(Self(value))
        } else {
            Err(crate::InvalidValue::new(
                "pagination-key",
                "must be 1-2048 URL-safe characters",
            ))
        }
    }

    /// The key as a string slice.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for PaginationKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PaginationKey({} chars)", self.0.len())
    }
}

impl TryFrom<String> for PaginationKey {
    type Error = crate::InvalidValue;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::new(value)
    }
}

impl From<PaginationKey> for String {
    fn from(value: PaginationKey) -> String {
        value.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn now() -> Timestamp {
        Timestamp::parse("2021-05-21T08:30:00Z").unwrap()
    }

    #[test]
    fn single_resource_envelope_matches_the_spec_shape() {
        let url = Url::parse("https://api.banco.com.br/open-banking/api/v1/resource").unwrap();
        let body = Envelope::single(json!({"consentId": "urn:bancoex:C1DD33123"}), &url, now());
        assert_eq!(
            serde_json::to_value(&body).unwrap(),
            json!({
                "data": {"consentId": "urn:bancoex:C1DD33123"},
                "links": {"self": "https://api.banco.com.br/open-banking/api/v1/resource"},
                "meta": {"requestDateTime": "2021-05-21T08:30:00Z"}
            })
        );
    }

    #[test]
    fn middle_page_has_all_links_and_totals() {
        let url = Url::parse(
            "https://api.banco.com.br/open-banking/accounts/v2/accounts?accountType=CONTA_DEPOSITO_A_VISTA&page=2&page-size=10",
        )
        .unwrap();
        let request = PageRequest::parse(Some("2"), Some("10"), PagePolicy::DATA_API).unwrap();
        let page = Page {
            items: vec![1, 2, 3],
            total_records: 25,
        };
        let body = serde_json::to_value(Envelope::page(page, &request, &url, now())).unwrap();
        let base = "https://api.banco.com.br/open-banking/accounts/v2/accounts?accountType=CONTA_DEPOSITO_A_VISTA";
        assert_eq!(
            body,
            json!({
                "data": [1, 2, 3],
                "links": {
                    "self": url.as_str(),
                    "first": format!("{base}&page=1&page-size=10"),
                    "prev": format!("{base}&page=1&page-size=10"),
                    "next": format!("{base}&page=3&page-size=10"),
                    "last": format!("{base}&page=3&page-size=10"),
                },
                "meta": {"totalRecords": 25, "totalPages": 3, "requestDateTime": "2021-05-21T08:30:00Z"}
            })
        );
    }

    #[test]
    fn first_last_and_empty_pages() {
        let url = Url::parse("https://h/x").unwrap();
        let first = PageRequest::parse(None, None, PagePolicy::DATA_API).unwrap();
        let links = Links::paged(&url, &first, Totals::new(30, 25));
        assert!(links.first.is_none() && links.prev.is_none());
        assert_eq!(
            links.next.as_deref(),
            Some("https://h/x?page=2&page-size=25")
        );
        let last = PageRequest::parse(Some("2"), None, PagePolicy::DATA_API).unwrap();
        let links = Links::paged(&url, &last, Totals::new(30, 25));
        assert!(links.next.is_none() && links.last.is_none());
        assert_eq!(
            links.prev.as_deref(),
            Some("https://h/x?page=1&page-size=25")
        );
        let empty = Totals::new(0, 25);
        assert_eq!(empty.total_pages, 0);
        let links = Links::paged(&url, &first, empty);
        assert_eq!(links, Links::only_self(&url));
        let meta = serde_json::to_value(Meta::paged(now(), empty)).unwrap();
        assert_eq!(
            meta,
            json!({"totalRecords": 0, "totalPages": 0, "requestDateTime": "2021-05-21T08:30:00Z"})
        );
    }

    #[test]
    fn page_size_rules() {
        let p =
            |page: Option<&str>, size: Option<&str>, policy| PageRequest::parse(page, size, policy);
        assert_eq!(
            p(None, None, PagePolicy::DATA_API).unwrap(),
            PageRequest {
                page: 1,
                page_size: 25
            }
        );
        assert_eq!(
            p(None, Some("1"), PagePolicy::DATA_API).unwrap().page_size,
            1
        );
        assert_eq!(
            p(None, Some("1000"), PagePolicy::DATA_API)
                .unwrap()
                .page_size,
            1000
        );
        assert_eq!(
            p(None, Some("10"), PagePolicy::FLOOR_25).unwrap().page_size,
            25
        );
        let capped = PagePolicy::DATA_API.with_server_cap(100);
        assert_eq!(p(None, Some("500"), capped).unwrap().page_size, 100);
        let over = p(None, Some("1001"), PagePolicy::DATA_API).unwrap_err();
        assert_eq!(over.status(), http::StatusCode::UNPROCESSABLE_ENTITY);
        for bad in ["0", "-1", "abc", "", "1.5", "99999999999"] {
            let err = p(Some(bad), None, PagePolicy::DATA_API).unwrap_err();
            assert_eq!(err.status(), http::StatusCode::BAD_REQUEST, "{bad}");
        }
        assert_eq!(
            p(Some("3"), Some("10"), PagePolicy::DATA_API)
                .unwrap()
                .offset(),
            20
        );
    }

    #[test]
    fn public_meta_has_no_request_time() {
        let meta = serde_json::to_value(Meta::public_paged(Totals::new(1, 25))).unwrap();
        assert_eq!(meta, json!({"totalRecords": 1, "totalPages": 1}));
    }

    #[test]
    fn pagination_keys() {
        assert!(PaginationKey::new("abc-DEF_1.2~").is_ok());
        assert!(PaginationKey::new("a b").is_err());
        assert!(PaginationKey::new("a".repeat(2049)).is_err());
    }
}
