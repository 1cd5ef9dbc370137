//! OAuth errors (RFC 6749 §5.2, RFC 9126 §2.3, RFC 9101 §6, RFC 7591 §3.2.2):
//! the one place that maps them to an HTTP status and a JSON body.

use bytes::Bytes;
use http::{Response, StatusCode};
use http_body_util::Full;

/// An OAuth error code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum OAuthErrorCode {
    /// `invalid_request`.
    InvalidRequest,
    /// `invalid_client`.
    InvalidClient,
    /// `invalid_grant`.
    InvalidGrant,
    /// `unauthorized_client`.
    UnauthorizedClient,
    /// `unsupported_grant_type`.
    UnsupportedGrantType,
    /// `invalid_scope`.
    InvalidScope,
    /// `invalid_request_object`.
    InvalidRequestObject,
    /// `invalid_request_uri`.
    InvalidRequestUri,
    /// `unsupported_response_type`.
    UnsupportedResponseType,
    /// `access_denied`.
    AccessDenied,
    /// `server_error`.
    ServerError,
    /// `invalid_client_metadata` (DCR).
    InvalidClientMetadata,
    /// `invalid_software_statement` (DCR).
    InvalidSoftwareStatement,
    /// `unapproved_software_statement` (DCR).
    UnapprovedSoftwareStatement,
    /// `invalid_redirect_uri` (DCR).
    InvalidRedirectUri,
    /// `invalid_webhook_uris` (OFB DCR).
    InvalidWebhookUris,
    /// `invalid_token` (DCM without a valid registration access token).
    InvalidToken,
}

impl OAuthErrorCode {
    /// The `error` value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidRequest => "invalid_request",
            Self::InvalidClient => "invalid_client",
            Self::InvalidGrant => "invalid_grant",
            Self::UnauthorizedClient => "unauthorized_client",
            Self::UnsupportedGrantType => "unsupported_grant_type",
            Self::InvalidScope => "invalid_scope",
            Self::InvalidRequestObject => "invalid_request_object",
            Self::InvalidRequestUri => "invalid_request_uri",
            Self::UnsupportedResponseType => "unsupported_response_type",
            Self::AccessDenied => "access_denied",
            Self::ServerError => "server_error",
            Self::InvalidClientMetadata => "invalid_client_metadata",
            Self::InvalidSoftwareStatement => "invalid_software_statement",
            Self::UnapprovedSoftwareStatement => "unapproved_software_statement",
            Self::InvalidRedirectUri => "invalid_redirect_uri",
            Self::InvalidWebhookUris => "invalid_webhook_uris",
            Self::InvalidToken => "invalid_token",
        }
    }

    /// The status of a direct (non-redirect) error response: 401 for a
    /// failed client authentication (RFC 6749 §5.2), 500 for a server
    /// error, 400 otherwise.
    pub fn status(self) -> StatusCode {
        match self {
            Self::InvalidClient | Self::InvalidToken => StatusCode::UNAUTHORIZED,
            Self::ServerError => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::BAD_REQUEST,
        }
    }
}

/// An OAuth error with a fixed, non-revealing description.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthError {
    /// The code.
    pub code: OAuthErrorCode,
    /// The `error_description` (a fixed text; never echoes input).
    pub description: &'static str,
}

impl OAuthError {
    /// An error with `description`.
    pub const fn new(code: OAuthErrorCode, description: &'static str) -> Self {
        Self { code, description }
    }

    /// `invalid_request`.
    pub const fn invalid_request(description: &'static str) -> Self {
        Self::new(OAuthErrorCode::InvalidRequest, description)
    }

    /// `invalid_client`.
    pub const fn invalid_client(description: &'static str) -> Self {
        Self::new(OAuthErrorCode::InvalidClient, description)
    }

    /// `invalid_request_object`.
    pub const fn invalid_request_object(description: &'static str) -> Self {
        Self::new(OAuthErrorCode::InvalidRequestObject, description)
    }

    /// `server_error`.
    pub const fn server_error() -> Self {
        Self::new(
            OAuthErrorCode::ServerError,
            "the server could not complete the request",
        )
    }

    /// The JSON response (`Cache-Control: no-store`).
    pub fn to_response(&self) -> Response<Full<Bytes>> {
        super::json_response(
            self.code.status(),
            &serde_json::json!({"error": self.code.as_str(), "error_description": self.description}),
        )
    }
}

impl std::fmt::Display for OAuthError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code.as_str(), self.description)
    }
}

impl std::error::Error for OAuthError {}

impl From<opus_core::StoreError> for OAuthError {
    fn from(_: opus_core::StoreError) -> Self {
        Self::server_error()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mapping_table() {
        use OAuthErrorCode::*;
        for (code, text, status) in [
            (InvalidRequest, "invalid_request", 400),
            (InvalidClient, "invalid_client", 401),
            (InvalidGrant, "invalid_grant", 400),
            (UnauthorizedClient, "unauthorized_client", 400),
            (UnsupportedGrantType, "unsupported_grant_type", 400),
            (InvalidScope, "invalid_scope", 400),
            (InvalidRequestObject, "invalid_request_object", 400),
            (InvalidRequestUri, "invalid_request_uri", 400),
            (UnsupportedResponseType, "unsupported_response_type", 400),
            (AccessDenied, "access_denied", 400),
            (ServerError, "server_error", 500),
            (InvalidClientMetadata, "invalid_client_metadata", 400),
            (InvalidSoftwareStatement, "invalid_software_statement", 400),
            (
                UnapprovedSoftwareStatement,
                "unapproved_software_statement",
                400,
            ),
        ] {
            assert_eq!(code.as_str(), text);
            assert_eq!(code.status().as_u16(), status, "{text}");
        }
        let response = OAuthError::invalid_client("bad assertion").to_response();
        assert_eq!(response.status(), 401);
        assert_eq!(response.headers()[http::header::CACHE_CONTROL], "no-store");
    }
}
