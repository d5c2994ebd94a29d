//! Rust logs and metrics into the Collector's own telemetry.
//!
//! Logs: processors and the bridge log through the `log` facade. The
//! bridge's logger forwards a record to the zap logger of the component it
//! belongs to (one `GoBridge::log` call, structured key-values kept as
//! fields). The component is known from the thread: the bridge marks the
//! thread while it polls a request's future. The level Go's loggers enable
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

use crate::ffi::{GoBridge, GoBridgeImpl, LogRecord};

thread_local! {
    static CURRENT_COMPONENT: Cell<u64> = const { Cell::new(0) };
}

/// Marks the current thread as working for `component` until dropped.
pub struct ComponentScope(u64);

impl ComponentScope {
    /// Enters the component's scope.
    pub fn enter(component: u64) -> Self {
        ComponentScope(CURRENT_COMPONENT.with(|c| c.replace(component)))
    }
}

impl Drop for ComponentScope {
    fn drop(&mut self) {
        CURRENT_COMPONENT.with(|c| c.set(self.0));
    }
}

/// Polls a future inside its component's scope (the slow path).
pub struct InComponent<F> {
    /// The component.
    pub component: u64,
    /// The future.
    pub future: F,
}

impl<F: Future + Unpin> Future for InComponent<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let _scope = ComponentScope::enter(self.component);
        Pin::new(&mut self.future).poll(cx)
    }
}

struct BridgeLogger;

static LOGGER: BridgeLogger = BridgeLogger;

/// Zap's levels as Go passes them: 0 off, 1 error, 2 warn, 3 info, 4 debug.
pub fn configure_logging(level: u8) {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        // Only fails if another logger is set, which nothing in the
        // staticlib does.
        let _ = log::set_logger(&LOGGER);
    });
    let filter = match level {
        0 => LevelFilter::Off,
        1 => LevelFilter::Error,
        2 => LevelFilter::Warn,
        3 => LevelFilter::Info,
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
        Level::Error => 1,
        Level::Warn => 2,
        Level::Info => 3,
        Level::Debug | Level::Trace => 4,
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
        GoBridgeImpl::log(&LogRecord {
            component: CURRENT_COMPONENT.with(|c| c.get()),
            level: zap_level(record.level()),
            target: record.target().to_string(),
            message: record.args().to_string(),
            fields_json: fields.0,
        });
    }

    fn flush(&self) {}
}

/// The processors' spans, recorded by Go on the component's TracerProvider.
pub struct GoSpans {
    component: u64,
}

impl GoSpans {
    /// Spans of the component with this handle.
    pub fn new(component: u64) -> Self {
        GoSpans { component }
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
            parent_handle: 0,
            parent: crate::wire::encode(None, parent),
            name: name.to_string(),
        });
        let context = crate::wire::decode(&started.context)
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
