//! ICP-Brasil certificates: the OFB identity in a peer certificate, and
//! structural subject-DN matching ([`dn`]).
//!
//! | certificate | organisation id | software statement id |
//! |---|---|---|
//! | transport (BRCAC, EKU clientAuth) | `organizationIdentifier` (2.5.4.97) without `OFBBR-`; `OU` on certificates issued before 2023 | `UID` |
//! | signing (BRSEAL) | `UID` | — |
//!
//! `serialNumber` (2.5.4.5) carries the CNPJ (FAPI-BR §2.2–2.3).

pub mod dn;

use opus_core::{Cnpj, OrganisationId, SoftwareStatementId, Timestamp};
use x509_parser::prelude::{FromDer, X509Certificate};

use crate::jose::jwk::certificate_thumbprint;
use dn::DistinguishedName;

const OID_CN: &str = "2.5.4.3";
const OID_SERIAL_NUMBER: &str = "2.5.4.5";
const OID_OU: &str = "2.5.4.11";
const OID_ORGANIZATION_IDENTIFIER: &str = "2.5.4.97";
const OID_UID: &str = "0.9.2342.19200300.100.1.1";
const OFB_PREFIX: &str = "ofbbr-";

/// Why a certificate could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CertError {
    /// Not a DER X.509 certificate.
    #[error("malformed certificate")]
    Malformed,
    /// The subject does not decode.
    #[error("malformed certificate subject")]
    Subject(#[from] dn::DnError),
}

/// What a certificate is for, from its extended key usage and key usage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CertificateKind {
    /// Client transport (EKU clientAuth): mTLS to OFB endpoints.
    Transport,
    /// TLS server (EKU serverAuth, no clientAuth).
    Server,
    /// Signing (no TLS EKU; digitalSignature and nonRepudiation).
    Signing,
    /// None of the above.
    Other,
}

/// The OFB identity a certificate carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateIdentity {
    /// What the certificate is for.
    pub kind: CertificateKind,
    /// The directory organisation, if the certificate names one.
    pub organisation_id: Option<OrganisationId>,
    /// The software statement (transport certificates' `UID`).
    pub software_statement_id: Option<SoftwareStatementId>,
    /// The CNPJ in `serialNumber`, if it is one.
    pub cnpj: Option<Cnpj>,
    /// `CN`, normalised (lower case).
    pub common_name: Option<String>,
    /// The subject, for structural comparison with a registered DN.
    pub subject: DistinguishedName,
    /// `x5t#S256` of the certificate (RFC 8705), for binding tokens.
    pub thumbprint: String,
    /// Start of validity.
    pub not_before: Timestamp,
    /// End of validity.
    pub not_after: Timestamp,
}

/// Reads the OFB identity from a DER certificate.
///
/// # Errors
/// [`CertError`] when the certificate or its subject does not parse.
pub fn identity(der: &[u8]) -> Result<CertificateIdentity, CertError> {
    let (rest, cert) = X509Certificate::from_der(der).map_err(|_| CertError::Malformed)?;
    if !rest.is_empty() {
        return Err(CertError::Malformed);
    }
    let subject = DistinguishedName::from_x509_name(cert.subject())?;
    let eku = cert.extended_key_usage().ok().flatten().map(|e| e.value);
    let key_usage = cert.key_usage().ok().flatten().map(|k| k.value);
    let kind = match eku {
        Some(e) if e.client_auth => CertificateKind::Transport,
        Some(e) if e.server_auth => CertificateKind::Server,
        _ if key_usage.is_some_and(|k| k.digital_signature() && k.non_repudiation()) => {
            CertificateKind::Signing
        }
        _ => CertificateKind::Other,
    };
    let uid = subject.text_value(OID_UID);
    let from_org_identifier = subject
        .text_value(OID_ORGANIZATION_IDENTIFIER)
        .and_then(|v| v.strip_prefix(OFB_PREFIX))
        .and_then(|v| OrganisationId::parse(v).ok());
    let (organisation_id, software_statement_id) = match kind {
        CertificateKind::Signing => (uid.and_then(|v| OrganisationId::parse(v).ok()), None),
        _ => (
            from_org_identifier.or_else(|| {
                subject
                    .text_value(OID_OU)
                    .and_then(|v| OrganisationId::parse(v).ok())
            }),
            uid.and_then(|v| SoftwareStatementId::parse(v).ok()),
        ),
    };
    let cnpj = subject
        .text_value(OID_SERIAL_NUMBER)
        .and_then(|v| Cnpj::parse(&v.to_ascii_uppercase()).ok());
    let validity = cert.validity();
    let time = |t: i64| Timestamp::from_unix_seconds(t).map_err(|_| CertError::Malformed);
    Ok(CertificateIdentity {
        kind,
        organisation_id,
        software_statement_id,
        cnpj,
        common_name: subject.text_value(OID_CN).map(str::to_owned),
        thumbprint: certificate_thumbprint(der),
        not_before: time(validity.not_before.timestamp())?,
        not_after: time(validity.not_after.timestamp())?,
        subject,
    })
}
