//! The OFB error language: one type for every resource-API error, and the one
//! place that turns it into an HTTP status and the spec's error body.
//!
//! The body is the `ResponseError` schema every OFB OpenAPI file declares:
//! `{"errors": [{"code", "title", "detail"}], "meta": {"requestDateTime"}}`
//! with 1–13 errors, `code`/`title` at most 255 characters and `detail` at
//! most 2048. OAuth endpoints use RFC 6749 errors instead (opus-fapi).
//!
//! # Security
//! Wire texts are fixed: they never carry the offending input, tokens,
//! documents or internal error messages. Details for operators belong in
//! logs, at `debug`, through the caller's `tracing` spans.

use std::borrow::Cow;
use std::time::Duration;

use http::{HeaderValue, StatusCode, header};
use serde::{Deserialize, Serialize};

use crate::datetime::Timestamp;
use crate::limits;
use crate::store::StoreError;

/// What went wrong, at the granularity of an HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ApiErrorKind {
    /// 400: malformed request, missing or invalid header or parameter.
    BadRequest,
    /// 401: missing or invalid token or client certificate.
    Unauthorized,
    /// 403: the token lacks the scope, or a policy forbids the call.
    Forbidden,
    /// 404: unknown resource, or an endpoint the institution does not offer.
    NotFound,
    /// 405: method not supported on this endpoint.
    MethodNotAllowed,
    /// 406: the `Accept` header asks for a type this endpoint cannot produce.
    NotAcceptable,
    /// 415: the request's `Content-Type` is not supported.
    UnsupportedMediaType,
    /// 422: a business rule failed; the `code` is one of the API's enum values.
    Unprocessable,
    /// 423: the monthly operational limit of this endpoint and object is spent.
    OperationalLimitReached,
    /// 429: too many requests from this origin; `Retry-After` tells when to retry.
    TooManyRequests,
    /// 500: an internal failure (never described on the wire).
    Internal,
    /// 504: the server timed out internally.
    GatewayTimeout,
    /// 529: the global TPS limit was reached ("site is overloaded").
    SiteOverloaded,
}

impl ApiErrorKind {
    /// The HTTP status the OFB specs list for this kind. This table is the
    /// only mapping from errors to statuses in the SDK.
    pub fn status(self) -> StatusCode {
        match self {
            Self::BadRequest => StatusCode::BAD_REQUEST,
            Self::Unauthorized => StatusCode::UNAUTHORIZED,
            Self::Forbidden => StatusCode::FORBIDDEN,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::NotAcceptable => StatusCode::NOT_ACCEPTABLE,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Unprocessable => StatusCode::UNPROCESSABLE_ENTITY,
            Self::OperationalLimitReached => StatusCode::LOCKED,
            Self::TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
            Self::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            Self::GatewayTimeout => StatusCode::GATEWAY_TIMEOUT,
            // 529 is not in the IANA registry; the constructor cannot fail for 100..=999.
            Self::SiteOverloaded => {
                StatusCode::from_u16(529).unwrap_or(StatusCode::SERVICE_UNAVAILABLE)
            }
        }
    }
}

/// An error of an OFB resource API, ready to be written on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    kind: ApiErrorKind,
    code: Cow<'static, str>,
    title: Cow<'static, str>,
    detail: Cow<'static, str>,
    retry_after: Option<Duration>,
}

impl ApiError {
    /// An error of `kind` with the given texts. Prefer the named constructors;
    /// use this for the API-specific 422 codes of the domain crates.
    /// Texts are cut to the spec's maximum lengths when written.
    pub fn new(
        kind: ApiErrorKind,
        code: impl Into<Cow<'static, str>>,
        title: impl Into<Cow<'static, str>>,
        detail: impl Into<Cow<'static, str>>,
    ) -> Self {
        Self {
            kind,
            code: code.into(),
            title: title.into(),
            detail: detail.into(),
            retry_after: None,
        }
    }

    /// 400 `PARAMETRO_INVALIDO` naming the offending parameter (never its value).
    pub fn invalid_parameter(name: &'static str) -> Self {
        Self::new(
            ApiErrorKind::BadRequest,
            "PARAMETRO_INVALIDO",
            "Parâmetro inválido.",
            format!("O parâmetro {name} é inválido."),
        )
    }

    /// 400 `PARAMETRO_NAO_INFORMADO`: a required header or parameter is missing.
    pub fn missing_parameter(name: &'static str) -> Self {
        Self::new(
            ApiErrorKind::BadRequest,
            "PARAMETRO_NAO_INFORMADO",
            "Parâmetro não informado.",
            format!("O parâmetro {name} não foi informado."),
        )
    }

    /// 400 `BAD_SIGNATURE`: a signed request body failed verification (FAPI-BR §5.3).
    pub fn bad_signature() -> Self {
        Self::new(
            ApiErrorKind::BadRequest,
            "BAD_SIGNATURE",
            "Assinatura inválida.",
            "A assinatura da mensagem não pôde ser validada.",
        )
    }

    /// 401 `UNAUTHORIZED`: missing, invalid, expired or unbound access token.
    pub fn unauthorized() -> Self {
        Self::new(
            ApiErrorKind::Unauthorized,
            "UNAUTHORIZED",
            "Não autorizado.",
            "Cabeçalho de autenticação ausente ou token inválido.",
        )
    }

    /// 401 `INVALID_CLIENT`: the client certificate is missing or not acceptable.
    pub fn invalid_client() -> Self {
        Self::new(
            ApiErrorKind::Unauthorized,
            "INVALID_CLIENT",
            "Cliente inválido.",
            "O certificado do cliente não é válido para esta chamada.",
        )
    }

    /// 403 `FORBIDDEN`: the token does not allow this call.
    pub fn forbidden() -> Self {
        Self::new(
            ApiErrorKind::Forbidden,
            "FORBIDDEN",
            "Acesso negado.",
            "O token não tem permissão para esta operação.",
        )
    }

    /// 404 `NOT_FOUND`.
    pub fn not_found() -> Self {
        Self::new(
            ApiErrorKind::NotFound,
            "NOT_FOUND",
            "Recurso não encontrado.",
            "O recurso solicitado não existe.",
        )
    }

    /// 405 `METHOD_NOT_ALLOWED`.
    pub fn method_not_allowed() -> Self {
        Self::new(
            ApiErrorKind::MethodNotAllowed,
            "METHOD_NOT_ALLOWED",
            "Método não permitido.",
            "O método não é suportado por este endpoint.",
        )
    }

    /// 406 `NOT_ACCEPTABLE`.
    pub fn not_acceptable() -> Self {
        Self::new(
            ApiErrorKind::NotAcceptable,
            "NOT_ACCEPTABLE",
            "Formato não aceito.",
            "O formato pedido no cabeçalho Accept não é suportado.",
        )
    }

    /// 415 `UNSUPPORTED_MEDIA_TYPE`.
    pub fn unsupported_media_type() -> Self {
        Self::new(
            ApiErrorKind::UnsupportedMediaType,
            "UNSUPPORTED_MEDIA_TYPE",
            "Formato não suportado.",
            "O Content-Type da requisição não é suportado.",
        )
    }

    /// 422 with an API-specific business code (e.g. `DATA_EXPIRACAO_INVALIDA`).
    pub fn unprocessable(
        code: impl Into<Cow<'static, str>>,
        title: impl Into<Cow<'static, str>>,
        detail: impl Into<Cow<'static, str>>,
    ) -> Self {
        Self::new(ApiErrorKind::Unprocessable, code, title, detail)
    }

    /// 422 `PARAMETRO_INVALIDO`: `page-size` above the API maximum.
    pub fn page_size_above_maximum(max: u32) -> Self {
        Self::unprocessable(
            "PARAMETRO_INVALIDO",
            "Parâmetro inválido.",
            format!("O parâmetro page-size excede o máximo de {max}."),
        )
    }

    /// 423 `LIMITE_OPERACIONAL_EXCEDIDO`: the monthly operational limit is spent.
    pub fn operational_limit_reached() -> Self {
        Self::new(
            ApiErrorKind::OperationalLimitReached,
            "LIMITE_OPERACIONAL_EXCEDIDO",
            "Limite operacional excedido.",
            "O limite mensal de chamadas deste endpoint para este recurso foi atingido.",
        )
    }

    /// 429 `TOO_MANY_REQUESTS` with a `Retry-After`.
    pub fn too_many_requests(retry_after: Duration) -> Self {
        let mut err = Self::new(
            ApiErrorKind::TooManyRequests,
            "TOO_MANY_REQUESTS",
            "Muitas requisições.",
            "O limite de requisições por minuto foi atingido.",
        );
        err.retry_after = Some(retry_after);
        err
    }

    /// 500 `ERRO_INTERNO`, with nothing about the cause on the wire.
    pub fn internal() -> Self {
        Self::new(
            ApiErrorKind::Internal,
            "ERRO_INTERNO",
            "Erro interno.",
            "Ocorreu um erro interno ao processar a requisição.",
        )
    }

    /// 504 `GATEWAY_TIMEOUT`.
    pub fn gateway_timeout() -> Self {
        Self::new(
            ApiErrorKind::GatewayTimeout,
            "GATEWAY_TIMEOUT",
            "Tempo esgotado.",
            "O servidor não respondeu a tempo.",
        )
    }

    /// 529 `SITE_IS_OVERLOADED`: the global TPS limit was reached.
    pub fn site_overloaded() -> Self {
        Self::new(
            ApiErrorKind::SiteOverloaded,
            "SITE_IS_OVERLOADED",
            "Site sobrecarregado.",
            "O limite máximo de TPS global foi atingido; tente novamente mais tarde.",
        )
    }

    /// The kind of error.
    pub fn kind(&self) -> ApiErrorKind {
        self.kind
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.kind.status()
    }

    /// The `errors[].code`.
    pub fn code(&self) -> &str {
        &self.code
    }

    /// The `Retry-After` to send, on 429.
    pub fn retry_after(&self) -> Option<Duration> {
        self.retry_after
    }

    /// The spec's error body for this error at `now`.
    pub fn to_body(&self, now: Timestamp) -> ErrorBody {
        ErrorBody {
            errors: vec![ErrorItem {
                code: truncate(&self.code, limits::ERROR_CODE_MAX_LEN),
                title: truncate(&self.title, limits::ERROR_CODE_MAX_LEN),
                detail: truncate(&self.detail, limits::ERROR_DETAIL_MAX_LEN),
            }],
            meta: ErrorMeta {
                request_date_time: now,
                total_records: None,
                total_pages: None,
            },
        }
    }

    /// The whole HTTP response: status, `Content-Type: application/json;
    /// charset=utf-8`, `Retry-After` on 429, and the JSON body. Callers add
    /// `x-fapi-interaction-id` and, on the payments family, sign 422 bodies.
    pub fn to_http_response(&self, now: Timestamp) -> http::Response<Vec<u8>> {
        self.http_response(&self.to_body(now))
    }

    /// As [`ApiError::to_http_response`] for the public APIs (common,
    /// admin, open data), whose error `meta` also carries totals (one
    /// record, one page).
    pub fn to_public_http_response(&self, now: Timestamp) -> http::Response<Vec<u8>> {
        let mut body = self.to_body(now);
        body.meta.total_records = Some(1);
        body.meta.total_pages = Some(1);
        self.http_response(&body)
    }

    fn http_response(&self, body: &ErrorBody) -> http::Response<Vec<u8>> {
        // Serialising these plain strings cannot fail; fall back to a fixed body anyway.
        let body = serde_json::to_vec(body).unwrap_or_else(|_| {
            br#"{"errors":[{"code":"ERRO_INTERNO","title":"Erro interno.","detail":"Erro interno."}]}"#
                .to_vec()
        });
        let mut response = http::Response::new(body);
        *response.status_mut() = self.status();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json; charset=utf-8"),
        );
        if let Some(after) = self.retry_after {
            let secs = after.as_secs().max(1);
            if let Ok(value) = HeaderValue::from_str(&secs.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
        }
        response
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.status().as_u16(), self.code)
    }
}

impl std::error::Error for ApiError {}

impl From<StoreError> for ApiError {
    /// A storage failure that reaches the API boundary is an internal error:
    /// callers that expect `NotFound` or `Conflict` handle them before this.
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::NotFound => Self::not_found(),
            StoreError::Conflict | StoreError::Unavailable(_) | StoreError::Other(_) => {
                Self::internal()
            }
        }
    }
}

fn truncate(text: &str, max_chars: usize) -> String {
    text.chars().take(max_chars).collect()
}

/// The `ResponseError` body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// 1 to 13 errors.
    pub errors: Vec<ErrorItem>,
    /// `requestDateTime`.
    pub meta: ErrorMeta,
}

/// One entry of `errors[]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorItem {
    /// The endpoint's error code.
    pub code: String,
    /// A human-readable title.
    pub title: String,
    /// A human-readable description.
    pub detail: String,
}

/// `meta` of an error body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorMeta {
    /// When the request was served.
    pub request_date_time: Timestamp,
    /// On the public APIs (common, admin, open data), whose error `meta`
    /// carries totals too: one record.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub total_records: Option<u64>,
    /// On the public APIs: one page.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub total_pages: Option<u32>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn status_table() {
        let table = [
            (
                ApiError::invalid_parameter("page"),
                400,
                "PARAMETRO_INVALIDO",
            ),
            (
                ApiError::missing_parameter("x-fapi-interaction-id"),
                400,
                "PARAMETRO_NAO_INFORMADO",
            ),
            (ApiError::bad_signature(), 400, "BAD_SIGNATURE"),
            (ApiError::unauthorized(), 401, "UNAUTHORIZED"),
            (ApiError::invalid_client(), 401, "INVALID_CLIENT"),
            (ApiError::forbidden(), 403, "FORBIDDEN"),
            (ApiError::not_found(), 404, "NOT_FOUND"),
            (ApiError::method_not_allowed(), 405, "METHOD_NOT_ALLOWED"),
            (ApiError::not_acceptable(), 406, "NOT_ACCEPTABLE"),
            (
                ApiError::unsupported_media_type(),
                415,
                "UNSUPPORTED_MEDIA_TYPE",
            ),
            (
                ApiError::page_size_above_maximum(1000),
                422,
                "PARAMETRO_INVALIDO",
            ),
            (
                ApiError::operational_limit_reached(),
                423,
                "LIMITE_OPERACIONAL_EXCEDIDO",
            ),
            (
                ApiError::too_many_requests(Duration::from_secs(30)),
                429,
                "TOO_MANY_REQUESTS",
            ),
            (ApiError::internal(), 500, "ERRO_INTERNO"),
            (ApiError::gateway_timeout(), 504, "GATEWAY_TIMEOUT"),
            (ApiError::site_overloaded(), 529, "SITE_IS_OVERLOADED"),
            (ApiError::from(StoreError::NotFound), 404, "NOT_FOUND"),
            (ApiError::from(StoreError::Conflict), 500, "ERRO_INTERNO"),
        ];
        for (err, status, code) in table {
            assert_eq!(err.status().as_u16(), status, "{code}");
            assert_eq!(err.code(), code);
        }
    }

    #[test]
    fn body_matches_the_spec_example() {
        // consents 3.3.1, example "Necessário aprovação de múltipla alçada".
        let err = ApiError::unprocessable(
            "DEPENDE_MULTIPLA_ALCADA",
            "Necessário aprovação de múltipla alçada.",
            "O consentimento informado não pode ser renovado sem redirecionamento porque depende de múltipla alçada para aprovação",
        );
        let now = Timestamp::parse("2021-05-21T08:30:00Z").unwrap();
        let response = err.to_http_response(now);
        assert_eq!(response.status(), 422);
        assert_eq!(
            response.headers()[header::CONTENT_TYPE],
            "application/json; charset=utf-8"
        );
        let body: serde_json::Value = serde_json::from_slice(response.body()).unwrap();
        assert_eq!(
            body,
            json!({
                "errors": [{
                    "code": "DEPENDE_MULTIPLA_ALCADA",
                    "title": "Necessário aprovação de múltipla alçada.",
                    "detail": "O consentimento informado não pode ser renovado sem redirecionamento porque depende de múltipla alçada para aprovação"
                }],
                "meta": {"requestDateTime": "2021-05-21T08:30:00Z"}
            })
        );
    }

    #[test]
    fn retry_after_and_lengths() {
        let now = Timestamp::UNIX_EPOCH;
        let response =
            ApiError::too_many_requests(Duration::from_millis(1500)).to_http_response(now);
        assert_eq!(response.headers()[header::RETRY_AFTER], "1");
        let long = ApiError::unprocessable("X".repeat(300), "T", "d".repeat(3000)).to_body(now);
        assert_eq!(long.errors[0].code.chars().count(), 255);
        assert_eq!(long.errors[0].detail.chars().count(), 2048);
    }

    #[test]
    fn internal_errors_say_nothing_about_the_cause() {
        let err = ApiError::from(StoreError::Other("connection refused to 10.0.0.5".into()));
        let body = serde_json::to_string(&err.to_body(Timestamp::UNIX_EPOCH)).unwrap();
        assert!(!body.contains("10.0.0.5"));
    }
}
