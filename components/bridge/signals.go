package bridge

import (
	"os"

	"github.com/otelcol-rust/otelcol-rust/components/internal/stopsignal"
)

// On a stop signal (components/internal/stopsignal says why) every
// started Rust processor ends its waiting requests at once with the
// retryable shutdown error and makes no new request wait. Requests that do
// not wait keep flowing until the receivers close, so nothing they carry
// is lost.

var signalWatch stopsignal.Watch

// watchStopSignals makes p stop holding requests when a stop signal comes.
func watchStopSignals(p *Processor) {
	signalWatch.Add(p, func(os.Signal) { p.beginStopping() })
}

// unwatchStopSignals forgets p; the last one removes the listener.
func unwatchStopSignals(p *Processor) {
	signalWatch.Remove(p)
}
