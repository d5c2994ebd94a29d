//! Processors that exist only for the Go bridge's own tests and benchmarks
//! (cargo feature `testing`; never in the distribution).
//!
//! `test_noop` forwards what it gets: the baseline for measuring the
//! bridge. `test_scripted` does what its configuration says (wait, emit
//! zero or more times, change the data, fail, panic, hold data past its
//! request) so every path of the bridge can be driven from Go against the
//! real thing.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use otelcol_rust_engine::proto::common::{any_value, AnyValue, KeyValue};
use otelcol_rust_engine::{
    effective_config, parse_config, ConfigError, DataAccess, EffectHandler, GrpcCode,
    InstanceFactory, Message, PData, ProcessingError, Processor, ProcessorFactory, Select, Signal,
    Stability, ValueRef,
};
use serde::Deserialize;

const ALL: &[Signal] = &[Signal::Traces, Signal::Metrics, Signal::Logs];

/// The test processors, as the registry lists them.
pub static PROCESSORS: &[&ProcessorFactory] = &[&NOOP, &SCRIPTED];

/// Forwards every batch unchanged.
pub static NOOP: ProcessorFactory = ProcessorFactory {
    name: "test_noop",
    description: "Forwards every batch unchanged (bridge tests and benchmarks).",
    stability: Stability::Development,
    signals: ALL,
    mutates_data: false,
    needs_client_auth: false,
    data: DataAccess::Attributes,
    default_config: || serde_json::json!({}),
    example_config: || serde_json::json!({}),
    readme: "Forwards every batch unchanged.",
    metrics: &[],
    create: |config| {
        let _: NoopConfig = parse_config(config)?;
        Ok(Arc::new(|| Box::new(Noop) as Box<dyn Processor<PData>>) as InstanceFactory)
    },
    effective_config: effective_config::<NoopConfig>,
    opaque_fields: &[],
};

#[derive(Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
struct NoopConfig {}

struct Noop;

#[async_trait]
impl Processor<PData> for Noop {
    async fn process(
        &mut self,
        msg: Message<PData>,
        effect_handler: &mut EffectHandler<PData>,
    ) -> Result<(), ProcessingError> {
        match msg {
            Message::PData(data) => effect_handler.forward(data).await,
            Message::Control(_) => Ok(()),
        }
    }
}

/// Does what its configuration says.
pub static SCRIPTED: ProcessorFactory = ProcessorFactory {
    name: "test_scripted",
    description: "Sleeps, emits, changes data, fails or panics as configured (bridge tests).",
    stability: Stability::Development,
    signals: ALL,
    mutates_data: true,
    needs_client_auth: false,
    data: DataAccess::Full,
    default_config: || serde_json::to_value(Script::default()).expect("serializable"),
    example_config: || serde_json::json!({"sleep_ms": 1}),
    readme: "Does what its configuration says.",
    metrics: &[],
    create: |config| {
        let script: Script = parse_config(config)?;
        if script.panic_on_create {
            panic!("scripted panic while validating the configuration");
        }
        if let Some(err) = &script.error {
            if !matches!(err.kind.as_str(), "permanent" | "retryable") {
                return Err(ConfigError::at(
                    "error.kind",
                    "must be permanent or retryable",
                ));
            }
        }
        let script = Arc::new(script);
        Ok(Arc::new(move || {
            Box::new(Scripted {
                script: script.clone(),
                held: Vec::new(),
            }) as Box<dyn Processor<PData>>
        }) as InstanceFactory)
    },
    effective_config: effective_config::<Script>,
    opaque_fields: &["token", "set_metadata.*"],
};

#[derive(Debug, Default, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, default)]
struct Script {
    /// Sleep this long before anything else (moves to the slow path).
    sleep_ms: u64,
    /// Wait once for a task on the bridge's runtime: the slow path without
    /// a timer.
    yield_once: bool,
    /// How many times to emit the batch (default 1).
    emit: Option<u32>,
    /// Add a resource attribute before emitting, through owned types, so
    /// the data changes and crosses encoded.
    modify: bool,
    /// Put these string attributes on every record through the attribute
    /// editor, so the data crosses as edits.
    put_attributes: std::collections::BTreeMap<String, String>,
    /// Keep a reference to the input after the request ends.
    hold: bool,
    /// Fail after emitting.
    error: Option<ScriptedError>,
    /// Panic inside process.
    panic: bool,
    /// Panic inside the factory.
    panic_on_create: bool,
    /// Swallow the downstream error instead of returning it.
    ignore_downstream_error: bool,
    /// Return the downstream error wrapped with this text.
    wrap_downstream_error: Option<String>,
    /// Fail with a permanent error describing the downstream error's class
    /// and codes, as Rust reads them.
    describe_downstream_error: bool,
    /// Panic inside a task the processor spawns and awaits.
    panic_in_task: bool,
    /// Wait until the request is cancelled, then end with `Cancelled`.
    wait_for_cancel: bool,
    /// Copy what the request context says into resource attributes
    /// (`ctx.*`), so Go tests can read what crossed.
    report_context: bool,
    /// Set these metadata keys before emitting.
    set_metadata: std::collections::BTreeMap<String, Vec<String>>,
    /// Also emit a copy this many milliseconds after the request completed.
    emit_later_ms: Option<u64>,
    /// Log this text at warn level (with a `spans` field), and at debug.
    log_warning: Option<String>,
    /// Start a span with this name around the emissions.
    span: Option<String>,
    /// Unused: a secret, declared opaque, for the tests of print-config.
    token: Option<String>,
    /// At `ControlMsg::Shutdown`: log this text at warn level.
    log_at_shutdown: Option<String>,
    /// At `ControlMsg::Shutdown`: panic.
    panic_at_shutdown: bool,
    /// Instead of emitting: forward the data, then sleep this long before
    /// returning (work after `forward`, which the bridge must survive).
    forward_then_sleep_ms: Option<u64>,
}

#[derive(Debug, Default, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
struct ScriptedError {
    kind: String,
    message: String,
    #[serde(default)]
    grpc: i32,
    #[serde(default)]
    http: u16,
}

struct Scripted {
    script: Arc<Script>,
    held: Vec<PData>,
}

#[async_trait]
impl Processor<PData> for Scripted {
    async fn process(
        &mut self,
        msg: Message<PData>,
        effect_handler: &mut EffectHandler<PData>,
    ) -> Result<(), ProcessingError> {
        let Message::PData(mut data) = msg else {
            self.held.clear();
            if let Some(text) = &self.script.log_at_shutdown {
                log::warn!("{text}");
            }
            if self.script.panic_at_shutdown {
                panic!("scripted panic at shutdown");
            }
            return Ok(());
        };
        if let Ok(bytes) = data.inner().to_encoded() {
            LAST_INPUT.store(bytes.as_ptr() as usize, Ordering::SeqCst);
        }
        let script = self.script.clone();
        if script.yield_once {
            // Wait for a task on the bridge's runtime: the request goes
            // PENDING and is woken from a runtime worker.
            let (tx, rx) = tokio::sync::oneshot::channel();
            tokio::spawn(async move {
                let _ = tx.send(());
            });
            let _ = rx.await;
        }
        if let Some(text) = &script.log_warning {
            log::warn!(spans = 1, script = "test"; "{text}");
            log::debug!("debug: {text}");
        }
        if script.wait_for_cancel {
            data.request().cancellation().cancelled().await;
            return Err(ProcessingError::Cancelled);
        }
        if script.sleep_ms > 0 {
            tokio::time::sleep(Duration::from_millis(script.sleep_ms)).await;
        }
        if script.panic {
            panic!("scripted panic in process");
        }
        if script.panic_in_task {
            let task = tokio::spawn(async { panic!("scripted panic in a spawned task") });
            if let Err(err) = task.await {
                if err.is_panic() {
                    return Err(ProcessingError::panic(
                        effect_handler.processor_id(),
                        err.into_panic(),
                    ));
                }
            }
        }
        if script.modify {
            mark_modified(&mut data)?;
        }
        if !script.put_attributes.is_empty() {
            data.inner_mut()
                .edit_attributes(Select::RECORDS, |_, attrs| {
                    for (k, v) in &script.put_attributes {
                        attrs.put(k.as_bytes(), ValueRef::Str(v.as_bytes()));
                    }
                })?;
        }
        if script.report_context {
            report_context(&mut data)?;
        }
        for (key, values) in &script.set_metadata {
            let values = values.iter().map(|v| v.as_bytes().to_vec()).collect();
            data.request_mut().metadata_mut().set(key, values);
        }
        if let Some(ms) = script.emit_later_ms {
            let later = data.clone();
            let mut eh = effect_handler.clone();
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(ms)).await;
                let _ = eh.send_message(later).await;
            });
        }
        if script.hold {
            self.held.push(data.clone());
        }
        let span = script
            .span
            .as_ref()
            .map(|name| effect_handler.start_span(name, data.request().span_context()));
        if let Some(span) = &span {
            data.request_mut().set_span(span);
        }
        if let Some(ms) = script.forward_then_sleep_ms {
            effect_handler.forward(data).await?;
            tokio::time::sleep(Duration::from_millis(ms)).await;
            return Ok(());
        }
        for _ in 0..script.emit.unwrap_or(1) {
            let result = effect_handler.send_message(data.clone()).await;
            match result {
                Err(ProcessingError::Downstream(d)) if script.describe_downstream_error => {
                    return Err(ProcessingError::permanent(format!(
                        "downstream: permanent={} grpc={} http={} message={}",
                        d.permanent,
                        d.status.grpc().map_or(0, |c| c as i32),
                        d.status.http().unwrap_or(0),
                        d.message
                    )));
                }
                Err(e) => {
                    if let Some(context) = &script.wrap_downstream_error {
                        return Err(e.wrap(context.clone()));
                    }
                    if !script.ignore_downstream_error {
                        return Err(e);
                    }
                }
                Ok(()) => {}
            }
        }
        if let Some(err) = &script.error {
            let mut e = if err.kind == "permanent" {
                ProcessingError::permanent(err.message.clone())
            } else {
                ProcessingError::retryable(err.message.clone())
            };
            if let Some(code) = GrpcCode::from_i32(err.grpc) {
                e = e.with_grpc(code);
            }
            if err.http != 0 {
                e = e.with_http(err.http);
            }
            return Err(e);
        }
        Ok(())
    }
}

fn kv(key: &str, value: any_value::Value) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue { value: Some(value) }),
        ..Default::default()
    }
}

fn report_context(data: &mut PData) -> Result<(), ProcessingError> {
    use any_value::Value;
    let rc = data.request();
    let mut attrs = Vec::new();
    for (key, values) in rc.metadata().iter() {
        let joined: Vec<_> = values.iter().map(|v| String::from_utf8_lossy(v)).collect();
        attrs.push(kv(
            &format!("ctx.metadata.{key}"),
            Value::StringValue(joined.join(",")),
        ));
    }
    if let Some(addr) = rc.client_address() {
        attrs.push(kv("ctx.client_address", Value::StringValue(addr.into())));
    }
    let sc = rc.span_context();
    if sc.is_valid() {
        attrs.push(kv(
            "ctx.trace_id",
            Value::StringValue(sc.trace_id().to_string()),
        ));
        attrs.push(kv(
            "ctx.span_id",
            Value::StringValue(sc.span_id().to_string()),
        ));
        attrs.push(kv("ctx.sampled", Value::BoolValue(sc.is_sampled())));
        attrs.push(kv("ctx.remote", Value::BoolValue(sc.is_remote())));
        attrs.push(kv(
            "ctx.trace_state",
            Value::StringValue(sc.trace_state().header()),
        ));
    }
    if let Some(left) = rc.remaining() {
        attrs.push(kv(
            "ctx.deadline_ms",
            Value::IntValue(left.as_millis() as i64),
        ));
    }
    add_resource_attributes(data, attrs)
}

fn mark_modified(data: &mut PData) -> Result<(), ProcessingError> {
    add_resource_attributes(
        data,
        vec![kv("test.modified", any_value::Value::BoolValue(true))],
    )
}

fn add_resource_attributes(data: &mut PData, attrs: Vec<KeyValue>) -> Result<(), ProcessingError> {
    let otlp = data.inner_mut();
    match otlp.signal() {
        Signal::Traces => {
            for rs in &mut otlp.traces_mut()?.resource_spans {
                rs.resource
                    .get_or_insert_with(Default::default)
                    .attributes
                    .extend(attrs.iter().cloned());
            }
        }
        Signal::Metrics => {
            for rm in &mut otlp.metrics_mut()?.resource_metrics {
                rm.resource
                    .get_or_insert_with(Default::default)
                    .attributes
                    .extend(attrs.iter().cloned());
            }
        }
        Signal::Logs => {
            for rl in &mut otlp.logs_mut()?.resource_logs {
                rl.resource
                    .get_or_insert_with(Default::default)
                    .attributes
                    .extend(attrs.iter().cloned());
            }
        }
    }
    Ok(())
}

static LAST_INPUT: AtomicUsize = AtomicUsize::new(0);
static LAST_EMITTED: AtomicUsize = AtomicUsize::new(0);

/// Records the address of the bytes an emission hands to Go.
pub(crate) fn record_emission(ptr: *const u8) {
    LAST_EMITTED.store(ptr as usize, Ordering::SeqCst);
}

/// Addresses the copy tests compare with what Go saw.
#[repr(C)]
pub struct OtelcolRustTestingPointers {
    /// Where `test_scripted` last read its input.
    pub last_input: usize,
    /// The bytes the last emission handed to Go.
    pub last_emitted: usize,
}

/// Reports [`OtelcolRustTestingPointers`] (test builds only).
#[no_mangle]
pub extern "C" fn otelcol_rust_testing_pointers() -> OtelcolRustTestingPointers {
    OtelcolRustTestingPointers {
        last_input: LAST_INPUT.load(Ordering::SeqCst),
        last_emitted: LAST_EMITTED.load(Ordering::SeqCst),
    }
}
