//! JOSE benchmarks: PS256 and ES256 sign/verify on the software custody
//! (aws-lc-rs), PS256 signing with the pure-Rust `rsa` crate for
//! comparison, JWE encryption/decryption and JWKS lookup.

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)] // benchmark harness

use criterion::{Criterion, criterion_group, criterion_main};
use opus_core::keys::{JwkSet, KeyCustody, KeyPurpose};
use opus_fapi::jose::jwe::{self, EncryptOptions, JwePolicy};
use opus_fapi::jose::jwk;
use opus_fapi::jose::jws::{self, JwsPolicy, SignOptions};
use rsa::pkcs8::DecodePrivateKey;
use std::hint::black_box;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
}

fn signing(c: &mut Criterion) {
    let rt = runtime();
    let custody = opus_benches::custody();
    let input = opus_benches::signing_input();
    let ps256 = rt
        .block_on(custody.signer(KeyPurpose::MessageSigning))
        .unwrap();
    let es256 = rt
        .block_on(custody.signer(KeyPurpose::ClientSigning))
        .unwrap();
    let mut group = c.benchmark_group("sign");
    group.bench_function("PS256 aws-lc-rs (software custody)", |b| {
        b.iter(|| rt.block_on(ps256.sign(black_box(&input))).unwrap())
    });
    group.bench_function("ES256 aws-lc-rs (software custody)", |b| {
        b.iter(|| rt.block_on(es256.sign(black_box(&input))).unwrap())
    });
    // The same RSA key through the pure-Rust `rsa` crate.
    let pkcs8 = {
        use aws_lc_rs::encoding::AsDer;
        let pair = aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).unwrap();
        pair.as_der().unwrap().as_ref().to_vec()
    };
    let rsa_key = rsa::PrivateKey::from_pkcs8_der(&pkcs8).unwrap();
    group.sample_size(20);
    group.bench_function("PS256 rsa crate 0.10 (comparison only)", |b| {
        b.iter(|| {
            rsa_key
                .pss_sign::<rsa::sha2::Sha256>(black_box(&input))
                .unwrap()
        })
    });
    group.finish();
}

fn verification(c: &mut Criterion) {
    let rt = runtime();
    let custody = opus_benches::custody();
    let jwks = rt.block_on(custody.public_jwks()).unwrap();
    let ps256 = rt
        .block_on(custody.signer(KeyPurpose::MessageSigning))
        .unwrap();
    let es256 = rt
        .block_on(custody.signer(KeyPurpose::ClientSigning))
        .unwrap();
    let payload = opus_benches::signing_input();
    let ps_token = rt
        .block_on(jws::sign(ps256.as_ref(), SignOptions::default(), &payload))
        .unwrap();
    let es_token = rt
        .block_on(jws::sign(es256.as_ref(), SignOptions::default(), &payload))
        .unwrap();
    let ps_policy = JwsPolicy::ofb();
    let es_policy = JwsPolicy::allowing(&[opus_core::keys::JwsAlg::ES256]);
    let mut group = c.benchmark_group("verify");
    group.bench_function("PS256 compact JWS", |b| {
        b.iter(|| jws::verify(black_box(&ps_token), &jwks, &ps_policy).unwrap())
    });
    group.bench_function("ES256 compact JWS", |b| {
        b.iter(|| jws::verify(black_box(&es_token), &jwks, &es_policy).unwrap())
    });
    group.finish();
}

fn encryption(c: &mut Criterion) {
    let rt = runtime();
    let custody = opus_benches::custody();
    let jwks = rt.block_on(custody.public_jwks()).unwrap();
    let enc = jwks
        .keys
        .iter()
        .find(|k| k.use_.as_deref() == Some("enc"))
        .unwrap()
        .clone();
    let id_token = opus_benches::signing_input();
    let token = jwe::encrypt(&enc, EncryptOptions::ofb(), &id_token).unwrap();
    let policy = JwePolicy::ofb();
    let mut group = c.benchmark_group("jwe");
    group.bench_function("encrypt RSA-OAEP + A256GCM (600 B)", |b| {
        b.iter(|| jwe::encrypt(&enc, EncryptOptions::ofb(), black_box(&id_token)).unwrap())
    });
    group.bench_function("decrypt RSA-OAEP + A256GCM (600 B)", |b| {
        b.iter(|| {
            rt.block_on(jwe::decrypt(black_box(&token), &custody, &policy))
                .unwrap()
        })
    });
    group.finish();
}

fn jwks_lookup(c: &mut Criterion) {
    let rt = runtime();
    // A directory-sized key set: 20 organisations' keys.
    let mut set = JwkSet::default();
    for i in 0..20 {
        let custody = opus_fapi::custody::software::SoftwareKeyCustody::builder()
            .signing_key(
                opus_fapi::custody::software::SoftwareKey::generate_ec(&format!("org-{i}"))
                    .unwrap(),
            )
            .build()
            .unwrap();
        set.keys
            .extend(rt.block_on(custody.public_jwks()).unwrap().keys);
    }
    c.bench_function("jwks select by kid (20 keys) + key decode", |b| {
        b.iter(|| {
            let key = jwk::select(&set, black_box("org-17"), "sig").unwrap();
            jwk::public_key(key).unwrap()
        })
    });
}

criterion_group!(benches, signing, verification, encryption, jwks_lookup);
criterion_main!(benches);
