//! The data transmitter of the OPUS Open Finance Brasil SDK.
//!
//! Investments and exchange are not served yet. The public open-data
//! APIs (phase 1) are in [`opendata`].
//!
//! [`DataApis`] serves, for one brand, the customer-data APIs at the
//! versions in the official OpenAPI files, each behind the bank's connector
//! (the ports of `opus_core::connector`):
//!
//! | API | base path | endpoints |
//! |---|---|---|
//! | resources 3.1.0 | `/open-banking/resources/v3` | `GET /resources` |
//! | accounts 2.4.2 | `/open-banking/accounts/v2` | `/accounts`, `/accounts/{accountId}`, `/balances`, `/transactions`, `/transactions-current`, `/overdraft-limits` |
//! | customers 2.2.1 | `/open-banking/customers/v2` | `/personal/identifications`, `/personal/qualifications`, `/personal/financial-relations`, the same three under `/business` |
//! | credit-cards-accounts 2.3.1 | `/open-banking/credit-cards-accounts/v2` | `/accounts`, `/accounts/{id}`, `/limits`, `/transactions`, `/transactions-current`, `/bills`, `/bills/{billId}/transactions` |
//! | loans 2.5.0, financings 2.4.0, invoice-financings 2.4.0, unarranged-accounts-overdraft 2.5.0 | `/open-banking/{api}/v2` | `/contracts`, `/contracts/{id}`, `/warranties`, `/scheduled-instalments`, `/payments` |
//!
//! Mount it behind `opus_fapi::server::guard::ResourceGuardLayer` with
//! `require_authorised_consent()`: the guard verifies the token, its
//! certificate binding and the interaction headers; then every call goes
//! through the validation chain ([`chain`]: scope, consent status and
//! owner, the endpoint's permission, the resource belongs to the consent,
//! the monthly operational limit, pagination and date rules) before the
//! connector runs. A connector never sees a call that failed a check, and
//! is asked only about resources the customer chose to share.
//!
//! Errors are the OFB envelope with the status each API lists; page links
//! carry a `pagination-key` (sealed, valid 60 minutes) whose follow-up pages
//! do not count against the operational limits.

pub mod chain;
pub mod opendata;
mod service;

pub use chain::Endpoint;
pub use opendata::OpenDataApis;
pub use service::{DataApis, DataApisBuilder, endpoints};
