//! Key custody backends.
//!
//! * [`software`]: keys held in process by aws-lc-rs (constant-time RSA),
//!   loaded from PEM, PKCS#8 or JWK, or generated; several keys with one
//!   current signer for rotation.
//! * `pkcs11` (feature `pkcs11`): keys in an HSM through PKCS#11; they
//!   never leave it.

pub mod software;

#[cfg(feature = "pkcs11")]
pub mod pkcs11;
