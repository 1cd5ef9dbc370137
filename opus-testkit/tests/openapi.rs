//! The OpenAPI validator against the official consents spec: conforming
//! bodies pass, and each kind of deviation is reported.
// Tests fail by panicking; these lints are for library code.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use opus_testkit::openapi::OpenApi;
use serde_json::{Value, json};

fn consent_response() -> Value {
    json!({
        "data": {
            "consentId": "urn:bancoex:C1DD33123",
            "creationDateTime": "2021-05-21T08:30:00Z",
            "status": "AWAITING_AUTHORISATION",
            "statusUpdateDateTime": "2021-05-21T08:30:00Z",
            "permissions": ["ACCOUNTS_READ", "ACCOUNTS_BALANCES_READ", "RESOURCES_READ"],
            "expirationDateTime": "2021-05-21T08:30:00Z"
        },
        "links": {"self": "https://api.banco.com.br/open-banking/consents/v3/consents/urn:bancoex:C1DD33123"},
        "meta": {"requestDateTime": "2021-05-21T08:30:00Z"}
    })
}

#[test]
fn a_conforming_consent_response_passes_and_deviations_are_reported() {
    let spec = OpenApi::load("consents", "3.3.1").unwrap();
    let problems = spec
        .response_problems("POST", "/consents", 201, &consent_response())
        .unwrap();
    assert!(problems.is_empty(), "{problems:?}");

    let mut missing = consent_response();
    missing["data"].as_object_mut().unwrap().remove("consentId");
    assert!(
        !spec
            .response_problems("POST", "/consents", 201, &missing)
            .unwrap()
            .is_empty()
    );
    let mut bad_enum = consent_response();
    bad_enum["data"]["status"] = json!("PENDING");
    assert!(
        !spec
            .response_problems("GET", "/consents/{consentId}", 200, &bad_enum)
            .unwrap()
            .is_empty()
    );
    let mut bad_date = consent_response();
    bad_date["data"]["creationDateTime"] = json!("21/05/2021");
    assert!(
        !spec
            .response_problems("GET", "/consents/{consentId}", 200, &bad_date)
            .unwrap()
            .is_empty()
    );
    let mut bad_permission = consent_response();
    bad_permission["data"]["permissions"] = json!(["EVERYTHING"]);
    assert!(
        !spec
            .response_problems("GET", "/consents/{consentId}", 200, &bad_permission)
            .unwrap()
            .is_empty()
    );

    // The OFB error body.
    let error = json!({"errors": [{"code": "PARAMETRO_INVALIDO", "title": "Parâmetro inválido.", "detail": "O parâmetro x é inválido."}], "meta": {"requestDateTime": "2021-05-21T08:30:00Z"}});
    assert!(
        spec.response_problems("POST", "/consents", 400, &error)
            .unwrap()
            .is_empty()
    );
    assert!(
        !spec
            .response_problems("POST", "/consents", 400, &json!({"error": "x"}))
            .unwrap()
            .is_empty()
    );

    // Requests too.
    let request = json!({"data": {"loggedUser": {"document": {"identification": "11111111111", "rel": "CPF"}}, "permissions": ["ACCOUNTS_READ", "RESOURCES_READ"]}});
    assert!(
        spec.request_problems("POST", "/consents", &request)
            .unwrap()
            .is_empty()
    );
    assert!(
        !spec
            .request_problems("POST", "/consents", &json!({"data": {}}))
            .unwrap()
            .is_empty()
    );
    // Unknown operations are errors, not silent passes.
    assert!(
        spec.response_problems("PATCH", "/consents", 200, &json!({}))
            .is_err()
    );
}
