package bridge

/*
#include "otelcol_rust_bridge.h"
*/
import "C"

import (
	"context"
	"fmt"
	"runtime"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// Emissions (rust/bridge/src/emission.rs): what a Rust processor sends
// to the next consumer, delivered by Go on the request's goroutine. The
// data comes as Go's own pdata (unchanged), as an edit list Go applies to
// its own pdata, or as a complete batch Go unmarshals from Rust memory.
// Emissions made outside any request go through the component's emitter
// goroutine.

var (
	tracesUnmarshaler  ptrace.ProtoUnmarshaler
	metricsUnmarshaler pmetric.ProtoUnmarshaler
	logsUnmarshaler    plog.ProtoUnmarshaler
)

// Counts of what emissions cost Go: unmarshals of a whole batch (changed
// data), and edit lists applied in place. Unchanged data costs neither.
var (
	unmarshals   atomic.Uint64
	editsApplied atomic.Uint64
)

// batch is one signal's data.
type batch struct {
	traces  ptrace.Traces
	metrics pmetric.Metrics
	logs    plog.Logs
}

// unmarshalBatch decodes a complete batch Rust encoded.
func unmarshalBatch(signal uint8, data []byte) (b batch, err error) {
	unmarshals.Add(1)
	switch signal {
	case signalTraces:
		b.traces, err = tracesUnmarshaler.UnmarshalTraces(data)
	case signalMetrics:
		b.metrics, err = metricsUnmarshaler.UnmarshalMetrics(data)
	case signalLogs:
		b.logs, err = logsUnmarshaler.UnmarshalLogs(data)
	default:
		err = fmt.Errorf("unknown signal %d", signal)
	}
	return b, err
}

// consume calls the next consumer.
func (p *Processor) consume(ctx context.Context, signal uint8, b batch) error {
	switch signal {
	case signalTraces:
		return p.nextTraces.ConsumeTraces(ctx, b.traces)
	case signalMetrics:
		return p.nextMetrics.ConsumeMetrics(ctx, b.metrics)
	case signalLogs:
		return p.nextLogs.ConsumeLogs(ctx, b.logs)
	}
	return bridgeError("otelcol-rust bridge: emission with unknown signal %d", signal)
}

// recoverConsumerPanic turns a panicking next consumer into a permanent
// error, as the Collector's own fan-out does not: the request must still
// end in Rust.
func recoverConsumerPanic(err *error) {
	if r := recover(); r != nil {
		*err = consumererror.NewPermanent(fmt.Errorf("next consumer panicked: %v", r))
	}
}

// deliver hands one emission of the request to the next consumer and
// returns its answer.
func (r *request) deliver(s *C.OtelcolRustStep) (err error) {
	defer recoverConsumerPanic(&err)
	e, err := r.emissionOf(s)
	if err != nil {
		return err
	}
	defer e.cancel()
	return r.proc.consume(e.ctx, e.signal, e.batch)
}

// emission is one emission of a request, read into Go values.
type emission struct {
	ctx    context.Context
	cancel context.CancelFunc
	signal uint8
	batch  batch
}

// emissionOf reads an emission: its context, and its data as Go pdata
// (the caller's own, edited in place, or unmarshalled). It reads Rust
// memory, valid until the next call into the request; nothing returned
// refers to it.
func (r *request) emissionOf(s *C.OtelcolRustStep) (emission, error) {
	p := r.proc
	own := s.own_request != 0
	ctx, cancel, err := emissionContext(r.ctx, own, s.metadata_changed != 0,
		rustBytes(s.context, s.context_len), int64(s.deadline_nanos))
	if err != nil {
		return emission{}, bridgeError("otelcol-rust bridge: %s emitted an unreadable context: %v", p.id, err)
	}
	e := emission{ctx: withRustSpan(ctx, uint64(s.span_handle)), cancel: cancel, signal: uint8(s.signal)}
	data := rustBytes(s.data, s.data_len)
	switch s.form {
	case C.OTELCOL_RUST_FORM_ORIGINAL, C.OTELCOL_RUST_FORM_EDITS:
		if !own || r.handedOn || e.signal != p.signal {
			cancel()
			return emission{}, bridgeError("otelcol-rust bridge: %s emitted the request's own data twice", p.id)
		}
		r.handedOn = true
		e.batch = batch{traces: r.traces, metrics: r.metrics, logs: r.logs}
		if s.form == C.OTELCOL_RUST_FORM_EDITS {
			if testHookEmitData != nil {
				testHookEmitData(data)
			}
			editsApplied.Add(1)
			if err := applyEdits(data, e.batch.traces, e.batch.metrics, e.batch.logs, e.signal); err != nil {
				cancel()
				return emission{}, consumererror.NewPermanent(fmt.Errorf("%s: %w", p.id, err))
			}
		}
	default:
		if testHookEmitData != nil {
			testHookEmitData(data)
		}
		// The unmarshaler copies what it keeps.
		if e.batch, err = unmarshalBatch(e.signal, data); err != nil {
			cancel()
			return emission{}, consumererror.NewPermanent(fmt.Errorf("%s emitted invalid OTLP %s: %w", p.id, signalName(e.signal), err))
		}
	}
	return e, nil
}

// forward ends a request whose processor forwarded its data as its last
// act (a FORWARD step): the request is over in Rust, so Go reads the
// emission, lets Rust free it, and returns the next consumer's answer as
// the outcome, as a Go processor that ends with `return next.ConsumeX`.
func (r *request) forward(s *C.OtelcolRustStep) (err error) {
	r.readStages(s)
	e, err := r.emissionOf(s)
	retained := s.buffer_retained != 0
	if s.task != nil {
		retained = C.otelcol_rust_forward_release(s.task) != 0
	}
	r.end(retained)
	if err != nil {
		r.stagesForwarded(err, 0)
		return err
	}
	defer e.cancel()
	if len(r.stages) > 0 && !r.proc.telemetry.noopMeter {
		start := monotonicNow()
		defer func() { r.stagesForwarded(err, monotonicNow()-start) }()
	}
	defer recoverConsumerPanic(&err)
	return r.proc.consume(e.ctx, e.signal, e.batch)
}

// stagesForwarded completes, for a chain, the outcome of each processor
// that ended well by forwarding: the next consumer's answer is its
// outcome, and its time includes the consumer's, as when the answer came
// back through Rust.
func (r *request) stagesForwarded(err error, consumerTime time.Duration) {
	for i := range r.stages {
		st := &r.stages[i]
		if !st.entered || st.kind != errNone {
			continue
		}
		st.nanos += int64(consumerTime)
		if err != nil {
			st.kind, st.permanent = errDownstream, consumererror.IsPermanent(err)
		}
	}
}

// runEmitter delivers the emissions the component's processors make
// outside any request (data held past its request, a task a processor
// spawned), on this goroutine, until stop is closed.
func (p *Processor) runEmitter(stop <-chan struct{}) {
	defer close(p.emitterDone)
	for {
		for {
			step := C.otelcol_rust_component_next_emission(C.uint64_t(p.handle))
			if step.task == nil {
				break
			}
			rep := replyFor(p.deliverBackground(&step))
			msg, msgLen := rep.messagePtr()
			C.otelcol_rust_emission_reply(step.task, rep.kind, rep.grpcCode, rep.httpStatus, rep.foreign, msg, msgLen)
			runtime.KeepAlive(rep.message)
		}
		if C.otelcol_rust_component_arm(C.uint64_t(p.handle)) == 0 {
			continue
		}
		select {
		case <-p.emitterWake:
		case <-stop:
			return
		}
	}
}

func (p *Processor) deliverBackground(s *C.OtelcolRustStep) (err error) {
	defer recoverConsumerPanic(&err)
	ctx, cancel, err := emissionContext(context.Background(), false, false,
		rustBytes(s.context, s.context_len), int64(s.deadline_nanos))
	if err != nil {
		return bridgeError("otelcol-rust bridge: %s emitted an unreadable context: %v", p.id, err)
	}
	defer cancel()
	ctx = withRustSpan(ctx, uint64(s.span_handle))
	signal := uint8(s.signal)
	b, err := unmarshalBatch(signal, rustBytes(s.data, s.data_len))
	if err != nil {
		return consumererror.NewPermanent(fmt.Errorf("%s emitted invalid OTLP %s: %w", p.id, signalName(signal), err))
	}
	return p.consume(ctx, signal, b)
}

// goBridge implements the callbacks Rust makes (the rust2go GoBridge
// trait): release here, wake in wake.go, log and spans in telemetry.go.
type goBridge struct{}

func init() {
	GoBridgeImpl = goBridge{}
}

// release implements the rust2go GoBridge callback: Rust no longer needs
// a buffer or an error value.
func (goBridge) release(r Release) {
	switch r.kind {
	case C.OTELCOL_RUST_RELEASE_BUFFER:
		releaseRetainedBuffer(r.id)
	case C.OTELCOL_RUST_RELEASE_ERROR:
		goErrors.Delete(r.id)
	}
}
