//! # opus-fapi
//!
//! The FAPI-BR security layer of the OPUS Open Finance Brasil SDK.
//!
//! **What it is for.**
//!
//! * [`jose`]: JWS, JWE, JWK and JWT claim checks on aws-lc-rs, strict by
//!   default (PS256 only for OFB, no `none`, no HMAC, `kid` required, unknown
//!   `crit` refused, no keys taken from the message); signing and
//!   decryption through `KeyCustody`, so private keys never pass through.
//! * [`custody`]: key custody backends — software keys on aws-lc-rs, and
//!   PKCS#11 HSMs behind the `pkcs11` feature.
//! * [`cert`]: the OFB identity in ICP-Brasil certificates, and structural
//!   matching of `tls_client_auth_subject_dn`.
//! * [`mtls`]: rustls server and client configurations, an accept loop for
//!   tower services that exposes the verified client certificate, and a
//!   trusted-gateway mode.
//! * [`server`]: the FAPI-BR v2 authorization server (per-brand discovery
//!   and JWKS, `private_key_jwt`, PAR with signed request objects, the
//!   hybrid flow with encrypted ID tokens, authorization-code, refresh and
//!   client-credentials grants with certificate-bound tokens tied to
//!   consents, revocation, introspection for the bank's resource servers,
//!   userinfo, DCR/DCM with directory software statements) and the resource
//!   guard in front of protected APIs.
//! * [`directory`]: the directory port over HTTPS (participants export and
//!   keystores), cached with a time to live and a stale-while-unreachable
//!   window.
//! * [`client`]: client-side primitives (`private_key_jwt` assertions, PKCE).
//! * [`message`]: signed request and response bodies of the payments family
//!   (`application/jwt`: directory keys, `iss`/`aud`/`iat`, single-use `jti`).
//!
//! **What it is not for.** Business rules of consents and payments, storage,
//! HTTP routing: those live in the domain crates.
//!
//! ## Spec coverage
//!
//! | spec | module |
//! |---|---|
//! | RFC 7515 JWS (compact) | [`jose::jws`] |
//! | RFC 7516 JWE (compact), RFC 7518 §4.3, §5.2, §5.3 | [`jose::jwe`] |
//! | RFC 7517 JWK, RFC 7638 thumbprints, RFC 8705 `x5t#S256` | [`jose::jwk`] |
//! | RFC 7519 §4.1 claims | [`jose::claims`] |
//! | FAPI-BR §2.2–2.3 certificate identities, §4.4 subject DN | [`cert`], [`cert::dn`] |
//! | FAPI-BR §2.1 TLS, RFC 8705 §2 mTLS client authentication | [`mtls`] |
//! | FAPI-BR §3.1–3.10, RFC 9126, RFC 9101, RFC 7523, RFC 7009, RFC 7662, OIDC Core hybrid flow | [`server`] |
//! | FAPI-BR §4, RFC 7591, RFC 7592 (DCR/DCM) | [`server`] |
//! | FAPI-BR §5.1–5.2, §3.10 resource access | [`server::guard`] |
//! | FAPI-BR §5.3 signed messages | [`message`] |
//!
//! ## Quick start
//!
//! ```
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use opus_core::keys::{KeyCustody, KeyPurpose};
//! use opus_fapi::custody::software::{SoftwareKey, SoftwareKeyCustody};
//! use opus_fapi::jose::jws::{self, JwsPolicy};
//!
//! let custody = SoftwareKeyCustody::builder()
//!     .signing_key(SoftwareKey::generate_rsa("sig-1")?)
//!     .build()?;
//! let signer = custody.signer(KeyPurpose::MessageSigning).await?;
//! let token = jws::sign_claims(signer.as_ref(), None, &serde_json::json!({"iss": "org"})).await?;
//!
//! // The verifier trusts only the published key set, PS256 only.
//! let keys = custody.public_jwks().await?;
//! let verified = jws::verify(&token, &keys, &JwsPolicy::ofb())?;
//! assert_eq!(verified.claims()?["iss"], "org");
//! # Ok(()) }
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(demo()).unwrap();
//! ```
//!
//! ## Feature flags
//!
//! | feature | what it adds |
//! |---|---|
//! | `pkcs11` | [`custody::pkcs11`]: key custody in a PKCS#11 module (HSM) |
//!
//! ## Security notes
//!
//! * Verification keys come from a trusted [`opus_core::keys::JwkSet`] (the
//!   directory, a registered `jwks_uri`), selected by `kid`; a key's type
//!   must fit the algorithm, which rules out algorithm confusion.
//! * JWE decryption failures are one indistinguishable error; a bad
//!   encrypted key is replaced by a random one (RFC 7516 §11.5).
//! * No RSA private-key operation goes through the `rsa` crate.

pub mod cert;
pub mod client;
pub mod custody;
pub mod directory;
pub mod jose;
pub mod message;
pub mod mtls;
pub mod server;

/// Implements `tower::Service<http::Request<B>>` for `$ty`, answering
/// `http::Response<Full<Bytes>>` and never failing (errors are answers):
/// each call takes `$state` from `&self` (`$take`, usually a cheap clone)
/// and runs `$answer` over it and the request in a boxed future. What the
/// SDK's APIs share; they keep their handling in plain async methods.
///
/// ```ignore
/// opus_fapi::http_service!(ConsentsApi, |api| api.inner.clone(), |inner, request| {
///     inner.handle(request).await
/// });
/// ```
#[macro_export]
macro_rules! http_service {
    ($ty:ty, |$this:ident| $take:expr, |$state:ident, $request:ident| $answer:expr) => {
        impl<B> ::tower::Service<::http::Request<B>> for $ty
        where
            B: ::http_body::Body + Send + 'static,
            B::Data: Send,
            B::Error: Into<Box<dyn ::std::error::Error + Send + Sync>>,
        {
            type Response = ::http::Response<::http_body_util::Full<::bytes::Bytes>>;
            type Error = ::std::convert::Infallible;
            type Future = ::std::pin::Pin<
                Box<dyn ::std::future::Future<Output = Result<Self::Response, Self::Error>> + Send>,
            >;

            fn poll_ready(
                &mut self,
                _cx: &mut ::std::task::Context<'_>,
            ) -> ::std::task::Poll<Result<(), Self::Error>> {
                ::std::task::Poll::Ready(Ok(()))
            }

            fn call(&mut self, $request: ::http::Request<B>) -> Self::Future {
                let $this = &*self;
                let $state = $take;
                Box::pin(async move { Ok($answer) })
            }
        }
    };
}

/// A `200` JSON answer (`application/json; charset=utf-8`) of `body`.
pub fn json_ok(body: &serde_json::Value) -> http::Response<http_body_util::Full<bytes::Bytes>> {
    let mut response = http::Response::new(http_body_util::Full::new(bytes::Bytes::from(
        body.to_string(),
    )));
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json; charset=utf-8"),
    );
    response
}
