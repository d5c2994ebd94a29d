//! Processors that exist only for the Go bridge's own tests and benchmarks
//! (cargo feature `testing`; never in the distribution).
//!
//! `test_noop` forwards what it gets: the baseline for measuring the
//! bridge. `test_scripted` does what its configuration says (wait, emit
//! zero or more times, change the data, fail, panic, hold data past its
//! request) so every path of the bridge can be driven from Go against the
//! real thing.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use otelcol_rust_engine::proto::common::{any_value, AnyValue, KeyValue};
use otelcol_rust_engine::{
    parse_config, ConfigError, EffectHandler, GrpcCode, InstanceFactory, Message, PData,
    ProcessingError, Processor, ProcessorFactory, Signal, Stability,
};
use serde::Deserialize;

const ALL: &[Signal] = &[Signal::Traces, Signal::Metrics, Signal::Logs];

/// Forwards every batch unchanged.
pub static NOOP: ProcessorFactory = ProcessorFactory {
    name: "test_noop",
    description: "Forwards every batch unchanged (bridge tests and benchmarks).",
    stability: Stability::Development,
    signals: ALL,
    mutates_data: false,
    default_config: || serde_json::json!({}),
    example_config: || serde_json::json!({}),
    readme: "Forwards every batch unchanged.",
    create: |config| {
        let _: NoopConfig = parse_config(config)?;
        Ok(Arc::new(|| Box::new(Noop) as Box<dyn Processor<PData>>) as InstanceFactory)
    },
};

#[derive(Deserialize)]
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
            Message::PData(data) => effect_handler.send_message(data).await,
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
    default_config: || serde_json::to_value(Script::default()).expect("serializable"),
    example_config: || serde_json::json!({"sleep_ms": 1}),
    readme: "Does what its configuration says.",
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
};

#[derive(Debug, Default, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, default)]
struct Script {
    /// Sleep this long before anything else (moves to the slow path).
    sleep_ms: u64,
    /// How many times to emit the batch (default 1).
    emit: Option<u32>,
    /// Add a resource attribute before emitting, so the data changes.
    modify: bool,
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
            return Ok(());
        };
        let script = self.script.clone();
        if script.sleep_ms > 0 {
            tokio::time::sleep(Duration::from_millis(script.sleep_ms)).await;
        }
        if script.panic {
            panic!("scripted panic in process");
        }
        if script.modify {
            mark_modified(&mut data)?;
        }
        if script.hold {
            self.held.push(data.clone());
        }
        for _ in 0..script.emit.unwrap_or(1) {
            let result = effect_handler.send_message(data.clone()).await;
            if !script.ignore_downstream_error {
                result?;
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

fn mark_modified(data: &mut PData) -> Result<(), ProcessingError> {
    let attr = KeyValue {
        key: "test.modified".into(),
        value: Some(AnyValue {
            value: Some(any_value::Value::BoolValue(true)),
        }),
        ..Default::default()
    };
    let otlp = data.inner_mut();
    match otlp.signal() {
        Signal::Traces => {
            for rs in &mut otlp.traces_mut()?.resource_spans {
                rs.resource
                    .get_or_insert_with(Default::default)
                    .attributes
                    .push(attr.clone());
            }
        }
        Signal::Metrics => {
            for rm in &mut otlp.metrics_mut()?.resource_metrics {
                rm.resource
                    .get_or_insert_with(Default::default)
                    .attributes
                    .push(attr.clone());
            }
        }
        Signal::Logs => {
            for rl in &mut otlp.logs_mut()?.resource_logs {
                rl.resource
                    .get_or_insert_with(Default::default)
                    .attributes
                    .push(attr.clone());
            }
        }
    }
    Ok(())
}
