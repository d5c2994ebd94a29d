//go:build otelcolrust_testing

package bridge

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/collector/processor/processortest"
)

var allSignals = Stabilities{
	Traces:  component.StabilityLevelDevelopment,
	Metrics: component.StabilityLevelDevelopment,
	Logs:    component.StabilityLevelDevelopment,
}

func testFactory(t testing.TB, typ string) processor.Factory {
	t.Helper()
	return NewProcessorFactory(component.MustNewType(typ), allSignals)
}

func config(t testing.TB, f processor.Factory, settings map[string]any) component.Config {
	t.Helper()
	cfg := f.CreateDefaultConfig()
	require.NoError(t, cfg.(*Config).Unmarshal(confmap.NewFromStringMap(settings)))
	return cfg
}

func newTraces(t testing.TB, typ string, settings map[string]any, next consumer.Traces) processor.Traces {
	t.Helper()
	f := testFactory(t, typ)
	p, err := f.CreateTraces(context.Background(), processortest.NewNopSettings(f.Type()), config(t, f, settings), next)
	require.NoError(t, err)
	require.NoError(t, p.Start(context.Background(), componenttest.NewNopHost()))
	t.Cleanup(func() { require.NoError(t, p.Shutdown(context.Background())) })
	return p
}

func sampleTraces(spans int) ptrace.Traces {
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("service.name", "bridge-test")
	ss := rs.ScopeSpans().AppendEmpty()
	for i := 0; i < spans; i++ {
		s := ss.Spans().AppendEmpty()
		s.SetName("span")
		s.Attributes().PutInt("i", int64(i))
	}
	return td
}

func TestRegistryListsTestProcessors(t *testing.T) {
	names := map[string]bool{}
	for _, p := range RegisteredProcessors() {
		names[p.Name] = true
	}
	assert.True(t, names["test_noop"])
	assert.True(t, names["rust_attributes"])
}

type ctxKey struct{}

func TestInlineNoopForwardsOriginal(t *testing.T) {
	var gotCtx context.Context
	var gotTD ptrace.Traces
	next, err := consumer.NewTraces(func(ctx context.Context, td ptrace.Traces) error {
		gotCtx, gotTD = ctx, td
		return nil
	})
	require.NoError(t, err)
	p := newTraces(t, "test_noop", nil, next)
	td := sampleTraces(3)
	ctx := context.WithValue(context.Background(), ctxKey{}, "kept")
	require.NoError(t, p.ConsumeTraces(ctx, td))
	assert.Equal(t, "kept", gotCtx.Value(ctxKey{}))
	// Unchanged data is the caller's own pdata: nothing was unmarshalled.
	assert.Equal(t, td, gotTD)
	s := ReadStats()
	assert.Zero(t, s.InFlight)
	assert.Zero(t, s.GoWaiters)
}

func TestModifiedDataIsUnmarshalledFromRust(t *testing.T) {
	sink := new(consumertest.TracesSink)
	p := newTraces(t, "test_scripted", map[string]any{"modify": true}, sink)
	td := sampleTraces(2)
	require.NoError(t, p.ConsumeTraces(context.Background(), td))
	require.Len(t, sink.AllTraces(), 1)
	got := sink.AllTraces()[0]
	assert.NotEqual(t, td, got)
	v, ok := got.ResourceSpans().At(0).Resource().Attributes().Get("test.modified")
	require.True(t, ok)
	assert.True(t, v.Bool())
	assert.Equal(t, 2, got.SpanCount())
}

func TestSlowPathCompletes(t *testing.T) {
	sink := new(consumertest.TracesSink)
	p := newTraces(t, "test_scripted", map[string]any{"sleep_ms": 5}, sink)
	before := ReadStats().SlowPathTotal
	ctx := context.WithValue(context.Background(), ctxKey{}, "slow")
	require.NoError(t, p.ConsumeTraces(ctx, sampleTraces(1)))
	assert.Equal(t, 1, sink.SpanCount())
	assert.Greater(t, ReadStats().SlowPathTotal, before)
}

func TestDownstreamErrorIdentity(t *testing.T) {
	sentinel := errors.New("downstream says no")
	next, err := consumer.NewTraces(func(context.Context, ptrace.Traces) error {
		return consumererror.NewPermanent(sentinel)
	})
	require.NoError(t, err)
	p := newTraces(t, "test_noop", nil, next)
	got := p.ConsumeTraces(context.Background(), sampleTraces(1))
	require.ErrorIs(t, got, sentinel)
	assert.True(t, consumererror.IsPermanent(got))
	assert.Zero(t, ReadStats().GoErrors, "Rust released the Go error")
}

func TestRustErrorsAreClassified(t *testing.T) {
	p := newTraces(t, "test_scripted", map[string]any{"emit": 0, "error": map[string]any{"kind": "permanent", "message": "bad data"}}, consumertest.NewNop())
	err := p.ConsumeTraces(context.Background(), sampleTraces(1))
	require.Error(t, err)
	assert.True(t, consumererror.IsPermanent(err))
	assert.Contains(t, err.Error(), "bad data")

	p = newTraces(t, "test_scripted", map[string]any{"emit": 0, "error": map[string]any{"kind": "retryable", "message": "later"}}, consumertest.NewNop())
	err = p.ConsumeTraces(context.Background(), sampleTraces(1))
	require.Error(t, err)
	assert.False(t, consumererror.IsPermanent(err))
}

func TestPanicIsContained(t *testing.T) {
	sink := new(consumertest.TracesSink)
	p := newTraces(t, "test_scripted", map[string]any{"panic": true}, sink)
	for i := 0; i < 3; i++ {
		err := p.ConsumeTraces(context.Background(), sampleTraces(1))
		require.Error(t, err)
		assert.True(t, consumererror.IsPermanent(err))
		assert.Contains(t, err.Error(), "test_scripted")
		assert.Contains(t, err.Error(), "scripted panic in process")
	}
	assert.Zero(t, sink.SpanCount())
}

func TestHeldBufferIsReleasedAtShutdown(t *testing.T) {
	f := testFactory(t, "test_scripted")
	p, err := f.CreateTraces(context.Background(), processortest.NewNopSettings(f.Type()), config(t, f, map[string]any{"hold": true}), consumertest.NewNop())
	require.NoError(t, err)
	require.NoError(t, p.Start(context.Background(), componenttest.NewNopHost()))
	require.NoError(t, p.ConsumeTraces(context.Background(), sampleTraces(1)))
	s := ReadStats()
	assert.Equal(t, uint64(1), s.RetainedBuffers)
	assert.Equal(t, uint64(1), s.GoRetained)
	require.NoError(t, p.Shutdown(context.Background()))
	s = ReadStats()
	assert.Zero(t, s.RetainedBuffers)
	assert.Zero(t, s.GoRetained)
}

func TestMetricsAndLogs(t *testing.T) {
	f := testFactory(t, "test_scripted")
	cfg := config(t, f, map[string]any{"modify": true})
	ms := new(consumertest.MetricsSink)
	mp, err := f.CreateMetrics(context.Background(), processortest.NewNopSettings(f.Type()), cfg, ms)
	require.NoError(t, err)
	ls := new(consumertest.LogsSink)
	lp, err := f.CreateLogs(context.Background(), processortest.NewNopSettings(f.Type()), cfg, ls)
	require.NoError(t, err)
	md := pmetric.NewMetrics()
	g := md.ResourceMetrics().AppendEmpty().ScopeMetrics().AppendEmpty().Metrics().AppendEmpty()
	g.SetName("m")
	g.SetEmptyGauge().DataPoints().AppendEmpty().SetIntValue(7)
	require.NoError(t, mp.ConsumeMetrics(context.Background(), md))
	ld := plog.NewLogs()
	ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords().AppendEmpty().Body().SetStr("hello")
	require.NoError(t, lp.ConsumeLogs(context.Background(), ld))
	require.Equal(t, 1, ms.DataPointCount())
	require.Equal(t, 1, ls.LogRecordCount())
	_, ok := ls.AllLogs()[0].ResourceLogs().At(0).Resource().Attributes().Get("test.modified")
	assert.True(t, ok)
	require.NoError(t, mp.Shutdown(context.Background()))
	require.NoError(t, lp.Shutdown(context.Background()))
}

func TestConfigErrorsNameTheField(t *testing.T) {
	f := testFactory(t, "test_scripted")
	cfg := config(t, f, map[string]any{"sleep_ms": "soon"})
	err := cfg.(*Config).Validate()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "sleep_ms")
	cfg = config(t, f, map[string]any{"panic_on_create": true})
	err = cfg.(*Config).Validate()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "panicked")
}

func TestExpiredContextNeverCrosses(t *testing.T) {
	p := newTraces(t, "test_noop", nil, consumertest.NewNop())
	ctx, cancel := context.WithTimeout(context.Background(), time.Nanosecond)
	defer cancel()
	<-ctx.Done()
	assert.ErrorIs(t, p.ConsumeTraces(ctx, sampleTraces(1)), context.DeadlineExceeded)
}

func TestPanicInSpawnedTaskIsContained(t *testing.T) {
	p := newTraces(t, "test_scripted", map[string]any{"panic_in_task": true}, consumertest.NewNop())
	err := p.ConsumeTraces(context.Background(), sampleTraces(1))
	require.Error(t, err)
	assert.True(t, consumererror.IsPermanent(err))
	assert.Contains(t, err.Error(), "test_scripted")
	assert.Contains(t, err.Error(), "scripted panic in a spawned task")
}

// What a component's requests carry into Rust, from what its processors
// read, in pipeline order.
func TestInputFor(t *testing.T) {
	for _, tc := range []struct {
		access []string
		input  uint8
		counts bool
	}{
		{[]string{"counts"}, inputCounts, true},
		{[]string{"counts", "counts"}, inputCounts, true},
		{[]string{"attributes"}, inputAttributes, false},
		{[]string{"counts", "attributes"}, inputAttributes, true},
		// The size after an attribute edit is only in the whole batch.
		{[]string{"attributes", "counts"}, inputWhole, false},
		{[]string{"counts", "full"}, inputWhole, false},
		{[]string{"full", "attributes"}, inputWhole, false},
		{[]string{"attributes_and_record_fields"}, inputAttributesAndRecordFields, false},
		{[]string{"attributes", "attributes_and_record_fields", "attributes"}, inputAttributesAndRecordFields, false},
		{[]string{"counts", "attributes_and_record_fields"}, inputAttributesAndRecordFields, true},
		{[]string{"attributes_and_record_fields", "counts"}, inputWhole, false},
		{[]string{"attributes_and_record_fields", "full"}, inputWhole, false},
	} {
		input, counts := inputFor(tc.access)
		assert.Equal(t, tc.input, input, "%v", tc.access)
		assert.Equal(t, tc.counts, counts, "%v", tc.access)
	}
}

// Small batches' projections are written into pooled C memory, which
// Rust reads in place with no pinning; a batch that outgrows it leaves C
// memory of its size for the next one.
func TestPooledProjectionsAreCMemory(t *testing.T) {
	w := getProjection()
	w.traces(sampleTraces(3), false)
	w.settle()
	assert.False(t, w.inGoHeap())
	putProjection(w)

	grown := &projectionWriter{}
	grown.allocate(16)
	grown.traces(sampleTraces(3), false)
	grown.settle()
	require.True(t, grown.inGoHeap(), "outgrew its C buffer")
	size := cap(grown.buf)
	putProjection(grown)
	assert.False(t, grown.inGoHeap(), "pooled as C memory again")
	assert.Equal(t, size, cap(grown.buf))
}

// A request that never crosses (its processor is shut down) gives its
// projection buffer back: no C memory is lost.
func TestRequestThatNeverCrossesKeepsNoBuffer(t *testing.T) {
	f := testFactory(t, "test_noop")
	p, err := f.CreateTraces(context.Background(), processortest.NewNopSettings(f.Type()), f.CreateDefaultConfig(), consumertest.NewNop())
	require.NoError(t, err)
	require.NoError(t, p.Start(context.Background(), componenttest.NewNopHost()))
	require.NoError(t, p.Shutdown(context.Background()))
	td := sampleTraces(2)
	require.Error(t, p.ConsumeTraces(context.Background(), td), "warm the pool")
	before := projectionBuffers.Load()
	for range 2 * cap(projections) {
		require.Error(t, p.ConsumeTraces(context.Background(), td))
	}
	assert.Equal(t, before, projectionBuffers.Load())
}

// A large batch's projection is written into C memory sized once, and the
// processor sees the same attributes as from a Go buffer.
func TestLargeProjectionInCMemory(t *testing.T) {
	td := sampleTraces(4 * presizeItems)
	w := getProjection()
	w.traces(td, true)
	w.settle()
	require.False(t, w.inGoHeap(), "written where presize put it")
	small := getProjection()
	small.traces(td, true)
	// The same bytes as a projection written without presizing.
	plain := &projectionWriter{buf: make([]byte, 0, 64)}
	plainTraces := ptrace.NewTraces()
	td.CopyTo(plainTraces)
	plain.traces(plainTraces, true)
	assert.Equal(t, plain.buf, w.buf)
	putProjection(w)
	putProjection(small)

	next := new(consumertest.TracesSink)
	p := newTraces(t, "rust_attributes", map[string]any{"actions": []any{map[string]any{"key": "i", "action": "hash"}}}, next)
	require.NoError(t, p.ConsumeTraces(context.Background(), td))
	got := next.AllTraces()[0].ResourceSpans().At(0).ScopeSpans().At(0).Spans()
	v, _ := got.At(4*presizeItems - 1).Attributes().Get("i")
	assert.Len(t, v.Str(), 64, "hashed")
}
