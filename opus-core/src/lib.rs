//! # opus-core
//!
//! The vocabulary and the ports of the OPUS Open Finance Brasil SDK.
//!
//! **What it is for.** Everything the other crates share and everything an
//! institution implements to plug its own systems in:
//!
//! * validated value types — identifiers ([`ConsentId`] in the OFB URN form,
//!   [`InteractionId`], …), [`Cpf`] and [`Cnpj`] with check digits (the
//!   alphanumeric CNPJ included), [`Amount`] as the specs' decimal strings,
//!   [`Timestamp`] in the exact `YYYY-MM-DDTHH:MM:SSZ` form;
//! * the response [`Envelope`], pagination and the OFB error body, with the
//!   one mapping from errors to HTTP statuses ([`ApiError`]);
//! * the [`Brand`] model (a brand is a tenant);
//! * the ports, as object-safe async traits used as `Arc<dyn …>`:
//!   [`KeyCustody`], the storage ports in [`store`], [`Directory`], the
//!   back-office [`connector`]s, [`UserAuthenticator`], [`EventSink`] and
//!   [`Clock`];
//! * sealing at rest ([`seal`]): personal data is encrypted before any
//!   storage port sees it, and documents are looked up by blind index.
//!
//! **What it is not for.** No HTTP serving, no JOSE, no TLS, no storage
//! backend, no lifecycle rules: those live in `opus-fapi`, `opus-store`,
//! `opus-consent` and the domain crates. `opus-core` depends on no other
//! opus crate and changes slowly, because institutions implement against it.
//!
//! ## Spec coverage
//!
//! | spec | module |
//! |---|---|
//! | OFB common conventions: ids, dates, money, documents | [`id`], [`datetime`], [`money`], [`document`] |
//! | OFB response envelope, pagination, `ResponseError` | [`envelope`], [`error`] |
//! | Consents 3.3.1 vocabulary (statuses, permissions, rejection) | [`consent`] |
//! | Payments 4.0.0 payment statuses | [`payment`] |
//! | Directory participants and keystores | [`directory`] |
//! | Spec-fixed numbers | [`limits`] |
//! | Webhook 1.2.0 notices | [`webhook`] |
//!
//! ## Quick start
//!
//! ```
//! use opus_core::{ApiError, Cpf, Envelope, Timestamp};
//!
//! let cpf = Cpf::parse("529.982.247-25")?;
//! assert_eq!(cpf.as_str(), "52998224725");
//!
//! let now = Timestamp::parse("2021-05-21T08:30:00Z")?;
//! let response = ApiError::not_found().to_http_response(now);
//! assert_eq!(response.status(), 404);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## Security notes
//!
//! * Documents, keys, tokens and sealed values print redacted `Debug` output
//!   and have no `Display`.
//! * Storage records carry personal data only as [`seal::Sealed`] values,
//!   bound to their brand and record; a backend never receives plaintext.
//! * Error bodies carry fixed texts, never the offending input.
//!
//! ## Feature flags
//!
//! None: the crate is small on purpose.

pub mod brand;
pub mod clock;
pub mod connector;
pub mod consent;
pub mod data_apis;
pub mod datetime;
pub mod directory;
pub mod document;
pub mod envelope;
pub mod error;
pub mod event;
pub mod id;
pub mod interaction;
pub mod keys;
pub mod limits;
pub mod money;
pub mod payment;
pub mod seal;
pub mod store;
pub mod webhook;

mod backends;

pub use backends::Backends;
pub use brand::{Brand, BrandBuilder, BrandConfigError, Theme};
pub use clock::{Clock, SystemClock};
pub use datetime::{Date, Timestamp};
pub use directory::Directory;
pub use document::{Cnpj, Cpf, Document, DocumentKind};
pub use envelope::{Envelope, Links, Meta, Page, PagePolicy, PageRequest};
pub use error::{ApiError, ApiErrorKind, ErrorBody};
pub use event::{DomainEvent, EventSink};
pub use id::{
    AuthorisationServerId, BrandId, ClientId, ConsentId, DataKeyId, GrantId, IdempotencyKey,
    InteractionId, InteractionSessionId, InvalidValue, Jti, KeyId, MessageId, OrganisationId,
    PaymentId, ResourceId, SoftwareStatementId,
};
pub use interaction::UserAuthenticator;
pub use keys::{CekDecrypter, JwsSigner, KeyCustody};
pub use money::{Amount, Currency, Ispb};
pub use store::{Storage, StoreError};
