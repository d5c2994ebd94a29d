package rustprocess

import (
	"context"
	"errors"
	"sync"
	"time"

	"go.opentelemetry.io/collector/client"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/otelcol-rust/otelcol-rust/components/internal/clientaddr"
	"github.com/otelcol-rust/otelcol-rust/components/internal/otlpedits"
	"github.com/otelcol-rust/otelcol-rust/components/internal/rusterrors"
	pb "github.com/otelcol-rust/otelcol-rust/components/internal/rustprocesspb"
)

// Stabilities gives the stability of each signal a processor supports; a
// signal left at StabilityLevelUndefined is not supported.
type Stabilities struct {
	Traces  component.StabilityLevel
	Metrics component.StabilityLevel
	Logs    component.StabilityLevel
}

// NewProcessorFactory returns the Collector factory of a Rust processor
// served by the Rust process. Every generated cgo-free component package's
// NewFactory calls it.
func NewProcessorFactory(typ component.Type, info *ProcessorInfo, stability Stabilities) processor.Factory {
	var opts []processor.FactoryOption
	if stability.Traces != component.StabilityLevelUndefined {
		opts = append(opts, processor.WithTraces(func(_ context.Context, set processor.Settings, cfg component.Config, next consumer.Traces) (processor.Traces, error) {
			p, err := newProcessor(set, cfg.(*Config), pb.Signal_SIGNAL_TRACES)
			if err != nil {
				return nil, err
			}
			p.nextTraces = next
			return p, nil
		}, stability.Traces))
	}
	if stability.Metrics != component.StabilityLevelUndefined {
		opts = append(opts, processor.WithMetrics(func(_ context.Context, set processor.Settings, cfg component.Config, next consumer.Metrics) (processor.Metrics, error) {
			p, err := newProcessor(set, cfg.(*Config), pb.Signal_SIGNAL_METRICS)
			if err != nil {
				return nil, err
			}
			p.nextMetrics = next
			return p, nil
		}, stability.Metrics))
	}
	if stability.Logs != component.StabilityLevelUndefined {
		opts = append(opts, processor.WithLogs(func(_ context.Context, set processor.Settings, cfg component.Config, next consumer.Logs) (processor.Logs, error) {
			p, err := newProcessor(set, cfg.(*Config), pb.Signal_SIGNAL_LOGS)
			if err != nil {
				return nil, err
			}
			p.nextLogs = next
			return p, nil
		}, stability.Logs))
	}
	return processor.NewFactory(typ, func() component.Config { return NewDefaultConfig(info) }, opts...)
}

// Processor is one Rust processor instance of the collector, served by
// the Rust process.
type Processor struct {
	set        processor.Settings
	cfg        *Config
	configJSON string
	signal     pb.Signal
	countsOnly bool
	tel        *telemetry

	nextTraces  consumer.Traces
	nextMetrics consumer.Metrics
	nextLogs    consumer.Logs

	// stopping ends when Shutdown begins or a stop signal came.
	stopping context.Context
	stop     context.CancelFunc

	mu         sync.Mutex
	started    bool
	instance   uint64
	generation uint64
}

func newProcessor(set processor.Settings, cfg *Config, signal pb.Signal) (*Processor, error) {
	configJSON, err := cfg.json()
	if err != nil {
		return nil, err
	}
	p := &Processor{
		set:        set,
		cfg:        cfg,
		configJSON: configJSON,
		signal:     signal,
		countsOnly: cfg.info.DataAccess == "counts",
	}
	p.stopping, p.stop = context.WithCancel(context.Background())
	if p.tel, err = newTelemetry(set, p); err != nil {
		return nil, err
	}
	return p, nil
}

// Capabilities implements consumer.Traces (and the others).
func (p *Processor) Capabilities() consumer.Capabilities {
	return consumer.Capabilities{MutatesData: p.cfg.info.MutatesData}
}

// Start implements component.Component: the Rust process is started (or
// joined) and the instance is created in it.
func (p *Processor) Start(ctx context.Context, _ component.Host) error {
	if err := shared.acquire(p.set.Logger); err != nil {
		return err
	}
	p.mu.Lock()
	p.started = true
	p.mu.Unlock()
	watchStopSignals(p)
	if _, err := p.ensureInstance(ctx); err != nil {
		_ = p.Shutdown(ctx)
		return err
	}
	return nil
}

// Shutdown implements component.Component.
func (p *Processor) Shutdown(ctx context.Context) error {
	p.mu.Lock()
	started := p.started
	p.started = false
	instance, generation := p.instance, p.generation
	p.instance = 0
	p.mu.Unlock()
	if !started {
		return nil
	}
	unwatchStopSignals(p)
	p.beginStopping()
	if p.tel != nil {
		p.tel.shutdown()
	}
	if instance != 0 {
		shared.logSinks.Delete(instance)
		if c, gen, err := shared.current(); err == nil && gen == generation {
			ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			_, _ = c.Destroy(ctx, &pb.DestroyRequest{Instance: instance})
			cancel()
		}
	}
	shared.release()
	return nil
}

// ensureInstance returns the instance's handle in the running Rust
// process, creating it there when the process is new.
func (p *Processor) ensureInstance(ctx context.Context) (uint64, error) {
	c, gen, err := shared.current()
	if err != nil {
		return 0, unavailable(err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.started {
		return 0, consumererror.NewPermanent(errors.New("otelcol-rust: " + p.set.ID.String() + " is not started"))
	}
	if p.instance != 0 && p.generation == gen {
		return p.instance, nil
	}
	resp, err := c.Create(ctx, &pb.CreateRequest{
		ComponentId:   p.set.ID.String(),
		ProcessorType: p.cfg.info.Name,
		ConfigJson:    p.configJSON,
		Signal:        p.signal,
	})
	if err != nil {
		if st, ok := status.FromError(err); ok && st.Code() == codes.InvalidArgument {
			return 0, consumererror.NewPermanent(errors.New(st.Message()))
		}
		return 0, unavailable(err)
	}
	if p.instance != 0 {
		shared.logSinks.Delete(p.instance)
	}
	p.instance, p.generation = resp.Instance, gen
	shared.logSinks.Store(resp.Instance, p.set.Logger)
	return p.instance, nil
}

// forget drops the handle of an instance the server does not know.
func (p *Processor) forget(instance uint64) {
	p.mu.Lock()
	if p.instance == instance {
		p.instance = 0
	}
	p.mu.Unlock()
}

// unavailable is what callers get while the Rust process is down or
// restarting: retryable, gRPC UNAVAILABLE, HTTP 503.
func unavailable(err error) error {
	return rusterrors.StatusError("otelcol-rust: the Rust processor server is unavailable: "+err.Error(),
		false, int32(codes.Unavailable), 0, 0)
}

// process runs one request through the Rust instance.
func (p *Processor) process(ctx context.Context, data []byte, items, size int) (*pb.ProcessReply, error) {
	if ctx.Err() != nil {
		return nil, rusterrors.CtxError(ctx)
	}
	instance, err := p.ensureInstance(ctx)
	if err != nil {
		return nil, err
	}
	c, _, err := shared.current()
	if err != nil {
		return nil, unavailable(err)
	}
	req := &pb.ProcessRequest{
		Instance:    instance,
		Signal:      p.signal,
		Data:        data,
		Context:     encodeContext(ctx),
		Items:       uint64(items),
		EncodedSize: uint64(size),
		CountsOnly:  p.countsOnly,
	}
	callCtx, done := p.callContext(ctx)
	defer done()
	reply, err := c.Process(callCtx, req)
	if status.Code(err) == codes.NotFound && callCtx.Err() == nil {
		// The server restarted between our check and the call: create
		// the instance there and try once more.
		p.forget(instance)
		if req.Instance, err = p.ensureInstance(ctx); err != nil {
			return nil, err
		}
		if c, _, err = shared.current(); err != nil {
			return nil, unavailable(err)
		}
		reply, err = c.Process(callCtx, req)
	}
	if err != nil {
		if ctx.Err() == nil && errors.Is(context.Cause(callCtx), errStopping) {
			return nil, errShutdown(p)
		}
		return nil, p.goError(ctx, err)
	}
	return reply, nil
}

// goError turns a failed call into the error a Go processor returns.
func (p *Processor) goError(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return rusterrors.CtxError(ctx)
	}
	st, ok := status.FromError(err)
	if !ok {
		return unavailable(err)
	}
	for _, d := range st.Details() {
		f, ok := d.(*pb.ProcessingFailure)
		if !ok {
			continue
		}
		switch f.Kind {
		case pb.ProcessingFailure_KIND_CANCELLED:
			return rusterrors.CanceledError(ctx)
		case pb.ProcessingFailure_KIND_DEADLINE:
			return context.DeadlineExceeded
		}
		if st.Code() == codes.NotFound {
			// The instance is gone (a new server): create it again next
			// time; the caller may retry.
			p.mu.Lock()
			p.instance = 0
			p.mu.Unlock()
			return unavailable(err)
		}
		e := rusterrors.StatusError(f.Message, f.Permanent, f.GrpcCode, f.HttpStatus, rusterrors.RetryHint(f.RetryAfterNanos))
		if f.Kind == pb.ProcessingFailure_KIND_PANIC {
			return rusterrors.NewPanicError(e)
		}
		return e
	}
	switch st.Code() {
	case codes.DeadlineExceeded:
		return context.DeadlineExceeded
	case codes.Canceled:
		return context.Canceled
	}
	// The call failed on the way (the server died, the socket closed):
	// nothing was processed, the caller may retry.
	return unavailable(err)
}

// emissionContext is the context the next consumer gets: the caller's own,
// with the client metadata Rust changed.
func emissionContext(ctx context.Context, e *pb.Emission) context.Context {
	if !e.ContextChanged || e.Context == nil {
		return ctx
	}
	info := client.FromContext(ctx)
	md := map[string][]string{}
	for _, entry := range e.Context.Metadata {
		vs := make([]string, len(entry.Values))
		for i, v := range entry.Values {
			vs[i] = string(v)
		}
		md[entry.Key] = vs
	}
	info.Metadata = client.NewMetadata(md)
	return client.NewContext(ctx, info)
}

// encodeContext is what Rust's RequestContext carries of ctx.
func encodeContext(ctx context.Context) *pb.RequestContext {
	info := client.FromContext(ctx)
	sc := trace.SpanContextFromContext(ctx)
	out := &pb.RequestContext{}
	empty := true
	for k := range info.Metadata.Keys() {
		vs := info.Metadata.Get(k)
		entry := &pb.MetadataEntry{Key: k, Values: make([][]byte, len(vs))}
		for i, v := range vs {
			entry.Values[i] = []byte(v)
		}
		out.Metadata = append(out.Metadata, entry)
		empty = false
	}
	if info.Addr != nil {
		out.PeerAddress = clientaddr.String(info.Addr)
		empty = false
	}
	if sc.IsValid() {
		tid, sid := sc.TraceID(), sc.SpanID()
		out.TraceId, out.SpanId = tid[:], sid[:]
		out.TraceFlags = uint32(sc.TraceFlags())
		out.TraceState = sc.TraceState().String()
		out.Remote = sc.IsRemote()
		empty = false
	}
	if empty {
		return nil
	}
	return out
}

var (
	tracesMarshaler    ptrace.ProtoMarshaler
	tracesUnmarshaler  ptrace.ProtoUnmarshaler
	metricsMarshaler   pmetric.ProtoMarshaler
	metricsUnmarshaler pmetric.ProtoUnmarshaler
	logsMarshaler      plog.ProtoMarshaler
	logsUnmarshaler    plog.ProtoUnmarshaler
)

// ConsumeTraces implements consumer.Traces.
func (p *Processor) ConsumeTraces(ctx context.Context, td ptrace.Traces) (err error) {
	start := time.Now()
	defer func() { p.tel.record(ctx, start, err) }()
	var data []byte
	if !p.countsOnly {
		if data, err = tracesMarshaler.MarshalTraces(td); err != nil {
			return consumererror.NewPermanent(err)
		}
	}
	reply, err := p.process(ctx, data, td.SpanCount(), tracesMarshaler.TracesSize(td))
	if err != nil {
		return err
	}
	for _, e := range reply.Emissions {
		out := td
		switch {
		case e.Unchanged:
		case len(e.Edits) > 0:
			// Our own copy (the processor mutates data), edited in place.
			if err = otlpedits.Apply(e.Edits, td, pmetric.Metrics{}, plog.Logs{}, otlpedits.SignalTraces); err != nil {
				return consumererror.NewPermanent(err)
			}
		default:
			if out, err = tracesUnmarshaler.UnmarshalTraces(e.Data); err != nil {
				return consumererror.NewPermanent(err)
			}
		}
		if err := p.nextTraces.ConsumeTraces(emissionContext(ctx, e), out); err != nil {
			return err
		}
	}
	return nil
}

// ConsumeMetrics implements consumer.Metrics.
func (p *Processor) ConsumeMetrics(ctx context.Context, md pmetric.Metrics) (err error) {
	start := time.Now()
	defer func() { p.tel.record(ctx, start, err) }()
	var data []byte
	if !p.countsOnly {
		if data, err = metricsMarshaler.MarshalMetrics(md); err != nil {
			return consumererror.NewPermanent(err)
		}
	}
	reply, err := p.process(ctx, data, md.DataPointCount(), metricsMarshaler.MetricsSize(md))
	if err != nil {
		return err
	}
	for _, e := range reply.Emissions {
		out := md
		switch {
		case e.Unchanged:
		case len(e.Edits) > 0:
			// Our own copy (the processor mutates data), edited in place.
			if err = otlpedits.Apply(e.Edits, ptrace.Traces{}, md, plog.Logs{}, otlpedits.SignalMetrics); err != nil {
				return consumererror.NewPermanent(err)
			}
		default:
			if out, err = metricsUnmarshaler.UnmarshalMetrics(e.Data); err != nil {
				return consumererror.NewPermanent(err)
			}
		}
		if err := p.nextMetrics.ConsumeMetrics(emissionContext(ctx, e), out); err != nil {
			return err
		}
	}
	return nil
}

// ConsumeLogs implements consumer.Logs.
func (p *Processor) ConsumeLogs(ctx context.Context, ld plog.Logs) (err error) {
	start := time.Now()
	defer func() { p.tel.record(ctx, start, err) }()
	var data []byte
	if !p.countsOnly {
		if data, err = logsMarshaler.MarshalLogs(ld); err != nil {
			return consumererror.NewPermanent(err)
		}
	}
	reply, err := p.process(ctx, data, ld.LogRecordCount(), logsMarshaler.LogsSize(ld))
	if err != nil {
		return err
	}
	for _, e := range reply.Emissions {
		out := ld
		switch {
		case e.Unchanged:
		case len(e.Edits) > 0:
			// Our own copy (the processor mutates data), edited in place.
			if err = otlpedits.Apply(e.Edits, ptrace.Traces{}, pmetric.Metrics{}, ld, otlpedits.SignalLogs); err != nil {
				return consumererror.NewPermanent(err)
			}
		default:
			if out, err = logsUnmarshaler.UnmarshalLogs(e.Data); err != nil {
				return consumererror.NewPermanent(err)
			}
		}
		if err := p.nextLogs.ConsumeLogs(emissionContext(ctx, e), out); err != nil {
			return err
		}
	}
	return nil
}
