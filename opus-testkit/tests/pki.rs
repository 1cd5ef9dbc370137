//! The test PKI issues certificates that carry the OFB attributes, in the
//! ASN.1 string types ICP-Brasil uses, chained root → intermediate → leaf.

// Test helpers outside #[test] functions: a failed expectation must panic.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use opus_core::{Cnpj, OrganisationId, SoftwareStatementId};
use opus_testkit::{OfbSubject, TestPki};
use x509_parser::der_parser::asn1_rs::Tag;
use x509_parser::der_parser::oid::Oid;
use x509_parser::prelude::*;

fn attribute<'a>(cert: &'a X509Certificate<'a>, oid: &str) -> Option<(String, Tag)> {
    let oid: Oid<'static> = oid.parse().unwrap();
    cert.subject()
        .iter_attributes()
        .find(|a| a.attr_type() == &oid)
        .map(|a| (a.as_str().unwrap().to_owned(), a.attr_value().header.tag()))
}

#[test]
fn transport_certificate_carries_the_ofb_identity() {
    let pki = TestPki::generate("Directory Sandbox").unwrap();
    let org = OrganisationId::random();
    let software = SoftwareStatementId::random();
    let subject = OfbSubject {
        organisation_id: org,
        software_statement_id: software,
        ..OfbSubject::example("tpp.example.com.br", Cnpj::parse("11222333000181").unwrap())
    };
    let issued = pki.transport_certificate(&subject).unwrap();
    let (_, cert) = X509Certificate::from_der(&issued.der).unwrap();

    let expect = |oid: &str, value: &str, tag: Tag| {
        assert_eq!(
            attribute(&cert, oid),
            Some((value.to_owned(), tag)),
            "attribute {oid}"
        );
    };
    expect("2.5.4.97", &format!("OFBBR-{org}"), Tag::Utf8String);
    expect(
        "0.9.2342.19200300.100.1.1",
        &software.to_string(),
        Tag::Utf8String,
    );
    expect("2.5.4.5", "11222333000181", Tag::PrintableString);
    expect("2.5.4.15", "Private Organization", Tag::Utf8String);
    expect("1.3.6.1.4.1.311.60.2.1.3", "BR", Tag::PrintableString);
    expect("2.5.4.3", "tpp.example.com.br", Tag::Utf8String);
    expect("2.5.4.6", "BR", Tag::PrintableString);
    expect("2.5.4.8", "SP", Tag::Utf8String);
    expect("2.5.4.7", "São Paulo", Tag::Utf8String);
    assert!(
        attribute(&cert, "2.5.4.11").is_none(),
        "no OU on current certificates"
    );

    let eku = cert.extended_key_usage().unwrap().unwrap().value;
    assert!(eku.client_auth && !eku.server_auth);
    let ku = cert.key_usage().unwrap().unwrap().value;
    assert!(ku.digital_signature() && ku.key_encipherment());
    assert!(!cert.is_ca());
    let san = cert.subject_alternative_name().unwrap().unwrap();
    assert!(
        san.value
            .general_names
            .contains(&GeneralName::DNSName("tpp.example.com.br"))
    );
    assert_eq!(
        cert.public_key().algorithm.algorithm.to_id_string(),
        "1.2.840.113549.1.1.1",
        "RSA"
    );
    assert_eq!(
        cert.signature_algorithm.algorithm.to_id_string(),
        "1.2.840.113549.1.1.11",
        "sha256WithRSA"
    );

    // The chain: leaf issued by the intermediate, intermediate by the root.
    let (_, intermediate) = X509Certificate::from_der(pki.intermediate_der()).unwrap();
    let (_, root) = X509Certificate::from_der(pki.root_der()).unwrap();
    assert_eq!(cert.issuer(), intermediate.subject());
    assert_eq!(intermediate.issuer(), root.subject());
    assert!(intermediate.is_ca() && root.is_ca());
    assert_eq!(
        issued.chain_der,
        vec![issued.der.clone(), pki.intermediate_der().to_vec()]
    );
    assert!(issued.key_pem.contains("BEGIN PRIVATE KEY"));
    assert!(issued.pem.contains("BEGIN CERTIFICATE"));
}

#[test]
fn legacy_certificates_carry_the_organisation_in_ou() {
    let pki = TestPki::generate("Legacy").unwrap();
    let subject = OfbSubject {
        legacy_ou: true,
        ..OfbSubject::example("old.example.com.br", Cnpj::parse("11222333000181").unwrap())
    };
    let issued = pki.transport_certificate(&subject).unwrap();
    let (_, cert) = X509Certificate::from_der(&issued.der).unwrap();
    assert_eq!(
        attribute(&cert, "2.5.4.11").unwrap().0,
        subject.organisation_id.to_string()
    );
    assert!(attribute(&cert, "2.5.4.97").is_none());
}

#[test]
fn signing_and_server_certificates() {
    let pki = TestPki::generate("Bank").unwrap();
    let subject = OfbSubject::example(
        "bank.example.com.br",
        Cnpj::parse("12ABC34501DE35").unwrap(),
    );
    let signing = pki.signing_certificate(&subject).unwrap();
    let (_, cert) = X509Certificate::from_der(&signing.der).unwrap();
    assert_eq!(
        attribute(&cert, "0.9.2342.19200300.100.1.1").unwrap().0,
        subject.organisation_id.to_string(),
        "a signing certificate's UID is the organisation id"
    );
    let ku = cert.key_usage().unwrap().unwrap().value;
    assert!(ku.digital_signature() && ku.non_repudiation());

    let server = pki.server_certificate(&["127.0.0.1", "localhost"]).unwrap();
    let (_, cert) = X509Certificate::from_der(&server.der).unwrap();
    let names = cert
        .subject_alternative_name()
        .unwrap()
        .unwrap()
        .value
        .general_names
        .clone();
    assert!(names.contains(&GeneralName::IPAddress(&[127, 0, 0, 1])));
    assert!(names.contains(&GeneralName::DNSName("localhost")));
    assert!(
        cert.extended_key_usage()
            .unwrap()
            .unwrap()
            .value
            .server_auth
    );
}

#[test]
fn two_pkis_do_not_share_a_root() {
    let a = TestPki::generate("A").unwrap();
    let b = TestPki::generate("B").unwrap();
    assert_ne!(a.root_der(), b.root_der());
    assert!(a.root_pem().starts_with("-----BEGIN CERTIFICATE-----"));
}
