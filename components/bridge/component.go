package bridge

/*
#include "otelcol_rust_bridge.h"
*/
import "C"

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"unsafe"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/processor"
)

// Components (rust/bridge/src/component.rs): a Processor is one created
// Rust component seen as a Collector processor, with the Collector's
// lifecycle around the Rust handle.

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

// Processor is one Rust component seen as a Collector processor. It
// implements processor.Traces, processor.Metrics or processor.Logs
// depending on which next consumer it was created with.
type Processor struct {
	id     component.ID
	handle uint64
	// rustComponent is Rust's reference to the component that requests
	// start with (otelcol_rust_component_retain), released once no
	// request can start any more.
	rustComponent unsafe.Pointer
	signal        uint8
	// needsAuth: a processor reads client auth attributes, so they cross.
	needsAuth bool
	// mutatesData: a processor may edit the data; Go then applies its
	// edits to the caller's pdata in place.
	mutatesData bool
	// input is what Go sends Rust of a batch (inputWhole, inputAttributes,
	// inputAttributesAndRecordFields, inputCounts), from what the
	// processors declared they read.
	input uint8
	// needsCounts: a processor reads the batch's item count and encoded
	// size, which Go measures on its pdata and sends with the input.
	needsCounts bool
	// keysNamed: the processors read only the attribute keys in
	// attributeKeys, so the projection writes only those entries whole.
	keysNamed     bool
	attributeKeys keySet

	telemetry *telemetry

	nextTraces  consumer.Traces
	nextMetrics consumer.Metrics
	nextLogs    consumer.Logs

	mu    sync.Mutex
	state int

	// Requests hold drain for reading while they cross; Shutdown takes it
	// for writing to wait for them and to set closed.
	drain  sync.RWMutex
	closed bool
	// stopping is closed when Shutdown begins, or a stop signal came
	// before it (signals.go): waiting requests end, none waits any more.
	stopping chan struct{}
	stopOnce sync.Once

	emitterWake chan struct{}
	emitterStop chan struct{}
	emitterDone chan struct{}
}

// stage is one Rust processor of a component: its component id and
// configuration.
type stage struct {
	id   component.ID
	cfg  *Config
	info RegisteredProcessor
}

// newProcessor creates the Rust component for one component id and
// signal: one processor, or a chain of them.
func newProcessor(set processor.Settings, stages []stage, signal uint8) (*Processor, error) {
	req := &CreateRequest{component_id: set.ID.String(), signal: signal}
	p := &Processor{
		id:          set.ID,
		signal:      signal,
		stopping:    make(chan struct{}),
		emitterWake: make(chan struct{}, 1),
	}
	var access []string
	for i := range stages {
		configJSON, err := stages[i].cfg.json()
		if err != nil {
			return nil, err
		}
		req.stages = append(req.stages, StageConfig{
			processor_type: stages[i].cfg.processorType,
			component_id:   stages[i].id.String(),
			config_json:    configJSON,
		})
		stages[i].info, _ = LookupProcessor(stages[i].cfg.processorType)
		p.needsAuth = p.needsAuth || stages[i].info.NeedsClientAuth
		p.mutatesData = p.mutatesData || stages[i].info.MutatesData
		access = append(access, stages[i].info.DataAccess)
	}
	p.input, p.needsCounts = inputFor(access)
	resp := RustBridgeImpl{}.create(req)
	if resp.error != "" {
		return nil, errors.New(resp.error)
	}
	p.handle = resp.handle
	if p.input == inputAttributes || p.input == inputAttributesAndRecordFields {
		p.keysNamed, p.attributeKeys = resp.keys_named, newKeySet(resp.attribute_keys)
	}
	tel, err := newTelemetry(set.TelemetrySettings, p, stages)
	if err != nil {
		RustBridgeImpl{}.destroy(&HandleRequest{handle: p.handle})
		return nil, fmt.Errorf("%s: telemetry: %w", set.ID, err)
	}
	p.rustComponent = C.otelcol_rust_component_retain(C.uint64_t(p.handle))
	p.telemetry = tel
	processors.Store(p.handle, p)
	return p, nil
}

// Input forms (rust/bridge/src/abi.rs).
const (
	inputWhole      uint8 = C.OTELCOL_RUST_INPUT_WHOLE
	inputAttributes uint8 = C.OTELCOL_RUST_INPUT_ATTRIBUTES
	inputCounts     uint8 = C.OTELCOL_RUST_INPUT_COUNTS

	inputAttributesAndRecordFields uint8 = C.OTELCOL_RUST_INPUT_ATTRIBUTES_AND_RECORD_FIELDS
)

// inputFor decides what a component's requests carry into Rust from what
// each processor, in pipeline order, declared it reads ("counts",
// "attributes", "attributes_and_record_fields", "full"). The least that
// serves them all:
//
//   - only counts: no bytes at all, only the item count and encoded size,
//     measured on Go's pdata (a rate limiter costs no marshal and no second
//     copy of a large batch);
//   - attributes, after any counts: the attribute projection, with the
//     counts if a processor reads them, and with the log bodies and span
//     names and kinds if a processor rewrites those;
//   - anything else (a processor reading the whole batch, or one reading
//     the size after another may have edited attributes): the whole batch.
func inputFor(access []string) (input uint8, needsCounts bool) {
	input = inputCounts
	for _, a := range access {
		switch a {
		case "counts":
			needsCounts = true
			if input != inputCounts {
				// An earlier processor may change attributes, and so the
				// size this one reads: only the whole batch has it.
				return inputWhole, false
			}
		case "attributes":
			if input == inputCounts {
				input = inputAttributes
			}
		case "attributes_and_record_fields":
			input = inputAttributesAndRecordFields
		default:
			return inputWhole, false
		}
	}
	return input, needsCounts
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
	p.emitterStop = make(chan struct{})
	p.emitterDone = make(chan struct{})
	go p.runEmitter(p.emitterStop)
	p.state = stateStarted
	watchStopSignals(p)
	return nil
}

// beginStopping ends every waiting request with the retryable shutdown
// error and makes later ones end instead of waiting.
func (p *Processor) beginStopping() {
	p.stopOnce.Do(func() { close(p.stopping) })
}

// Shutdown implements component.Component. It stops admitting requests,
// ends the waiting ones (their callers get a retryable error), waits for
// the ones still running (or ctx), then frees the Rust component. Safe to
// call more than once and without Start.
func (p *Processor) Shutdown(ctx context.Context) error {
	p.mu.Lock()
	if p.state == stateShutDown {
		p.mu.Unlock()
		return nil
	}
	started := p.state == stateStarted
	p.state = stateShutDown
	p.mu.Unlock()

	unwatchStopSignals(p)
	p.beginStopping()
	drained := make(chan struct{})
	go func() {
		p.drain.Lock()
		p.closed = true
		p.drain.Unlock()
		close(drained)
	}()
	var errs []error
	select {
	case <-drained:
	case <-ctx.Done():
		errs = append(errs, fmt.Errorf("shutting down %s with requests in flight: %w", p.id, ctx.Err()))
	}
	if resp := (RustBridgeImpl{}).shutdown(&HandleRequest{handle: p.handle}); resp.error != "" {
		errs = append(errs, fmt.Errorf("shutting down %s: %s", p.id, resp.error))
	}
	if started {
		close(p.emitterStop)
		<-p.emitterDone
	}
	if resp := (RustBridgeImpl{}).destroy(&HandleRequest{handle: p.handle}); resp.error != "" {
		errs = append(errs, fmt.Errorf("destroying %s: %s", p.id, resp.error))
	}
	p.telemetry.shutdown()
	select {
	case <-drained:
		p.forget()
	default:
		// Requests still running look their processor up (logs, spans),
		// and one may still start: forget it once they are done.
		go func() {
			<-drained
			p.forget()
		}()
	}
	return errors.Join(errs...)
}

// Capabilities implements consumer.Traces/Metrics/Logs: a processor that
// may edit data edits the caller's pdata in place, as a Go processor
// would.
func (p *Processor) Capabilities() consumer.Capabilities {
	return consumer.Capabilities{MutatesData: p.mutatesData}
}

// ConsumeTraces implements consumer.Traces.
func (p *Processor) ConsumeTraces(ctx context.Context, td ptrace.Traces) error {
	if ctx.Err() != nil {
		// An expired or cancelled context never crosses into Rust.
		return ctxError(ctx)
	}
	r := newRequest(ctx, p)
	r.traces = td
	if p.needsCounts {
		r.items, r.encodedSize = uint64(td.SpanCount()), uint64(tracesMarshaler.TracesSize(td))
	}
	switch p.input {
	case inputCounts:
	case inputAttributes, inputAttributesAndRecordFields:
		r.projection = p.newProjection()
		r.projection.traces(td, p.input == inputAttributesAndRecordFields)
		r.projection.settle()
		r.buf = r.projection.buf
	default:
		buf, err := tracesMarshaler.MarshalTraces(td)
		if err != nil {
			return consumererror.NewPermanent(fmt.Errorf("%s: marshalling traces: %w", p.id, err))
		}
		r.buf = buf
	}
	err := p.process(r)
	r.recycle()
	return err
}

// ConsumeMetrics implements consumer.Metrics.
func (p *Processor) ConsumeMetrics(ctx context.Context, md pmetric.Metrics) error {
	if ctx.Err() != nil {
		return ctxError(ctx)
	}
	r := newRequest(ctx, p)
	r.metrics = md
	if p.needsCounts {
		r.items, r.encodedSize = uint64(md.DataPointCount()), uint64(metricsMarshaler.MetricsSize(md))
	}
	switch p.input {
	case inputCounts:
	case inputAttributes, inputAttributesAndRecordFields:
		r.projection = p.newProjection()
		r.projection.metrics(md)
		r.projection.settle()
		r.buf = r.projection.buf
	default:
		buf, err := metricsMarshaler.MarshalMetrics(md)
		if err != nil {
			return consumererror.NewPermanent(fmt.Errorf("%s: marshalling metrics: %w", p.id, err))
		}
		r.buf = buf
	}
	err := p.process(r)
	r.recycle()
	return err
}

// ConsumeLogs implements consumer.Logs.
func (p *Processor) ConsumeLogs(ctx context.Context, ld plog.Logs) error {
	if ctx.Err() != nil {
		return ctxError(ctx)
	}
	r := newRequest(ctx, p)
	r.logs = ld
	if p.needsCounts {
		r.items, r.encodedSize = uint64(ld.LogRecordCount()), uint64(logsMarshaler.LogsSize(ld))
	}
	switch p.input {
	case inputCounts:
	case inputAttributes, inputAttributesAndRecordFields:
		r.projection = p.newProjection()
		r.projection.logs(ld, p.input == inputAttributesAndRecordFields)
		r.projection.settle()
		r.buf = r.projection.buf
	default:
		buf, err := logsMarshaler.MarshalLogs(ld)
		if err != nil {
			return consumererror.NewPermanent(fmt.Errorf("%s: marshalling logs: %w", p.id, err))
		}
		r.buf = buf
	}
	err := p.process(r)
	r.recycle()
	return err
}

// newProjection is a pooled projection writer set up for the
// component's processors (the keys they named, if they did).
func (p *Processor) newProjection() *projectionWriter {
	w := getProjection()
	w.keysNamed, w.keys = p.keysNamed, p.attributeKeys
	return w
}

// process admits a request and records it in the component's telemetry.
func (p *Processor) process(r *request) error {
	p.drain.RLock()
	defer p.drain.RUnlock()
	if p.closed {
		return errShutdown(p)
	}
	ctx, rt := p.telemetry.startRequest(r.ctx)
	r.ctx = ctx
	err := p.run(r)
	p.telemetry.endRequest(ctx, rt, err, r.stages)
	return err
}

// forget drops what requests need once none runs or can start.
func (p *Processor) forget() {
	processors.Delete(p.handle)
	C.otelcol_rust_component_release(p.rustComponent)
	p.rustComponent = nil
}
