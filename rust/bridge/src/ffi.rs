//! The typed crossings between Go and Rust, declared for rust2go.
//!
//! `make generate` runs the pinned rust2go-cli on this file and writes the
//! Go half (`components/internal/bridge/ffi_gen.go`). Keep it to plain
//! structs and the two traits: rust2go-cli parses this file on its own.
//!
//! Which crossings live here, and which are hand-written (`abi.rs`), is a
//! soundness decision, explained in `rust/bridge/README.md`:
//!
//! * `RustBridge` (Go -> Rust, `g2r`) is the control plane: registry,
//!   validate, create, start, shutdown, destroy, stats. rust2go passes these
//!   arguments as Go pointers to Go memory; the Go shim that makes the call
//!   (`components/internal/rust2go/cgocall`) is sound only because none of
//!   these functions calls back into Go or keeps a pointer after returning.
//! * `GoBridge` (Rust -> Go, `r2g`) carries every callback: emissions to the
//!   next consumer, slow-path completions and releases. They are one-way
//!   calls whose arguments live in Rust memory, which is always sound.
//! * The per-request Go -> Rust call is hand-written (`otelcol_rust_process`)
//!   because it must call back into Go while Rust holds its arguments.

use super::go_exports as binding;

/// Validates a processor configuration without creating anything.
#[derive(rust2go::R2G, Clone, Debug, Default)]
pub struct ValidateRequest {
    /// The Collector component type (`rust_attributes`).
    pub processor_type: String,
    /// The configuration section as JSON.
    pub config_json: String,
}

/// Creates one component instance.
#[derive(rust2go::R2G, Clone, Debug, Default)]
pub struct CreateRequest {
    /// The Collector component type.
    pub processor_type: String,
    /// The component id (`type/name`), for errors and telemetry.
    pub component_id: String,
    /// The signal this instance handles (0 traces, 1 metrics, 2 logs).
    pub signal: u8,
    /// The configuration section as JSON.
    pub config_json: String,
}

/// The answer to validate and create: a handle, or an error text.
#[derive(rust2go::R2G, Clone, Debug, Default)]
pub struct ControlResponse {
    /// The new component's handle (create only; 0 on error).
    pub handle: u64,
    /// Empty on success, otherwise what went wrong.
    pub error: String,
}

/// Names a component created earlier.
#[derive(rust2go::R2G, Clone, Debug, Default)]
pub struct HandleRequest {
    /// The handle `create` returned.
    pub handle: u64,
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
    /// Whether it changes the data it is given.
    pub mutates_data: bool,
    /// Whether it reads client auth attributes.
    pub needs_client_auth: bool,
    /// The default configuration as JSON.
    pub default_config_json: String,
    /// A small valid configuration as JSON.
    pub example_config_json: String,
    /// The processor's README (Markdown).
    pub readme: String,
    /// The counters it reports.
    pub metrics: Vec<MetricInfo>,
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
    /// Creates a component instance (validating its configuration).
    #[cgo_call]
    fn create(req: CreateRequest) -> ControlResponse;
    /// Starts a component.
    #[cgo_call]
    fn start(req: HandleRequest) -> ControlResponse;
    /// Shuts a component down: no new requests; held data is flushed.
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
    /// A component's counter totals (one call per metrics collection).
    #[cgo_call]
    fn read_counters(req: HandleRequest) -> CounterValues;
}

/// A processor's emission to the next Go consumer.
#[derive(rust2go::R2G, Clone, Debug, Default)]
pub struct Emission {
    /// The emitting component.
    pub component: u64,
    /// The request the data belongs to.
    pub request_id: u64,
    /// 0 traces, 1 metrics, 2 logs.
    pub signal: u8,
    /// The data is the request's original: Go may forward its own pdata.
    pub original: bool,
    /// OTLP bytes in Rust (or pinned Go) memory, valid during the call.
    pub data_ptr: usize,
    /// Length of those bytes.
    pub data_len: usize,
    /// Where Go writes the consumer's answer (`abi::EmitReply`).
    pub reply_ptr: usize,
    /// The emission's context (client info, span context; `wire.rs`), in
    /// Rust memory; empty when there is none.
    pub ctx_ptr: usize,
    /// Length of the encoded context.
    pub ctx_len: usize,
    /// Time left before the request's deadline in nanoseconds, -1 for none.
    pub deadline_nanos: i64,
    /// A processor changed the metadata: Go applies the encoded context
    /// even while the request is in flight.
    pub metadata_changed: bool,
    /// The processor span to deliver under (Go's handle), 0 for none.
    pub span_handle: u64,
}

/// The end of a request that finished on the slow path.
#[derive(rust2go::R2G, Clone, Debug, Default)]
pub struct Completion {
    /// The request.
    pub request_id: u64,
    /// The outcome (`abi::Outcome`), owned by Rust until Go frees it.
    pub outcome_ptr: usize,
}

/// Something Rust no longer needs from Go.
#[derive(rust2go::R2G, Clone, Debug, Default)]
pub struct Release {
    /// 1: the pinned input buffer of a request; 2: a Go error value.
    pub kind: u8,
    /// The request id or the error id.
    pub id: u64,
}

/// A log record for the component's zap logger.
#[derive(rust2go::R2G, Clone, Debug, Default)]
pub struct LogRecord {
    /// The component it belongs to (0: the bridge itself).
    pub component: u64,
    /// 1 error, 2 warn, 3 info, 4 debug.
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
    /// The parent's span handle in Go (0: use `parent`).
    pub parent_handle: u64,
    /// The parent span context (`wire.rs` encoding, span part only).
    pub parent: Vec<u8>,
    /// The span's name.
    pub name: String,
}

/// The span Go started.
#[derive(rust2go::R2G, Clone, Debug, Default)]
pub struct SpanStarted {
    /// Go's handle of the span; 0 when the span is not recorded.
    pub handle: u64,
    /// The span context (`wire.rs` encoding, span part only).
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

/// Callbacks, implemented in Go, called from Rust.
#[rust2go::r2g]
pub trait GoBridge {
    /// Delivers an emission to the next consumer and writes its answer.
    fn emit(emission: &Emission);
    /// Completes a request that went to the slow path.
    fn complete(completion: &Completion);
    /// Releases a Go buffer or error value.
    fn release(release: &Release);
    /// Writes a log record to the component's logger.
    fn log(record: &LogRecord);
    /// Starts a span on the component's TracerProvider.
    #[cgo_callback]
    fn span_start(start: &SpanStart) -> SpanStarted;
    /// Ends a span.
    fn span_end(end: &SpanEnd);
}
