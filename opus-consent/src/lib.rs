//! Consent lifecycles of the OPUS Open Finance Brasil SDK.
//!
//! - [`data`]: data-sharing consents (Consents API 3.3.1): the permission
//!   groups and PF/PJ rules, creation, expiry by the clock (the 60-minute
//!   authorisation window and `expirationDateTime`), rejection and
//!   revocation with the spec's reasons and who ended it, a domain event on
//!   every transition (through the outbox, in the same transaction), and the
//!   revocation of the consent's tokens when it ends.
//! - [`api`]: the Consents API as a `tower::Service`, behind the resource
//!   guard of `opus-fapi`.
//! - [`management`]: the management API for the bank's channels — list a
//!   customer's consents by CPF/CNPJ (through the blind index) or by
//!   client, show one, revoke as the customer or end as the institution —
//!   behind the bank's own [`management::ChannelAuthenticator`].
//!
//! - [`payments`]: payment consents (Payments API 4.0.0): validation,
//!   the authorisation and consumption deadlines, and the consents endpoints
//!   with signed bodies and idempotency keys.
//!
//! - [`recurring`]: recurring consents (Automatic Payments API 2.0.0):
//!   sweeping and Pix Automático, their limits, revocation, rejection and
//!   edition, the endpoints with signed bodies, and the consent port.

pub mod api;
pub mod data;
pub mod management;
pub mod payments;
pub mod recurring;

pub use api::ConsentsApi;
pub use data::{CreateDataConsent, DataConsentPolicy, DataConsents, ExtendDataConsent};
pub use management::{ChannelAuthenticator, ChannelPrincipal, ManagementApi};
pub use payments::{
    ConsentRouter, PaymentConsent, PaymentConsentAuthorisation, PaymentConsents, PaymentConsentsApi,
};
pub use recurring::{
    RecurringConsent, RecurringConsentAuthorisation, RecurringConsents, RecurringConsentsApi,
};

/// The webhook notice (Webhook API 1.2.0) of a change of the resource at
/// `path` (under `/open-banking/webhook/v1/`) for `client`, at `at`.
fn webhook_notice(
    brand: &opus_core::BrandId,
    client: &opus_core::ClientId,
    path: String,
    at: opus_core::Timestamp,
) -> Result<opus_core::store::OutboxMessage, opus_core::ApiError> {
    opus_core::webhook::WebhookNotice {
        client_id: client.clone(),
        path,
        timestamp: at,
    }
    .message(brand)
    .map_err(|_| opus_core::ApiError::internal())
}
