//! JOSE against the RFC test vectors, negative cases and property tests.

// Test helpers outside #[test] functions: a failed expectation must panic.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use aws_lc_rs::hmac;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use opus_core::KeyId;
use opus_core::Timestamp;
use opus_core::keys::{JwkSet, JwsAlg, KeyCustody, KeyManagementAlg, KeyPurpose};
use opus_fapi::custody::software::{SoftwareKey, SoftwareKeyCustody};
use opus_fapi::jose::claims::{self, ClaimsError, ClaimsPolicy};
use opus_fapi::jose::header::HeaderError;
use opus_fapi::jose::jwe::{self, EncryptOptions, JweError, JwePolicy};
use opus_fapi::jose::jwk::{self, parse_public_jwks};
use opus_fapi::jose::jws::{self, JwsError, JwsPolicy, SignOptions};
use proptest::prelude::*;

// ------------------------------------------------------------ RFC 7515

/// RFC 7515 Appendix A.2 (RS256): the signing input, the key and the signature.
const A2_INPUT: &str = "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ";
const A2_N: &str = "ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL-yRT-SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5z5rexMdbBYUsLA9e-KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-DWNmoudF8NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ";
const A2_SIG: &str = "cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7AAuHIm4Bh-0Qc_lF5YKt_O8W2Fp5jujGbds9uJdbF9CUAr7t1dnZcAcQjbKBYNX4BAynRFdiuB--f_nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb1L07Qe7K0GarZRmB_eSN9383LcOLn6_dO--xi12jzDwusC-eOkHWEsqtFZESc6BfI7noOPqvhJ1phCnvWh6IeYI2w9QOYEUipUTI8np6LbgGY9Fs98rqVt5AXLIhWkWywlVmtVrBp0igcN_IoypGlUPQGe77Rw";

/// RFC 7515 Appendix A.3 (ES256).
const A3_INPUT: &str = "eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ";
const A3_X: &str = "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU";
const A3_Y: &str = "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0";
const A3_SIG: &str =
    "DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q";

/// RFC 7515 Appendix A.1 (HS256): a complete token and its shared key.
const A1_TOKEN: &str = "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

fn rsa_public(kid: &str, n: &str) -> JwkSet {
    parse_public_jwks(
        format!(r#"{{"keys":[{{"kty":"RSA","kid":"{kid}","n":"{n}","e":"AQAB"}}]}}"#).as_bytes(),
    )
    .unwrap()
}

#[test]
fn rfc7515_a2_rs256_signature_verifies() {
    let set = rsa_public("a2", A2_N);
    let key = jwk::public_key(&set.keys[0]).unwrap();
    let sig = B64.decode(A2_SIG).unwrap();
    jws::verify_signature(JwsAlg::RS256, &key, A2_INPUT.as_bytes(), &sig).unwrap();
    let mut tampered = sig;
    tampered[10] ^= 1;
    assert!(matches!(
        jws::verify_signature(JwsAlg::RS256, &key, A2_INPUT.as_bytes(), &tampered),
        Err(JwsError::BadSignature)
    ));
    // The RFC token has no kid, and RS256 is not allowed by default: both refused.
    let token = format!("{A2_INPUT}.{A2_SIG}");
    assert!(matches!(
        jws::verify(&token, &set, &JwsPolicy::ofb()),
        Err(JwsError::AlgorithmNotAllowed)
    ));
    let legacy = JwsPolicy::allowing(&[JwsAlg::RS256]);
    assert!(matches!(
        jws::verify(&token, &set, &legacy),
        Err(JwsError::MissingKid)
    ));
}

#[test]
fn rfc7515_a3_es256_signature_verifies() {
    let set = parse_public_jwks(
        format!(
            r#"{{"keys":[{{"kty":"EC","crv":"P-256","kid":"a3","x":"{A3_X}","y":"{A3_Y}"}}]}}"#
        )
        .as_bytes(),
    )
    .unwrap();
    let key = jwk::public_key(&set.keys[0]).unwrap();
    let sig = B64.decode(A3_SIG).unwrap();
    jws::verify_signature(JwsAlg::ES256, &key, A3_INPUT.as_bytes(), &sig).unwrap();
    assert!(jws::verify_signature(JwsAlg::ES256, &key, b"other input", &sig).is_err());
    // An EC key never verifies an RSA algorithm.
    assert!(matches!(
        jws::verify_signature(JwsAlg::PS256, &key, A3_INPUT.as_bytes(), &sig),
        Err(JwsError::KeyMismatch)
    ));
}

#[test]
fn rfc7515_a1_hs256_is_never_accepted() {
    let everything = JwsPolicy::allowing(&[JwsAlg::PS256, JwsAlg::ES256, JwsAlg::RS256]);
    let oct = parse_public_jwks(br#"{"keys":[{"kty":"oct","kid":"k"}]}"#).unwrap();
    assert!(matches!(
        jws::verify(A1_TOKEN, &oct, &everything),
        Err(JwsError::AlgorithmNotAllowed)
    ));
}

// ------------------------------------------------------------ our keys

struct Keys {
    custody: SoftwareKeyCustody,
    jwks: JwkSet,
}

fn keys() -> &'static Keys {
    static KEYS: OnceLock<Keys> = OnceLock::new();
    KEYS.get_or_init(|| {
        let custody = SoftwareKeyCustody::builder()
            .signing_key(SoftwareKey::generate_rsa("ps-1").unwrap())
            .signing_key(SoftwareKey::generate_ec("es-1").unwrap())
            .current_signer(KeyPurpose::ClientSigning, KeyId::new("es-1").unwrap())
            .encryption_key(SoftwareKey::generate_rsa("enc-1").unwrap())
            .generate_data_key_kek("kek-1")
            .unwrap()
            .build()
            .unwrap();
        // May be first called from inside an async test: block on another thread.
        let jwks = std::thread::scope(|s| s.spawn(|| block_on(custody.public_jwks())).join())
            .unwrap()
            .unwrap();
        Keys { custody, jwks }
    })
}

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(f)
}

async fn ps256(payload: &[u8]) -> String {
    let signer = keys()
        .custody
        .signer(KeyPurpose::MessageSigning)
        .await
        .unwrap();
    jws::sign(
        signer.as_ref(),
        SignOptions {
            typ: Some("JWT"),
            cty: None,
        },
        payload,
    )
    .await
    .unwrap()
}

/// Signs an arbitrary header with the PS256 key (to build hostile tokens).
async fn ps256_with_header(header: &str, payload: &[u8]) -> String {
    let signer = keys()
        .custody
        .signer(KeyPurpose::MessageSigning)
        .await
        .unwrap();
    let input = format!("{}.{}", B64.encode(header), B64.encode(payload));
    let sig = signer.sign(input.as_bytes()).await.unwrap();
    format!("{input}.{}", B64.encode(sig))
}

#[tokio::test]
async fn ps256_round_trip_and_strict_header_rules() {
    let token = ps256(br#"{"iss":"org"}"#).await;
    let verified = jws::verify(&token, &keys().jwks, &JwsPolicy::ofb().with_typ("JWT")).unwrap();
    assert_eq!(verified.alg(), JwsAlg::PS256);
    assert_eq!(verified.kid(), "ps-1");
    assert_eq!(verified.claims().unwrap()["iss"], "org");
    assert!(matches!(
        jws::verify(
            &token,
            &keys().jwks,
            &JwsPolicy::ofb().with_typ("oauth-authz-req+jwt")
        ),
        Err(JwsError::UnexpectedType)
    ));

    // alg: none, with and without a signature part.
    let none = format!("{}.{}.", B64.encode(r#"{"alg":"none"}"#), B64.encode("{}"));
    assert!(matches!(
        jws::verify(&none, &keys().jwks, &JwsPolicy::ofb()),
        Err(JwsError::Malformed)
    ));
    let none_sig = format!("{none}AAAA");
    assert!(matches!(
        jws::verify(&none_sig, &keys().jwks, &JwsPolicy::ofb()),
        Err(JwsError::AlgorithmNotAllowed)
    ));

    // Unknown kid; missing kid.
    let unknown = ps256_with_header(r#"{"alg":"PS256","kid":"nope"}"#, b"{}").await;
    assert!(matches!(
        jws::verify(&unknown, &keys().jwks, &JwsPolicy::ofb()),
        Err(JwsError::UnknownKey)
    ));
    let no_kid = ps256_with_header(r#"{"alg":"PS256"}"#, b"{}").await;
    assert!(matches!(
        jws::verify(&no_kid, &keys().jwks, &JwsPolicy::ofb()),
        Err(JwsError::MissingKid)
    ));

    // Unknown crit, even correctly signed.
    let crit = ps256_with_header(
        r#"{"alg":"PS256","kid":"ps-1","crit":["exp"],"exp":1}"#,
        b"{}",
    )
    .await;
    assert!(matches!(
        jws::verify(&crit, &keys().jwks, &JwsPolicy::ofb()),
        Err(JwsError::Header(HeaderError::UnsupportedCritical))
    ));
    // Duplicate alg members.
    let dup = ps256_with_header(r#"{"alg":"PS256","kid":"ps-1","alg":"none"}"#, b"{}").await;
    assert!(matches!(
        jws::verify(&dup, &keys().jwks, &JwsPolicy::ofb()),
        Err(JwsError::Header(HeaderError::DuplicateMember))
    ));
    // A key embedded in the header is never used.
    let embedded =
        ps256_with_header(r#"{"alg":"PS256","kid":"ps-1","jwk":{"kty":"RSA"}}"#, b"{}").await;
    assert!(matches!(
        jws::verify(&embedded, &keys().jwks, &JwsPolicy::ofb()),
        Err(JwsError::Header(HeaderError::EmbeddedKey))
    ));
}

#[tokio::test]
async fn tampering_is_detected() {
    let token = ps256(br#"{"amount":"100.00"}"#).await;
    let parts: Vec<&str> = token.split('.').collect();
    let tampered_payload = format!(
        "{}.{}.{}",
        parts[0],
        B64.encode(br#"{"amount":"999.00"}"#),
        parts[2]
    );
    let tampered_header = format!(
        "{}.{}.{}",
        B64.encode(r#"{"alg":"PS256","kid":"ps-1","typ":"JOSE"}"#),
        parts[1],
        parts[2]
    );
    let mut sig = B64.decode(parts[2]).unwrap();
    sig[0] ^= 0x80;
    let tampered_sig = format!("{}.{}.{}", parts[0], parts[1], B64.encode(sig));
    for bad in [tampered_payload, tampered_header, tampered_sig] {
        assert!(matches!(
            jws::verify(&bad, &keys().jwks, &JwsPolicy::ofb()),
            Err(JwsError::BadSignature)
        ));
    }
    assert!(matches!(
        jws::verify("a.b", &keys().jwks, &JwsPolicy::ofb()),
        Err(JwsError::Malformed)
    ));
    assert!(matches!(
        jws::verify("a.b.c.d", &keys().jwks, &JwsPolicy::ofb()),
        Err(JwsError::Malformed)
    ));
}

#[tokio::test]
async fn algorithm_confusion_is_impossible() {
    // HS256 "signed" with the RSA public key as the HMAC secret.
    let rsa = keys()
        .jwks
        .keys
        .iter()
        .find(|k| k.kid.as_deref() == Some("ps-1"))
        .unwrap();
    let secret = serde_json::to_vec(rsa).unwrap();
    let input = format!(
        "{}.{}",
        B64.encode(r#"{"alg":"HS256","kid":"ps-1"}"#),
        B64.encode("{}")
    );
    let tag = hmac::sign(
        &hmac::Key::new(hmac::HMAC_SHA256, &secret),
        input.as_bytes(),
    );
    let forged = format!("{input}.{}", B64.encode(tag));
    let everything = JwsPolicy::allowing(&[JwsAlg::PS256, JwsAlg::ES256, JwsAlg::RS256]);
    assert!(matches!(
        jws::verify(&forged, &keys().jwks, &everything),
        Err(JwsError::AlgorithmNotAllowed)
    ));

    // ES256 claimed with the RSA key's kid, and PS256 with the EC key's kid.
    let es_on_rsa = ps256_with_header(r#"{"alg":"ES256","kid":"ps-1"}"#, b"{}").await;
    assert!(matches!(
        jws::verify(&es_on_rsa, &keys().jwks, &everything),
        Err(JwsError::KeyMismatch)
    ));
    let ps_on_ec = ps256_with_header(r#"{"alg":"PS256","kid":"es-1"}"#, b"{}").await;
    assert!(matches!(
        jws::verify(&ps_on_ec, &keys().jwks, &everything),
        Err(JwsError::KeyMismatch)
    ));
    // RS256 claimed over a key published for PS256.
    let rs_on_ps = ps256_with_header(r#"{"alg":"RS256","kid":"ps-1"}"#, b"{}").await;
    assert!(matches!(
        jws::verify(&rs_on_ps, &keys().jwks, &everything),
        Err(JwsError::KeyMismatch)
    ));
    // The encryption key cannot verify signatures (use = enc).
    let on_enc = ps256_with_header(r#"{"alg":"PS256","kid":"enc-1"}"#, b"{}").await;
    assert!(matches!(
        jws::verify(&on_enc, &keys().jwks, &everything),
        Err(JwsError::UnknownKey)
    ));
}

#[tokio::test]
async fn es256_for_client_signing_purpose() {
    let signer = keys()
        .custody
        .signer(KeyPurpose::ClientSigning)
        .await
        .unwrap();
    assert_eq!(signer.alg(), JwsAlg::ES256);
    let token = jws::sign_claims(signer.as_ref(), None, &serde_json::json!({"a": 1}))
        .await
        .unwrap();
    assert!(matches!(
        jws::verify(&token, &keys().jwks, &JwsPolicy::ofb()),
        Err(JwsError::AlgorithmNotAllowed)
    ));
    let verified =
        jws::verify(&token, &keys().jwks, &JwsPolicy::allowing(&[JwsAlg::ES256])).unwrap();
    assert_eq!(verified.kid(), "es-1");
}

#[tokio::test]
async fn claims_of_a_verified_token() {
    let now = Timestamp::from_unix_seconds(1_800_000_000).unwrap();
    let t = now.unix_seconds();
    let payload =
        serde_json::json!({"iss":"client","aud":["https://as"],"exp":t+300,"iat":t,"jti":"1"});
    let token = ps256(payload.to_string().as_bytes()).await;
    let verified = jws::verify(&token, &keys().jwks, &JwsPolicy::ofb()).unwrap();
    let policy = ClaimsPolicy::new()
        .issuer("client")
        .audience("https://as")
        .require_jti();
    assert!(claims::validate(verified.claims().unwrap(), &policy, now).is_ok());
    let later = now.saturating_add(Duration::from_secs(361));
    assert_eq!(
        claims::validate(verified.claims().unwrap(), &policy, later),
        Err(ClaimsError::Expired)
    );
    let earlier = now.saturating_sub(Duration::from_secs(61));
    assert_eq!(
        claims::validate(verified.claims().unwrap(), &policy, earlier),
        Err(ClaimsError::IssuedInTheFuture)
    );
    let other = ClaimsPolicy::new().audience("https://elsewhere");
    assert_eq!(
        claims::validate(verified.claims().unwrap(), &other, now),
        Err(ClaimsError::WrongAudience)
    );
}

// ------------------------------------------------------------ RFC 7516

/// RFC 7516 Appendix A.1 (RSA-OAEP + A256GCM): the recipient key (with a
/// kid added so it can be loaded), the token and the plaintext.
const JWE_A1_KEY: &str = r#"{"kty":"RSA","kid":"a1",
 "n":"oahUIoWw0K0usKNuOR6H4wkf4oBUXHTxRvgb48E-BVvxkeDNjbC4he8rUWcJoZmds2h7M70imEVhRU5djINXtqllXI4DFqcI1DgjT9LewND8MW2Krf3Spsk_ZkoFnilakGygTwpZ3uesH-PFABNIUYpOiN15dsQRkgr0vEhxN92i2asbOenSZeyaxziK72UwxrrKoExv6kc5twXTq4h-QChLOln0_mtUZwfsRaMStPs6mS6XrgxnxbWhojf663tuEQueGC-FCMfra36C9knDFGzKsNa7LZK2djYgyD3JR_MB_4NUJW_TqOQtwHYbxevoJArm-L5StowjzGy-_bq6Gw",
 "e":"AQAB",
 "d":"kLdtIj6GbDks_ApCSTYQtelcNttlKiOyPzMrXHeI-yk1F7-kpDxY4-WY5NWV5KntaEeXS1j82E375xxhWMHXyvjYecPT9fpwR_M9gV8n9Hrh2anTpTD93Dt62ypW3yDsJzBnTnrYu1iwWRgBKrEYY46qAZIrA2xAwnm2X7uGR1hghkqDp0Vqj3kbSCz1XyfCs6_LehBwtxHIyh8Ripy40p24moOAbgxVw3rxT_vlt3UVe4WO3JkJOzlpUf-KTVI2Ptgm-dARxTEtE-id-4OJr0h-K-VFs3VSndVTIznSxfyrj8ILL6MG_Uv8YAu7VILSB3lOW085-4qE3DzgrTjgyQ",
 "p":"1r52Xk46c-LsfB5P442p7atdPUrxQSy4mti_tZI3Mgf2EuFVbUoDBvaRQ-SWxkbkmoEzL7JXroSBjSrK3YIQgYdMgyAEPTPjXv_hI2_1eTSPVZfzL0lffNn03IXqWF5MDFuoUYE0hzb2vhrlN_rKrbfDIwUbTrjjgieRbwC6Cl0",
 "q":"wLb35x7hmQWZsWJmB_vle87ihgZ19S8lBEROLIsZG4ayZVe9Hi9gDVCOBmUDdaDYVTSNx_8Fyw1YYa9XGrGnDew00J28cRUoeBB_jKI1oma0Orv1T9aXIWxKwd4gvxFImOWr3QRL9KEBRzk2RatUBnmDZJTIAfwTs0g68UZHvtc",
 "dp":"ZK-YwE7diUh0qR1tR7w8WHtolDx3MZ_OTowiFvgfeQ3SiresXjm9gZ5KLhMXvo-uz-KUJWDxS5pFQ_M0evdo1dKiRTjVw_x4NyqyXPM5nULPkcpU827rnpZzAJKpdhWAgqrXGKAECQH0Xt4taznjnd_zVpAmZZq60WPMBMfKcuE",
 "dq":"Dq0gfgJ1DdFGXiLvQEZnuKEN0UUmsJBxkjydc3j4ZYdBiMRAy86x0vHCjywcMlYYg4yoC4YZa9hNVcsjqA3FeiL19rk8g6Qn29Tt0cj8qqyFpz9vNDBUfCAiJVeESOjJDZPYHdHY8v1b-o-Z2X5tvLx-TCekf7oxyeKDUqKWjis",
 "qi":"VIMpMYbPf47dT1w_zDUXfPimsSegnMOA1zTaX7aGk_8urY6R8-ZW1FxU7AlWAyLWybqq6t16VFd7hQd0y6flUK4SlOydB61gwanOsXGOAOv82cHq0E3eL4HrtZkUuKvnPrMnsUUFlfUdybVzxyjz9JF_XyaY14ardLSjf4L_FNY"}"#;
const JWE_A1: &str = "eyJhbGciOiJSU0EtT0FFUCIsImVuYyI6IkEyNTZHQ00ifQ.OKOawDo13gRp2ojaHV7LFpZcgV7T6DVZKTyKOMTYUmKoTCVJRgckCL9kiMT03JGeipsEdY3mx_etLbbWSrFr05kLzcSr4qKAq7YN7e9jwQRb23nfa6c9d-StnImGyFDbSv04uVuxIp5Zms1gNxKKK2Da14B8S4rzVRltdYwam_lDp5XnZAYpQdb76FdIKLaVmqgfwX7XWRxv2322i-vDxRfqNzo_tETKzpVLzfiwQyeyPGLBIO56YJ7eObdv0je81860ppamavo35UgoRdbYaBcoh9QcfylQr66oc6vFWXRcZ_ZT2LawVCWTIy3brGPi6UklfCpIMfIjf7iGdXKHzg.48V1_ALb6US04U3b.5eym8TW_c8SuK0ltJ3rpYIzOeDQz7TALvtu6UG9oMo4vpzs9tX_EFShS8iB7j6jiSdiwkIr3ajwQzaBtQD_A.XFBoMYUZodetZdvTiFvSkQ";
const JWE_A1_PLAINTEXT: &str = "The true sign of intelligence is not knowledge but imagination.";
/// RFC 7516 A.1.2 (Content Encryption Key) and A.1.4 (Initialization Vector).
const JWE_A1_CEK: [u8; 32] = [
    177, 161, 244, 128, 84, 143, 225, 115, 63, 180, 3, 255, 107, 154, 212, 246, 138, 7, 110, 91,
    112, 46, 34, 105, 47, 130, 203, 46, 122, 234, 64, 252,
];
const JWE_A1_IV: [u8; 12] = [227, 197, 117, 252, 2, 219, 233, 68, 180, 225, 77, 219];

fn a1_custody() -> SoftwareKeyCustody {
    SoftwareKeyCustody::builder()
        .encryption_key(SoftwareKey::from_jwk(JWE_A1_KEY).unwrap())
        .build()
        .unwrap()
}

#[tokio::test]
async fn rfc7516_a1_decrypts_and_encrypts_bit_for_bit() {
    let custody = a1_custody();
    let decrypter = custody.decrypter(&KeyId::new("a1").unwrap()).await.unwrap();
    let opened = jwe::decrypt_with(JWE_A1, decrypter.as_ref(), &JwePolicy::ofb())
        .await
        .unwrap();
    assert_eq!(opened.plaintext(), JWE_A1_PLAINTEXT.as_bytes());

    // With the RFC's CEK and IV, our encryption reproduces the header,
    // IV, ciphertext and tag of the vector (the RSA-OAEP part is randomised).
    let mut recipient = custody.public_jwks().await.unwrap().keys.remove(0);
    recipient.kid = None;
    let ours = jwe::encrypt_with(
        &recipient,
        EncryptOptions::ofb(),
        JWE_A1_PLAINTEXT.as_bytes(),
        &JWE_A1_CEK,
        JWE_A1_IV,
    )
    .unwrap();
    let ours: Vec<&str> = ours.split('.').collect();
    let theirs: Vec<&str> = JWE_A1.split('.').collect();
    assert_eq!(ours[0], theirs[0], "protected header");
    assert_eq!(&ours[2..], &theirs[2..], "IV, ciphertext and tag");
    let round = jwe::decrypt_with(&ours.join("."), decrypter.as_ref(), &JwePolicy::ofb())
        .await
        .unwrap();
    assert_eq!(round.plaintext(), JWE_A1_PLAINTEXT.as_bytes());
}

#[tokio::test]
async fn every_jwe_decryption_failure_is_the_same_error() {
    let enc = keys()
        .jwks
        .keys
        .iter()
        .find(|k| k.use_.as_deref() == Some("enc"))
        .unwrap();
    let token = jwe::encrypt(enc, EncryptOptions::ofb(), b"secret id token").unwrap();
    let custody = &keys().custody;
    let ok = jwe::decrypt(&token, custody, &JwePolicy::ofb())
        .await
        .unwrap();
    assert_eq!(ok.plaintext(), b"secret id token");

    let flip = |part: usize, byte: usize| {
        let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
        let mut raw = B64.decode(&parts[part]).unwrap();
        raw[byte] ^= 1;
        parts[part] = B64.encode(raw);
        parts.join(".")
    };
    let tampered = [
        ("encrypted key", flip(1, 7)),
        ("iv", flip(2, 0)),
        ("ciphertext", flip(3, 0)),
        ("tag", flip(4, 15)),
        ("header", {
            let mut parts: Vec<&str> = token.split('.').collect();
            let header = B64.encode(r#"{"alg":"RSA-OAEP","enc":"A256GCM","kid":"enc-1","x":1}"#);
            parts[0] = &header;
            parts.join(".")
        }),
    ];
    let mut messages = std::collections::HashSet::new();
    for (what, bad) in &tampered {
        let err = jwe::decrypt(bad, custody, &JwePolicy::ofb())
            .await
            .unwrap_err();
        assert!(matches!(err, JweError::Decryption), "{what}: {err:?}");
        messages.insert(err.to_string());
    }
    assert_eq!(messages.len(), 1, "one indistinguishable error");

    // A disallowed algorithm, compression and an unknown kid fail the same way.
    let only_256 = JwePolicy::allowing(
        &[KeyManagementAlg::RsaOaep256],
        &[jwe::ContentEncryption::A256Gcm],
    );
    assert!(matches!(
        jwe::decrypt(&token, custody, &only_256).await,
        Err(JweError::Decryption)
    ));
}

#[tokio::test]
async fn nested_signed_then_encrypted_id_token() {
    let signer = keys()
        .custody
        .signer(KeyPurpose::MessageSigning)
        .await
        .unwrap();
    let enc = keys()
        .jwks
        .keys
        .iter()
        .find(|k| k.use_.as_deref() == Some("enc"))
        .unwrap();
    let claims = serde_json::json!({"iss":"https://bank","sub":"urn:bancoazul:c1","nonce":"n"});
    let token = jwe::sign_then_encrypt(signer.as_ref(), &claims, enc, EncryptOptions::ofb())
        .await
        .unwrap();
    assert_eq!(token.split('.').count(), 5);
    let verified = jwe::decrypt_then_verify(
        &token,
        &keys().custody,
        &JwePolicy::ofb(),
        &keys().jwks,
        &JwsPolicy::ofb(),
    )
    .await
    .unwrap();
    assert_eq!(verified.claims().unwrap()["nonce"], "n");
    // Verified against a key set that does not hold the signer: refused.
    let strangers = JwkSet::default();
    assert!(matches!(
        jwe::decrypt_then_verify(
            &token,
            &keys().custody,
            &JwePolicy::ofb(),
            &strangers,
            &JwsPolicy::ofb()
        )
        .await,
        Err(JweError::Nested(JwsError::UnknownKey))
    ));
    // A plain JWE (no cty: JWT) is not taken for a nested token.
    let plain = jwe::encrypt(enc, EncryptOptions::ofb(), b"not a jws").unwrap();
    assert!(matches!(
        jwe::decrypt_then_verify(
            &plain,
            &keys().custody,
            &JwePolicy::ofb(),
            &keys().jwks,
            &JwsPolicy::ofb()
        )
        .await,
        Err(JweError::Decryption)
    ));
}

// ------------------------------------------------------------ key loading and rotation

#[tokio::test]
async fn keys_load_from_pem_and_rotate() {
    let pki = opus_testkit::TestPki::generate("keys").unwrap();
    let cert = pki
        .signing_certificate(&opus_testkit::OfbSubject::example(
            "bank.example",
            opus_core::Cnpj::parse("11222333000181").unwrap(),
        ))
        .unwrap();
    let from_pem = SoftwareKey::from_pem("seal-2026", &cert.key_pem)
        .unwrap()
        .with_certificate_chain(cert.chain_der.clone());
    let from_der = SoftwareKey::from_pkcs8_der("seal-2027", cert.key_pkcs8_der.expose()).unwrap();
    let custody = SoftwareKeyCustody::builder()
        .signing_key(from_pem)
        .signing_key(from_der)
        .current_signer(KeyPurpose::MessageSigning, KeyId::new("seal-2027").unwrap())
        .build()
        .unwrap();
    let jwks = custody.public_jwks().await.unwrap();
    assert_eq!(
        jwks.keys.len(),
        2,
        "both keys stay published during rotation"
    );
    let published = jwks.find("seal-2026").unwrap();
    assert_eq!(
        published.x5t_s256.as_deref(),
        Some(jwk::certificate_thumbprint(&cert.der).as_str())
    );
    assert_eq!(published.x5c.as_ref().map(Vec::len), Some(2));
    let signer = custody.signer(KeyPurpose::MessageSigning).await.unwrap();
    assert_eq!(signer.kid().as_str(), "seal-2027");
    let token = jws::sign(signer.as_ref(), SignOptions::default(), b"x")
        .await
        .unwrap();
    assert!(jws::verify(&token, &jwks, &JwsPolicy::ofb()).is_ok());
    // Published JWKS never carry private members.
    let text = serde_json::to_string(&jwks).unwrap();
    for private in ["\"d\"", "\"p\"", "\"q\"", "\"dp\"", "\"dq\"", "\"qi\""] {
        assert!(!text.contains(private));
    }
    assert!(parse_public_jwks(text.as_bytes()).is_ok());
    // Duplicate kids and small keys are refused.
    assert!(
        SoftwareKeyCustody::builder()
            .signing_key(SoftwareKey::generate_ec("same").unwrap())
            .signing_key(SoftwareKey::generate_ec("same").unwrap())
            .build()
            .is_err()
    );
}

#[tokio::test]
async fn data_keys_wrap_and_unwrap_across_kek_rotation() {
    use opus_core::keys::SecretBytes;
    let old = SecretBytes::new(vec![1u8; 32]);
    let new = SecretBytes::new(vec![2u8; 32]);
    let before = SoftwareKeyCustody::builder()
        .data_key_kek(KeyId::new("kek-1").unwrap(), &old)
        .unwrap()
        .build()
        .unwrap();
    let data_key = SecretBytes::new(vec![9u8; 32]);
    let wrapped = before.wrap_data_key(&data_key).await.unwrap();
    let after = SoftwareKeyCustody::builder()
        .data_key_kek(KeyId::new("kek-1").unwrap(), &old)
        .unwrap()
        .data_key_kek(KeyId::new("kek-2").unwrap(), &new)
        .unwrap()
        .build()
        .unwrap();
    assert_eq!(after.unwrap_data_key(&wrapped).await.unwrap(), data_key);
    assert_eq!(
        after
            .wrap_data_key(&data_key)
            .await
            .unwrap()
            .kek_id
            .as_str(),
        "kek-2"
    );
}

// ------------------------------------------------------------ properties

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn sign_verify_round_trip(payload in proptest::collection::vec(any::<u8>(), 0..512)) {
        let token = block_on(ps256(&payload));
        let verified = jws::verify(&token, &keys().jwks, &JwsPolicy::ofb()).unwrap();
        prop_assert_eq!(verified.payload(), payload.as_slice());
    }

    #[test]
    fn encrypt_decrypt_round_trip(plaintext in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let enc = keys().jwks.keys.iter().find(|k| k.use_.as_deref() == Some("enc")).unwrap();
        let token = jwe::encrypt(enc, EncryptOptions::ofb(), &plaintext).unwrap();
        let opened = block_on(jwe::decrypt(&token, &keys().custody, &JwePolicy::ofb())).unwrap();
        prop_assert_eq!(opened.plaintext(), plaintext.as_slice());
    }
}

#[test]
fn keys_are_shared_between_tests_safely() {
    // The shared custody is Send + Sync and usable from several threads.
    let handles: Vec<_> = (0..4)
        .map(|_| std::thread::spawn(|| block_on(ps256(b"t"))))
        .collect();
    for h in handles {
        assert!(jws::verify(&h.join().unwrap(), &keys().jwks, &JwsPolicy::ofb()).is_ok());
    }
    let _: Arc<dyn KeyCustody> = Arc::new(a1_custody());
}
