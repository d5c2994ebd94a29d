//! The typed crossings between Go and Rust that rust2go generates.
//!
//! `make generate` runs the pinned rust2go-cli on this file and writes the
//! Go half (`components/bridge/ffi_gen.go`), then derives the Rust
//! declarations of the Go exports (`go_exports.rs`) from that Go file.
//! Keep it to plain structs and the two traits: rust2go-cli parses this
//! file on its own.
//!
//! * `RustBridge` (Go -> Rust, `g2r`) is the control plane: registry,
//!   validate, effective_config, create, start, shutdown, destroy, stats.
//!   rust2go passes the arguments as Go pointers to Go memory; the Go shim
//!   that makes the call (`components/bridge/internal/cgocall`) keeps them
//!   on the heap and alive for the call, and Rust copies what it needs
//!   before returning.
//! * `GoBridge` (Rust -> Go, `r2g`) carries the short callbacks: logs, span
//!   start and end, releases of Go buffers and errors, and wake-ups of
//!   pending requests. Each is a bounded, non-blocking Go function; none of
//!   them runs a Go consumer or calls back into Rust.
//! * The request path is not here: it is the hand-written C ABI of
//!   `abi.rs` and `request.rs`, on which Go drives every request.
//!
//! Why those rules make every crossing sound: `rust/bridge/README.md`.

use super::go_exports as binding;

/// Validates a processor configuration without creating anything.
#[derive(rust2go::R2G, Clone, Debug, Default)]
pub struct ValidateRequest {
    /// The Collector component type (`rust_attributes`).
    pub processor_type: String,
    /// The configuration section as JSON.
    pub config_json: String,
}

/// One processor of a component. A component usually has one; a chain
/// (adjacent Rust processors of a pipeline, fused at config time) has
/// several, run in order inside Rust.
#[derive(rust2go::R2G, Clone, Debug, Default)]
pub struct StageConfig {
    /// The Collector component type (`rust_attributes`).
    pub processor_type: String,
    /// The processor's component id (`type/name`), for errors and telemetry.
    pub component_id: String,
    /// The configuration section as JSON.
    pub config_json: String,
}

/// Creates one component instance.
#[derive(rust2go::R2G, Clone, Debug, Default)]
pub struct CreateRequest {
    /// The component id Go created it under.
    pub component_id: String,
    /// The signal this instance handles (0 traces, 1 metrics, 2 logs).
    pub signal: u8,
    /// The processors, in pipeline order.
    pub stages: Vec<StageConfig>,
}

/// The answer to validate and create: a handle, or an error text.
#[derive(rust2go::R2G, Clone, Debug, Default)]
pub struct ControlResponse {
    /// The new component's handle (create only; 0 on error).
    pub handle: u64,
    /// Empty on success, otherwise what went wrong.
    pub error: String,
    /// Create only: whether the component's processors named every
    /// attribute key they read (`Processor::attribute_keys`). Go then
    /// projects only the entries with those keys, and every other entry
    /// as a placeholder that keeps its place.
    pub keys_named: bool,
    /// The keys, when `keys_named`.
    pub attribute_keys: Vec<String>,
}

/// A configuration as the processor understands it, every default written
/// out.
#[derive(rust2go::R2G, Clone, Debug, Default)]
pub struct EffectiveConfig {
    /// The configuration as JSON; empty on error.
    pub config_json: String,
    /// Empty on success, otherwise what is wrong with the configuration.
    pub error: String,
}

/// Names a component created earlier.
#[derive(rust2go::R2G, Clone, Debug, Default)]
pub struct HandleRequest {
    /// The handle `create` returned.
    pub handle: u64,
}

/// Names one stage of a component.
#[derive(rust2go::R2G, Clone, Debug, Default)]
pub struct StageRequest {
    /// The handle `create` returned.
    pub handle: u64,
    /// The stage's index.
    pub stage: u32,
}

/// A counter a processor declares.
#[derive(rust2go::R2G, Clone, Debug, Default)]
pub struct MetricInfo {
    /// Name within the processor.
    pub name: String,
    /// What it counts.
    pub description: String,
    /// UCUM unit.
    pub unit: String,
}

/// One registered processor, as the generator of Go packages sees it.
#[derive(rust2go::R2G, Clone, Debug, Default)]
pub struct ProcessorInfo {
    /// The Collector component type.
    pub name: String,
    /// One line of description.
    pub description: String,
    /// Collector stability level name.
    pub stability: String,
    /// Supported signals (0 traces, 1 metrics, 2 logs).
    pub signals: Vec<u8>,
    /// Whether it changes the data it is given (the component's
    /// `MutatesData` capability: Go then lets it edit the request's pdata
    /// in place).
    pub mutates_data: bool,
    /// Whether it reads client auth attributes.
    pub needs_client_auth: bool,
    /// What of a batch it reads: "attributes" (Go sends only the attribute
    /// maps) or "full".
    pub data_access: String,
    /// The default configuration as JSON.
    pub default_config_json: String,
    /// A small valid configuration as JSON.
    pub example_config_json: String,
    /// The processor's README (Markdown).
    pub readme: String,
    /// The counters it reports.
    pub metrics: Vec<MetricInfo>,
    /// Paths of the configuration fields that hold secrets (`*`: any key
    /// or index).
    pub opaque_fields: Vec<String>,
}

/// Every registered processor.
#[derive(rust2go::R2G, Clone, Debug, Default)]
pub struct Registry {
    /// In registration order.
    pub processors: Vec<ProcessorInfo>,
}

/// The most verbose log level a component's Go logger enables
/// (0 off, 1 error, 2 warn, 3 info, 4 debug).
#[derive(rust2go::R2G, Clone, Debug, Default)]
pub struct LogLevelRequest {
    /// The level.
    pub level: u8,
}

/// A counter total recorded under extra attributes.
#[derive(rust2go::R2G, Clone, Debug, Default)]
pub struct LabeledValue {
    /// The counter's index in its factory's list.
    pub index: u32,
    /// The extra attributes as a JSON object of strings.
    pub attributes_json: String,
    /// The total.
    pub value: u64,
}

/// The totals of a component's counters, in its factory's order.
#[derive(rust2go::R2G, Clone, Debug, Default)]
pub struct CounterValues {
    /// One value per declared counter (without extra attributes).
    pub values: Vec<u64>,
    /// Totals recorded with extra attributes.
    pub labeled: Vec<LabeledValue>,
}

/// Counters that tests use to prove nothing leaks.
#[derive(rust2go::R2G, Clone, Debug, Default)]
pub struct BridgeStats {
    /// Live component instances.
    pub components: u64,
    /// Requests inside Rust right now.
    pub in_flight: u64,
    /// Go buffers Rust still holds after their request completed.
    pub retained_buffers: u64,
    /// Processor instances alive, pooled or busy.
    pub processor_instances: u64,
    /// Requests that finished on the slow path since start.
    pub slow_path_total: u64,
    /// Rust's live heap in bytes (test builds only; 0 otherwise).
    pub heap_bytes: u64,
}

/// The control plane, implemented in Rust, called from Go.
#[rust2go::g2r]
pub trait RustBridge {
    /// Every registered processor.
    #[cgo_call]
    fn registry() -> Registry;
    /// Validates a configuration.
    #[cgo_call]
    fn validate(req: ValidateRequest) -> ControlResponse;
    /// Validates a configuration and returns it with every default
    /// written out.
    #[cgo_call]
    fn effective_config(req: ValidateRequest) -> EffectiveConfig;
    /// Creates a component instance (validating its configuration).
    #[cgo_call]
    fn create(req: CreateRequest) -> ControlResponse;
    /// Starts a component.
    #[cgo_call]
    fn start(req: HandleRequest) -> ControlResponse;
    /// Shuts a component down: no new emissions are queued; data the
    /// processors still hold is dropped.
    #[cgo_call]
    fn shutdown(req: HandleRequest) -> ControlResponse;
    /// Frees a component instance.
    #[cgo_call]
    fn destroy(req: HandleRequest) -> ControlResponse;
    /// Leak counters.
    #[cgo_call]
    fn stats() -> BridgeStats;
    /// Lets Rust log at this level and above.
    #[cgo_call]
    fn configure_logging(req: LogLevelRequest) -> ControlResponse;
    /// A stage's counter totals (one call per metrics collection).
    #[cgo_call]
    fn read_counters(req: StageRequest) -> CounterValues;
}

/// Something Rust no longer needs from Go.
#[derive(rust2go::R2G, Clone, Debug, Default)]
pub struct Release {
    /// `OTELCOL_RUST_RELEASE_BUFFER` or `OTELCOL_RUST_RELEASE_ERROR`.
    pub kind: u8,
    /// The request id or the error id.
    pub id: u64,
}

/// A wake-up for Go: a pending request can make progress, or a component
/// has emissions queued.
#[derive(rust2go::R2G, Clone, Debug, Default)]
pub struct Wake {
    /// `OTELCOL_RUST_WAKE_REQUEST` or `OTELCOL_RUST_WAKE_COMPONENT`.
    pub kind: u8,
    /// The request id or the component handle.
    pub id: u64,
}

/// A log record for a processor's zap logger.
#[derive(rust2go::R2G, Clone, Debug, Default)]
pub struct LogRecord {
    /// The component it belongs to (0: the bridge itself).
    pub component: u64,
    /// The stage within the component.
    pub stage: u32,
    /// `OTELCOL_RUST_LOG_*`.
    pub level: u8,
    /// The Rust module that logged it.
    pub target: String,
    /// The formatted message.
    pub message: String,
    /// Structured key-values as a JSON object.
    pub fields_json: String,
}

/// A span a processor starts.
#[derive(rust2go::R2G, Clone, Debug, Default)]
pub struct SpanStart {
    /// The component.
    pub component: u64,
    /// The stage within the component.
    pub stage: u32,
    /// The parent span context (a context buffer, span part only).
    pub parent: Vec<u8>,
    /// The span's name.
    pub name: String,
}

/// The span Go started.
#[derive(rust2go::R2G, Clone, Debug, Default)]
pub struct SpanStarted {
    /// Go's handle of the span; 0 when the span is not recorded.
    pub handle: u64,
    /// The span context (a context buffer, span part only).
    pub context: Vec<u8>,
}

/// The end of a span.
#[derive(rust2go::R2G, Clone, Debug, Default)]
pub struct SpanEnd {
    /// Go's handle of the span.
    pub handle: u64,
    /// Empty, or what failed.
    pub error: String,
}

/// Callbacks, implemented in Go, called from Rust. Each is short and never
/// blocks on Go work.
#[rust2go::r2g]
pub trait GoBridge {
    /// Releases a Go buffer or error value.
    fn release(release: &Release);
    /// Wakes the goroutine waiting for a request or a component.
    fn wake(wake: &Wake);
    /// Writes a log record to the processor's logger.
    fn log(record: &LogRecord);
    /// Starts a span on the processor's TracerProvider.
    #[cgo_callback]
    fn span_start(start: &SpanStart) -> SpanStarted;
    /// Ends a span.
    fn span_end(end: &SpanEnd);
}
