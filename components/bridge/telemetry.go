package bridge

/*
#include "otelcol_rust_bridge.h"
*/
import "C"

// Telemetry across the boundary (rust/bridge/src/telemetry.rs): Rust's
// logs go to the processor's zap logger, its counters to the component's
// MeterProvider, its spans to the TracerProvider, one pipeline, the
// Collector's.

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	noopmetric "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/trace"
	nooptrace "go.opentelemetry.io/otel/trace/noop"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/otelcol-rust/otelcol-rust/components/internal/rusterrors"
)

// scopeName is the instrumentation scope of the bridge's own telemetry.
const scopeName = "github.com/otelcol-rust/otelcol-rust/components/bridge"

// How a request ended: the index of its outcome attribute value of
// otelcol_rust_processor_requests in outcomes.
type outcome uint8

const (
	outcomeSuccess outcome = iota
	outcomePermanent
	outcomeRetryable
	outcomeCancelled
	outcomeDeadline
	outcomePanic
	numOutcomes
)

var outcomes = [numOutcomes]string{"success", "permanent", "retryable", "cancelled", "deadline_exceeded", "panic"}

// telemetry is one component's share of the Collector's own telemetry:
// its zap logger, its meter and its tracer, as the Collector hands every
// component in TelemetrySettings. A fused chain has one stageTelemetry per
// processor, each under the processor's own component id.
type telemetry struct {
	tracer trace.Tracer
	// noopTracer: the Collector's tracing is off (its TracerProvider hands
	// out the OTel no-op tracer), so no span is started per request.
	noopTracer bool
	// noopMeter: the Collector's metrics are off (level none: its
	// MeterProvider hands out the OTel no-op meter), so a request neither
	// reads the clock nor records anything.
	noopMeter bool
	// stages are the telemetry of each processor of the component.
	stages []*stageTelemetry

	requests   metric.Int64Counter
	duration   metric.Float64Histogram
	inFlight   metric.Int64UpDownCounter
	queued     metric.Int64UpDownCounter
	registered []metric.Registration
	// componentSet names the component's first processor (processor,
	// otel_signal), as the Collector's own processor metrics do.
	componentSet metric.MeasurementOption
}

// stageTelemetry is where one processor of a component logs, traces and
// counts its requests.
type stageTelemetry struct {
	id     string
	logger *zap.Logger
	// Measurement options, made once: passing a prepared slice costs no
	// allocation per request.
	componentAdd    []metric.AddOption
	outcomeAdd      [numOutcomes][]metric.AddOption
	outcomeRecord   [numOutcomes][]metric.RecordOption
	componentSetOpt metric.MeasurementOption
}

// injectorCore is the Collector's component logger core, which can drop
// the component attributes it injects (so that a processor of a fused
// chain logs under its own component id).
type injectorCore interface {
	DropInjectedAttributes(droppedAttrs ...string) zapcore.Core
}

const componentIDKey = "otelcol.component.id"

// stageLogger is the logger of a processor fused into the chain whose
// logger is base: the same, under the processor's own component id.
func stageLogger(base *zap.Logger, id string) *zap.Logger {
	return base.WithOptions(zap.WrapCore(func(c zapcore.Core) zapcore.Core {
		if ic, ok := c.(injectorCore); ok {
			return ic.DropInjectedAttributes(componentIDKey)
		}
		return c
	})).With(zap.String(componentIDKey, id))
}

func newTelemetry(set component.TelemetrySettings, p *Processor, stages []stage) (*telemetry, error) {
	t := &telemetry{tracer: set.TracerProvider.Tracer(scopeName)}
	_, t.noopTracer = t.tracer.(nooptrace.Tracer)
	meter := set.MeterProvider.Meter(scopeName)
	_, t.noopMeter = meter.(noopmetric.Meter)
	var err error
	if t.requests, err = meter.Int64Counter("otelcol_rust_processor_requests",
		metric.WithDescription("Requests the Rust processor handled, by outcome."),
		metric.WithUnit("{requests}")); err != nil {
		return nil, err
	}
	if t.duration, err = meter.Float64Histogram("otelcol_rust_processor_duration",
		metric.WithDescription("Time from entering the processor to the request's end, as the caller saw it."),
		metric.WithUnit("s"),
		metric.WithExplicitBucketBoundaries(0.00001, 0.00005, 0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5)); err != nil {
		return nil, err
	}
	if t.inFlight, err = meter.Int64UpDownCounter("otelcol_rust_processor_in_flight",
		metric.WithDescription("Requests inside the Rust processor right now."),
		metric.WithUnit("{requests}")); err != nil {
		return nil, err
	}
	if t.queued, err = meter.Int64UpDownCounter("otelcol_rust_processor_queued",
		metric.WithDescription("Requests waiting in the Rust processor (a timer, a queue) right now."),
		metric.WithUnit("{requests}")); err != nil {
		return nil, err
	}
	for i, st := range stages {
		id := st.id.String()
		logger := set.Logger
		if len(stages) > 1 {
			logger = stageLogger(set.Logger, id)
		}
		attrs := []attribute.KeyValue{
			attribute.String("processor", id),
			attribute.String("otel_signal", signalName(p.signal)),
		}
		set := metric.WithAttributeSet(attribute.NewSet(attrs...))
		s := &stageTelemetry{
			id:              id,
			logger:          logger,
			componentAdd:    []metric.AddOption{set},
			componentSetOpt: set,
		}
		for o, name := range outcomes {
			os := metric.WithAttributeSet(attribute.NewSet(append(attrs, attribute.String("outcome", name))...))
			s.outcomeAdd[o] = []metric.AddOption{os}
			s.outcomeRecord[o] = []metric.RecordOption{os}
		}
		t.stages = append(t.stages, s)
		reg, err := registerCounters(meter, p.handle, uint32(i), st.info, attrs)
		if err != nil {
			return nil, err
		}
		if reg != nil {
			t.registered = append(t.registered, reg)
		}
	}
	t.componentSet = t.stages[0].componentSetOpt
	configureRustLogging(set.Logger)
	return t, nil
}

// registerCounters exposes one processor's own counters, which live in
// Rust: one call per collection reads them all.
func registerCounters(meter metric.Meter, handle uint64, stage uint32, info RegisteredProcessor, attrs []attribute.KeyValue) (metric.Registration, error) {
	if len(info.Metrics) == 0 {
		return nil, nil
	}
	observeSet := metric.WithAttributeSet(attribute.NewSet(attrs...))
	var observables []metric.Observable
	counters := make([]metric.Int64ObservableCounter, len(info.Metrics))
	for i, m := range info.Metrics {
		c, err := meter.Int64ObservableCounter("otelcol_rust_processor_"+info.Name+"_"+m.Name,
			metric.WithDescription(m.Description), metric.WithUnit(m.Unit))
		if err != nil {
			return nil, err
		}
		counters[i] = c
		observables = append(observables, c)
	}
	return meter.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		read := RustBridgeImpl{}.read_counters(&StageRequest{handle: handle, stage: stage})
		for i, c := range counters {
			if i < len(read.values) {
				o.ObserveInt64(c, int64(read.values[i]), observeSet)
			}
		}
		for _, lv := range read.labeled {
			if int(lv.index) >= len(counters) {
				continue
			}
			var extra map[string]string
			if err := json.Unmarshal([]byte(lv.attributes_json), &extra); err != nil {
				continue
			}
			labeled := append([]attribute.KeyValue(nil), attrs...)
			for k, v := range extra {
				labeled = append(labeled, attribute.String(k, v))
			}
			o.ObserveInt64(counters[lv.index], int64(lv.value), metric.WithAttributeSet(attribute.NewSet(labeled...)))
		}
		return nil
	}, observables...)
}

func (t *telemetry) shutdown() {
	for _, r := range t.registered {
		_ = r.Unregister()
	}
}

// requestTelemetry is what a request's telemetry started with.
type requestTelemetry struct {
	spans []trace.Span
	// start is monotonicNow at the start.
	start time.Duration
}

// clockBase is the reference of request durations: time.Since of a fixed
// time reads only the monotonic clock, one clock read where time.Now makes
// two (wall and monotonic), on every request.
var clockBase = time.Now()

func monotonicNow() time.Duration { return time.Since(clockBase) }

// startRequest opens each processor's span (the first a child of the
// caller's, each next one a child of the one before) and counts the
// request in flight. The last span's context is what Rust sees as the
// request's span context and what the next consumer gets as parent.
func (t *telemetry) startRequest(ctx context.Context) (context.Context, requestTelemetry) {
	var rt requestTelemetry
	if !t.noopMeter {
		for _, s := range t.stages {
			t.inFlight.Add(ctx, 1, s.componentAdd...)
		}
		rt.start = monotonicNow()
	}
	if t.noopTracer {
		return ctx, rt
	}
	for _, s := range t.stages {
		var span trace.Span
		ctx, span = t.tracer.Start(ctx, s.id, trace.WithSpanKind(trace.SpanKindInternal))
		rt.spans = append(rt.spans, span)
	}
	return ctx, rt
}

// stageOutcome is how one processor of a chain handled a request.
type stageOutcome struct {
	entered   bool
	kind      uint8
	permanent bool
	nanos     int64
}

// endRequest records how a request ended: for one processor from err, for
// a chain from what each processor did (a processor the request never
// reached records nothing, as a Go processor that was never called).
func (t *telemetry) endRequest(ctx context.Context, rt requestTelemetry, err error, stages []stageOutcome) {
	if !t.noopMeter {
		t.recordRequest(ctx, rt, err, stages)
	}
	t.endSpans(rt, err, stages)
}

func (t *telemetry) recordRequest(ctx context.Context, rt requestTelemetry, err error, stages []stageOutcome) {
	for _, s := range t.stages {
		t.inFlight.Add(ctx, -1, s.componentAdd...)
	}
	if len(stages) == 0 {
		outcome := outcomeOf(err)
		s := t.stages[0]
		t.requests.Add(ctx, 1, s.outcomeAdd[outcome]...)
		t.duration.Record(ctx, (monotonicNow() - rt.start).Seconds(), s.outcomeRecord[outcome]...)
	} else {
		for i, so := range stages {
			if i >= len(t.stages) || !so.entered {
				continue
			}
			outcome := outcomeOfKind(so.kind, so.permanent)
			s := t.stages[i]
			t.requests.Add(ctx, 1, s.outcomeAdd[outcome]...)
			t.duration.Record(ctx, time.Duration(so.nanos).Seconds(), s.outcomeRecord[outcome]...)
		}
	}
}

func (t *telemetry) endSpans(rt requestTelemetry, err error, stages []stageOutcome) {
	for i := len(rt.spans) - 1; i >= 0; i-- {
		span := rt.spans[i]
		if i < len(stages) && stages[i].kind != errNone {
			span.SetStatus(codes.Error, err.Error())
		} else if len(stages) == 0 && err != nil {
			span.SetStatus(codes.Error, err.Error())
		}
		span.End()
	}
}

// outcomeOfKind names how a processor of a chain ended.
func outcomeOfKind(kind uint8, permanent bool) outcome {
	switch kind {
	case errNone:
		return outcomeSuccess
	case errPanic:
		return outcomePanic
	case errCancelled:
		return outcomeCancelled
	case errDeadline:
		return outcomeDeadline
	}
	if permanent {
		return outcomePermanent
	}
	return outcomeRetryable
}

func outcomeOf(err error) outcome {
	switch {
	case err == nil:
		return outcomeSuccess
	case isPanicError(err):
		return outcomePanic
	case isContextError(err, true):
		return outcomeCancelled
	case isContextError(err, false):
		return outcomeDeadline
	case isPermanent(err):
		return outcomePermanent
	}
	return outcomeRetryable
}

func isPanicError(err error) bool {
	var pe *rusterrors.PanicError
	return errors.As(err, &pe)
}

func isContextError(err error, cancelled bool) bool {
	if cancelled {
		return errors.Is(err, context.Canceled)
	}
	return errors.Is(err, context.DeadlineExceeded)
}

func isPermanent(err error) bool { return consumererror.IsPermanent(err) }

var (
	logLevelMu   sync.Mutex
	rustLogLevel = -1
)

// configureRustLogging lets Rust log at the most verbose level this
// logger enables (Rust only raises its level; Go filters per component).
func configureRustLogging(logger *zap.Logger) {
	level := 0
	for _, l := range []struct {
		zap  zapcore.Level
		rust int
	}{{zapcore.DebugLevel, C.OTELCOL_RUST_LOG_DEBUG}, {zapcore.InfoLevel, C.OTELCOL_RUST_LOG_INFO}, {zapcore.WarnLevel, C.OTELCOL_RUST_LOG_WARN}, {zapcore.ErrorLevel, C.OTELCOL_RUST_LOG_ERROR}} {
		if logger.Core().Enabled(l.zap) {
			level = l.rust
			break
		}
	}
	logLevelMu.Lock()
	defer logLevelMu.Unlock()
	if level <= rustLogLevel {
		return
	}
	rustLogLevel = level
	RustBridgeImpl{}.configure_logging(&LogLevelRequest{level: uint8(level)})
}

var fallbackLogger = zap.NewNop()

// stageOf finds the telemetry of a processor of a component.
func stageOf(handle uint64, stage uint32) *stageTelemetry {
	p := lookupProcessor(handle)
	if p == nil || p.telemetry == nil || int(stage) >= len(p.telemetry.stages) {
		return nil
	}
	return p.telemetry.stages[stage]
}

// rustLogCalls counts log records Rust sent (tests check that disabled
// levels never cross).
var rustLogCalls atomic.Uint64

// log writes a Rust log record to its component's logger.
func (goBridge) log(r LogRecord) {
	rustLogCalls.Add(1)
	logger := fallbackLogger
	if st := stageOf(r.component, r.stage); st != nil {
		logger = st.logger
	}
	var level zapcore.Level
	switch r.level {
	case C.OTELCOL_RUST_LOG_ERROR:
		level = zapcore.ErrorLevel
	case C.OTELCOL_RUST_LOG_WARN:
		level = zapcore.WarnLevel
	case C.OTELCOL_RUST_LOG_INFO:
		level = zapcore.InfoLevel
	default:
		level = zapcore.DebugLevel
	}
	// The strings point into Rust memory that lives only for this call;
	// zap (and any log exporter behind it) may keep what it is given.
	ce := logger.Check(level, strings.Clone(r.message))
	if ce == nil {
		return
	}
	fields := []zap.Field{zap.String("rust.target", strings.Clone(r.target))}
	if len(r.fields_json) > 2 {
		var kv map[string]any
		if err := json.Unmarshal([]byte(r.fields_json), &kv); err == nil {
			for k, v := range kv {
				fields = append(fields, zap.Any(k, v))
			}
		}
	}
	ce.Write(fields...)
}

var (
	nextSpanHandle atomic.Uint64
	// rustSpans holds spans Rust processors started until Rust ends them.
	rustSpans sync.Map // uint64 -> trace.Span
)

// span_start starts a span for a Rust processor on its component's
// TracerProvider, under the parent Rust gives.
func (goBridge) span_start(s SpanStart) SpanStarted {
	p := lookupProcessor(s.component)
	if p == nil || p.telemetry == nil {
		return SpanStarted{}
	}
	parent := context.Background()
	if len(s.parent) > 0 {
		if _, sc, _, err := decodeRequestContext(s.parent); err == nil && sc.IsValid() {
			parent = trace.ContextWithSpanContext(parent, sc)
		}
	}
	// The name lives in Rust memory for this call only; the SDK keeps it.
	_, span := p.telemetry.tracer.Start(parent, strings.Clone(s.name), trace.WithSpanKind(trace.SpanKindInternal))
	started := SpanStarted{context: encodeRequestContext(trace.ContextWithSpanContext(context.Background(), span.SpanContext()), false)}
	if !span.IsRecording() {
		// Nothing records it: no handle, no end call needed.
		return started
	}
	started.handle = nextSpanHandle.Add(1)
	rustSpans.Store(started.handle, span)
	return started
}

// span_end ends a span a Rust processor started.
func (goBridge) span_end(e SpanEnd) {
	v, ok := rustSpans.LoadAndDelete(e.handle)
	if !ok {
		return
	}
	span := v.(trace.Span)
	if e.error != "" {
		span.SetStatus(codes.Error, strings.Clone(e.error))
	}
	span.End()
}

// withRustSpan parents an emission under the Rust span it names, if any.
func withRustSpan(ctx context.Context, handle uint64) context.Context {
	if handle == 0 {
		return ctx
	}
	if v, ok := rustSpans.Load(handle); ok {
		return trace.ContextWithSpan(ctx, v.(trace.Span))
	}
	return ctx
}
