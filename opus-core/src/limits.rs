//! Numbers the specifications fix, in one place, each with its source.
//!
//! Code elsewhere refers to these constants instead of repeating literals, so
//! that a change in a spec version is a change here.

use std::time::Duration;

/// `consentId` maximum length (consents 3.3.1, payments 4.0.0: `maxLength: 256`).
pub const CONSENT_ID_MAX_LEN: usize = 256;

/// `x-idempotency-key` maximum length (payments 4.0.0 header parameter: `maxLength: 40`).
pub const IDEMPOTENCY_KEY_MAX_LEN: usize = 40;

/// How long an idempotency key is kept (OFB idempotency guidance: 24 hours).
pub const IDEMPOTENCY_KEY_RETENTION: Duration = Duration::from_secs(24 * 60 * 60);

/// How long a signed-message `jti` must stay unique per client (FAPI-BR §5.3: 24 hours).
pub const SIGNED_MESSAGE_JTI_RETENTION: Duration = Duration::from_secs(24 * 60 * 60);

/// Default `page-size` of the paged OFB APIs (common pagination rules).
pub const DEFAULT_PAGE_SIZE: u32 = 25;

/// Largest `page-size` any OFB API accepts (`maximum: 1000`); above it the API answers 422.
pub const MAX_PAGE_SIZE: u32 = 1000;

/// The floor some APIs apply to `page-size` (consents `/extensions` and resources:
/// values below 25 are served as 25).
pub const PAGE_SIZE_FLOOR_25: u32 = 25;

/// Maximum number of items in `errors[]` (`maxItems: 13` in every OFB `ResponseError`).
pub const MAX_ERRORS: usize = 13;

/// Maximum length of an error `code` and `title` (`maxLength: 255`).
pub const ERROR_CODE_MAX_LEN: usize = 255;

/// Maximum length of an error `detail` (`maxLength: 2048`).
pub const ERROR_DETAIL_MAX_LEN: usize = 2048;

/// Maximum length of a `links` URI (`maxLength: 2000`).
pub const LINK_MAX_LEN: usize = 2000;

/// Maximum length of a `pagination-key` (`maxLength: 2048`).
pub const PAGINATION_KEY_MAX_LEN: usize = 2048;

/// How long a `pagination-key` stays valid (OFB pagination rules: 60 minutes).
pub const PAGINATION_KEY_VALIDITY: Duration = Duration::from_secs(60 * 60);

/// Time a data consent may wait for authorisation before it is rejected with
/// `CONSENT_EXPIRED` (consents 3.3.1 lifecycle: 60 minutes).
pub const DATA_CONSENT_AUTHORISATION_TIMEOUT: Duration = Duration::from_secs(60 * 60);

/// Time a payment consent may wait for authorisation (payments 4.0.0:
/// `creationDateTime + 5 min`, then `TEMPO_EXPIRADO_AUTORIZACAO`).
pub const PAYMENT_CONSENT_AUTHORISATION_TIMEOUT: Duration = Duration::from_secs(5 * 60);

/// Time an authorised payment consent may wait to be consumed (payments 4.0.0:
/// `statusUpdateDateTime + 60 min`, then `TEMPO_EXPIRADO_CONSUMO`).
pub const PAYMENT_CONSENT_CONSUMPTION_TIMEOUT: Duration = Duration::from_secs(60 * 60);
