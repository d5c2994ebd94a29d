package bridge

/*
#include "bridge.h"
*/
import "C"

import (
	"fmt"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// goBridge implements the callbacks Rust makes (the rust2go GoBridge trait).
type goBridge struct{}

func init() {
	GoBridgeImpl = goBridge{}
}

var (
	tracesUnmarshaler  ptrace.ProtoUnmarshaler
	metricsUnmarshaler pmetric.ProtoUnmarshaler
	logsUnmarshaler    plog.ProtoUnmarshaler
)

// unmarshals counts the emissions Go had to unmarshal; unchanged data is
// forwarded without one.
var unmarshals atomic.Uint64

// Slow-path bookkeeping, read by ReadStats.
var (
	pendingTotal       atomic.Uint64
	completionsTotal   atomic.Uint64
	unknownCompletions atomic.Uint64
)

func unmarshalTraces(b []byte) (ptrace.Traces, error) {
	unmarshals.Add(1)
	return tracesUnmarshaler.UnmarshalTraces(b)
}

func unmarshalMetrics(b []byte) (pmetric.Metrics, error) {
	unmarshals.Add(1)
	return metricsUnmarshaler.UnmarshalMetrics(b)
}

func unmarshalLogs(b []byte) (plog.Logs, error) {
	unmarshals.Add(1)
	return logsUnmarshaler.UnmarshalLogs(b)
}

// emit delivers a Rust processor's emission to the next consumer, on the
// thread Rust calls from, and writes the consumer's answer where Rust reads
// it.
func (goBridge) emit(e Emission) {
	reply := (*C.otelcol_rust_emit_reply)(cPointer(e.reply_ptr))
	writeReply(reply, deliver(e))
}

func deliver(e Emission) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = consumererror.NewPermanent(fmt.Errorf("next consumer panicked: %v", r))
		}
	}()
	var req *request
	if v, ok := requests.Load(e.request_id); ok {
		req = v.(*request)
	}
	// In flight, the request knows its processor; a late emission looks
	// it up.
	var proc *Processor
	if req != nil && req.proc.handle == e.component {
		proc = req.proc
	} else if proc = lookupProcessor(e.component); proc == nil {
		return bridgeError("otelcol-rust bridge: emission from unknown component %d", e.component)
	}
	// An emission made while its request is in flight gets that request's
	// context, every value in it; a later one gets a context rebuilt from
	// Rust's (deadline, client info, span context).
	ctx, cancel, err := emissionContext(req, e)
	if err != nil {
		return bridgeError("otelcol-rust bridge: %s emitted an unreadable context: %v", proc.id, err)
	}
	defer cancel()
	ctx = withRustSpan(ctx, e.span_handle)
	useOriginal := e.original && req != nil
	// Rust memory, valid for the duration of this call; the unmarshalers
	// copy what they keep.
	data := unsafeBytes(e.data_ptr, e.data_len)
	if testHookEmitData != nil && !useOriginal {
		testHookEmitData(data)
	}
	switch e.signal {
	case signalTraces:
		td := ptrace.Traces{}
		if useOriginal {
			td = req.traces
		} else if td, err = unmarshalTraces(data); err != nil {
			return consumererror.NewPermanent(fmt.Errorf("%s emitted invalid OTLP traces: %w", proc.id, err))
		}
		return proc.nextTraces.ConsumeTraces(ctx, td)
	case signalMetrics:
		md := pmetric.Metrics{}
		if useOriginal {
			md = req.metric
		} else if md, err = unmarshalMetrics(data); err != nil {
			return consumererror.NewPermanent(fmt.Errorf("%s emitted invalid OTLP metrics: %w", proc.id, err))
		}
		return proc.nextMetrics.ConsumeMetrics(ctx, md)
	case signalLogs:
		ld := plog.Logs{}
		if useOriginal {
			ld = req.logs
		} else if ld, err = unmarshalLogs(data); err != nil {
			return consumererror.NewPermanent(fmt.Errorf("%s emitted invalid OTLP logs: %w", proc.id, err))
		}
		return proc.nextLogs.ConsumeLogs(ctx, ld)
	}
	return bridgeError("otelcol-rust bridge: emission with unknown signal %d", e.signal)
}

// complete ends a request that finished on the Rust runtime.
func (goBridge) complete(c Completion) {
	outcome := (*C.otelcol_rust_outcome)(cPointer(c.outcome_ptr))
	re := readOutcome(outcome)
	v, ok := requests.LoadAndDelete(c.request_id)
	if !ok {
		unknownCompletions.Add(1)
		return
	}
	completionsTotal.Add(1)
	req := v.(*request)

	if at := req.cancelledAt.Load(); at != 0 && testHookCancelLatency != nil {
		testHookCancelLatency(time.Duration(time.Now().UnixNano() - at))
	}
	req.releaseBufferUnlessRetained(outcome.buffer_retained != 0)
	req.complete(re.goError(req.ctx))
}

// release frees what Rust no longer needs.
func (goBridge) release(r Release) {
	switch r.kind {
	case releaseBuffer:
		releaseRetainedBuffer(r.id)
	case releaseError:
		goErrors.Delete(r.id)
	}
}
