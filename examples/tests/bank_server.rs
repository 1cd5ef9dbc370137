//! The example bank server's deploy artefacts: its configuration files
//! parse, a server started from a configuration serves each brand with the
//! key the file names, and the Helm chart renders to the Kubernetes objects
//! a deployment needs (with `helm template` when `OPUS_HELM` names a helm
//! binary; otherwise with the chart's values substituted here, the only
//! template features the chart uses).
// Tests fail by panicking; these lints are for library code.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use aws_lc_rs::encoding::AsDer;
use base64::Engine;
use bytes::Bytes;
use opus_core::SystemClock;
use opus_examples::bank::LoopbackBank;
use opus_examples::config::{BankServerConfig, KeyConfig};
use opus_examples::fintech::{anonymous_tls, pem_certificates};
use opus_fapi::mtls;
use serde_json::Value;
use url::Url;

fn deploy() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy")
}

fn values() -> Value {
    let text = std::fs::read_to_string(deploy().join("helm/opus-bank/values.yaml")).unwrap();
    serde_saphyr::from_str(&text).unwrap()
}

#[test]
fn the_example_configurations_parse() {
    let config = BankServerConfig::load(&deploy().join("bank-server.toml")).unwrap();
    assert_eq!(config.brands.len(), 2);
    assert_eq!(config.brands[0].colour.as_deref(), Some("#1f4e79"));
    assert!(matches!(
        config.brands[0].signing_key,
        Some(KeyConfig::Pem { .. })
    ));
    assert!(matches!(
        config.brands[1].signing_key,
        Some(KeyConfig::Pkcs11 { .. })
    ));
    // The chart's configuration too.
    let chart = BankServerConfig::parse(values()["config"].as_str().unwrap()).unwrap();
    assert_eq!(chart.storage.url_env.as_deref(), Some("OPUS_DATABASE_URL"));
    // Unknown keys and brandless files are refused.
    assert!(
        BankServerConfig::parse(
            "listen = \"127.0.0.1:0\"\n[storage]\nurl = \"memory:\"\nbrands = []\n"
        )
        .is_err()
    );
    assert!(
        BankServerConfig::parse(
            "listen = \"127.0.0.1:0\"\nlisten_twice = 1\n[storage]\nurl = \"memory:\"\n[[brands]]\nid = \"a\"\nname = \"A\"\n"
        )
        .is_err()
    );
}

async fn get_json(tls: &Arc<rustls::ClientConfig>, url: &Url) -> Value {
    let request = http::Request::get(url.as_str()).body(Bytes::new()).unwrap();
    let answer = mtls::exchange(tls, request, url, Duration::from_secs(15), 1 << 20)
        .await
        .unwrap();
    assert_eq!(answer.status, http::StatusCode::OK, "{url}");
    serde_json::from_slice(&answer.body).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_from_a_configuration_serves_each_brand_with_its_configured_key() {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("bank-server-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let der = aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048)
        .unwrap()
        .as_der()
        .unwrap();
    let body = base64::engine::general_purpose::STANDARD.encode(der.as_ref());
    let lines: Vec<&str> = body
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    let key = dir.join("azul.pem");
    std::fs::write(
        &key,
        format!(
            "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
            lines.join("\n")
        ),
    )
    .unwrap();
    let config = BankServerConfig::parse(&format!(
        r##"
listen = "127.0.0.1:0"

[storage]
url = "sqlite:{}"

[[brands]]
id = "banco-azul"
name = "Banco Azul"
signing_key = {{ pem = "{}", kid = "azul-from-pem" }}

[[brands]]
id = "banco-roxo"
name = "Banco Roxo"
colour = "#5b2a86"
"##,
        dir.join("bank.db").display(),
        key.display()
    ))
    .unwrap();
    let bank = LoopbackBank::start_with(config.setup(Arc::new(SystemClock)).await.unwrap())
        .await
        .unwrap();
    let tls = anonymous_tls(&pem_certificates(bank.ca_pem())).unwrap();
    let mut kids = BTreeMap::new();
    for brand in bank.brands() {
        let discovery = get_json(
            &tls,
            &Url::parse(&format!(
                "{}/.well-known/openid-configuration",
                brand.issuer().as_str().trim_end_matches('/')
            ))
            .unwrap(),
        )
        .await;
        assert_eq!(
            discovery["issuer"].as_str().unwrap().trim_end_matches('/'),
            brand.issuer().as_str().trim_end_matches('/')
        );
        let jwks = get_json(
            &tls,
            &Url::parse(discovery["jwks_uri"].as_str().unwrap()).unwrap(),
        )
        .await;
        let brand_kids: Vec<String> = jwks["keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["kid"].as_str().unwrap().to_owned())
            .collect();
        kids.insert(brand.id().as_str().to_owned(), brand_kids);
    }
    assert_eq!(bank.brands()[1].theme().primary_colour(), "#5b2a86");
    bank.stop().await;
    assert_eq!(kids["banco-azul"], vec!["azul-from-pem".to_owned()]);
    assert_eq!(kids["banco-roxo"], vec!["banco-roxo-sig".to_owned()]);
    assert!(
        dir.join("bank.db").exists(),
        "the state went to the SQLite file"
    );
}

/// The chart's templates with `values` substituted: `{{ .Values.a.b }}`,
/// `{{ .Release.Name }}`, `{{ .Chart.Name }}`, and the `quote` and
/// `indent N` functions.
fn render(template: &str, values: &Value, release: &str, chart: &str) -> String {
    let mut out = String::new();
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let end = rest[start..].find("}}").unwrap() + start;
        let expression = rest[start + 2..end].trim();
        let mut parts = expression.split('|').map(str::trim);
        let path = parts.next().unwrap();
        let mut value = match path {
            ".Release.Name" => release.to_owned(),
            ".Chart.Name" => chart.to_owned(),
            other => {
                let pointer = other
                    .strip_prefix(".Values.")
                    .unwrap_or_else(|| panic!("unsupported template expression {other}"))
                    .replace('.', "/");
                match values.pointer(&format!("/{pointer}")) {
                    Some(Value::String(s)) => s.clone(),
                    Some(v @ (Value::Number(_) | Value::Bool(_))) => v.to_string(),
                    other => panic!("no value for {path}: {other:?}"),
                }
            }
        };
        for function in parts {
            if function == "quote" {
                value = format!("{value:?}");
            } else if let Some(n) = function.strip_prefix("indent ") {
                let pad = " ".repeat(n.trim().parse().unwrap());
                value = value
                    .lines()
                    .map(|l| format!("{pad}{l}"))
                    .collect::<Vec<_>>()
                    .join("\n");
            } else {
                panic!("unsupported template function {function}");
            }
        }
        out.push_str(&value);
        rest = &rest[end + 2..];
    }
    out.push_str(rest);
    out
}

/// Every rendered object, by kind.
fn rendered_objects() -> BTreeMap<String, Value> {
    let chart = deploy().join("helm/opus-bank");
    let documents: Vec<String> = match std::env::var("OPUS_HELM") {
        Ok(helm) => {
            let output = std::process::Command::new(helm)
                .args(["template", "opus"])
                .arg(&chart)
                .output()
                .unwrap();
            assert!(output.status.success(), "{output:?}");
            String::from_utf8(output.stdout)
                .unwrap()
                .split("\n---")
                .map(str::to_owned)
                .collect()
        }
        Err(_) => {
            eprintln!("OPUS_HELM is not set: rendering the chart's values here");
            let values = values();
            let mut documents = Vec::new();
            for entry in std::fs::read_dir(chart.join("templates")).unwrap() {
                let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
                documents.push(render(&text, &values, "opus", "opus-bank"));
            }
            documents
        }
    };
    let mut objects = BTreeMap::new();
    for document in documents {
        let document = document.trim().trim_start_matches("---");
        if document.trim().is_empty() {
            continue;
        }
        let object: Value = serde_saphyr::from_str(document)
            .unwrap_or_else(|e| panic!("not YAML ({e}):\n{document}"));
        objects.insert(object["kind"].as_str().unwrap().to_owned(), object);
    }
    objects
}

#[test]
fn the_helm_chart_renders_the_objects_of_a_deployment() {
    let objects = rendered_objects();
    for kind in [
        "Deployment",
        "Service",
        "HorizontalPodAutoscaler",
        "ConfigMap",
    ] {
        assert!(objects.contains_key(kind), "no {kind}: {objects:?}");
    }
    let deployment = &objects["Deployment"];
    let container = &deployment["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(
        container["image"],
        "registry.example/opus-bank-server:0.1.0"
    );
    assert_eq!(container["ports"][0]["containerPort"], 8443);
    assert_eq!(
        container["envFrom"][0]["secretRef"]["name"], "opus-bank-env",
        "secrets come by reference"
    );
    assert_eq!(
        deployment["spec"]["template"]["spec"]["securityContext"]["runAsNonRoot"],
        true
    );
    let volumes = deployment["spec"]["template"]["spec"]["volumes"]
        .as_array()
        .unwrap();
    assert!(
        volumes
            .iter()
            .any(|v| v["secret"]["secretName"] == "opus-bank-keys")
    );
    let hpa = &objects["HorizontalPodAutoscaler"];
    assert_eq!(
        hpa["spec"]["scaleTargetRef"]["name"],
        deployment["metadata"]["name"]
    );
    assert_eq!(hpa["spec"]["minReplicas"], 2);
    assert_eq!(
        objects["Service"]["spec"]["selector"],
        deployment["spec"]["selector"]["matchLabels"]
    );
    // The configuration the pods read is a valid server configuration.
    let config = objects["ConfigMap"]["data"]["bank-server.toml"]
        .as_str()
        .unwrap();
    let parsed = BankServerConfig::parse(config).unwrap();
    assert_eq!(parsed.listen.port(), 8443);
}

#[test]
fn the_container_file_names_the_bank_server_build_and_a_non_root_user() {
    let text = std::fs::read_to_string(deploy().join("Containerfile")).unwrap();
    assert!(text.contains("cargo build --release --locked -p opus-examples --bin bank-server"));
    assert!(text.contains("USER 10001"));
    assert!(Path::new(env!("CARGO_BIN_EXE_bank-server")).exists());
}

/// The metric names of a PromQL expression (identifiers followed by `{`).
fn metric_names(expr: &str) -> Vec<String> {
    let mut names = Vec::new();
    let bytes = expr.as_bytes();
    for (i, _) in expr.match_indices('{') {
        let start = expr[..i]
            .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .map_or(0, |p| p + 1);
        if start < i && bytes[start].is_ascii_alphabetic() {
            names.push(expr[start..i].to_owned());
        }
    }
    names
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_grafana_dashboard_reads_only_metrics_the_back_office_exports() {
    let dashboard: Value = serde_json::from_str(
        &std::fs::read_to_string(deploy().join("grafana/opus-bank.json")).unwrap(),
    )
    .unwrap();
    let mut used = Vec::new();
    for panel in dashboard["panels"].as_array().unwrap() {
        for target in panel["targets"].as_array().unwrap() {
            used.extend(metric_names(target["expr"].as_str().unwrap()));
        }
    }
    assert!(used.len() >= 6, "{used:?}");

    // What the bank exports, after a call has been served.
    let bank = LoopbackBank::start().await.unwrap();
    let tls = anonymous_tls(&pem_certificates(bank.ca_pem())).unwrap();
    let _ = get_json(&tls, &bank.status_url().unwrap()).await;
    let url = Url::parse(&format!("{}/metrics", bank.back_office_url().unwrap())).unwrap();
    let request = http::Request::get(url.as_str())
        .header(opus_examples::bank::TEST_OPERATOR_HEADER, "grafana-test")
        .body(Bytes::new())
        .unwrap();
    let answer = mtls::exchange(&tls, request, &url, Duration::from_secs(15), 1 << 20)
        .await
        .unwrap();
    bank.stop().await;
    assert_eq!(answer.status, http::StatusCode::OK);
    let exposition = String::from_utf8(answer.body.to_vec()).unwrap();
    let exported: Vec<&str> = exposition
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    for name in &used {
        assert!(
            exported.contains(&name.as_str()),
            "the dashboard reads {name}, which the back office does not export: {exported:?}"
        );
    }
    assert!(exposition.contains("brand=\"banco-azul\""));
}

/// One plain-HTTP exchange with the server on `port` (as a gateway that
/// terminated TLS would forward it); status and JSON body.
async fn plain_http(
    port: u16,
    method: http::Method,
    path: &str,
    headers: &[(&str, String)],
    body: Option<Value>,
) -> (http::StatusCode, Value) {
    use http_body_util::{BodyExt, Full};
    let stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
            .await
            .unwrap();
    tokio::spawn(connection);
    let mut request = http::Request::builder()
        .method(method)
        .uri(path)
        .header(http::header::HOST, format!("127.0.0.1:{port}"))
        .header(http::header::CONTENT_TYPE, "application/json");
    for (name, value) in headers {
        request = request.header(*name, value);
    }
    let request = request
        .body(Full::new(Bytes::from(
            body.map(|b| b.to_string()).unwrap_or_default(),
        )))
        .unwrap();
    let response = sender.send_request(request).await.unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

async fn gateway_bank(proxy: &str) -> LoopbackBank {
    let config = BankServerConfig::parse(&format!(
        r#"
listen = "127.0.0.1:0"

[storage]
url = "memory:"

[gateway]
header = "x-ssl-client-cert"
proxies = ["{proxy}"]

[[brands]]
id = "banco-azul"
name = "Banco Azul"
"#
    ))
    .unwrap();
    LoopbackBank::start_with(config.setup(Arc::new(SystemClock)).await.unwrap())
        .await
        .unwrap()
}

/// Registers a participant with the directory, then with the bank by DCR
/// over plain HTTP, the transport certificate forwarded in the gateway's
/// header when `forward`; the DCR status.
async fn register_through_gateway(bank: &LoopbackBank, forward: bool) -> http::StatusCode {
    use opus_core::keys::KeyCustody;
    let port = bank.base_url().port().unwrap();
    let keys = opus_fapi::custody::software::SoftwareKeyCustody::builder()
        .signing_key(opus_fapi::custody::software::SoftwareKey::generate_rsa("gw-sig").unwrap())
        .encryption_key(opus_fapi::custody::software::SoftwareKey::generate_rsa("gw-enc").unwrap())
        .build()
        .unwrap();
    let transport = rcgen::KeyPair::generate().unwrap();
    let csr = rcgen::CertificateParams::new(Vec::<String>::new())
        .unwrap()
        .serialize_request(&transport)
        .unwrap()
        .pem()
        .unwrap();
    let (status, directory) = plain_http(
        port,
        http::Method::POST,
        "/directory/test-registration",
        &[],
        Some(serde_json::json!({
            "client_name": "Pelo gateway",
            "roles": ["DADOS"],
            "redirect_uris": [opus_examples::fintech::FINTECH_REDIRECT],
            "jwks": keys.public_jwks().await.unwrap(),
            "transport_csr_pem": csr,
        })),
    )
    .await;
    assert_eq!(status, http::StatusCode::CREATED, "{directory}");
    let certificate = directory["transport_certificate_pem"].as_str().unwrap();
    // Percent-encoded, as gateways forward it (nginx's
    // `$ssl_client_escaped_cert`).
    let forwarded: String = certificate
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    let headers = if forward {
        vec![("x-ssl-client-cert", forwarded)]
    } else {
        Vec::new()
    };
    let (status, answer) = plain_http(
        port,
        http::Method::POST,
        "/banco-azul/register",
        &headers,
        Some({
            let mut metadata =
                opus_examples::fintech::registration_metadata(&[], &directory["software_jwks_uri"]);
            metadata["software_statement"] = directory["software_statement"].clone();
            metadata
        }),
    )
    .await;
    if forward && status != http::StatusCode::CREATED {
        eprintln!("{answer}");
    }
    status
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_a_gateway_the_forwarded_certificate_counts_only_from_the_gateway() {
    // The gateway is 127.0.0.1: its header authenticates the participant.
    let bank = gateway_bank("127.0.0.1").await;
    assert_eq!(
        register_through_gateway(&bank, true).await,
        http::StatusCode::CREATED
    );
    // The metrics capture names the participant from the forwarded
    // certificate too: the registration is reported (calls without a
    // participant's certificate are not). Its delivery is retried here: the
    // mock collector is reached over HTTPS and this bank serves plain HTTP.
    let pass = bank.send_reports().await.unwrap();
    assert_eq!(pass.posts, 1, "{pass:?}");
    assert_eq!(pass.retried, 1, "{pass:?}");
    assert_ne!(
        register_through_gateway(&bank, false).await,
        http::StatusCode::CREATED,
        "no certificate, no registration"
    );
    bank.stop().await;
    // From any other address the header is ignored.
    let bank = gateway_bank("10.9.9.9").await;
    assert_ne!(
        register_through_gateway(&bank, true).await,
        http::StatusCode::CREATED
    );
    bank.stop().await;
}
