//! The reports the metrics collector takes (PCM 1.0.2): private reports
//! (`ClientReportRequest`, `ServerReportRequest`) and open-data reports
//! (`OpendataReportRequest`), serialised with the spec's field names.

use std::collections::BTreeMap;

use opus_core::{OrganisationId, SoftwareStatementId, Timestamp};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// `additionalInfo`: context keys that evolve with the collector's release
/// notes rather than its spec version, so a free map with typed helpers.
pub type AdditionalInfo = BTreeMap<String, Value>;

/// Which side of the call reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
#[non_exhaustive]
pub enum Role {
    /// The caller.
    Client,
    /// The callee.
    Server,
}

/// The report of one call of a private API, by either side.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PrivateReport {
    /// `x-fapi-interaction-id` of the call (the pairing key); a client may
    /// omit it only when it never got one (timeouts, 5xx without it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fapi_interaction_id: Option<String>,
    /// The endpoint template, e.g. `/open-banking/accounts/v2/accounts/{accountId}`.
    pub endpoint: String,
    /// The HTTP status (408 for a client-side timeout).
    pub status_code: u16,
    /// `GET`, `POST`, `PUT`, `DELETE` or `PATCH`.
    pub http_method: String,
    /// A free journey identifier.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub correlation_id: Option<String>,
    /// When the call started, UTC with milliseconds.
    pub timestamp: String,
    /// Milliseconds from `timestamp` to the response.
    pub process_timespan: u32,
    /// The caller's directory organisation.
    pub client_org_id: String,
    /// The callee's directory organisation.
    pub server_org_id: String,
    /// The caller's software statement (client reports).
    #[serde(rename = "clientSSId", skip_serializing_if = "Option::is_none")]
    pub client_ss_id: Option<String>,
    /// Everything before `/open-banking` of the URL called (client reports).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub endpoint_uri_prefix: Option<String>,
    /// Context keys (`{}` at least, on client reports).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub additional_info: Option<AdditionalInfo>,
    /// Who reports.
    pub role: Role,
}

/// The report of one call of an open-data API (by the server only).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OpendataReport {
    /// The endpoint template.
    pub endpoint: String,
    /// The HTTP status.
    pub status_code: u16,
    /// Always `GET`.
    pub http_method: String,
    /// When the call was received, UTC with milliseconds.
    pub timestamp: String,
    /// Milliseconds until the response.
    pub process_timespan: u32,
    /// Context keys (`{}` at least).
    pub additional_info: AdditionalInfo,
}

/// Milliseconds as the spec's `int16` holds them (longer calls are capped).
pub fn timespan_ms(from: Timestamp, to: Timestamp) -> u32 {
    let ms = to.duration_since(from).as_millis();
    u32::try_from(ms.min(i16::MAX as u128)).unwrap_or(i16::MAX as u32)
}

/// The facts of a call made by this institution (a CLIENT report), as the
/// caller's HTTP client saw them.
#[derive(Debug, Clone)]
pub struct ClientCall {
    /// The full URL called.
    pub url: url::Url,
    /// The method.
    pub method: http::Method,
    /// The status received; `None` when no answer came in time (reported
    /// as 408).
    pub status: Option<u16>,
    /// The `x-fapi-interaction-id` of the exchange, when there was one.
    pub interaction_id: Option<String>,
    /// Just before the first request byte was sent.
    pub started_at: Timestamp,
    /// When the first response byte arrived (or the client gave up).
    pub finished_at: Timestamp,
    /// The callee's directory organisation.
    pub server_org_id: OrganisationId,
    /// The software statement the call was made with.
    pub software_statement_id: SoftwareStatementId,
    /// Context keys (consent id, person type, status…).
    pub additional_info: AdditionalInfo,
    /// A free journey identifier.
    pub correlation_id: Option<String>,
}

/// Fills the usual `additionalInfo` keys from a response payload (the JSON
/// body or a signed body's claims): `consentId`, `personType`, `status`,
/// `localInstrument`, the rejection reason and, for errors, `errorCodes`.
pub fn additional_info_from(status: u16, payload: &Value) -> AdditionalInfo {
    let mut info = AdditionalInfo::new();
    let data = payload.get("data").map(|d| match d {
        Value::Array(items) => items.first().cloned().unwrap_or(Value::Null),
        other => other.clone(),
    });
    if let Some(data) = data {
        for (key, pointer) in [
            ("consentId", "/consentId"),
            ("consentId", "/recurringConsentId"),
            ("status", "/status"),
            ("localInstrument", "/localInstrument"),
            ("localInstrument", "/payment/details/localInstrument"),
            ("rejectionReasonCode", "/rejectionReason/code"),
            ("rejectionReasonDetail", "/rejectionReason/detail"),
            ("authorisationFlow", "/authorisationFlow"),
        ] {
            if let Some(value) = data.pointer(pointer).and_then(Value::as_str) {
                info.entry(key.to_owned())
                    .or_insert_with(|| Value::String(value.to_owned()));
            }
        }
        if data.get("loggedUser").is_some() || data.get("businessEntity").is_some() {
            let person = if data.get("businessEntity").is_some() {
                "PJ"
            } else {
                "PF"
            };
            info.insert("personType".to_owned(), Value::String(person.to_owned()));
        }
    }
    if status >= 400 {
        let codes: Vec<Value> = payload
            .get("errors")
            .and_then(Value::as_array)
            .map(|errors| {
                errors
                    .iter()
                    .filter_map(|e| e.get("code").cloned())
                    .collect()
            })
            .unwrap_or_default();
        info.insert("errorCodes".to_owned(), Value::Array(codes));
    }
    info
}
