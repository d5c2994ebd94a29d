package bridge

/*
#include "bridge.h"
*/
import "C"

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"

	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// Signal numbers shared with Rust (otelcol_rust_engine::Signal).
const (
	signalTraces  uint8 = 0
	signalMetrics uint8 = 1
	signalLogs    uint8 = 2
)

// Release kinds shared with Rust (rust/bridge/src/sink.rs).
const (
	releaseBuffer uint8 = 1
	releaseError  uint8 = 2
)

// request is one ConsumeX call while Rust works on it. Rust knows it by id;
// emissions and completions find it in the requests table.
type request struct {
	id     uint64
	ctx    context.Context
	proc   *Processor
	traces ptrace.Traces
	metric pmetric.Metrics
	logs   plog.Logs

	// buf holds the marshalled input. Rust reads it in place, so it stays
	// pinned until Rust says it no longer reads it.
	buf    []byte
	pinner runtime.Pinner

	// cancelledAt is when Go cancelled it on the slow path (UnixNano).
	cancelledAt atomic.Int64

	mu      sync.Mutex
	done    bool
	err     error
	replyCh chan error
}

var (
	nextRequestID atomic.Uint64
	requests      sync.Map // uint64 -> *request

	// retained holds requests whose input buffer Rust kept after the
	// request completed (a processor holding data), until Rust releases
	// it. A release that overtakes the outcome leaves releasedMarker.
	retained       sync.Map // uint64 -> *request or releasedMarker
	releasedMarker = new(int)

	nextErrorID atomic.Uint64
	goErrors    sync.Map // uint64 -> error, held for Rust
)

// pin pins the input buffer and returns its address for Rust.
func (r *request) pin() (*C.uint8_t, C.size_t) {
	if len(r.buf) == 0 {
		return nil, 0
	}
	r.pinner.Pin(&r.buf[0])
	return (*C.uint8_t)(&r.buf[0]), C.size_t(len(r.buf))
}

// releaseBufferUnlessRetained frees the input buffer now, or keeps it
// pinned until Rust's release when the outcome says Rust still holds it.
func (r *request) releaseBufferUnlessRetained(retainedByRust bool) {
	if !retainedByRust {
		r.pinner.Unpin()
		return
	}
	if prev, loaded := retained.LoadOrStore(r.id, r); loaded && prev == releasedMarker {
		// The release arrived before this outcome was read.
		retained.Delete(r.id)
		r.pinner.Unpin()
	}
}

// releaseRetainedBuffer handles Rust's release of a request's buffer.
func releaseRetainedBuffer(id uint64) {
	prev, loaded := retained.LoadOrStore(id, releasedMarker)
	if !loaded {
		return
	}
	retained.Delete(id)
	if r, ok := prev.(*request); ok {
		r.pinner.Unpin()
	}
}

// complete records the end of a request that went to the slow path.
func (r *request) complete(err error) {
	r.mu.Lock()
	r.done = true
	r.err = err
	ch := r.replyCh
	r.mu.Unlock()
	if ch != nil {
		ch <- err
	}
}

// wait blocks until Rust completes the request or its context ends,
// whichever comes first. When the context wins, Rust's later completion is
// absorbed by the completion callback, which frees what the request holds.
func (r *request) wait() error {
	r.mu.Lock()
	if r.done {
		err := r.err
		r.mu.Unlock()
		return err
	}
	ch := make(chan error, 1)
	r.replyCh = ch
	r.mu.Unlock()
	select {
	case err := <-ch:
		return err
	case <-r.ctx.Done():
		return ctxError(r.ctx)
	}
}

// ctxError is the error a done context ends a request with:
// context.Canceled or context.DeadlineExceeded (errors.Is), keeping the
// cause.
func ctxError(ctx context.Context) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		if cause := context.Cause(ctx); cause != nil && !errors.Is(cause, context.DeadlineExceeded) {
			return fmt.Errorf("%w: %w", context.DeadlineExceeded, cause)
		}
		return context.DeadlineExceeded
	}
	return canceledError(ctx)
}

// holdError keeps a Go error for Rust and returns the id Rust knows it by.
func holdError(err error) uint64 {
	id := nextErrorID.Add(1)
	goErrors.Store(id, err)
	return id
}

// heldError returns a held error without releasing it.
func heldError(id uint64) error {
	if v, ok := goErrors.Load(id); ok {
		return v.(error)
	}
	return nil
}
