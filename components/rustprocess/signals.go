package rustprocess

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/otelcol-rust/otelcol-rust/components/internal/rusterrors"
	"github.com/otelcol-rust/otelcol-rust/components/internal/stopsignal"
)

// Shutdown with requests held by a Rust processor, as in the cgo bridge
// (components/internal/stopsignal says why): on SIGTERM, SIGINT
// (shutdown) and SIGHUP (reload) every started Rust processor stops
// holding requests: a call still
// running stopGrace after the signal, or started after it, is cancelled
// (the Rust process drops its future) and its caller gets the retryable
// shutdown error. Requests that do not wait finish well within the grace
// and keep flowing until the receivers close.

// stopGrace is how long a request may still run after a stop signal.
const stopGrace = 100 * time.Millisecond

// terminating is set on SIGTERM and SIGINT: the Rust process is not
// restarted any more if it exits (a service manager may signal the whole
// process group).
var terminating atomic.Bool

var errStopping = errors.New("otelcol-rust: stopping")

var signalWatch stopsignal.Watch

// errShutdown ends a request held by a processor that stops: the client
// can resend (gRPC UNAVAILABLE, HTTP 503, with a retry hint).
func errShutdown(p *Processor) error {
	return rusterrors.StatusError(fmt.Sprintf("%s is shutting down", p.set.ID), false, 14, 503, time.Second)
}

func watchStopSignals(p *Processor) {
	signalWatch.Add(p, func(sig os.Signal) {
		if sig != syscall.SIGHUP {
			terminating.Store(true)
		}
		p.beginStopping()
	})
}

func unwatchStopSignals(p *Processor) {
	signalWatch.Remove(p)
}

func (p *Processor) beginStopping() { p.stop() }

// callContext is ctx, cancelled with errStopping stopGrace after the
// processor begins stopping.
func (p *Processor) callContext(ctx context.Context) (context.Context, func()) {
	callCtx, cancel := context.WithCancelCause(ctx)
	var timer atomic.Pointer[time.Timer]
	unregister := context.AfterFunc(p.stopping, func() {
		timer.Store(time.AfterFunc(stopGrace, func() { cancel(errStopping) }))
	})
	return callCtx, func() {
		unregister()
		if t := timer.Load(); t != nil {
			t.Stop()
		}
		cancel(nil)
	}
}
