package rustprocess

import (
	"context"
	"errors"
	"fmt"
	"os"
	ossignal "os/signal"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/otelcol-rust/otelcol-rust/components/internal/rusterrors"
)

// Shutdown with requests held by a Rust processor, as in the cgo bridge
// (components/bridge/signals.go): the Collector shuts its receivers down
// first and they wait for the requests they serve, so a request a Rust
// processor holds (a rate limiter in delay mode) would hold the whole
// shutdown up. On SIGTERM, SIGINT (shutdown) and SIGHUP (reload) every
// started Rust processor therefore stops holding requests: a call still
// running stopGrace after the signal, or started after it, is cancelled
// (the Rust process drops its future) and its caller gets the retryable
// shutdown error. Requests that do not wait finish well within the grace
// and keep flowing until the receivers close.

var stopSignals = []os.Signal{syscall.SIGTERM, os.Interrupt, syscall.SIGHUP}

// stopGrace is how long a request may still run after a stop signal.
const stopGrace = 100 * time.Millisecond

// terminating is set on SIGTERM and SIGINT: the Rust process is not
// restarted any more if it exits (a service manager may signal the whole
// process group).
var terminating atomic.Bool

var errStopping = errors.New("otelcol-rust: stopping")

var signalWatch struct {
	mu      sync.Mutex
	started map[*Processor]struct{}
	ch      chan os.Signal
	done    chan struct{}
}

// errShutdown ends a request held by a processor that stops: the client
// can resend (gRPC UNAVAILABLE, HTTP 503, with a retry hint).
func errShutdown(p *Processor) error {
	return rusterrors.StatusError(fmt.Sprintf("%s is shutting down", p.set.ID), false, 14, 503, time.Second)
}

func watchStopSignals(p *Processor) {
	signalWatch.mu.Lock()
	defer signalWatch.mu.Unlock()
	if signalWatch.started == nil {
		signalWatch.started = map[*Processor]struct{}{}
	}
	signalWatch.started[p] = struct{}{}
	if signalWatch.ch != nil {
		return
	}
	ch := make(chan os.Signal, 4)
	done := make(chan struct{})
	ossignal.Notify(ch, stopSignals...)
	signalWatch.ch, signalWatch.done = ch, done
	go func() {
		for {
			select {
			case sig := <-ch:
				if sig != syscall.SIGHUP {
					terminating.Store(true)
				}
				signalWatch.mu.Lock()
				for q := range signalWatch.started {
					q.beginStopping()
				}
				signalWatch.mu.Unlock()
			case <-done:
				return
			}
		}
	}()
}

func unwatchStopSignals(p *Processor) {
	signalWatch.mu.Lock()
	defer signalWatch.mu.Unlock()
	delete(signalWatch.started, p)
	if len(signalWatch.started) > 0 || signalWatch.ch == nil {
		return
	}
	ossignal.Stop(signalWatch.ch)
	close(signalWatch.done)
	signalWatch.ch, signalWatch.done = nil, nil
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
