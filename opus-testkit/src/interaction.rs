//! A stand-in for the bank's login and consent front.

use std::sync::Mutex;

use async_trait::async_trait;
use opus_core::interaction::{InteractionError, InteractionRequest, UserAuthenticator};
use url::Url;

/// Records every interaction the authorization server starts and sends the
/// customer to `{login_url}?interaction=<id>`; the test (or the sandbox)
/// then plays the customer and reports the outcome.
#[derive(Debug)]
pub struct RecordingAuthenticator {
    login_url: Url,
    started: Mutex<Vec<InteractionRequest>>,
}

impl RecordingAuthenticator {
    /// Sends customers to `login_url`.
    pub fn new(login_url: Url) -> Self {
        Self {
            login_url,
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
}

#[async_trait]
impl UserAuthenticator for RecordingAuthenticator {
    async fn start(&self, request: &InteractionRequest) -> Result<Url, InteractionError> {
        self.started
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(request.clone());
        let mut to = self.login_url.clone();
        to.query_pairs_mut()
            .append_pair("interaction", &request.id.to_string());
        Ok(to)
    }
}
