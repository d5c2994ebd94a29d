//! The control plane Go calls through rust2go: registry, validate, the
//! effective configuration, create, start, shutdown, destroy, counters, stats.
//!
//! Every entry point contains panics (a panicking config validation becomes
//! an error text) because unwinding into Go would abort the collector.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::Ordering;

use otelcol_rust_engine::{ConfigError, DataAccess, InstanceFactory, ProcessorFactory, Signal};

use crate::buffer::RETAINED_BUFFERS;
use crate::component::{self, StageSpec, PROCESSOR_INSTANCES};
use crate::ffi::{
    BridgeStats, ControlResponse, CounterValues, CreateRequest, EffectiveConfig, HandleRequest,
    LabeledValue, LogLevelRequest, MetricInfo, ProcessorInfo, Registry, RustBridge, RustBridgeImpl,
    StageRequest, ValidateRequest,
};
use crate::registry;
use crate::request::{IN_FLIGHT, SLOW_PATH_TOTAL};
use crate::runtime::{install_panic_hook, panic_message};

fn contained(what: &str, f: impl FnOnce() -> ControlResponse) -> ControlResponse {
    install_panic_hook();
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|payload| ControlResponse {
        error: format!("{what} panicked: {}", panic_message(payload.as_ref())),
        ..ControlResponse::default()
    })
}

/// `keys` with the attribute keys a stage's processors name added, or
/// `None` when they may read any entry: asked of one instance, as every
/// instance of a component shares its configuration.
fn with_named_keys(keys: Option<Vec<String>>, instances: &InstanceFactory) -> Option<Vec<String>> {
    let mut keys = keys?;
    for key in (instances)().attribute_keys()? {
        // Keys from YAML are strings; bytes that are not UTF-8 do not
        // cross as a Go string here, so such a stage sends every entry.
        let key = String::from_utf8(key).ok()?;
        if !keys.contains(&key) {
            keys.push(key);
        }
    }
    Some(keys)
}

fn error(message: impl Into<String>) -> ControlResponse {
    ControlResponse {
        error: message.into(),
        ..ControlResponse::default()
    }
}

/// Parses the JSON Go sent and runs the factory's validation.
pub fn build(
    processor_type: &str,
    config_json: &str,
) -> Result<(&'static ProcessorFactory, InstanceFactory), String> {
    crate::go_regex_bridge::install();
    let factory = registry::find(processor_type)
        .ok_or_else(|| format!("no Rust processor of type {processor_type:?} is registered"))?;
    let config: serde_json::Value = serde_json::from_str(config_json)
        .map_err(|e| format!("configuration is not valid JSON: {e}"))?;
    let instances = catch_unwind(AssertUnwindSafe(|| (factory.create)(&config)))
        .map_err(|payload| {
            format!(
                "validating the {processor_type} configuration panicked: {}",
                panic_message(payload.as_ref())
            )
        })?
        .map_err(|e: ConfigError| e.to_string())?;
    Ok((factory, instances))
}

/// Validates a configuration as `create` would, then writes it out with
/// every default: the form Go keeps and `print-config` shows.
pub fn effective(processor_type: &str, config_json: &str) -> Result<String, String> {
    let (factory, _) = build(processor_type, config_json)?;
    let config: serde_json::Value = serde_json::from_str(config_json)
        .map_err(|e| format!("configuration is not valid JSON: {e}"))?;
    let effective = (factory.effective_config)(&config).map_err(|e| e.to_string())?;
    Ok(effective.to_string())
}

impl RustBridge for RustBridgeImpl {
    fn registry() -> Registry {
        install_panic_hook();
        crate::go_regex_bridge::install();
        Registry {
            processors: registry::processors()
                .map(|(_, f)| ProcessorInfo {
                    name: f.name.to_string(),
                    description: f.description.to_string(),
                    stability: f.stability.as_str().to_string(),
                    signals: f.signals.iter().map(|s| *s as u8).collect(),
                    mutates_data: f.mutates_data,
                    needs_client_auth: f.needs_client_auth,
                    data_access: f.data.as_str().to_string(),
                    default_config_json: (f.default_config)().to_string(),
                    example_config_json: (f.example_config)().to_string(),
                    readme: f.readme.to_string(),
                    metrics: f
                        .metrics
                        .iter()
                        .map(|m| MetricInfo {
                            name: m.name.to_string(),
                            description: m.description.to_string(),
                            unit: m.unit.to_string(),
                        })
                        .collect(),
                    opaque_fields: f.opaque_fields.iter().map(|p| p.to_string()).collect(),
                })
                .collect(),
        }
    }

    fn effective_config(req: ValidateRequest) -> EffectiveConfig {
        install_panic_hook();
        let result = catch_unwind(AssertUnwindSafe(|| {
            effective(&req.processor_type, &req.config_json)
        }))
        .unwrap_or_else(|payload| {
            Err(format!(
                "reading the {} configuration panicked: {}",
                req.processor_type,
                panic_message(payload.as_ref())
            ))
        });
        match result {
            Ok(config_json) => EffectiveConfig {
                config_json,
                error: String::new(),
            },
            Err(error) => EffectiveConfig {
                config_json: String::new(),
                error,
            },
        }
    }

    fn validate(req: ValidateRequest) -> ControlResponse {
        contained("validate", || {
            match build(&req.processor_type, &req.config_json) {
                Ok(_) => ControlResponse::default(),
                Err(e) => error(e),
            }
        })
    }

    fn create(req: CreateRequest) -> ControlResponse {
        contained("create", || {
            if req.stages.is_empty() {
                return error(format!("{}: no processor to create", req.component_id));
            }
            let Some(signal) = Signal::from_u8(req.signal) else {
                return error(format!(
                    "{}: unknown signal {}",
                    req.component_id, req.signal
                ));
            };
            let mut specs = Vec::with_capacity(req.stages.len());
            let mut mutates_data = false;
            let mut keys = Some(Vec::new());
            for stage in &req.stages {
                let (factory, instances) = match build(&stage.processor_type, &stage.config_json) {
                    Ok(built) => built,
                    Err(e) if req.stages.len() > 1 => {
                        return error(format!("{}: {e}", stage.component_id))
                    }
                    Err(e) => return error(e),
                };
                if !factory.signals.contains(&signal) {
                    return error(format!(
                        "{} does not support {signal}",
                        stage.processor_type
                    ));
                }
                mutates_data |= factory.mutates_data;
                keys = match factory.data {
                    // Reads no attributes.
                    DataAccess::Counts => keys,
                    DataAccess::Full => None,
                    DataAccess::Attributes | DataAccess::AttributesAndRecordFields => {
                        with_named_keys(keys, &instances)
                    }
                };
                specs.push(StageSpec {
                    id: stage.component_id.clone(),
                    factory: instances,
                    counters: factory.metrics.len(),
                });
            }
            let component = component::insert(&req.component_id, signal, mutates_data, specs);
            ControlResponse {
                handle: component.handle,
                keys_named: keys.is_some(),
                attribute_keys: keys.unwrap_or_default(),
                ..ControlResponse::default()
            }
        })
    }

    fn start(req: HandleRequest) -> ControlResponse {
        contained("start", || match component::lookup(req.handle) {
            // Instances are made on demand: starting only checks the handle.
            Some(_) => ControlResponse::default(),
            None => error(format!("no component with handle {}", req.handle)),
        })
    }

    fn shutdown(req: HandleRequest) -> ControlResponse {
        contained("shutdown", || match component::lookup(req.handle) {
            Some(c) => {
                c.shutdown();
                ControlResponse::default()
            }
            None => error(format!("no component with handle {}", req.handle)),
        })
    }

    fn destroy(req: HandleRequest) -> ControlResponse {
        contained("destroy", || match component::remove(req.handle) {
            Some(c) => {
                c.shutdown();
                ControlResponse::default()
            }
            None => error(format!("no component with handle {}", req.handle)),
        })
    }

    fn configure_logging(req: LogLevelRequest) -> ControlResponse {
        crate::telemetry::configure_logging(req.level);
        ControlResponse::default()
    }

    fn read_counters(req: StageRequest) -> CounterValues {
        let Some(stage) =
            component::lookup(req.handle).and_then(|c| c.stages.get(req.stage as usize).cloned())
        else {
            return CounterValues::default();
        };
        let eh = stage.effect_handler();
        CounterValues {
            values: eh.counter_values(),
            labeled: eh
                .labeled_counter_values()
                .into_iter()
                .map(|((index, attrs), value)| LabeledValue {
                    index: index as u32,
                    attributes_json: serde_json::Value::Object(
                        attrs
                            .into_iter()
                            .map(|(k, v)| (k.to_string(), serde_json::Value::String(v)))
                            .collect(),
                    )
                    .to_string(),
                    value,
                })
                .collect(),
        }
    }

    fn stats() -> BridgeStats {
        BridgeStats {
            components: component::count(),
            in_flight: IN_FLIGHT.load(Ordering::SeqCst),
            retained_buffers: RETAINED_BUFFERS.load(Ordering::SeqCst),
            processor_instances: PROCESSOR_INSTANCES.load(Ordering::SeqCst),
            slow_path_total: SLOW_PATH_TOTAL.load(Ordering::SeqCst),
            heap_bytes: crate::live_heap_bytes(),
        }
    }
}
