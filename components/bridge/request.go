package bridge

/*
#include "otelcol_rust_bridge.h"
*/
import "C"

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/otelcol-rust/otelcol-rust/components/internal/rusterrors"
)

// The request path (rust/bridge/src/request.rs). Go drives every request
// on the caller's goroutine: it starts the request in Rust, which polls
// the processor there and says what it wants next. An emission comes back
// to Go, which calls the next consumer right here, outside any cgo call,
// and resumes the request with the answer; a wait parks the goroutine
// (not an OS thread) until Rust's waker calls wake; the end carries the
// outcome. So a consumer that blocks holds a goroutine, as behind a Go
// processor.

// Signal numbers (rust/bridge/src/abi.rs).
const (
	signalTraces  uint8 = C.OTELCOL_RUST_SIGNAL_TRACES
	signalMetrics uint8 = C.OTELCOL_RUST_SIGNAL_METRICS
	signalLogs    uint8 = C.OTELCOL_RUST_SIGNAL_LOGS
)

// What a crossing returns (rust/bridge/src/abi.rs).
const (
	stepDone    uint8 = C.OTELCOL_RUST_STEP_DONE
	stepEmit    uint8 = C.OTELCOL_RUST_STEP_EMIT
	stepPending uint8 = C.OTELCOL_RUST_STEP_PENDING
	stepForward uint8 = C.OTELCOL_RUST_STEP_FORWARD
)

// countsUnknown: Go did not measure the batch (rust/bridge/src/abi.rs).
const countsUnknown = uint64(C.OTELCOL_RUST_COUNTS_UNKNOWN)

// Test hooks; nil outside tests.
var (
	testHookPinned   func(buf []byte)
	testHookEmitData func(data []byte)
	// testHookCancelled runs after a waiting request was dropped in Rust
	// because its context ended.
	testHookCancelled func(ctx context.Context)
	// testHookStep sees the kind of every step a crossing returns.
	testHookStep func(kind uint8)
)

// request is one ConsumeX call while it crosses.
type request struct {
	id      uint64
	ctx     context.Context
	proc    *Processor
	traces  ptrace.Traces
	metrics pmetric.Metrics
	logs    plog.Logs

	// buf holds the marshalled input (or its attribute projection). Rust
	// reads it in place, so it stays pinned until Rust says it no longer
	// reads it.
	buf    []byte
	pinner runtime.Pinner
	// projection is the reusable writer buf comes from, if it does.
	projection *projectionWriter
	// bufInC: buf is C memory its owner keeps until the request ends (not
	// pinned).
	bufInC bool
	// kept: Rust still holds buf after the request, and the release
	// finds the request by its id.
	kept bool

	// items and encodedSize: what Go measured of the batch, when a
	// processor reads them (items is countsUnknown otherwise).
	items, encodedSize uint64

	// handedOn: the caller's pdata went to the next consumer.
	handedOn bool
	waiter   *waiter
	// stages: for a chain, how each processor handled the request.
	stages []stageOutcome
}

// Requests are pooled: a loaded collector makes one per batch.
var requestPool = sync.Pool{New: func() any { return new(request) }}

// newRequest is a request of p with the caller's ctx.
func newRequest(ctx context.Context, p *Processor) *request {
	r := requestPool.Get().(*request)
	r.ctx, r.proc, r.items = ctx, p, countsUnknown
	return r
}

// recycle returns r to the pool once the request is over, unless Rust
// still holds its input buffer (r waits for the release then).
func (r *request) recycle() {
	if r.kept {
		return
	}
	if r.projection != nil {
		// The request ended before it crossed (its processor shut down,
		// its deadline passed): its buffer was never Rust's.
		putProjection(r.projection)
	}
	*r = request{}
	requestPool.Put(r)
}

var (
	nextRequestID atomic.Uint64

	// Slow-path bookkeeping, read by ReadStats.
	pendingTotal atomic.Uint64
	waitsTotal   atomic.Uint64
)

// errShutdown ends a request held by a processor that shuts down: the
// client can resend (gRPC UNAVAILABLE, HTTP 503, with a retry hint).
func errShutdown(p *Processor) error {
	return statusError(fmt.Sprintf("%s is shutting down", p.id), false, 14, 503, time.Second)
}

// run takes one request through Rust until it ends.
func (p *Processor) run(r *request) error {
	// Deadline as time left, so the two clocks never need to agree.
	timeout := int64(-1)
	if deadline, ok := r.ctx.Deadline(); ok {
		left := time.Until(deadline)
		if left <= 0 {
			// Past the deadline, though the context's own timer may not
			// have fired yet: never cross.
			return context.DeadlineExceeded
		}
		timeout = int64(left)
	}
	encodedCtx := encodeRequestContext(r.ctx, p.needsAuth)
	var ctxPtr *C.uint8_t
	if len(encodedCtx) > 0 {
		// Heap bytes without pointers, decoded by Rust during the call.
		ctxPtr = (*C.uint8_t)(unsafe.Pointer(&encodedCtx[0]))
	}
	r.id = nextRequestID.Add(1)
	buf := r.pin()
	var data *C.uint8_t
	if len(buf) > 0 {
		data = (*C.uint8_t)(unsafe.Pointer(&buf[0]))
	}
	if testHookPinned != nil {
		testHookPinned(buf)
	}
	step := C.otelcol_rust_request_start(p.rustComponent, C.uint64_t(r.id), C.uint8_t(p.signal),
		C.int64_t(timeout), data, C.size_t(len(buf)), ctxPtr, C.size_t(len(encodedCtx)),
		C.uint8_t(p.input), C.uint64_t(r.items), C.uint64_t(r.encodedSize))
	for {
		if testHookStep != nil {
			testHookStep(uint8(step.kind))
		}
		switch uint8(step.kind) {
		case stepEmit:
			rep := replyFor(r.deliver(&step))
			msg, msgLen := rep.messagePtr()
			step = C.otelcol_rust_request_resume(step.task, rep.kind, rep.grpcCode, rep.httpStatus, rep.foreign, msg, msgLen)
			runtime.KeepAlive(rep.message)
		case stepForward:
			return r.forward(&step)
		case stepPending:
			next, ended, err := r.wait(step.task, step.wake_state)
			if ended {
				return err
			}
			step = next
		default:
			re := readError(&step.error)
			r.readStages(&step)
			r.end(step.buffer_retained != 0)
			return re.goError(r.ctx)
		}
	}
}

// wait parks the goroutine until Rust wakes the request, then polls it.
// If the caller's context ends first, or the processor shuts down, the
// request is dropped in Rust and ends here (ended true).
func (r *request) wait(task unsafe.Pointer, wakeState *C.uint32_t) (step C.OtelcolRustStep, ended bool, err error) {
	select {
	case <-r.proc.stopping:
		// Shutting down: nothing starts waiting, so nothing holds the
		// receivers (and the Collector's exit) up.
		return r.drop(task, errShutdown(r.proc))
	default:
	}
	if wakeState != nil && spinForWake((*uint32)(unsafe.Pointer(wakeState))) && r.ctx.Err() == nil {
		return C.otelcol_rust_request_poll(task), false, nil
	}
	if r.waiter == nil {
		pendingTotal.Add(1)
		for _, s := range r.proc.telemetry.stages {
			r.proc.telemetry.queued.Add(r.ctx, 1, s.componentAdd...)
		}
		r.waiter = newWaiter(r.id)
	}
	if C.otelcol_rust_request_arm(task) == 0 && r.ctx.Err() == nil {
		// Woken already (or busy waking itself): poll again, letting other
		// goroutines run first.
		runtime.Gosched()
		return C.otelcol_rust_request_poll(task), false, nil
	}
	waitsTotal.Add(1)
	select {
	case <-r.waiter.ch:
		// The caller's context wins over the work, as a deadline or a
		// cancel that came first would have.
		if r.ctx.Err() == nil {
			return C.otelcol_rust_request_poll(task), false, nil
		}
		return r.drop(task, ctxError(r.ctx))
	case <-r.ctx.Done():
		return r.drop(task, ctxError(r.ctx))
	case <-r.proc.stopping:
		return r.drop(task, errShutdown(r.proc))
	}
}

// drop ends a waiting request in Rust (its future is dropped with
// whatever it awaited) and here, with err.
func (r *request) drop(task unsafe.Pointer, err error) (C.OtelcolRustStep, bool, error) {
	r.end(C.otelcol_rust_request_cancel(task) != 0)
	if testHookCancelled != nil {
		testHookCancelled(r.ctx)
	}
	r.everyStageEnded(err)
	return C.OtelcolRustStep{}, true, err
}

// readStages reads (and frees) how each processor of a chain handled the
// request.
func (r *request) readStages(s *C.OtelcolRustStep) {
	if s.stage_outcomes == nil {
		return
	}
	outcomes := unsafe.Slice(s.stage_outcomes, int(s.stage_outcomes_len))
	r.stages = make([]stageOutcome, len(outcomes))
	for i, o := range outcomes {
		r.stages[i] = stageOutcome{entered: o.entered != 0, kind: uint8(o.error_kind), permanent: o.permanent != 0, nanos: int64(o.nanos)}
	}
	C.otelcol_rust_stage_outcomes_free(s.stage_outcomes, s.stage_outcomes_len)
}

// everyStageEnded records, for a chain whose request was dropped while it
// waited, that every processor ended with err.
func (r *request) everyStageEnded(err error) {
	if len(r.proc.telemetry.stages) < 2 {
		return
	}
	re := &rustError{kind: errRetryable}
	switch {
	case errors.Is(err, context.Canceled):
		re.kind = errCancelled
	case errors.Is(err, context.DeadlineExceeded):
		re.kind = errDeadline
	}
	r.stages = make([]stageOutcome, len(r.proc.telemetry.stages))
	for i := range r.stages {
		r.stages[i] = stageOutcome{entered: true, kind: re.kind}
	}
}

// Before it parks, a waiting request watches its wake-up state for a
// short while: a wake-up that comes within spinFor (a task on the bridge's
// runtime that answers at once) then costs no park, no wake-up callback
// and no thread wake-up in Go. At most maxSpinners goroutines spin at a
// time, so that waiting never takes the CPU from work.
const spinFor = 50 * time.Microsecond

var (
	maxSpinners = int32(max(1, runtime.GOMAXPROCS(0)/2))
	spinners    atomic.Int32
	spinWins    atomic.Uint64
)

func spinForWake(state *uint32) bool {
	if spinners.Add(1) > maxSpinners {
		spinners.Add(-1)
		return false
	}
	defer spinners.Add(-1)
	start := time.Now()
	for i := 0; ; i++ {
		if atomic.LoadUint32(state) == C.OTELCOL_RUST_WAKE_NOTIFIED {
			spinWins.Add(1)
			return true
		}
		if i%16 == 15 && time.Since(start) > spinFor {
			return false
		}
		runtime.Gosched()
	}
}

// end releases what the request holds in Go.
func (r *request) end(bufferRetained bool) {
	if r.waiter != nil {
		waiters.Delete(r.id)
		for _, s := range r.proc.telemetry.stages {
			r.proc.telemetry.queued.Add(context.WithoutCancel(r.ctx), -1, s.componentAdd...)
		}
	}
	r.releaseBuffer(bufferRetained)
}

// ctxError is the error a done context ends a request with:
// context.Canceled or context.DeadlineExceeded (errors.Is), keeping the
// cause.
func ctxError(ctx context.Context) error { return rusterrors.CtxError(ctx) }
