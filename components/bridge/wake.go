package bridge

/*
#include "otelcol_rust_bridge.h"
*/
import "C"

import "sync"

// Waking the goroutine that waits for a request (rust/bridge/src/wake.rs).
// A request whose processor waits returns PENDING; its goroutine registers
// a waiter here, arms the wake-up in Rust and parks. The future's waker,
// on whatever thread it runs, calls wake: a non-blocking send, nothing
// more, so no Go work runs on a runtime thread.

// waiter is where a parked request's goroutine waits.
type waiter struct{ ch chan struct{} }

var waiters sync.Map // request id -> *waiter

func newWaiter(id uint64) *waiter {
	w := &waiter{ch: make(chan struct{}, 1)}
	waiters.Store(id, w)
	return w
}

func signal(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// wake implements the rust2go GoBridge callback.
func (goBridge) wake(w Wake) {
	switch w.kind {
	case C.OTELCOL_RUST_WAKE_REQUEST:
		// Rust calls only after the waiter is registered (it is armed);
		// a wake for a request that ended meanwhile finds nothing.
		if v, ok := waiters.Load(w.id); ok {
			signal(v.(*waiter).ch)
		}
	case C.OTELCOL_RUST_WAKE_COMPONENT:
		if p := lookupProcessor(w.id); p != nil {
			signal(p.emitterWake)
		}
	}
}
