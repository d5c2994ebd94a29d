package bridge

import (
	"os"
	ossignal "os/signal"
	"sync"
	"syscall"
)

// The Collector shuts its components down in pipeline order: receivers
// first, and an OTLP receiver's shutdown waits for the requests it is
// serving. A request a Rust processor holds (a rate limiter in delay mode)
// would then keep the receiver, and so the whole shutdown, waiting until
// its client gives up: the processor's own Shutdown, which ends held
// requests, only comes after the receiver's. Nothing in the component API
// says that shutdown has begun, but the signal that starts it does: on
// SIGTERM or SIGINT (the Collector then shuts down) and SIGHUP (it
// reloads: the pipelines are shut down and built again), every started
// Rust processor ends its waiting requests at once with the retryable
// shutdown error and makes no new request wait. Requests that do not wait
// keep flowing until the receivers close, so nothing they carry is lost.
//
// signal.Notify adds a listener without taking the signal from the
// Collector's own; the listener is removed when the last processor shuts
// down, so a process without started Rust processors keeps the default
// signal handling.

// stopSignals are the signals after which the running pipelines end.
var stopSignals = []os.Signal{syscall.SIGTERM, os.Interrupt, syscall.SIGHUP}

var signalWatch struct {
	mu      sync.Mutex
	started map[*Processor]struct{}
	ch      chan os.Signal
	done    chan struct{}
}

// watchStopSignals makes p stop holding requests when a stop signal comes.
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
			case <-ch:
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

// unwatchStopSignals forgets p; the last one removes the listener.
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
