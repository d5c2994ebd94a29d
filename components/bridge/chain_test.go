//go:build otelcolrust_testing

package bridge

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/collector/processor/processortest"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

// injectingCore stands in for the Collector's component logger core: it
// adds the component attributes and can drop them again.
type injectingCore struct {
	zapcore.Core
	base     zapcore.Core
	injected []zapcore.Field
}

func newInjectingCore(base zapcore.Core, id string) zapcore.Core {
	f := []zapcore.Field{zap.String(componentIDKey, id), zap.String("otelcol.component.kind", "processor")}
	return injectingCore{Core: base.With(f), base: base, injected: f}
}

func (c injectingCore) DropInjectedAttributes(drop ...string) zapcore.Core {
	var keep []zapcore.Field
	for _, f := range c.injected {
		dropped := false
		for _, d := range drop {
			dropped = dropped || f.Key == d
		}
		if !dropped {
			keep = append(keep, f)
		}
	}
	return injectingCore{Core: c.base.With(keep), base: c.base, injected: keep}
}

func chainSettings(t testing.TB, stages ...ChainStage) (processor.Factory, component.Config) {
	t.Helper()
	f := NewChainFactory()
	cfg := f.CreateDefaultConfig()
	var raw []any
	for _, s := range stages {
		raw = append(raw, map[string]any{"id": s.ID.String(), "config": s.Config})
	}
	require.NoError(t, confmap.NewFromStringMap(map[string]any{"stages": raw}).Unmarshal(cfg))
	return f, cfg
}

func newChain(t testing.TB, set processor.Settings, next consumer.Traces, stages ...ChainStage) processor.Traces {
	t.Helper()
	f, cfg := chainSettings(t, stages...)
	if set.ID.Type() != f.Type() {
		set = processortest.NewNopSettings(f.Type())
	}
	p, err := f.CreateTraces(context.Background(), set, cfg, next)
	require.NoError(t, err)
	require.NoError(t, p.Start(context.Background(), componenttest.NewNopHost()))
	t.Cleanup(func() { require.NoError(t, p.Shutdown(context.Background())) })
	return p
}

func actions(a ...map[string]any) map[string]any {
	list := make([]any, len(a))
	for i := range a {
		list[i] = a[i]
	}
	return map[string]any{"actions": list}
}

func TestChainMatchesSeparateProcessorsAndCrossesOnce(t *testing.T) {
	first := actions(map[string]any{"key": "environment", "value": "production", "action": "insert"},
		map[string]any{"key": "http.method", "value": "GET", "action": "update"})
	second := actions(map[string]any{"key": "user.email", "action": "hash"},
		map[string]any{"key": "internal.debug", "action": "delete"})
	third := actions(map[string]any{"key": "environment", "from_attribute": "http.method", "action": "upsert"})

	// Separately: three processors, three crossings.
	separate := new(consumertest.TracesSink)
	p3 := newTraces(t, "rust_attributes", third, separate)
	p2 := newTraces(t, "rust_attributes", second, p3)
	p1 := newTraces(t, "rust_attributes", first, p2)
	require.NoError(t, p1.ConsumeTraces(context.Background(), loadBatch(50)))

	fused := new(consumertest.TracesSink)
	chain := newChain(t, processor.Settings{}, fused,
		ChainStage{ID: component.MustNewIDWithName("rust_attributes", "first"), Config: first},
		ChainStage{ID: component.MustNewIDWithName("rust_attributes", "second"), Config: second},
		ChainStage{ID: component.MustNewIDWithName("rust_attributes", "third"), Config: third},
	)
	before := ReadStats()
	require.NoError(t, chain.ConsumeTraces(context.Background(), loadBatch(50)))
	after := ReadStats()

	require.Len(t, fused.AllTraces(), 1)
	assert.Equal(t, separate.AllTraces()[0], fused.AllTraces()[0], "same output as the three processors one after another")
	assert.Equal(t, before.GoUnmarshals, after.GoUnmarshals, "Go never unmarshals")
	assert.Equal(t, before.GoEditsApplied+1, after.GoEditsApplied, "one crossing back, with the edits of all three")
	assert.True(t, chain.Capabilities().MutatesData)
}

func TestChainErrorsAndContextAreThoseOfSeparateProcessors(t *testing.T) {
	sentinel := errors.New("exporter says no")
	next, err := consumer.NewTraces(func(context.Context, ptrace.Traces) error {
		return consumererror.NewPermanent(sentinel)
	})
	require.NoError(t, err)
	chain := newChain(t, processor.Settings{}, next,
		ChainStage{ID: component.MustNewIDWithName("test_noop", "a"), Config: map[string]any{}},
		ChainStage{ID: component.MustNewIDWithName("test_scripted", "b"), Config: map[string]any{"yield_once": true}},
	)
	got := chain.ConsumeTraces(context.Background(), sampleTraces(2))
	require.ErrorIs(t, got, sentinel, "the downstream error comes back as the very same value")
	assert.True(t, consumererror.IsPermanent(got))

	refusing := newChain(t, processor.Settings{}, consumertest.NewNop(),
		ChainStage{ID: component.MustNewIDWithName("test_scripted", "refuse"), Config: map[string]any{
			"emit": 0, "error": map[string]any{"kind": "retryable", "message": "slow down", "grpc": 8, "http": 429}}},
		ChainStage{ID: component.MustNewIDWithName("test_noop", "never"), Config: map[string]any{}},
	)
	err = refusing.ConsumeTraces(context.Background(), sampleTraces(1))
	require.Error(t, err)
	assert.Equal(t, 429, consumererror.ToHTTPStatus(err))

	panicking := newChain(t, processor.Settings{}, consumertest.NewNop(),
		ChainStage{ID: component.MustNewIDWithName("test_noop", "fine"), Config: map[string]any{}},
		ChainStage{ID: component.MustNewIDWithName("test_scripted", "boom"), Config: map[string]any{"panic": true}},
	)
	err = panicking.ConsumeTraces(context.Background(), sampleTraces(1))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "test_scripted/boom", "the panic names the processor that panicked")
}

func TestChainProcessorsKeepTheirOwnTelemetry(t *testing.T) {
	core, logs := observer.New(zapcore.InfoLevel)
	reader := sdkmetric.NewManualReader()
	set := processortest.NewNopSettings(component.MustNewType(ChainType))
	set.ID = component.MustNewIDWithName(ChainType, "traces[test_scripted.loud,test_scripted.refuse,test_noop.never]")
	set.Logger = zap.New(newInjectingCore(core, set.ID.String()))
	set.MeterProvider = sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	chain := newChain(t, set, consumertest.NewNop(),
		ChainStage{ID: component.MustNewIDWithName("test_scripted", "loud"), Config: map[string]any{"log_warning": "hello from the first"}},
		ChainStage{ID: component.MustNewIDWithName("test_scripted", "refuse"), Config: map[string]any{
			"emit": 0, "error": map[string]any{"kind": "permanent", "message": "no"}}},
		ChainStage{ID: component.MustNewIDWithName("test_noop", "never"), Config: map[string]any{}},
	)
	require.Error(t, chain.ConsumeTraces(context.Background(), sampleTraces(1)))

	entries := logs.FilterMessage("hello from the first").All()
	require.Len(t, entries, 1)
	ids := 0
	for _, f := range entries[0].Context {
		if f.Key == componentIDKey {
			ids++
			assert.Equal(t, "test_scripted/loud", f.String, "logged under the processor's own id")
		}
	}
	assert.Equal(t, 1, ids, "one component id, the processor's")

	var rm metricdata.ResourceMetrics
	require.NoError(t, reader.Collect(context.Background(), &rm))
	requests := func(processor, outcome string) (int64, bool) {
		return sumValue(t, rm, "otelcol_rust_processor_requests", attribute.String("processor", processor),
			attribute.String("otel_signal", "traces"), attribute.String("outcome", outcome))
	}
	v, ok := requests("test_scripted/loud", "permanent")
	require.True(t, ok)
	assert.EqualValues(t, 1, v, "the first passed the second's error up")
	v, ok = requests("test_scripted/refuse", "permanent")
	require.True(t, ok)
	assert.EqualValues(t, 1, v)
	_, reached := requests("test_noop/never", "success")
	assert.False(t, reached, "the request never reached the third")
}
