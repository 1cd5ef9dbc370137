//! The CLIENT reports of the calls this institution makes: a
//! [`PcmCallObserver`] is the `CallObserver` of an
//! `opus_fapi::client::FapiClient`, so every call it makes — token, PAR,
//! the APIs — has its report (a timeout as 408), with `additionalInfo`
//! read from the answer.

use opus_core::{OrganisationId, SoftwareStatementId};
use opus_fapi::client::{CallObserver, ObservedCall};
use opus_fapi::jose::jws;

use crate::capture::PcmReporter;
use crate::report::{ClientCall, additional_info_from};

/// See the module docs.
#[derive(Clone, Debug)]
pub struct PcmCallObserver {
    reporter: PcmReporter,
    server: OrganisationId,
    software_statement: SoftwareStatementId,
}

impl PcmCallObserver {
    /// Calls to the institution of directory organisation `server`, made
    /// under `software_statement`, reported by `reporter`.
    pub fn new(
        reporter: PcmReporter,
        server: OrganisationId,
        software_statement: SoftwareStatementId,
    ) -> Self {
        Self {
            reporter,
            server,
            software_statement,
        }
    }
}

#[async_trait::async_trait]
impl CallObserver for PcmCallObserver {
    async fn observe(&self, call: ObservedCall<'_>) {
        let (status, interaction, info) = match call.answer {
            Some(answer) => {
                // A signed body's claims (unverified: only for the report), or the JSON.
                let payload = std::str::from_utf8(&answer.body)
                    .ok()
                    .and_then(jws::peek_claims)
                    .or_else(|| serde_json::from_slice(&answer.body).ok())
                    .unwrap_or(serde_json::Value::Null);
                (
                    Some(answer.status.as_u16()),
                    answer
                        .headers
                        .get("x-fapi-interaction-id")
                        .and_then(|v| v.to_str().ok())
                        .map(str::to_owned)
                        .or_else(|| call.sent_interaction.map(str::to_owned)),
                    additional_info_from(answer.status.as_u16(), &payload),
                )
            }
            None => (None, None, Default::default()),
        };
        self.reporter
            .client_call(&ClientCall {
                url: call.url.clone(),
                method: call.method.clone(),
                status,
                interaction_id: interaction,
                started_at: call.started,
                finished_at: call.finished,
                server_org_id: self.server,
                software_statement_id: self.software_statement,
                additional_info: info,
                correlation_id: None,
            })
            .await;
    }
}
