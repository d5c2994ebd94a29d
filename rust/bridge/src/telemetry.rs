//! Rust logs and metrics into the Collector's own telemetry.
//!
//! Logs: processors and the bridge log through the `log` facade. The
//! bridge's logger forwards a record to the zap logger of the component it
//! belongs to (one `GoBridge::log` call, structured key-values kept as
//! fields). The processor is known from the thread: the bridge marks the
//! thread with the component and stage while it polls a stage's future. The level Go's loggers enable
//! becomes `log::max_level`, which the `log` macros check before formatting
//! anything: a disabled debug log costs a load and a compare, never an FFI
//! call.
//!
//! Metrics: processors add to counters declared by their factory
//! (`EffectHandler::add_counter`, an atomic add); Go reads the totals with
//! one `read_counters` call per collection, through observable instruments
//! on the component's MeterProvider.

use std::cell::Cell;
use std::fmt::Write as _;
use std::future::Future;
use std::pin::Pin;
use std::sync::Once;
use std::task::{Context, Poll};

use log::{Level, LevelFilter, Log, Metadata, Record};

use crate::abi::{
    OTELCOL_RUST_LOG_DEBUG, OTELCOL_RUST_LOG_ERROR, OTELCOL_RUST_LOG_INFO, OTELCOL_RUST_LOG_OFF,
    OTELCOL_RUST_LOG_WARN,
};
use crate::ffi::{GoBridge, GoBridgeImpl, LogRecord};

thread_local! {
    static CURRENT_STAGE: Cell<(u64, u32)> = const { Cell::new((0, 0)) };
}

/// Marks the current thread as working for a stage of a component until
/// dropped.
pub struct StageScope((u64, u32));

impl StageScope {
    /// Enters the stage's scope.
    pub fn enter(component: u64, stage: u32) -> Self {
        StageScope(CURRENT_STAGE.with(|c| c.replace((component, stage))))
    }
}

impl Drop for StageScope {
    fn drop(&mut self) {
        CURRENT_STAGE.with(|c| c.set(self.0));
    }
}

/// Polls a future inside its stage's scope, so that what it logs goes to
/// that processor's logger.
pub struct InStage<F> {
    component: u64,
    stage: u32,
    future: F,
}

impl<F> InStage<F> {
    /// Wraps `future`.
    pub fn new(component: u64, stage: u32, future: F) -> Self {
        InStage {
            component,
            stage,
            future,
        }
    }
}

impl<F: Future + Unpin> Future for InStage<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let _scope = StageScope::enter(self.component, self.stage);
        Pin::new(&mut self.future).poll(cx)
    }
}

struct BridgeLogger;

static LOGGER: BridgeLogger = BridgeLogger;

/// Lets Rust log at `level` (`OTELCOL_RUST_LOG_*`) and above.
pub fn configure_logging(level: u8) {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        // Only fails if another logger is set, which nothing in the
        // staticlib does.
        let _ = log::set_logger(&LOGGER);
    });
    let filter = match level {
        OTELCOL_RUST_LOG_OFF => LevelFilter::Off,
        OTELCOL_RUST_LOG_ERROR => LevelFilter::Error,
        OTELCOL_RUST_LOG_WARN => LevelFilter::Warn,
        OTELCOL_RUST_LOG_INFO => LevelFilter::Info,
        _ => LevelFilter::Debug,
    };
    // The most verbose level any component enables wins; Go filters again
    // per component.
    if filter > log::max_level() {
        log::set_max_level(filter);
    }
}

fn zap_level(level: Level) -> u8 {
    match level {
        Level::Error => OTELCOL_RUST_LOG_ERROR,
        Level::Warn => OTELCOL_RUST_LOG_WARN,
        Level::Info => OTELCOL_RUST_LOG_INFO,
        Level::Debug | Level::Trace => OTELCOL_RUST_LOG_DEBUG,
    }
}

struct JsonFields(String);

impl<'kvs> log::kv::VisitSource<'kvs> for JsonFields {
    fn visit_pair(
        &mut self,
        key: log::kv::Key<'kvs>,
        value: log::kv::Value<'kvs>,
    ) -> Result<(), log::kv::Error> {
        if self.0.len() > 1 {
            self.0.push(',');
        }
        let key = serde_json::to_string(key.as_str()).unwrap_or_default();
        let value = if let Some(i) = value.to_i64() {
            i.to_string()
        } else if let Some(u) = value.to_u64() {
            u.to_string()
        } else if let Some(f) = value.to_f64() {
            serde_json::Number::from_f64(f).map_or_else(|| "null".into(), |n| n.to_string())
        } else if let Some(b) = value.to_bool() {
            b.to_string()
        } else {
            let mut s = String::new();
            let _ = write!(s, "{value}");
            serde_json::to_string(&s).unwrap_or_default()
        };
        let _ = write!(self.0, "{key}:{value}");
        Ok(())
    }
}

impl Log for BridgeLogger {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        metadata.level() <= log::max_level()
    }

    fn log(&self, record: &Record<'_>) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let mut fields = JsonFields(String::from("{"));
        let _ = record.key_values().visit(&mut fields);
        fields.0.push('}');
        let (component, stage) = CURRENT_STAGE.with(Cell::get);
        GoBridgeImpl::log(&LogRecord {
            component,
            stage,
            level: zap_level(record.level()),
            target: record.target().to_string(),
            message: record.args().to_string(),
            fields_json: fields.0,
        });
    }

    fn flush(&self) {}
}

/// A processor's spans, recorded by Go on its TracerProvider.
pub struct GoSpans {
    component: u64,
    stage: u32,
}

impl GoSpans {
    /// Spans of a stage of the component with this handle.
    pub fn new(component: u64, stage: u32) -> Self {
        GoSpans { component, stage }
    }
}

impl otelcol_rust_engine::SpanSink for GoSpans {
    fn start(
        &self,
        name: &str,
        parent: &opentelemetry::trace::SpanContext,
    ) -> (u64, opentelemetry::trace::SpanContext) {
        let started = GoBridgeImpl::span_start(&crate::ffi::SpanStart {
            component: self.component,
            stage: self.stage,
            parent: crate::context::encode(None, parent),
            name: name.to_string(),
        });
        let context = crate::context::decode(&started.context)
            .ok()
            .and_then(|d| d.span_context)
            .unwrap_or_else(|| parent.clone());
        (started.handle, context)
    }

    fn end(&self, handle: u64, error: Option<&str>) {
        GoBridgeImpl::span_end(&crate::ffi::SpanEnd {
            handle,
            error: error.unwrap_or_default().to_string(),
        });
    }
}
