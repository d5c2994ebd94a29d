// Package stopsignal tells the Rust processors that the Collector is
// stopping, before their Shutdown is called.
//
// The Collector shuts its components down in pipeline order: receivers
// first, and an OTLP receiver's shutdown waits for the requests it is
// serving. A request a Rust processor holds (a rate limiter in delay mode)
// would then keep the receiver, and so the whole shutdown, waiting until
// its client gives up: the processor's own Shutdown, which ends held
// requests, only comes after the receiver's. Nothing in the component API
// says that shutdown has begun, but the signal that starts it does: on
// SIGTERM or SIGINT (the Collector then shuts down) and SIGHUP (it
// reloads: the pipelines are shut down and built again), every started
// Rust processor stops holding requests. Both distributions use it: the
// cgo bridge (components/bridge) and the cgo-free path
// (components/rustprocess).
//
// signal.Notify adds a listener without taking the signal from the
// Collector's own; the listener is removed when the last processor leaves,
// so a process without started Rust processors keeps the default signal
// handling.
package stopsignal

import (
	"os"
	ossignal "os/signal"
	"sync"
	"syscall"
)

// Signals are the signals after which the running pipelines end.
var Signals = []os.Signal{syscall.SIGTERM, os.Interrupt, syscall.SIGHUP}

// Watch calls the function of every started processor when a stop signal
// comes. The zero value is ready to use.
type Watch struct {
	mu      sync.Mutex
	started map[any]func(os.Signal)
	ch      chan os.Signal
	done    chan struct{}
}

// Add calls stop with the signal when one comes, until Remove(key); the
// first processor added starts listening.
func (w *Watch) Add(key any, stop func(os.Signal)) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.started == nil {
		w.started = map[any]func(os.Signal){}
	}
	w.started[key] = stop
	if w.ch != nil {
		return
	}
	ch := make(chan os.Signal, 4)
	done := make(chan struct{})
	ossignal.Notify(ch, Signals...)
	w.ch, w.done = ch, done
	go func() {
		for {
			select {
			case sig := <-ch:
				w.mu.Lock()
				for _, stop := range w.started {
					stop(sig)
				}
				w.mu.Unlock()
			case <-done:
				return
			}
		}
	}()
}

// Remove forgets key; the last one removes the listener.
func (w *Watch) Remove(key any) {
	w.mu.Lock()
	defer w.mu.Unlock()
	delete(w.started, key)
	if len(w.started) > 0 || w.ch == nil {
		return
	}
	ossignal.Stop(w.ch)
	close(w.done)
	w.ch, w.done = nil, nil
}
