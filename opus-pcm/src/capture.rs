//! Capture: a SERVER report for every call served ([`PcmLayer`]) and a
//! CLIENT report for every call made ([`PcmReporter::client_call`]), each
//! written to the durable outbox for the [`crate::PcmSender`].

use std::sync::Arc;
use std::task::{Context, Poll};

use http::{HeaderValue, Request, Response};
use opus_core::id::MessageId;
use opus_core::store::{CallSample, OutboxMessage, Topic};
use opus_core::{Brand, BrandId, Clock, InteractionId, OrganisationId, Storage, Timestamp};
use opus_fapi::mtls::{ConnectionInfo, PeerCertificate};
use serde_json::Value;

use crate::endpoints::{Endpoint, EndpointCatalogue};
use crate::report::{ClientCall, OpendataReport, PrivateReport, Role, timespan_ms};

/// The outbox topic of private reports.
pub const PRIVATE_TOPIC: &str = "pcm-private";
/// The outbox topic of open-data reports.
pub const OPENDATA_TOPIC: &str = "pcm-opendata";
/// The outbox topic of reports sent one per request, each to its own path
/// (`{"path": …, "body": …}`): hybrid-flow steps and the daily consent stock.
pub const SINGLE_TOPIC: &str = "pcm-single";

const INTERACTION_ID: &str = "x-fapi-interaction-id";
/// Set by a trusted front (load balancer, gateway) to when it received the
/// request, in milliseconds since the epoch.
const REQUEST_START: &str = "x-request-start-time";

/// Writes reports to the outbox.
#[derive(Clone)]
pub struct PcmReporter {
    brand: BrandId,
    storage: Storage,
    clock: Arc<dyn Clock>,
    catalogue: Arc<EndpointCatalogue>,
    organisation: OrganisationId,
}

impl std::fmt::Debug for PcmReporter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PcmReporter")
            .field("organisation", &self.organisation)
            .finish_non_exhaustive()
    }
}

impl PcmReporter {
    /// Reports of organisation `organisation` (its directory id), to the
    /// outbox of `storage` under `brand`, with the default endpoint
    /// catalogue.
    pub fn new(
        brand: BrandId,
        organisation: OrganisationId,
        storage: Storage,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            brand,
            storage,
            clock,
            catalogue: Arc::new(EndpointCatalogue::default()),
            organisation,
        }
    }

    /// The reports of the calls `brand` serves (its organisation).
    pub fn for_brand(brand: &Brand, storage: Storage, clock: Arc<dyn Clock>) -> Self {
        Self::new(brand.id().clone(), *brand.organisation_id(), storage, clock)
    }

    /// With another endpoint catalogue (the collector's current list).
    pub fn with_catalogue(mut self, catalogue: EndpointCatalogue) -> Self {
        self.catalogue = Arc::new(catalogue);
        self
    }

    /// The clock reports are timed by.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// The catalogue in use.
    pub fn catalogue(&self) -> &EndpointCatalogue {
        &self.catalogue
    }

    async fn enqueue(&self, topic: &str, payload: Vec<u8>, at: Timestamp) {
        let Ok(topic) = Topic::new(topic) else {
            return;
        };
        let message = OutboxMessage {
            id: MessageId::random(),
            brand: self.brand.clone(),
            topic,
            payload,
            created_at: at,
            available_at: at,
        };
        // Reporting never fails the call it reports; a lost write is logged.
        if let Err(e) = self.storage.outbox.enqueue(&[message]).await {
            tracing::error!(error = %e, "metrics report not written to the outbox");
        }
    }

    /// Writes a private report.
    pub async fn private(&self, report: &PrivateReport) {
        match serde_json::to_vec(report) {
            Ok(payload) => self.enqueue(PRIVATE_TOPIC, payload, self.clock.now()).await,
            Err(e) => tracing::error!(error = %e, "metrics report not serialisable"),
        }
    }

    /// Writes an open-data report.
    pub async fn opendata(&self, report: &OpendataReport) {
        match serde_json::to_vec(report) {
            Ok(payload) => {
                self.enqueue(OPENDATA_TOPIC, payload, self.clock.now())
                    .await
            }
            Err(e) => tracing::error!(error = %e, "metrics report not serialisable"),
        }
    }

    /// The CLIENT report of a call this institution made; `false` when the
    /// endpoint is not one the collector takes (nothing written).
    pub async fn client_call(&self, call: &ClientCall) -> bool {
        let Some(Endpoint::Private { template, prefix }) = self.catalogue.classify(call.url.path())
        else {
            return false;
        };
        // `https://{host}/{prefix}`; for security endpoints the full URL.
        let origin = call.url.origin().ascii_serialization();
        let endpoint_uri_prefix = if prefix.is_empty() && !template.starts_with("/open-banking") {
            format!("{origin}{}", call.url.path())
        } else {
            format!("{origin}{prefix}")
        };
        let report = PrivateReport {
            fapi_interaction_id: call.interaction_id.clone(),
            endpoint: template,
            status_code: call.status.unwrap_or(408),
            http_method: call.method.as_str().to_owned(),
            correlation_id: call.correlation_id.clone(),
            timestamp: call.started_at.to_rfc3339_millis(),
            process_timespan: timespan_ms(call.started_at, call.finished_at),
            client_org_id: self.organisation.to_string(),
            server_org_id: call.server_org_id.to_string(),
            client_ss_id: Some(call.software_statement_id.to_string()),
            endpoint_uri_prefix: Some(endpoint_uri_prefix),
            additional_info: Some(call.additional_info.clone()),
            role: Role::Client,
        };
        self.private(&report).await;
        true
    }
}

/// A tower `Layer` that writes a SERVER report (or an open-data report)
/// for every call of an endpoint on the collector's list, whatever its
/// outcome: the template (never the concrete path), method, status, when it
/// was received (or `x-request-start-time` from a trusted front) with
/// milliseconds, how long it took, the caller's organisation from its
/// client certificate and the `x-fapi-interaction-id` answered (one is
/// created and answered when the call came without a valid one).
///
/// Mount it inside the TLS server (it reads [`ConnectionInfo`]) — behind a
/// gateway, inside the `ClientCertificateLayer` too (it reads the gateway's
/// [`PeerCertificate`]) — and outside the resource guard, so calls the
/// guard refuses are reported too.
#[derive(Clone, Debug)]
pub struct PcmLayer {
    reporter: PcmReporter,
    trust_request_start: bool,
}

impl PcmLayer {
    /// Reports through `reporter`.
    pub fn new(reporter: PcmReporter) -> Self {
        Self {
            reporter,
            trust_request_start: false,
        }
    }

    /// Takes the start time from `x-request-start-time` (milliseconds since
    /// the epoch) when the front that sets it is trusted.
    pub fn trust_request_start_header(mut self) -> Self {
        self.trust_request_start = true;
        self
    }
}

impl<S> tower::Layer<S> for PcmLayer {
    type Service = PcmService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        PcmService {
            inner,
            layer: self.clone(),
        }
    }
}

/// The service of [`PcmLayer`].
#[derive(Clone, Debug)]
pub struct PcmService<S> {
    inner: S,
    layer: PcmLayer,
}

/// The caller's organisation: from the certificate a gateway forwarded, or
/// the one of this connection's handshake.
fn caller<B>(request: &Request<B>) -> Option<OrganisationId> {
    if let Some(peer) = request.extensions().get::<PeerCertificate>()
        && peer.via_gateway()
    {
        return peer.identity().ok()?.organisation_id;
    }
    request
        .extensions()
        .get::<ConnectionInfo>()?
        .with_client_identity(|identity| identity.as_ref().ok().and_then(|i| i.organisation_id))?
}

impl<S, B, R> tower::Service<Request<B>> for PcmService<S>
where
    S: tower::Service<Request<B>, Response = Response<R>> + Clone + Send + 'static,
    S::Future: Send,
    S::Error: Send,
    B: Send + 'static,
    R: Send + 'static,
{
    type Response = Response<R>;
    type Error = S::Error;
    type Future =
        std::pin::Pin<Box<dyn std::future::Future<Output = Result<Response<R>, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<B>) -> Self::Future {
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let layer = self.layer.clone();
        Box::pin(async move {
            let reporter = &layer.reporter;
            let received = reporter.clock.now();
            let started = if layer.trust_request_start {
                request
                    .headers()
                    .get(REQUEST_START)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.parse::<i64>().ok())
                    .and_then(|ms| Timestamp::from_unix_millis(ms).ok())
                    .filter(|t| *t <= received)
                    .unwrap_or(received)
            } else {
                received
            };
            let endpoint = reporter.catalogue.classify(request.uri().path());
            let method = request.method().as_str().to_owned();
            let client = caller(&request);
            let address = request
                .extensions()
                .get::<ConnectionInfo>()
                .map(|c| c.remote_addr.ip());
            // The call's interaction id: the one sent, or one created and
            // answered (the guard answers it on the APIs it fronts).
            let sent = request
                .headers()
                .get(INTERACTION_ID)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| InteractionId::parse(v).ok());
            let interaction = sent.unwrap_or_else(InteractionId::random);
            if sent.is_none()
                && let Ok(value) = HeaderValue::from_str(&interaction.to_string())
            {
                request.headers_mut().insert(INTERACTION_ID, value);
            }
            let mut response = inner.call(request).await?;
            let finished = reporter.clock.now();
            let answered = response
                .headers()
                .get(INTERACTION_ID)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| InteractionId::parse(v).ok());
            let interaction = match answered {
                Some(id) => id,
                None => {
                    if let Ok(value) = HeaderValue::from_str(&interaction.to_string()) {
                        response.headers_mut().insert(INTERACTION_ID, value);
                    }
                    interaction
                }
            };
            let status = response.status().as_u16();
            // The figures of the admin metrics and availability.
            if let Some(Endpoint::Private { template, .. } | Endpoint::Opendata { template }) =
                &endpoint
            {
                let sample = CallSample {
                    brand: reporter.brand.clone(),
                    endpoint: template.clone(),
                    at: started,
                    duration_ms: timespan_ms(started, finished),
                    status,
                };
                if let Err(e) = reporter.storage.operations.record_call(&sample).await {
                    tracing::warn!(error = %e, "call statistics not recorded");
                }
            }
            match endpoint {
                Some(Endpoint::Private { template, .. }) => match client {
                    Some(client) => {
                        let report = PrivateReport {
                            fapi_interaction_id: Some(interaction.to_string()),
                            endpoint: template,
                            status_code: status,
                            http_method: method,
                            correlation_id: None,
                            timestamp: started.to_rfc3339_millis(),
                            process_timespan: timespan_ms(started, finished),
                            client_org_id: client.to_string(),
                            server_org_id: reporter.organisation.to_string(),
                            client_ss_id: None,
                            endpoint_uri_prefix: None,
                            additional_info: None,
                            role: Role::Server,
                        };
                        reporter.private(&report).await;
                    }
                    // Not a participant's call (no directory certificate):
                    // nothing the collector could pair.
                    None => {
                        tracing::debug!(endpoint = %template, "call without a participant certificate not reported")
                    }
                },
                Some(Endpoint::Opendata { template }) if method == "GET" => {
                    let mut info = crate::report::AdditionalInfo::new();
                    if let Some(ip) = address {
                        info.insert("clientIp".to_owned(), Value::String(ip.to_string()));
                    }
                    reporter
                        .opendata(&OpendataReport {
                            endpoint: template,
                            status_code: status,
                            http_method: method,
                            timestamp: started.to_rfc3339_millis(),
                            process_timespan: timespan_ms(started, finished),
                            additional_info: info,
                        })
                        .await;
                }
                _ => {}
            }
            Ok(response)
        })
    }
}

/// The server side of the hybrid-flow reports: `redirect-target` when the
/// browser lands, `authenticated` after the login, `redirect-to-client`
/// when it is sent back (PCM `/report-api/v2/hybrid-flow/server/…`).
#[async_trait::async_trait]
impl opus_fapi::server::flow::FlowObserver for PcmReporter {
    async fn observe(
        &self,
        _brand: &Brand,
        consent: &opus_core::ConsentId,
        device: &opus_fapi::server::flow::Device,
        event: opus_fapi::server::flow::FlowEvent,
        at: Timestamp,
    ) {
        use opus_fapi::server::flow::{FlowEvent, Waiting};
        let uri = |url: &url::Url| {
            let mut url = url.clone();
            url.set_query(None);
            url.set_fragment(None);
            url.to_string().chars().take(200).collect::<String>()
        };
        let mut body = serde_json::json!({
            "consentId": consent.as_str(),
            "os": device.os,
            "osVersion": device.os_version,
            "timestamp": at.to_rfc3339_millis(),
        });
        let path = match event {
            FlowEvent::RedirectTarget {
                waiting,
                authorization_endpoint,
            } => {
                body["uriAuthorizationEndpoint"] = Value::String(uri(&authorization_endpoint));
                body["type"] = Value::String(
                    match waiting {
                        Waiting::HandOff => "AWAITING_HANDOFF",
                        _ => "AWAITING_USER_AUTH",
                    }
                    .to_owned(),
                );
                "/report-api/v2/hybrid-flow/server/redirect-target"
            }
            FlowEvent::Authenticated => {
                body["Platform"] = Value::String(device.platform.to_owned());
                "/report-api/v2/hybrid-flow/server/authenticated"
            }
            FlowEvent::RedirectToClient {
                callback,
                authorised,
            } => {
                body["Platform"] = Value::String(device.platform.to_owned());
                body["uri_callback"] = Value::String(uri(&callback));
                body["type"] =
                    Value::String(if authorised { "AUTHORISED" } else { "REJECTED" }.to_owned());
                "/report-api/v2/hybrid-flow/server/redirect-to-client"
            }
            _ => return,
        };
        match serde_json::to_vec(&serde_json::json!({"path": path, "body": body})) {
            Ok(payload) => self.enqueue(SINGLE_TOPIC, payload, at).await,
            Err(e) => tracing::error!(error = %e, "hybrid-flow report not serialisable"),
        }
    }
}

impl PcmReporter {
    /// The daily stock of active data-sharing consents (IN BCB 588, the
    /// collector's "Estoque de Consentimentos Ativos"), as this institution
    /// serves them (`role` `SERVER`, `scope` `DADOS`): the consents
    /// `AUTHORISED` at the end of `day` by consuming organisation, and the
    /// unique customers (PF by CPF, PJ by CNPJ, through the blind indexes),
    /// queued for the collector's consent-stock endpoint at `path` (not in
    /// the public spec: the collector's integration manual gives it). Due by
    /// 08:00 of the next day; an identical report resent within 24 hours is
    /// ignored by the collector, a changed one replaces it.
    ///
    /// # Errors
    /// [`opus_core::StoreError`] when the store fails.
    pub async fn consent_stock(
        &self,
        day: opus_core::Date,
        path: &str,
    ) -> Result<serde_json::Value, opus_core::StoreError> {
        use opus_core::consent::{ConsentKind, ConsentStatus};
        use opus_core::store::{ConsentFilter, Window};
        use std::collections::{BTreeMap, BTreeSet};
        let end = Timestamp::parse(&format!("{}T03:00:00Z", day.next_day().unwrap_or(day)))
            .unwrap_or_else(|_| self.clock.now());
        let filter = ConsentFilter {
            kind: Some(ConsentKind::Data),
            statuses: vec![ConsentStatus::Authorised],
            ..ConsentFilter::brand(self.brand.clone())
        };
        let mut by_org: BTreeMap<String, u64> = BTreeMap::new();
        let mut orgs: BTreeMap<opus_core::ClientId, Option<String>> = BTreeMap::new();
        let mut pf = BTreeSet::new();
        let mut pj = BTreeSet::new();
        let mut offset = 0;
        loop {
            let page = self
                .storage
                .consents
                .list_consents(&filter, Window { offset, limit: 500 })
                .await?;
            let count = page.items.len();
            for consent in page.items {
                // Active at the end of the day: authorised by then, not
                // expired by then.
                if consent.status_updated_at >= end || consent.expires_at.is_some_and(|e| e <= end)
                {
                    continue;
                }
                let org = match orgs.get(&consent.client_id) {
                    Some(org) => org.clone(),
                    None => {
                        let org = self
                            .storage
                            .clients
                            .get_client(&self.brand, &consent.client_id)
                            .await?
                            .map(|c| c.organisation_id.to_string());
                        orgs.insert(consent.client_id.clone(), org.clone());
                        org
                    }
                };
                let Some(org) = org else { continue };
                *by_org.entry(org).or_default() += 1;
                match (consent.business_entity, consent.subject) {
                    (Some(company), _) => {
                        pj.insert(company);
                    }
                    (None, Some(person)) => {
                        pf.insert(person);
                    }
                    _ => {}
                }
            }
            if count < 500 {
                break;
            }
            offset += 500;
        }
        let server = self.organisation.to_string();
        let body = serde_json::json!({
            "date": day,
            "orgId": server,
            "role": "SERVER",
            "scope": "DADOS",
            "totalCustomerPF": pf.len(),
            "totalCustomerPJ": pj.len(),
            "consentsStockList": by_org
                .iter()
                .map(|(client, total)| serde_json::json!({
                    "clientOrgId": client,
                    "serverOrgId": server,
                    "totalActiveConsents": total,
                }))
                .collect::<Vec<_>>(),
        });
        let payload = serde_json::to_vec(&serde_json::json!({"path": path, "body": body}))
            .map_err(|e| opus_core::StoreError::Other(Box::new(e)))?;
        self.enqueue(SINGLE_TOPIC, payload, self.clock.now()).await;
        Ok(body)
    }
}
