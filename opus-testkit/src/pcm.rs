//! A mock of the governance's metrics collector (PCM 1.0.2): the token
//! endpoint and the private and open-data report endpoints, validating
//! every report it receives against the official schema (with the endpoint
//! list the SDK sends, since the collector's list is newer than its spec),
//! answering per item as the collector does (200, or 207 when something
//! was discarded), keeping what it took for tests to pair CLIENT and SERVER
//! reports by `fapiInteractionId`, and with faults to inject.

use std::path::Path;
use std::sync::Mutex;

use serde_json::{Value, json};

use crate::openapi::{OpenApi, OpenApiError};

/// What the collector does with the next requests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum CollectorFault {
    /// Works.
    #[default]
    Up,
    /// Down: every request answers 503 (as a front of a dead collector).
    Down,
    /// Overloaded: 429.
    Overloaded,
    /// Takes the reports but the answer is lost (the caller sees a 504):
    /// what makes a sender send a batch twice.
    LosesAnswers,
}

#[derive(Debug, Default)]
struct State {
    fault: CollectorFault,
    reports: Vec<Value>,
    opendata: Vec<Value>,
    hybrid: Vec<(String, Value)>,
    others: Vec<(String, Value)>,
    extra_paths: Vec<String>,
    posts: usize,
    tokens: usize,
    discarded: Vec<String>,
}

/// The mock collector; see the module docs.
#[derive(Debug)]
pub struct MockPcmCollector {
    spec: OpenApi,
    state: Mutex<State>,
}

/// The token the mock issues.
pub const MOCK_PCM_TOKEN: &str = "mock-pcm-token";

fn sanitise(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || " -/:_.',".contains(c) {
                c
            } else {
                ' '
            }
        })
        .take(200)
        .collect()
}

impl MockPcmCollector {
    /// A collector validating against `<specs>/../pcm/1.0.2.yml`, whose
    /// accepted endpoints are `private` and `opendata` (templates).
    ///
    /// # Errors
    /// [`OpenApiError`] when the spec cannot be read.
    pub fn new<'a>(
        private: impl IntoIterator<Item = &'a str>,
        opendata: impl IntoIterator<Item = &'a str>,
    ) -> Result<Self, OpenApiError> {
        let path = crate::openapi::specs_dir().join("../pcm/1.0.2.yml");
        Self::from_file(&path, private, opendata)
    }

    /// As [`MockPcmCollector::new`] with the spec at `path`.
    ///
    /// # Errors
    /// [`OpenApiError`] when the spec cannot be read.
    pub fn from_file<'a>(
        path: &Path,
        private: impl IntoIterator<Item = &'a str>,
        opendata: impl IntoIterator<Item = &'a str>,
    ) -> Result<Self, OpenApiError> {
        let private: Vec<&str> = private.into_iter().collect();
        let opendata: Vec<&str> = opendata.into_iter().collect();
        let spec = OpenApi::load_file(path)?
            .with_value(
                "/components/schemas/PrivateReportEndpoints/enum",
                json!(private),
            )
            .with_value(
                "/components/schemas/OpendataReportEndpoints/enum",
                json!(opendata),
            );
        Ok(Self {
            spec,
            state: Mutex::new(State::default()),
        })
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Also takes reports at `path`, a collector endpoint outside the
    /// public spec (consent stock, payment status), as JSON objects.
    pub fn accept_path(&self, path: &str) {
        self.state().extra_paths.push(path.to_owned());
    }

    /// The reports taken at the paths of [`MockPcmCollector::accept_path`].
    pub fn other_reports(&self) -> Vec<(String, Value)> {
        self.state().others.clone()
    }

    /// Changes what the collector does from now on.
    pub fn set_fault(&self, fault: CollectorFault) {
        self.state().fault = fault;
    }

    /// `POST /token/`: status and body.
    pub fn token(&self) -> (u16, Value) {
        let mut state = self.state();
        match state.fault {
            CollectorFault::Down => (503, json!({"message": "unavailable"})),
            CollectorFault::Overloaded => (429, json!({"message": "too many requests"})),
            _ => {
                state.tokens += 1;
                (
                    200,
                    json!({"access_token": MOCK_PCM_TOKEN, "expires_in": 21600, "token_type": "Bearer"}),
                )
            }
        }
    }

    /// A report request: `path`, the bearer token sent, the JSON body;
    /// status and body answered.
    pub fn receive(&self, path: &str, token: Option<&str>, body: &[u8]) -> (u16, Value) {
        let mut state = self.state();
        match state.fault {
            CollectorFault::Down => return (503, json!({"message": "unavailable"})),
            CollectorFault::Overloaded => return (429, json!({"message": "too many requests"})),
            _ => {}
        }
        if token != Some(MOCK_PCM_TOKEN) {
            return (401, json!({"message": "invalid token"}));
        }
        if state.extra_paths.iter().any(|p| p == path) {
            let Ok(report @ Value::Object(_)) = serde_json::from_slice::<Value>(body) else {
                return (400, json!({"message": "Invalid payload format"}));
            };
            state.posts += 1;
            state.others.push((path.to_owned(), report));
            let id = format!("{:08x}-0000-4000-8000-000000000000", state.posts);
            return (200, json!({"reportId": id, "status": "ACCEPTED"}));
        }
        if let Some(event) = path.strip_prefix("/report-api/v2/hybrid-flow/") {
            let schema = match event {
                "server/redirect-target" => "HybridFlowServerRedirectTargetReportRequest",
                "server/authenticated" => "HybridFlowServerAuthenticatedRequest",
                "server/redirect-to-client" => "HybridFlowServerRedirectToClientRequest",
                "client/redirect-to-server" => "HybridFlowClientRedirectToServerReportRequest",
                "client/redirect-target-with-errors" => {
                    "HybridFlowServerRedirectTargetWithErrorsRequest"
                }
                "client/redirect-target-without-errors" => {
                    "HybridFlowServerRedirectTargetWithoutErrorsRequest"
                }
                _ => return (404, json!({"message": "not found"})),
            };
            let Ok(report) = serde_json::from_slice::<Value>(body) else {
                return (400, json!({"message": "Invalid payload format"}));
            };
            let problems = self
                .spec
                .schema_problems(schema, &report)
                .unwrap_or_else(|e| vec![e.to_string()]);
            state.posts += 1;
            if !problems.is_empty() {
                state.discarded.push(problems.join("; "));
                return (400, json!({"message": sanitise(&problems.join("; "))}));
            }
            state.hybrid.push((event.to_owned(), report));
            let id = format!("{:08x}-0000-4000-8000-000000000000", state.posts);
            return (200, json!({"reportId": id}));
        }
        let opendata = match path {
            "/report-api/v1/private/report" => false,
            "/report-api/v1/opendata/report" => true,
            _ => return (404, json!({"message": "not found"})),
        };
        let schema_of = |r: &Value| {
            if opendata {
                "OpendataReportRequest"
            } else if r.get("role").and_then(Value::as_str) == Some("CLIENT") {
                "ClientReportRequest"
            } else {
                "ServerReportRequest"
            }
        };
        let Ok(Value::Array(items)) = serde_json::from_slice::<Value>(body) else {
            return (400, json!({"message": "Invalid payload format"}));
        };
        if items.is_empty() || items.len() > 5_000 {
            return (413, json!({"message": "Payload too large"}));
        }
        state.posts += 1;
        let mut answers = Vec::new();
        let mut all_accepted = true;
        for item in items {
            let problems = self
                .spec
                .schema_problems(schema_of(&item), &item)
                .unwrap_or_else(|e| vec![e.to_string()]);
            let id = format!("{:08x}-0000-4000-8000-{:012x}", state.posts, answers.len());
            if problems.is_empty() {
                if opendata {
                    state.opendata.push(item);
                } else {
                    state.reports.push(item);
                }
                answers.push(json!({"reportId": id, "status": "ACCEPTED"}));
            } else {
                all_accepted = false;
                let message = sanitise(&format!("Invalid field value: {}", problems.join("; ")));
                state.discarded.push(problems.join("; "));
                answers.push(json!({"reportId": id, "status": "DISCARDED", "message": message}));
            }
        }
        if state.fault == CollectorFault::LosesAnswers {
            return (504, json!({"message": "gateway timeout"}));
        }
        (if all_accepted { 200 } else { 207 }, Value::Array(answers))
    }

    /// The private reports taken, in order (duplicates included).
    pub fn reports(&self) -> Vec<Value> {
        self.state().reports.clone()
    }

    /// The open-data reports taken.
    pub fn opendata_reports(&self) -> Vec<Value> {
        self.state().opendata.clone()
    }

    /// The hybrid-flow reports taken: the event (`server/authenticated`…)
    /// and the report.
    pub fn hybrid_flow_reports(&self) -> Vec<(String, Value)> {
        self.state().hybrid.clone()
    }

    /// Why reports were discarded.
    pub fn discarded(&self) -> Vec<String> {
        self.state().discarded.clone()
    }

    /// Report requests taken (not counting faults).
    pub fn posts(&self) -> usize {
        self.state().posts
    }

    /// Tokens issued.
    pub fn tokens_issued(&self) -> usize {
        self.state().tokens
    }

    /// The reports of `role` (`CLIENT`, `SERVER`) for `interaction_id`.
    pub fn reports_of(&self, role: &str, interaction_id: &str) -> Vec<Value> {
        self.state()
            .reports
            .iter()
            .filter(|r| {
                r.get("role").and_then(Value::as_str) == Some(role)
                    && r.get("fapiInteractionId").and_then(Value::as_str) == Some(interaction_id)
            })
            .cloned()
            .collect()
    }

    /// Whether a CLIENT and a SERVER report of `interaction_id` pair as the
    /// collector pairs them (same organisations, status, method, endpoint).
    pub fn paired(&self, interaction_id: &str) -> bool {
        let clients = self.reports_of("CLIENT", interaction_id);
        let servers = self.reports_of("SERVER", interaction_id);
        let key = |r: &Value| {
            [
                "clientOrgId",
                "serverOrgId",
                "statusCode",
                "httpMethod",
                "endpoint",
            ]
            .map(|k| r.get(k).cloned())
        };
        match (clients.first(), servers.first()) {
            (Some(c), Some(s)) => key(c) == key(s),
            _ => false,
        }
    }
}
