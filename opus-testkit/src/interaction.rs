//! Stand-ins for the bank's login front and resources, for tests and the
//! sandbox.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use opus_core::interaction::{
    Acr, AuthenticatedCustomer, AuthenticationError, AuthenticationEvidence, CustomerResources,
    InteractionError, InteractionRequest, ResourceQuery, SelectableResource, UserAuthenticator,
};
use opus_core::{Clock, Cnpj, Cpf, SystemClock};
use url::Url;

/// The password [`RecordingAuthenticator`] accepts in password mode.
pub const TEST_PASSWORD: &str = "senha-de-teste";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// A form with `cpf` and [`TEST_PASSWORD`] (and optionally `cnpj`, `acr`).
    Password,
    /// Whoever the consent names, on any evidence.
    AutoApproving,
}

/// Records every interaction the authorization server starts and sends the
/// customer to `{login_url}?interaction=<id>` (or to the server's own pages);
/// the test (or the sandbox) then plays the customer.
///
/// Authentication, by mode:
/// - [`RecordingAuthenticator::new`] / [`RecordingAuthenticator::pages`]: a
///   login form with a valid `cpf` and `password` = [`TEST_PASSWORD`]
///   authenticates that CPF (with `cnpj` if given) at `acr` (`loa2` or
///   `loa3`; default: the preferred level the client asked for); anything
///   else is rejected;
/// - [`RecordingAuthenticator::auto_approving`]: any evidence authenticates
///   the customer the consent names, at the preferred level asked, now —
///   the test mode the sandbox offers to headless clients.
pub struct RecordingAuthenticator {
    login_url: Option<Url>,
    mode: Mode,
    clock: Arc<dyn Clock>,
    started: Mutex<Vec<InteractionRequest>>,
}

impl std::fmt::Debug for RecordingAuthenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecordingAuthenticator")
            .field("login_url", &self.login_url)
            .field("mode", &self.mode)
            .finish_non_exhaustive()
    }
}

impl RecordingAuthenticator {
    /// Sends customers to `login_url`; password mode.
    pub fn new(login_url: Url) -> Self {
        Self {
            login_url: Some(login_url),
            mode: Mode::Password,
            clock: Arc::new(SystemClock),
            started: Mutex::new(Vec::new()),
        }
    }

    /// Sends customers to the server's own interaction pages; password mode.
    pub fn pages() -> Self {
        Self {
            login_url: None,
            mode: Mode::Password,
            clock: Arc::new(SystemClock),
            started: Mutex::new(Vec::new()),
        }
    }

    /// Authenticates the consent's customer on any evidence, with
    /// `auth_time` from `clock`; sends customers to `login_url` when given,
    /// else to the server's pages.
    pub fn auto_approving(login_url: Option<Url>, clock: Arc<dyn Clock>) -> Self {
        Self {
            login_url,
            mode: Mode::AutoApproving,
            clock,
            started: Mutex::new(Vec::new()),
        }
    }

    /// The interactions started so far, oldest first.
    pub fn started(&self) -> Vec<InteractionRequest> {
        self.started
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The most recent interaction, if any.
    pub fn last(&self) -> Option<InteractionRequest> {
        self.started
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .last()
            .cloned()
    }

    /// Reads `auth_time` from `clock` (default: the system clock).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }
}

fn preferred(request: &InteractionRequest) -> Acr {
    request.acr_values.first().copied().unwrap_or(Acr::Loa2)
}

#[async_trait]
impl UserAuthenticator for RecordingAuthenticator {
    async fn start(&self, request: &InteractionRequest) -> Result<Url, InteractionError> {
        self.started
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(request.clone());
        let Some(login_url) = &self.login_url else {
            return Ok(request.pages_url.clone());
        };
        let mut to = login_url.clone();
        to.query_pairs_mut()
            .append_pair("interaction", &request.id.to_string());
        Ok(to)
    }

    async fn authenticate(
        &self,
        request: &InteractionRequest,
        evidence: &AuthenticationEvidence,
    ) -> Result<AuthenticatedCustomer, AuthenticationError> {
        match self.mode {
            Mode::AutoApproving => Ok(AuthenticatedCustomer {
                subject: request
                    .logged_user
                    .clone()
                    .ok_or(AuthenticationError::Rejected)?,
                business_entity: request.business_entity.clone(),
                acr: preferred(request),
                auth_time: self.clock.now(),
            }),
            Mode::Password => {
                let AuthenticationEvidence::Form(fields) = evidence else {
                    return Err(AuthenticationError::Rejected);
                };
                password_login(fields, request, self.clock.now())
            }
        }
    }
}

fn password_login(
    fields: &BTreeMap<String, String>,
    request: &InteractionRequest,
    now: opus_core::Timestamp,
) -> Result<AuthenticatedCustomer, AuthenticationError> {
    if fields.get("password").map(String::as_str) != Some(TEST_PASSWORD) {
        return Err(AuthenticationError::Rejected);
    }
    let subject = fields
        .get("cpf")
        .and_then(|c| Cpf::parse(c).ok())
        .ok_or(AuthenticationError::Rejected)?;
    let business_entity = match fields.get("cnpj") {
        None => None,
        Some(c) => Some(Cnpj::parse(c).map_err(|_| AuthenticationError::Rejected)?),
    };
    let acr = match fields.get("acr").map(String::as_str) {
        None => preferred(request),
        Some("loa2") => Acr::Loa2,
        Some("loa3") => Acr::Loa3,
        Some(_) => return Err(AuthenticationError::Rejected),
    };
    Ok(AuthenticatedCustomer {
        subject,
        business_entity,
        acr,
        auth_time: now,
    })
}

/// Fixed resources per customer (CPF), for the consent screen.
#[derive(Debug, Default)]
pub struct StaticResources {
    by_customer: Mutex<BTreeMap<String, Vec<SelectableResource>>>,
}

impl StaticResources {
    /// No resources yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Offers `resource` to `customer`.
    pub fn add(&self, customer: &Cpf, resource: SelectableResource) {
        self.by_customer
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(customer.as_str().to_owned())
            .or_default()
            .push(resource);
    }
}

#[async_trait]
impl CustomerResources for StaticResources {
    async fn selectable(
        &self,
        query: &ResourceQuery,
    ) -> Result<Vec<SelectableResource>, InteractionError> {
        Ok(self
            .by_customer
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(query.customer.subject.as_str())
            .map(|all| {
                all.iter()
                    .filter(|r| query.resource_types.contains(&r.resource_type))
                    .cloned()
                    .collect()
            })
            .unwrap_or_default())
    }
}
