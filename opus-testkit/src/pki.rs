//! A test PKI generated at run time: root → intermediate → leaves with the
//! subject attributes of OFB / ICP-Brasil certificates (FAPI-BR §2).
//!
//! No private key is ever committed: every run makes new keys. Leaves are
//! RSA-2048 with SHA-256 signatures, as ICP-Brasil issues them.
//!
//! | leaf | subject | key usage | EKU |
//! |---|---|---|---|
//! | transport (BRCAC) | CN, UID = software statement id, organizationIdentifier = `OFBBR-<org id>` (or OU = org id for legacy certificates), serialNumber = CNPJ, businessCategory, jurisdictionCountryName, L, ST, O, C | digitalSignature, keyEncipherment | clientAuth |
//! | signing (BRSEAL) | UID = org id, CN = company name, O = ICP-Brasil, C = BR | digitalSignature, nonRepudiation | — |
//! | server | CN and SANs for `127.0.0.1` / `localhost` | digitalSignature, keyEncipherment | serverAuth |

use std::net::IpAddr;

use opus_core::keys::SecretBytes;
use opus_core::{Cnpj, OrganisationId, SoftwareStatementId};
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DistinguishedName, DnType, DnValue,
    ExtendedKeyUsagePurpose, IsCa, KeyPair, KeyUsagePurpose, PKCS_RSA_SHA256, SanType,
};
use zeroize::Zeroizing;

/// OID arcs of the subject attributes OFB certificates carry.
pub mod oid {
    /// `organizationIdentifier` (2.5.4.97): `OFBBR-<organisation id>`.
    pub const ORGANIZATION_IDENTIFIER: &[u64] = &[2, 5, 4, 97];
    /// `UID` (0.9.2342.19200300.100.1.1): the software statement id (transport)
    /// or the organisation id (signing).
    pub const UID: &[u64] = &[0, 9, 2342, 19_200_300, 100, 1, 1];
    /// `serialNumber` (2.5.4.5): the CNPJ.
    pub const SERIAL_NUMBER: &[u64] = &[2, 5, 4, 5];
    /// `businessCategory` (2.5.4.15).
    pub const BUSINESS_CATEGORY: &[u64] = &[2, 5, 4, 15];
    /// `jurisdictionCountryName` (1.3.6.1.4.1.311.60.2.1.3).
    pub const JURISDICTION_COUNTRY_NAME: &[u64] = &[1, 3, 6, 1, 4, 1, 311, 60, 2, 1, 3];
}

/// Failures building certificates.
#[derive(Debug, thiserror::Error)]
#[error("test PKI: {0}")]
pub struct PkiError(String);

impl From<rcgen::Error> for PkiError {
    fn from(e: rcgen::Error) -> Self {
        Self(e.to_string())
    }
}

impl From<rcgen::InvalidAsn1String> for PkiError {
    fn from(e: rcgen::InvalidAsn1String) -> Self {
        Self(e.to_string())
    }
}

/// `businessCategory` values of OFB certificates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum BusinessCategory {
    /// `Private Organization`.
    PrivateOrganization,
    /// `Government Entity`.
    GovernmentEntity,
    /// `Business Entity`.
    BusinessEntity,
    /// `Non-Commercial Entity`.
    NonCommercialEntity,
}

impl BusinessCategory {
    /// The attribute value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PrivateOrganization => "Private Organization",
            Self::GovernmentEntity => "Government Entity",
            Self::BusinessEntity => "Business Entity",
            Self::NonCommercialEntity => "Non-Commercial Entity",
        }
    }
}

/// Who a transport or signing certificate identifies.
#[derive(Debug, Clone)]
pub struct OfbSubject {
    /// `CN`: an FQDN for transport certificates (also the SAN dNSName).
    pub common_name: String,
    /// The directory organisation.
    pub organisation_id: OrganisationId,
    /// The software statement (transport certificates' `UID`).
    pub software_statement_id: SoftwareStatementId,
    /// `serialNumber`.
    pub cnpj: Cnpj,
    /// `O`.
    pub organisation_name: String,
    /// `businessCategory`.
    pub business_category: BusinessCategory,
    /// `L`.
    pub locality: String,
    /// `ST`.
    pub state: String,
    /// Issue the pre-2023 form: organisation id in `OU`, no organizationIdentifier.
    pub legacy_ou: bool,
}

impl OfbSubject {
    /// A plausible subject for `common_name` with fresh ids.
    pub fn example(common_name: &str, cnpj: Cnpj) -> Self {
        Self {
            common_name: common_name.to_owned(),
            organisation_id: OrganisationId::random(),
            software_statement_id: SoftwareStatementId::random(),
            cnpj,
            organisation_name: "Instituição de Teste S.A.".to_owned(),
            business_category: BusinessCategory::PrivateOrganization,
            locality: "São Paulo".to_owned(),
            state: "SP".to_owned(),
            legacy_ou: false,
        }
    }
}

/// A leaf certificate with its private key and chain.
pub struct IssuedCertificate {
    /// The leaf, DER.
    pub der: Vec<u8>,
    /// The leaf, PEM.
    pub pem: String,
    /// The private key, PKCS#8 DER.
    pub key_pkcs8_der: SecretBytes,
    /// The private key, PKCS#8 PEM.
    pub key_pem: Zeroizing<String>,
    /// The chain to present in a handshake, leaf first (leaf, intermediate).
    pub chain_der: Vec<Vec<u8>>,
}

impl std::fmt::Debug for IssuedCertificate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuedCertificate")
            .field("der_len", &self.der.len())
            .finish_non_exhaustive()
    }
}

/// A root and an intermediate certificate authority, made at run time.
pub struct TestPki {
    name: String,
    root: CertifiedIssuer<'static, KeyPair>,
    intermediate: CertifiedIssuer<'static, KeyPair>,
}

impl std::fmt::Debug for TestPki {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestPki")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl TestPki {
    /// A new PKI whose CA names mention `name` (make two to test an
    /// untrusted issuer).
    ///
    /// # Errors
    /// [`PkiError`] when key generation or signing fails.
    pub fn generate(name: &str) -> Result<Self, PkiError> {
        let mut root_params = CertificateParams::default();
        root_params.distinguished_name = ca_name(&format!("{name} Test Root CA"));
        root_params.is_ca = IsCa::Ca(BasicConstraints::Constrained(1));
        root_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let root = CertifiedIssuer::self_signed(root_params, rsa_key()?)?;

        let mut int_params = CertificateParams::default();
        int_params.distinguished_name = ca_name(&format!("{name} Test Issuing CA"));
        int_params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        int_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        int_params.use_authority_key_identifier_extension = true;
        let intermediate = CertifiedIssuer::signed_by(int_params, rsa_key()?, &root)?;
        Ok(Self {
            name: name.to_owned(),
            root,
            intermediate,
        })
    }

    /// The root certificate (the trust anchor), DER.
    pub fn root_der(&self) -> &[u8] {
        self.root.der()
    }

    /// The root certificate, PEM.
    pub fn root_pem(&self) -> String {
        self.root.pem()
    }

    /// The intermediate certificate, DER.
    pub fn intermediate_der(&self) -> &[u8] {
        self.intermediate.der()
    }

    /// A client transport certificate (BRCAC) for `subject`.
    ///
    /// # Errors
    /// [`PkiError`] when key generation or signing fails.
    pub fn transport_certificate(
        &self,
        subject: &OfbSubject,
    ) -> Result<IssuedCertificate, PkiError> {
        self.issue(Self::transport_params(subject)?)
    }

    /// A client transport certificate for `subject` and the key of a
    /// certificate signing request (PEM), as the directory issues them; the
    /// PEM of the leaf followed by the intermediate.
    ///
    /// # Errors
    /// [`PkiError`] when the request does not parse or signing fails.
    pub fn transport_certificate_for_csr(
        &self,
        subject: &OfbSubject,
        csr_pem: &str,
    ) -> Result<String, PkiError> {
        let mut csr = rcgen::CertificateSigningRequestParams::from_pem(csr_pem)?;
        let mut params = Self::transport_params(subject)?;
        params.use_authority_key_identifier_extension = true;
        params.is_ca = IsCa::ExplicitNoCa;
        csr.params = params;
        let cert = csr.signed_by(&self.intermediate)?;
        Ok(format!("{}{}", cert.pem(), self.intermediate.pem()))
    }

    /// The intermediate certificate, PEM.
    pub fn intermediate_pem(&self) -> String {
        self.intermediate.pem()
    }

    fn transport_params(subject: &OfbSubject) -> Result<CertificateParams, PkiError> {
        let mut params = CertificateParams::new(vec![subject.common_name.clone()])?;
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CountryName, printable("BR")?);
        dn.push(DnType::OrganizationName, subject.organisation_name.as_str());
        dn.push(DnType::StateOrProvinceName, subject.state.as_str());
        dn.push(DnType::LocalityName, subject.locality.as_str());
        dn.push(custom(oid::JURISDICTION_COUNTRY_NAME), printable("BR")?);
        dn.push(
            custom(oid::BUSINESS_CATEGORY),
            subject.business_category.as_str(),
        );
        dn.push(
            custom(oid::SERIAL_NUMBER),
            printable(subject.cnpj.as_str())?,
        );
        dn.push(DnType::CommonName, subject.common_name.as_str());
        if subject.legacy_ou {
            dn.push(
                DnType::OrganizationalUnitName,
                subject.organisation_id.to_string(),
            );
        } else {
            dn.push(
                custom(oid::ORGANIZATION_IDENTIFIER),
                format!("OFBBR-{}", subject.organisation_id),
            );
        }
        dn.push(custom(oid::UID), subject.software_statement_id.to_string());
        params.distinguished_name = dn;
        params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        Ok(params)
    }

    /// A signing certificate (BRSEAL) for `subject`'s organisation.
    ///
    /// # Errors
    /// [`PkiError`] when key generation or signing fails.
    pub fn signing_certificate(&self, subject: &OfbSubject) -> Result<IssuedCertificate, PkiError> {
        let mut params = CertificateParams::default();
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CountryName, printable("BR")?);
        dn.push(DnType::OrganizationName, "ICP-Brasil");
        dn.push(DnType::OrganizationalUnitName, "Certificado PJ A1");
        dn.push(DnType::CommonName, subject.organisation_name.as_str());
        dn.push(custom(oid::UID), subject.organisation_id.to_string());
        params.distinguished_name = dn;
        params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::ContentCommitment,
        ];
        self.issue(params)
    }

    /// A TLS server certificate for `names` (IP addresses become IP SANs,
    /// anything else DNS SANs), e.g. `["127.0.0.1", "localhost"]`.
    ///
    /// # Errors
    /// [`PkiError`] when key generation or signing fails, or `names` is empty.
    pub fn server_certificate(&self, names: &[&str]) -> Result<IssuedCertificate, PkiError> {
        let first = names
            .first()
            .ok_or_else(|| PkiError("no server name".into()))?;
        let mut params = CertificateParams::default();
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CountryName, printable("BR")?);
        dn.push(DnType::OrganizationName, format!("{} servers", self.name));
        dn.push(DnType::CommonName, *first);
        params.distinguished_name = dn;
        for name in names {
            let san = match name.parse::<IpAddr>() {
                Ok(ip) => SanType::IpAddress(ip),
                Err(_) => SanType::DnsName((*name).try_into()?),
            };
            params.subject_alt_names.push(san);
        }
        params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        self.issue(params)
    }

    fn issue(&self, mut params: CertificateParams) -> Result<IssuedCertificate, PkiError> {
        params.use_authority_key_identifier_extension = true;
        params.is_ca = IsCa::ExplicitNoCa;
        let key = rsa_key()?;
        let cert = params.signed_by(&key, &self.intermediate)?;
        Ok(IssuedCertificate {
            der: cert.der().to_vec(),
            pem: cert.pem(),
            key_pkcs8_der: SecretBytes::new(key.serialize_der()),
            key_pem: Zeroizing::new(key.serialize_pem()),
            chain_der: vec![cert.der().to_vec(), self.intermediate.der().to_vec()],
        })
    }
}

fn rsa_key() -> Result<KeyPair, PkiError> {
    Ok(KeyPair::generate_for(&PKCS_RSA_SHA256)?)
}

fn ca_name(cn: &str) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CountryName, "BR");
    dn.push(DnType::OrganizationName, "OPUS Test PKI");
    dn.push(DnType::CommonName, cn);
    dn
}

fn custom(arcs: &[u64]) -> DnType {
    DnType::CustomDnType(arcs.to_vec())
}

fn printable(value: &str) -> Result<DnValue, PkiError> {
    Ok(DnValue::PrintableString(value.try_into()?))
}
