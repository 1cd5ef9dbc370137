//! Web pages of the loopback bank, in each brand's theme, over the JSON
//! services it already runs (called in process):
//!
//! - **the customer's app** (`/{brand}/app`): find one's consents and
//!   revoke them — the management API as the customer's channel;
//! - **the operators' back office** (`/{brand}/painel`): availability per
//!   endpoint today and this quarter, and a form that registers an outage —
//!   the operations back office.
//!
//! Test mode: the customer is whoever the form names (a CPF) and the
//! operator is "painel"; a bank puts its own sign-in in front of both.

use std::collections::BTreeMap;

use bytes::Bytes;
use http::{HeaderValue, Method, Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Full, Limited};
use opus_core::Brand;
use serde_json::{Value, json};
use tower::ServiceExt;

use crate::bank::{CHANNELS_PATH, OPS_PATH, TEST_CHANNEL_HEADER, TEST_OPERATOR_HEADER};

/// The parts of a brand the pages call.
pub(crate) struct PageServices<'a> {
    pub(crate) brand: &'a Brand,
    pub(crate) management: &'a opus_consent::ManagementApi,
    pub(crate) back_office: &'a opus_pcm::operations::BackOffice,
}

fn esc(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

fn page(brand: &Brand, title: &str, body: &str) -> Response<Full<Bytes>> {
    let colour = brand.theme().primary_colour();
    let logo = brand
        .theme()
        .logo_url()
        .map(|u| format!("<img src=\"{}\" alt=\"\" height=\"40\">", esc(u.as_str())))
        .unwrap_or_default();
    let html = format!(
        "<!doctype html><html lang=\"pt-BR\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title} — {name}</title><style>body{{font-family:sans-serif;max-width:48rem;margin:2rem auto;padding:0 1rem}}\
         button{{background:{colour};color:#fff;border:0;padding:.5rem .9rem;border-radius:4px}}\
         table{{border-collapse:collapse;width:100%}}th,td{{text-align:left;padding:.4rem;border-bottom:1px solid #ccc}}\
         label{{display:block;margin:.5rem 0}}</style></head>\
         <body>{logo}<p>{name}</p><h1>{title}</h1>{body}</body></html>",
        title = esc(title),
        name = esc(brand.display_name()),
    );
    let mut response = Response::new(Full::new(Bytes::from(html)));
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}

fn see_other(to: &str) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::new()));
    *response.status_mut() = StatusCode::SEE_OTHER;
    if let Ok(location) = HeaderValue::from_str(to) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    response
}

fn status(code: StatusCode) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::new()));
    *response.status_mut() = code;
    response
}

async fn form_of(request: Request<hyper::body::Incoming>) -> Option<BTreeMap<String, String>> {
    let body = Limited::new(request.into_body(), 16 * 1024)
        .collect()
        .await
        .ok()?
        .to_bytes();
    Some(url::form_urlencoded::parse(&body).into_owned().collect())
}

fn query_of(request: &Request<hyper::body::Incoming>) -> BTreeMap<String, String> {
    url::form_urlencoded::parse(request.uri().query().unwrap_or_default().as_bytes())
        .into_owned()
        .collect()
}

/// Calls a JSON service in process; its status and body.
async fn call<S>(
    service: S,
    method: Method,
    path: &str,
    header_pair: (&'static str, &str),
    body: Option<Value>,
) -> (StatusCode, Value)
where
    S: tower::Service<
            Request<Full<Bytes>>,
            Response = Response<Full<Bytes>>,
            Error = std::convert::Infallible,
        >,
{
    let mut builder = Request::builder()
        .method(method)
        .uri(path)
        .header(header_pair.0, header_pair.1);
    let bytes = match body {
        Some(body) => {
            builder = builder.header(header::CONTENT_TYPE, "application/json");
            Bytes::from(body.to_string())
        }
        None => Bytes::new(),
    };
    let Ok(request) = builder.body(Full::new(bytes)) else {
        return (StatusCode::BAD_REQUEST, Value::Null);
    };
    let Ok(response) = service.oneshot(request).await;
    let code = response.status();
    let bytes = response
        .into_body()
        .collect()
        .await
        .map(|c| c.to_bytes())
        .unwrap_or_default();
    (code, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

/// Serves `/{brand}/app…` and `/{brand}/painel…`; `None` for other paths.
pub(crate) async fn serve(
    services: &PageServices<'_>,
    request: Request<hyper::body::Incoming>,
) -> Option<Response<Full<Bytes>>> {
    let id = services.brand.id().as_str();
    let path = request.uri().path().to_owned();
    let rest = path.strip_prefix(&format!("/{id}/"))?;
    Some(match (request.method().clone(), rest) {
        (Method::GET, "app") => app(services, &query_of(&request)).await,
        (Method::POST, "app/revoke") => match form_of(request).await {
            Some(form) => revoke(services, &form).await,
            None => status(StatusCode::BAD_REQUEST),
        },
        (Method::GET, "painel") => panel(services, None).await,
        (Method::POST, "painel/outage") => match form_of(request).await {
            Some(form) => outage(services, &form).await,
            None => status(StatusCode::BAD_REQUEST),
        },
        (_, "app" | "app/revoke" | "painel" | "painel/outage") => {
            status(StatusCode::METHOD_NOT_ALLOWED)
        }
        _ => return None,
    })
}

async fn app(
    services: &PageServices<'_>,
    query: &BTreeMap<String, String>,
) -> Response<Full<Bytes>> {
    let id = services.brand.id().as_str();
    let Some(cpf) = query.get("cpf").filter(|c| !c.is_empty()) else {
        return page(
            services.brand,
            "Seus consentimentos",
            &format!(
                "<form method=\"get\" action=\"/{id}/app\"><label>CPF (modo de teste) \
                 <input name=\"cpf\" inputmode=\"numeric\" required></label>\
                 <button type=\"submit\">Entrar</button></form>"
            ),
        );
    };
    let (code, listed) = call(
        services.management.clone(),
        Method::GET,
        &format!("/{id}/{CHANNELS_PATH}?page-size=100"),
        (TEST_CHANNEL_HEADER, cpf),
        None,
    )
    .await;
    if code != StatusCode::OK {
        return page(
            services.brand,
            "Seus consentimentos",
            "<p role=\"alert\">Não foi possível consultar seus consentimentos.</p>",
        );
    }
    let mut rows = String::new();
    for consent in listed["data"].as_array().into_iter().flatten() {
        let consent_id = consent["consentId"].as_str().unwrap_or_default();
        let state = consent["status"].as_str().unwrap_or_default();
        let permissions: Vec<String> = consent["permissions"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|p| {
                serde_json::from_value::<opus_core::consent::Permission>(p.clone()).ok()
            })
            .map(|p| esc(p.plain_portuguese()))
            .collect();
        let action = if state == "AUTHORISED" {
            format!(
                "<form method=\"post\" action=\"/{id}/app/revoke\">\
                 <input type=\"hidden\" name=\"cpf\" value=\"{cpf}\">\
                 <input type=\"hidden\" name=\"consentId\" value=\"{consent}\">\
                 <button type=\"submit\" aria-label=\"Revogar {consent}\">Revogar</button></form>",
                cpf = esc(cpf),
                consent = esc(consent_id),
            )
        } else {
            String::new()
        };
        rows.push_str(&format!(
            "<tr data-consent=\"{consent}\"><td>{client}</td><td>{state}</td><td>{permissions}</td><td>{action}</td></tr>",
            consent = esc(consent_id),
            client = esc(consent["clientId"].as_str().unwrap_or_default()),
            state = match state {
                "AUTHORISED" => "Ativo",
                "AWAITING_AUTHORISATION" => "Aguardando autorização",
                "REJECTED" => "Encerrado",
                other => other,
            },
            permissions = permissions.join("<br>"),
        ));
    }
    let body = if rows.is_empty() {
        "<p>Você não tem consentimentos.</p>".to_owned()
    } else {
        format!(
            "<table><thead><tr><th>Instituição</th><th>Situação</th><th>Dados</th><th></th></tr></thead>\
             <tbody>{rows}</tbody></table>"
        )
    };
    page(services.brand, "Seus consentimentos", &body)
}

async fn revoke(
    services: &PageServices<'_>,
    form: &BTreeMap<String, String>,
) -> Response<Full<Bytes>> {
    let id = services.brand.id().as_str();
    let (Some(cpf), Some(consent)) = (form.get("cpf"), form.get("consentId")) else {
        return status(StatusCode::BAD_REQUEST);
    };
    // A consent id is a URN: safe in a path as it is, once validated.
    let Ok(consent) = opus_core::ConsentId::new(consent.as_str()) else {
        return status(StatusCode::BAD_REQUEST);
    };
    let consent_path = consent.as_str();
    let (code, _) = call(
        services.management.clone(),
        Method::POST,
        &format!("/{id}/{CHANNELS_PATH}/{consent_path}/revoke"),
        (TEST_CHANNEL_HEADER, cpf),
        Some(json!({"rejectedBy": "USER"})),
    )
    .await;
    if code != StatusCode::OK {
        return page(
            services.brand,
            "Seus consentimentos",
            "<p role=\"alert\">Não foi possível revogar o consentimento.</p>",
        );
    }
    let cpf: String = url::form_urlencoded::byte_serialize(cpf.as_bytes()).collect();
    see_other(&format!("/{id}/app?cpf={cpf}"))
}

async fn panel(services: &PageServices<'_>, notice: Option<&str>) -> Response<Full<Bytes>> {
    let id = services.brand.id().as_str();
    let (_, sla) = call(
        services.back_office.clone(),
        Method::GET,
        &format!("/{id}{OPS_PATH}/sla"),
        (TEST_OPERATOR_HEADER, "painel"),
        None,
    )
    .await;
    let percent = |v: &Value| {
        v.as_f64()
            .map(|f| format!("{:.2} %", f * 100.0))
            .unwrap_or_else(|| "—".to_owned())
    };
    let mut rows = String::new();
    for endpoint in sla["endpoints"].as_array().into_iter().flatten() {
        rows.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(endpoint["endpoint"].as_str().unwrap_or_default()),
            percent(&endpoint["dayAvailability"]),
            percent(&endpoint["quarterAvailability"]),
        ));
    }
    let notice = notice
        .map(|n| format!("<p role=\"status\">{}</p>", esc(n)))
        .unwrap_or_default();
    let body = format!(
        "{notice}<h2>Disponibilidade</h2>\
         <table><thead><tr><th>Endpoint</th><th>Hoje</th><th>Trimestre</th></tr></thead><tbody>{rows}</tbody></table>\
         <h2>Registrar indisponibilidade</h2>\
         <form method=\"post\" action=\"/{id}/painel/outage\">\
         <label>Explicação <input name=\"explanation\" required></label>\
         <label>Endpoints afetados (um por linha; vazio: todos) <textarea name=\"endpoints\"></textarea></label>\
         <button type=\"submit\">Registrar</button></form>"
    );
    page(services.brand, "Operação", &body)
}

async fn outage(
    services: &PageServices<'_>,
    form: &BTreeMap<String, String>,
) -> Response<Full<Bytes>> {
    let id = services.brand.id().as_str();
    let Some(explanation) = form.get("explanation").filter(|e| !e.trim().is_empty()) else {
        return status(StatusCode::BAD_REQUEST);
    };
    let endpoints: Vec<&str> = form
        .get("endpoints")
        .map(|e| e.lines().map(str::trim).filter(|l| !l.is_empty()).collect())
        .unwrap_or_default();
    let mut body = json!({"explanation": explanation});
    if !endpoints.is_empty() {
        body["endpoints"] = json!(endpoints);
    }
    let (code, answer) = call(
        services.back_office.clone(),
        Method::POST,
        &format!("/{id}{OPS_PATH}/outages"),
        (TEST_OPERATOR_HEADER, "painel"),
        Some(body),
    )
    .await;
    if code == StatusCode::CREATED {
        panel(services, Some("Indisponibilidade registrada.")).await
    } else {
        let why = answer["errors"][0]["detail"]
            .as_str()
            .or_else(|| answer["message"].as_str())
            .unwrap_or("recusada");
        panel(
            services,
            Some(&format!("Indisponibilidade não registrada: {why}")),
        )
        .await
    }
}
