//! Observability of calls: [`RequestSpanLayer`] opens a `tracing` span per
//! request whose fields carry Elastic Common Schema names — the
//! `x-fapi-interaction-id` (`transaction.id`), the brand (`labels.brand`),
//! the method and path, and, once the resource guard has verified them, the
//! client (`client.id`) and consent (`labels.consent_id`) — so every line
//! logged while serving the request carries them, and ends it with one
//! line stating the status and duration (`event.duration`, nanoseconds).
//!
//! With the `ecs-json` feature, [`EcsJsonLayer`] writes each event as one
//! JSON object with ECS field names (`@timestamp`, `log.level`,
//! `log.logger`, `message`, and the span fields, innermost last). The
//! library never installs a subscriber: the application does, with this
//! layer or any other.
//!
//! What is logged is ids, never personal data: the SDK's crates log
//! documents, names and account numbers nowhere.

use std::task::{Context, Poll};

use http::{Request, Response};
use opus_core::{BrandId, Clock};
use std::sync::Arc;
use tracing::Instrument;

/// The field names the request span declares (ECS).
pub mod fields {
    /// `x-fapi-interaction-id`.
    pub const INTERACTION_ID: &str = "transaction.id";
    /// The verified client (recorded by the resource guard).
    pub const CLIENT_ID: &str = "client.id";
    /// The consent of the token (recorded by the resource guard).
    pub const CONSENT_ID: &str = "labels.consent_id";
}

/// See the module docs.
#[derive(Clone)]
pub struct RequestSpanLayer {
    brand: BrandId,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for RequestSpanLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RequestSpanLayer")
            .field("brand", &self.brand)
            .finish_non_exhaustive()
    }
}

impl RequestSpanLayer {
    /// Spans for the requests `brand` serves, timed by `clock`.
    pub fn new(brand: BrandId, clock: Arc<dyn Clock>) -> Self {
        Self { brand, clock }
    }
}

impl<S> tower::Layer<S> for RequestSpanLayer {
    type Service = RequestSpanService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RequestSpanService {
            inner,
            layer: self.clone(),
        }
    }
}

/// The service of [`RequestSpanLayer`].
#[derive(Clone, Debug)]
pub struct RequestSpanService<S> {
    inner: S,
    layer: RequestSpanLayer,
}

impl<S, B, R> tower::Service<Request<B>> for RequestSpanService<S>
where
    S: tower::Service<Request<B>, Response = Response<R>> + Clone + Send + 'static,
    S::Future: Send,
    B: Send + 'static,
{
    type Response = Response<R>;
    type Error = S::Error;
    type Future =
        std::pin::Pin<Box<dyn std::future::Future<Output = Result<Response<R>, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let clock = self.layer.clock.clone();
        let interaction = request
            .headers()
            .get("x-fapi-interaction-id")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| opus_core::InteractionId::parse(v).ok())
            .map(|id| id.to_string())
            .unwrap_or_default();
        let span = tracing::info_span!(
            "request",
            "transaction.id" = %interaction,
            "labels.brand" = %self.layer.brand,
            "http.request.method" = %request.method(),
            "url.path" = %request.uri().path(),
            "client.id" = tracing::field::Empty,
            "labels.consent_id" = tracing::field::Empty,
        );
        Box::pin(
            async move {
                let started = clock.now();
                let result = inner.call(request).await;
                let took = clock.now().duration_since(started);
                if let Ok(response) = &result {
                    tracing::info!(
                        "http.response.status_code" = response.status().as_u16(),
                        "event.duration" = u64::try_from(took.as_nanos()).unwrap_or(u64::MAX),
                        "request served"
                    );
                }
                result
            }
            .instrument(span),
        )
    }
}

#[cfg(feature = "ecs-json")]
pub use ecs::EcsJsonLayer;

#[cfg(feature = "ecs-json")]
mod ecs {
    use std::io::Write;
    use std::sync::{Arc, Mutex};

    use serde_json::{Map, Value};
    use tracing::field::{Field, Visit};
    use tracing::{Event, Subscriber};
    use tracing_subscriber::layer::Context;
    use tracing_subscriber::registry::LookupSpan;

    /// Writes each event as one JSON line with ECS field names (see the
    /// module docs) to `writer`.
    pub struct EcsJsonLayer {
        writer: Arc<Mutex<dyn Write + Send>>,
    }

    impl std::fmt::Debug for EcsJsonLayer {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.debug_struct("EcsJsonLayer").finish_non_exhaustive()
        }
    }

    impl EcsJsonLayer {
        /// Lines to `writer` (standard output, a file, a test buffer).
        pub fn new(writer: Arc<Mutex<dyn Write + Send>>) -> Self {
            Self { writer }
        }
    }

    /// The fields of a span, kept in its extensions.
    struct SpanFields(Map<String, Value>);

    struct Collect<'a>(&'a mut Map<String, Value>);

    impl Visit for Collect<'_> {
        fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
            self.0
                .insert(field.name().to_owned(), Value::String(format!("{value:?}")));
        }

        fn record_str(&mut self, field: &Field, value: &str) {
            self.0
                .insert(field.name().to_owned(), Value::String(value.to_owned()));
        }

        fn record_u64(&mut self, field: &Field, value: u64) {
            self.0.insert(field.name().to_owned(), Value::from(value));
        }

        fn record_i64(&mut self, field: &Field, value: i64) {
            self.0.insert(field.name().to_owned(), Value::from(value));
        }

        fn record_bool(&mut self, field: &Field, value: bool) {
            self.0.insert(field.name().to_owned(), Value::from(value));
        }
    }

    impl<S> tracing_subscriber::Layer<S> for EcsJsonLayer
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        fn on_new_span(
            &self,
            attrs: &tracing::span::Attributes<'_>,
            id: &tracing::span::Id,
            ctx: Context<'_, S>,
        ) {
            let mut fields = Map::new();
            attrs.record(&mut Collect(&mut fields));
            if let Some(span) = ctx.span(id) {
                span.extensions_mut().insert(SpanFields(fields));
            }
        }

        fn on_record(
            &self,
            id: &tracing::span::Id,
            values: &tracing::span::Record<'_>,
            ctx: Context<'_, S>,
        ) {
            if let Some(span) = ctx.span(id)
                && let Some(fields) = span.extensions_mut().get_mut::<SpanFields>()
            {
                values.record(&mut Collect(&mut fields.0));
            }
        }

        fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
            let mut line = Map::new();
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| i64::try_from(d.as_millis()).unwrap_or(0))
                .unwrap_or(0);
            let timestamp = opus_core::Timestamp::from_unix_millis(now)
                .map(|t| t.to_rfc3339_millis())
                .unwrap_or_default();
            line.insert("@timestamp".to_owned(), Value::String(timestamp));
            line.insert(
                "log.level".to_owned(),
                Value::String(event.metadata().level().to_string().to_lowercase()),
            );
            line.insert(
                "log.logger".to_owned(),
                Value::String(event.metadata().target().to_owned()),
            );
            if let Some(scope) = ctx.event_scope(event) {
                for span in scope.from_root() {
                    if let Some(fields) = span.extensions().get::<SpanFields>() {
                        for (k, v) in &fields.0 {
                            line.insert(k.clone(), v.clone());
                        }
                    }
                }
            }
            event.record(&mut Collect(&mut line));
            line.insert("ecs.version".to_owned(), Value::String("8.11".to_owned()));
            if let Ok(mut text) = serde_json::to_vec(&Value::Object(line)) {
                text.push(b'\n');
                let mut writer = self.writer.lock().unwrap_or_else(|e| e.into_inner());
                let _ = writer.write_all(&text);
            }
        }
    }
}
