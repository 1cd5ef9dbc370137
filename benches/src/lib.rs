//! Benchmarks of the OPUS Open Finance Brasil SDK (see `benches/README.md`).
//!
//! * `cargo bench -p opus-benches --bench jose`: criterion benchmarks of
//!   PS256/ES256 signing and verification, JWE and JWKS lookup.
//! * `benches/openssl-ratio.sh`: PS256 signatures per second against
//!   `openssl speed rsa2048`, side by side in one run.
//! * `loadgen` (`src/bin/loadgen/`): FAPI-BR load (token endpoint, whole
//!   code flow, resource GETs, payments) against the sandbox's bank, the
//!   interop kit's oidc-provider or a raw hyper + rustls ceiling, with the
//!   server's CPU time and memory read from `/proc`; `benches/compare.sh`
//!   runs every side-by-side comparison of `benches/README.md` in one run.

use opus_core::keys::{KeyCustody, KeyPurpose};
use opus_fapi::custody::software::{SoftwareKey, SoftwareKeyCustody};

/// A software custody with an RSA-2048 signing key, a P-256 signing key
/// (for client signing) and an RSA-2048 encryption key.
///
/// # Panics
/// When key generation fails (a broken machine: the benchmark cannot run).
#[allow(clippy::expect_used)] // benchmark set-up: failing loudly is the point
pub fn custody() -> SoftwareKeyCustody {
    SoftwareKeyCustody::builder()
        .signing_key(SoftwareKey::generate_rsa("bench-ps256").expect("RSA key"))
        .signing_key(SoftwareKey::generate_ec("bench-es256").expect("EC key"))
        .current_signer(
            KeyPurpose::ClientSigning,
            opus_core::KeyId::new("bench-es256").expect("kid"),
        )
        .encryption_key(SoftwareKey::generate_rsa("bench-enc").expect("RSA key"))
        .build()
        .expect("custody")
}

/// A 600-byte JWS signing input, the size of a typical OFB request object.
pub fn signing_input() -> Vec<u8> {
    let claims = serde_json::json!({
        "iss": "b1f6c0a2-8f6e-4b8e-9c43-1c2d3e4f5a6b",
        "aud": "https://auth.bank.example.com.br",
        "scope": "openid consent:urn:bancoex:C1DD33123 payments",
        "response_type": "code id_token",
        "redirect_uri": "https://tpp.example.com.br/callback",
        "state": "5a9e2d7c3b1f4e6a8d0c2b4a6e8f0a1c",
        "nonce": "0e1d2c3b4a5f6e7d8c9b0a1f2e3d4c5b",
        "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        "code_challenge_method": "S256",
        "acr_values": "urn:brasil:openbanking:loa2",
        "exp": 1_800_000_300, "nbf": 1_800_000_000, "iat": 1_800_000_000,
        "jti": "9c8b7a6f-5e4d-3c2b-1a0f-9e8d7c6b5a4f",
        "max_age": 900
    });
    let mut input = b"eyJhbGciOiJQUzI1NiIsImtpZCI6ImJlbmNoLXBzMjU2IiwidHlwIjoiSldUIn0.".to_vec();
    input.extend(serde_json::to_vec(&claims).unwrap_or_default());
    input.resize(600, b'A');
    input
}

/// Signs `input` with the custody's message signer, blocking.
///
/// # Panics
/// When signing fails.
#[allow(clippy::expect_used)] // benchmark helper
pub fn sign_blocking(custody: &SoftwareKeyCustody, input: &[u8]) -> Vec<u8> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let signer = custody
            .signer(KeyPurpose::MessageSigning)
            .await
            .expect("signer");
        signer.sign(input).await.expect("signature")
    })
}
