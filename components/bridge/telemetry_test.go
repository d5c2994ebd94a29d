//go:build otelcolrust_testing

package bridge

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/collector/processor/processortest"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

type telemetryRig struct {
	set      processor.Settings
	logs     *observer.ObservedLogs
	reader   *sdkmetric.ManualReader
	recorder *tracetest.SpanRecorder
	tp       *sdktrace.TracerProvider
}

func newTelemetryRig(t *testing.T, typ string) *telemetryRig {
	core, logs := observer.New(zapcore.InfoLevel)
	reader := sdkmetric.NewManualReader()
	recorder := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(recorder))
	set := processortest.NewNopSettings(component.MustNewType(typ))
	set.ID = component.MustNewIDWithName(typ, "observed")
	set.Logger = zap.New(core).With(zap.String("otelcol.component.id", set.ID.String()))
	set.MeterProvider = sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	set.TracerProvider = tp
	return &telemetryRig{set: set, logs: logs, reader: reader, recorder: recorder, tp: tp}
}

func (rig *telemetryRig) traces(t *testing.T, typ string, settings map[string]any, next consumer.Traces) processor.Traces {
	f := testFactory(t, typ)
	set := rig.set
	set.ID = component.MustNewIDWithName(typ, "observed")
	p, err := f.CreateTraces(context.Background(), set, config(t, f, settings), next)
	require.NoError(t, err)
	require.NoError(t, p.Start(context.Background(), componenttest.NewNopHost()))
	t.Cleanup(func() { require.NoError(t, p.Shutdown(context.Background())) })
	return p
}

func TestRustLogsReachTheComponentLogger(t *testing.T) {
	rig := newTelemetryRig(t, "test_scripted")
	p := rig.traces(t, "test_scripted", map[string]any{"log_warning": "tenant over budget"}, consumertest.NewNop())
	before := rustLogCalls.Load()
	require.NoError(t, p.ConsumeTraces(context.Background(), sampleTraces(1)))
	entries := rig.logs.FilterMessage("tenant over budget").All()
	require.Len(t, entries, 1)
	e := entries[0]
	assert.Equal(t, zapcore.WarnLevel, e.Level)
	fields := e.ContextMap()
	assert.Equal(t, "test_scripted/observed", fields["otelcol.component.id"])
	assert.EqualValues(t, 1, fields["spans"], "structured fields stay fields")
	assert.Equal(t, "test", fields["script"])
	assert.Contains(t, fields["rust.target"], "otelcol_rust_bridge")
	assert.Empty(t, rig.logs.FilterMessage("debug: tenant over budget").All())
	assert.Equal(t, before+1, rustLogCalls.Load(), "the disabled debug log never crossed into Go")
}

// Shutdown tells every idle processor instance, in the component's log
// scope; a panic there is contained and logged, and shutdown still ends.
func TestShutdownReachesIdleInstances(t *testing.T) {
	rig := newTelemetryRig(t, "test_scripted")
	p := rig.traces(t, "test_scripted", map[string]any{"log_at_shutdown": "releasing the pool"}, consumertest.NewNop())
	require.NoError(t, p.ConsumeTraces(context.Background(), sampleTraces(1)))
	require.NoError(t, p.Shutdown(context.Background()))
	entries := rig.logs.FilterMessage("releasing the pool").All()
	require.Len(t, entries, 1, "one instance served the request and was idle at shutdown")
	assert.Equal(t, "test_scripted/observed", entries[0].ContextMap()["otelcol.component.id"])

	rig = newTelemetryRig(t, "test_scripted")
	p = rig.traces(t, "test_scripted", map[string]any{"panic_at_shutdown": true}, consumertest.NewNop())
	require.NoError(t, p.ConsumeTraces(context.Background(), sampleTraces(1)))
	require.NoError(t, p.Shutdown(context.Background()))
	panics := rig.logs.FilterMessage("Rust processor panicked (contained): scripted panic at shutdown").All()
	require.Len(t, panics, 1)
	assert.Equal(t, "test_scripted/observed", panics[0].ContextMap()["otelcol.component.id"])
}

func sumValue(t *testing.T, rm metricdata.ResourceMetrics, name string, attrs ...attribute.KeyValue) (int64, bool) {
	t.Helper()
	want := attribute.NewSet(attrs...)
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name != name {
				continue
			}
			if s, ok := m.Data.(metricdata.Sum[int64]); ok {
				for _, dp := range s.DataPoints {
					if dp.Attributes.Equals(&want) {
						return dp.Value, true
					}
				}
			}
		}
	}
	return 0, false
}

func TestBridgeAndProcessorMetrics(t *testing.T) {
	rig := newTelemetryRig(t, "rust_attributes")
	p := rig.traces(t, "rust_attributes", map[string]any{"actions": []any{
		map[string]any{"key": "env", "value": "prod", "action": "insert"},
	}}, consumertest.NewNop())
	for i := 0; i < 3; i++ {
		require.NoError(t, p.ConsumeTraces(context.Background(), sampleTraces(2)))
	}
	fail := rig.traces(t, "test_scripted", map[string]any{"emit": 0, "error": map[string]any{"kind": "permanent", "message": "no"}}, consumertest.NewNop())
	require.Error(t, fail.ConsumeTraces(context.Background(), sampleTraces(1)))

	var rm metricdata.ResourceMetrics
	require.NoError(t, rig.reader.Collect(context.Background(), &rm))
	attrs := []attribute.KeyValue{attribute.String("processor", "rust_attributes/observed"), attribute.String("otel_signal", "traces")}
	failed := []attribute.KeyValue{attribute.String("processor", "test_scripted/observed"), attribute.String("otel_signal", "traces")}
	v, ok := sumValue(t, rm, "otelcol_rust_processor_requests", append(attrs, attribute.String("outcome", "success"))...)
	require.True(t, ok)
	assert.EqualValues(t, 3, v)
	v, ok = sumValue(t, rm, "otelcol_rust_processor_requests", append(failed, attribute.String("outcome", "permanent"))...)
	require.True(t, ok)
	assert.EqualValues(t, 1, v)
	v, ok = sumValue(t, rm, "otelcol_rust_processor_in_flight", attrs...)
	require.True(t, ok)
	assert.EqualValues(t, 0, v)
	v, ok = sumValue(t, rm, "otelcol_rust_processor_rust_attributes_actions_applied", attrs...)
	require.True(t, ok, "the processor's own counter")
	assert.EqualValues(t, 6, v, "one insert per span, 2 spans x 3 requests")
}

func TestSpanParentage(t *testing.T) {
	rig := newTelemetryRig(t, "test_scripted")
	tracer := rig.tp.Tracer("test")
	var downstreamParent trace.SpanContext
	next, err := consumer.NewTraces(func(ctx context.Context, _ ptrace.Traces) error {
		_, span := tracer.Start(ctx, "downstream")
		downstreamParent = trace.SpanContextFromContext(ctx)
		span.End()
		return nil
	})
	require.NoError(t, err)
	sink := new(consumertest.TracesSink)
	_ = sink
	p := rig.traces(t, "test_scripted", map[string]any{"report_context": true}, next)
	ctx, incoming := tracer.Start(context.Background(), "incoming")
	require.NoError(t, p.ConsumeTraces(ctx, sampleTraces(1)))
	incoming.End()

	spans := map[string]sdktrace.ReadOnlySpan{}
	for _, s := range rig.recorder.Ended() {
		spans[s.Name()] = s
	}
	proc, ok := spans["test_scripted/observed"]
	require.True(t, ok, "the Rust processor's span was recorded: %v", spans)
	assert.Equal(t, spans["incoming"].SpanContext().SpanID(), proc.Parent().SpanID(), "Go span -> Rust processor span")
	assert.Equal(t, proc.SpanContext().SpanID(), spans["downstream"].Parent().SpanID(), "Rust processor span -> downstream span")
	assert.Equal(t, proc.SpanContext().SpanID(), downstreamParent.SpanID())
}

func TestSpansStartedInRust(t *testing.T) {
	rig := newTelemetryRig(t, "test_scripted")
	tracer := rig.tp.Tracer("test")
	next, err := consumer.NewTraces(func(ctx context.Context, _ ptrace.Traces) error {
		_, span := tracer.Start(ctx, "downstream")
		span.End()
		return nil
	})
	require.NoError(t, err)
	p := rig.traces(t, "test_scripted", map[string]any{"span": "rust work"}, next)
	ctx, incoming := tracer.Start(context.Background(), "incoming")
	require.NoError(t, p.ConsumeTraces(ctx, sampleTraces(1)))
	incoming.End()

	spans := map[string]sdktrace.ReadOnlySpan{}
	for _, s := range rig.recorder.Ended() {
		spans[s.Name()] = s
	}
	proc, work, down := spans["test_scripted/observed"], spans["rust work"], spans["downstream"]
	require.NotNil(t, work, "the span Rust started was recorded: %v", spans)
	assert.Equal(t, spans["incoming"].SpanContext().SpanID(), proc.Parent().SpanID())
	assert.Equal(t, proc.SpanContext().SpanID(), work.Parent().SpanID(), "Rust span under the processor span")
	assert.Equal(t, work.SpanContext().SpanID(), down.Parent().SpanID(), "downstream under the Rust span")
	assert.Zero(t, countRustSpans(), "every Rust span ended")
}

func countRustSpans() (n int) {
	rustSpans.Range(func(any, any) bool { n++; return true })
	return n
}

func TestPanicIsLoggedOnceToTheComponentLogger(t *testing.T) {
	rig := newTelemetryRig(t, "test_scripted")
	p := rig.traces(t, "test_scripted", map[string]any{"panic": true}, consumertest.NewNop())
	require.Error(t, p.ConsumeTraces(context.Background(), sampleTraces(1)))
	entries := rig.logs.FilterMessageSnippet("panicked").All()
	require.Len(t, entries, 1, "logged once")
	assert.Equal(t, zapcore.ErrorLevel, entries[0].Level)
	assert.Contains(t, entries[0].Message, "scripted panic in process")
	assert.Equal(t, "test_scripted/observed", entries[0].ContextMap()["otelcol.component.id"])
	assert.Contains(t, entries[0].ContextMap()["location"], "testing.rs")
}
