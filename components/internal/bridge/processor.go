package bridge

/*
#include "bridge.h"
*/
import "C"

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/processor"
)

// Test hooks; nil outside tests.
var (
	testHookPinned   func(buf []byte)
	testHookEmitData func(data []byte)
	// testHookCancelLatency gets, for each cancelled slow-path request,
	// the time from Go's cancel to Rust's completion (the future dropped).
	testHookCancelLatency func(time.Duration)
)

// stateCreated etc. track a Processor's lifecycle.
const (
	stateCreated = iota
	stateStarted
	stateShutDown
)

var processors sync.Map // Rust component handle -> *Processor

func lookupProcessor(handle uint64) *Processor {
	if v, ok := processors.Load(handle); ok {
		return v.(*Processor)
	}
	return nil
}

var (
	tracesMarshaler  ptrace.ProtoMarshaler
	metricsMarshaler pmetric.ProtoMarshaler
	logsMarshaler    plog.ProtoMarshaler
)

// Processor is one Rust processor instance seen as a Collector processor.
// It implements processor.Traces, processor.Metrics or processor.Logs
// depending on which next consumer it was created with.
type Processor struct {
	id     component.ID
	handle uint64
	signal uint8
	// needsAuth: the processor reads client auth attributes, so they cross.
	needsAuth bool

	telemetry *telemetry
	spanName  string

	nextTraces  consumer.Traces
	nextMetrics consumer.Metrics
	nextLogs    consumer.Logs

	mu    sync.Mutex
	state int

	// requests hold drain for reading while in Rust; Shutdown takes it for
	// writing to wait for them and to set closed.
	drain  sync.RWMutex
	closed bool
}

// newProcessor creates the Rust instance for one component and signal.
func newProcessor(set processor.Settings, cfg *Config, signal uint8) (*Processor, error) {
	id := set.ID
	configJSON, err := cfg.json()
	if err != nil {
		return nil, err
	}
	resp := RustBridgeImpl{}.create(&CreateRequest{
		processor_type: cfg.processorType,
		component_id:   id.String(),
		signal:         signal,
		config_json:    configJSON,
	})
	if resp.error != "" {
		return nil, errors.New(resp.error)
	}
	info, _ := LookupProcessor(cfg.processorType)
	p := &Processor{id: id, handle: resp.handle, signal: signal, needsAuth: info.NeedsClientAuth, spanName: id.String()}
	tel, err := newTelemetry(set.TelemetrySettings, p, info)
	if err != nil {
		RustBridgeImpl{}.destroy(&HandleRequest{handle: p.handle})
		return nil, fmt.Errorf("%s: telemetry: %w", id, err)
	}
	p.telemetry = tel
	processors.Store(p.handle, p)
	return p, nil
}

// Start implements component.Component.
func (p *Processor) Start(context.Context, component.Host) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.state != stateCreated {
		return nil
	}
	if resp := (RustBridgeImpl{}).start(&HandleRequest{handle: p.handle}); resp.error != "" {
		return fmt.Errorf("starting %s: %s", p.id, resp.error)
	}
	p.state = stateStarted
	return nil
}

// Shutdown implements component.Component. It waits for the requests in
// flight (or ctx), then frees the Rust instance. Safe to call more than
// once and without Start.
func (p *Processor) Shutdown(ctx context.Context) error {
	p.mu.Lock()
	if p.state == stateShutDown {
		p.mu.Unlock()
		return nil
	}
	p.state = stateShutDown
	p.mu.Unlock()

	drained := make(chan struct{})
	go func() {
		p.drain.Lock()
		p.closed = true
		p.drain.Unlock()
		close(drained)
	}()
	var waitErr error
	select {
	case <-drained:
	case <-ctx.Done():
		waitErr = fmt.Errorf("shutting down %s with requests in flight: %w", p.id, ctx.Err())
	}
	var errs []error
	if waitErr != nil {
		errs = append(errs, waitErr)
	}
	if resp := (RustBridgeImpl{}).shutdown(&HandleRequest{handle: p.handle}); resp.error != "" {
		errs = append(errs, fmt.Errorf("shutting down %s: %s", p.id, resp.error))
	}
	if resp := (RustBridgeImpl{}).destroy(&HandleRequest{handle: p.handle}); resp.error != "" {
		errs = append(errs, fmt.Errorf("destroying %s: %s", p.id, resp.error))
	}
	p.telemetry.shutdown()
	if waitErr == nil {
		processors.Delete(p.handle)
	} else {
		// Requests still in flight will look their processor up when they
		// emit or complete; forget it once they are done.
		go func() {
			<-drained
			processors.Delete(p.handle)
		}()
	}
	return errors.Join(errs...)
}

// Capabilities implements consumer.Traces/Metrics/Logs. A Rust processor
// never changes the pdata it is given: changed data comes back as new pdata
// unmarshalled from Rust's output.
func (p *Processor) Capabilities() consumer.Capabilities {
	return consumer.Capabilities{MutatesData: false}
}

// ConsumeTraces implements consumer.Traces.
func (p *Processor) ConsumeTraces(ctx context.Context, td ptrace.Traces) error {
	if ctx.Err() != nil {
		// An expired or cancelled context never crosses into Rust.
		return ctxError(ctx)
	}
	buf, err := tracesMarshaler.MarshalTraces(td)
	if err != nil {
		return consumererror.NewPermanent(fmt.Errorf("%s: marshalling traces: %w", p.id, err))
	}
	return p.process(&request{ctx: ctx, proc: p, traces: td, buf: buf})
}

// ConsumeMetrics implements consumer.Metrics.
func (p *Processor) ConsumeMetrics(ctx context.Context, md pmetric.Metrics) error {
	if ctx.Err() != nil {
		// An expired or cancelled context never crosses into Rust.
		return ctxError(ctx)
	}
	buf, err := metricsMarshaler.MarshalMetrics(md)
	if err != nil {
		return consumererror.NewPermanent(fmt.Errorf("%s: marshalling metrics: %w", p.id, err))
	}
	return p.process(&request{ctx: ctx, proc: p, metric: md, buf: buf})
}

// ConsumeLogs implements consumer.Logs.
func (p *Processor) ConsumeLogs(ctx context.Context, ld plog.Logs) error {
	if ctx.Err() != nil {
		// An expired or cancelled context never crosses into Rust.
		return ctxError(ctx)
	}
	buf, err := logsMarshaler.MarshalLogs(ld)
	if err != nil {
		return consumererror.NewPermanent(fmt.Errorf("%s: marshalling logs: %w", p.id, err))
	}
	return p.process(&request{ctx: ctx, proc: p, logs: ld, buf: buf})
}

// process runs one request through Rust: inline on this goroutine, or, when
// the Rust future has to wait, until its completion arrives.
func (p *Processor) process(r *request) error {
	p.drain.RLock()
	defer p.drain.RUnlock()
	if p.closed {
		return consumererror.NewPermanent(fmt.Errorf("%s is shut down", p.id))
	}
	ctx, span, start := p.telemetry.startRequest(r.ctx, p.spanName)
	r.ctx = ctx
	err := p.cross(r)
	p.telemetry.endRequest(ctx, span, start, err)
	return err
}

// cross runs the request in Rust: inline, or until its completion or its
// context's end.
func (p *Processor) cross(r *request) error {
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
		// Heap bytes without pointers, read by Rust only during the call.
		ctxPtr = (*C.uint8_t)(&encodedCtx[0])
	}

	r.id = nextRequestID.Add(1)
	data, n := r.pin()
	if testHookPinned != nil {
		testHookPinned(r.buf)
	}
	requests.Store(r.id, r)
	outcome := C.otelcol_rust_process(C.uint64_t(p.handle), C.uint64_t(r.id), C.uint8_t(p.signal),
		C.int64_t(timeout), data, n, ctxPtr, C.size_t(len(encodedCtx)))
	if outcome.state != 0 {
		// Pending: the future waits on the Rust runtime. Cancelling ctx
		// cancels it there at once (AfterFunc costs no goroutine until
		// then); Rust's completion callback removes the request, handles
		// the buffer and wakes us, unless ctx ends first.
		pendingTotal.Add(1)
		p.telemetry.queued.Add(r.ctx, 1, p.telemetry.componentSet)
		defer p.telemetry.queued.Add(context.WithoutCancel(r.ctx), -1, p.telemetry.componentSet)
		id := r.id
		stop := context.AfterFunc(r.ctx, func() {
			r.cancelledAt.Store(time.Now().UnixNano())
			C.otelcol_rust_cancel(C.uint64_t(id))
		})
		defer stop()
		return r.wait()
	}
	// Read (and free) the outcome first, as the completion callback does:
	// once the request leaves the table, nothing it held is left.
	re := readOutcome(&outcome)
	requests.Delete(r.id)
	r.releaseBufferUnlessRetained(outcome.buffer_retained != 0)
	return re.goError(r.ctx)
}
