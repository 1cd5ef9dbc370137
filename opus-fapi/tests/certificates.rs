//! OFB identities from certificates, and the subject-DN matcher against a
//! real certificate subject.

// Test helpers outside #[test] functions: a failed expectation must panic.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use opus_core::Cnpj;
use opus_fapi::cert::dn::DistinguishedName;
use opus_fapi::cert::{CertificateKind, identity};
use opus_fapi::jose::jwk::certificate_thumbprint;
use opus_testkit::{OfbSubject, TestPki};

fn hex_der(tag: u8, value: &str) -> String {
    let mut out = format!("#{tag:02x}{:02x}", value.len());
    for b in value.as_bytes() {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

#[test]
fn transport_signing_server_and_legacy_identities() {
    let pki = TestPki::generate("identities").unwrap();
    let subject = OfbSubject::example("tpp.example.com.br", Cnpj::parse("11222333000181").unwrap());
    let transport = pki.transport_certificate(&subject).unwrap();
    let id = identity(&transport.der).unwrap();
    assert_eq!(id.kind, CertificateKind::Transport);
    assert_eq!(id.organisation_id, Some(subject.organisation_id));
    assert_eq!(
        id.software_statement_id,
        Some(subject.software_statement_id)
    );
    assert_eq!(id.cnpj, Some(subject.cnpj.clone()));
    assert_eq!(id.common_name.as_deref(), Some("tpp.example.com.br"));
    assert_eq!(id.thumbprint, certificate_thumbprint(&transport.der));
    assert!(id.not_before < id.not_after);

    let signing = identity(&pki.signing_certificate(&subject).unwrap().der).unwrap();
    assert_eq!(signing.kind, CertificateKind::Signing);
    assert_eq!(
        signing.organisation_id,
        Some(subject.organisation_id),
        "UID is the organisation"
    );
    assert_eq!(signing.software_statement_id, None);

    let server = identity(&pki.server_certificate(&["127.0.0.1"]).unwrap().der).unwrap();
    assert_eq!(server.kind, CertificateKind::Server);

    let legacy = OfbSubject {
        legacy_ou: true,
        ..subject.clone()
    };
    let old = identity(&pki.transport_certificate(&legacy).unwrap().der).unwrap();
    assert_eq!(
        old.organisation_id,
        Some(subject.organisation_id),
        "organisation from OU"
    );

    assert!(identity(b"not a certificate").is_err());
    let mut trailing = transport.der;
    trailing.push(0);
    assert!(identity(&trailing).is_err());
}

#[test]
fn subject_dn_matching_table() {
    let pki = TestPki::generate("dn").unwrap();
    let s = OfbSubject::example("tpp.example.com.br", Cnpj::parse("11222333000181").unwrap());
    let cert = identity(&pki.transport_certificate(&s).unwrap().der).unwrap();
    let org = format!("OFBBR-{}", s.organisation_id);
    let ss = s.software_statement_id.to_string();
    let cnpj = s.cnpj.as_str();
    // The registered forms, built the way directories print them.
    let ofb_oids = |org_tag: u8, serial_tag: u8| {
        format!(
            "2.5.4.97={},2.5.4.5={},2.5.4.15={},1.3.6.1.4.1.311.60.2.1.3={}",
            hex_der(org_tag, &org),
            hex_der(serial_tag, cnpj),
            hex_der(0x0c, "Private Organization"),
            hex_der(0x13, "BR"),
        )
    };
    let standard = format!(
        "UID={ss},CN=tpp.example.com.br,{},L=São Paulo,ST=SP,O=Instituição de Teste S.A.,C=BR",
        ofb_oids(0x0c, 0x13)
    );
    let other_org = format!("OFBBR-{}", opus_core::OrganisationId::random());
    let cases: Vec<(&str, String, bool)> = vec![
        (
            "standard reverse order, OFB attributes as #hex",
            standard.clone(),
            true,
        ),
        (
            "certificate order",
            format!(
                "C=BR,O=Instituição de Teste S.A.,ST=SP,L=São Paulo,{},CN=tpp.example.com.br,UID={ss}",
                ofb_oids(0x0c, 0x13)
            ),
            true,
        ),
        (
            "shuffled RDNs",
            format!(
                "ST=SP,UID={ss},C=BR,{},O=Instituição de Teste S.A.,L=São Paulo,CN=tpp.example.com.br",
                ofb_oids(0x0c, 0x13)
            ),
            true,
        ),
        (
            "every attribute by name",
            format!(
                "UID={ss},organizationIdentifier={org},CN=tpp.example.com.br,serialNumber={cnpj},businessCategory=Private Organization,jurisdictionCountryName=BR,L=São Paulo,ST=SP,O=Instituição de Teste S.A.,C=BR"
            ),
            true,
        ),
        (
            "serialNumber as UTF8String instead of PrintableString",
            standard.replace(&hex_der(0x13, cnpj), &hex_der(0x0c, cnpj)),
            true,
        ),
        (
            "organizationIdentifier as PrintableString",
            standard.replace(&hex_der(0x0c, &org), &hex_der(0x13, &org)),
            true,
        ),
        (
            "lower-case attribute names",
            standard
                .replace("UID=", "uid=")
                .replace("CN=", "cn=")
                .replace(",O=", ",o="),
            true,
        ),
        (
            "dotted OID for CN",
            standard.replace("CN=", "OID.2.5.4.3="),
            true,
        ),
        ("spaces after separators", standard.replace(',', ", "), true),
        (
            "UTF-8 escaped as hex pairs",
            standard.replace("L=São Paulo", "L=S\\C3\\A3o Paulo"),
            true,
        ),
        (
            "value case differs (caseIgnoreMatch)",
            standard.replace("O=Instituição de Teste S.A.", "O=INSTITUIÇÃO DE TESTE S.A."),
            true,
        ),
        (
            "different CN",
            standard.replace("CN=tpp.example.com.br", "CN=other.example.com.br"),
            false,
        ),
        (
            "different software statement",
            standard.replace(&ss, &opus_core::SoftwareStatementId::random().to_string()),
            false,
        ),
        (
            "different organisation",
            standard.replace(&hex_der(0x0c, &org), &hex_der(0x0c, &other_org)),
            false,
        ),
        (
            "missing businessCategory",
            standard.replace(
                &format!(",2.5.4.15={}", hex_der(0x0c, "Private Organization")),
                "",
            ),
            false,
        ),
        ("extra OU", format!("{standard},OU=Extra"), false),
        (
            "CNPJ differs by one digit",
            standard.replace(&hex_der(0x13, cnpj), &hex_der(0x13, "11222333000182")),
            false,
        ),
        (
            "two RDNs merged into one multi-valued RDN",
            standard.replace(&format!("UID={ss},CN="), &format!("UID={ss}+CN=")),
            false,
        ),
        (
            "jurisdiction differs",
            standard.replace(&hex_der(0x13, "BR"), &hex_der(0x13, "BT")),
            false,
        ),
    ];
    assert!(cases.len() >= 15);
    for (what, registered, expected) in &cases {
        let parsed =
            DistinguishedName::parse_rfc4514(registered).unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_eq!(
            parsed.matches(&cert.subject),
            *expected,
            "{what}: {registered}"
        );
    }
}
