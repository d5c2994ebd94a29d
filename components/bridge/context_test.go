//go:build otelcolrust_testing

package bridge

import (
	"context"
	"errors"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/client"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/otel/trace"
)

// The forward contract (rust/bridge/README.md "Forward: the Go context in Rust").

func reported(t *testing.T, sink *consumertest.TracesSink) map[string]any {
	t.Helper()
	require.NotEmpty(t, sink.AllTraces())
	return sink.AllTraces()[len(sink.AllTraces())-1].ResourceSpans().At(0).Resource().Attributes().AsRaw()
}

func TestDeadlineReachesRust(t *testing.T) {
	sink := new(consumertest.TracesSink)
	p := newTraces(t, "test_scripted", map[string]any{"report_context": true}, sink)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, p.ConsumeTraces(ctx, sampleTraces(1)))
	left := reported(t, sink)["ctx.deadline_ms"].(int64)
	assert.Greater(t, left, int64(5_000))
	assert.LessOrEqual(t, left, int64(10_000))

	require.NoError(t, p.ConsumeTraces(context.Background(), sampleTraces(1)))
	assert.NotContains(t, reported(t, sink), "ctx.deadline_ms", "no deadline, none in Rust")
}

func TestWorkPastTheDeadlineStops(t *testing.T) {
	p := newTraces(t, "test_scripted", map[string]any{"sleep_ms": 60_000}, consumertest.NewNop())
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := p.ConsumeTraces(ctx, sampleTraces(1))
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Less(t, time.Since(start), 30*time.Second, "did not wait for the sleep")
	waitForRustIdle(t)
}

func TestCancelDropsTheRustFuture(t *testing.T) {
	p := newTraces(t, "test_scripted", map[string]any{"wait_for_cancel": true}, consumertest.NewNop())
	cause := errors.New("client hung up")
	ctx, cancel := context.WithCancelCause(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.ConsumeTraces(ctx, sampleTraces(1)) }()
	require.Eventually(t, func() bool { return ReadStats().InFlight == 1 }, 10*time.Second, time.Millisecond)
	cancel(cause)
	err := <-done
	assert.ErrorIs(t, err, context.Canceled)
	assert.ErrorIs(t, err, cause, "context.Cause is preserved")
	waitForRustIdle(t)
}

// waitForRustIdle waits until Rust finished every request (late
// completions included) and Go forgot them.
func waitForRustIdle(t testing.TB) {
	t.Helper()
	require.Eventually(t, func() bool {
		s := ReadStats()
		return s.InFlight == 0 && s.GoWaiters == 0
	}, 10*time.Second, time.Millisecond, "stats: %+v", ReadStats())
}

func TestClientMetadataAndAddressReachRust(t *testing.T) {
	sink := new(consumertest.TracesSink)
	p := newTraces(t, "test_scripted", map[string]any{"report_context": true}, sink)
	ctx := client.NewContext(context.Background(), client.Info{
		Addr:     &net.TCPAddr{IP: net.ParseIP("10.1.2.3"), Port: 4317},
		Metadata: client.NewMetadata(map[string][]string{"X-Tenant": {"acme", "beta"}, "authorization": {"secret"}}),
	})
	require.NoError(t, p.ConsumeTraces(ctx, sampleTraces(1)))
	got := reported(t, sink)
	assert.Equal(t, "acme,beta", got["ctx.metadata.x-tenant"], "keys lowercase, values in order")
	assert.Equal(t, "10.1.2.3", got["ctx.client_address"])
}

func TestSpanContextReachesRust(t *testing.T) {
	sink := new(consumertest.TracesSink)
	p := newTraces(t, "test_scripted", map[string]any{"report_context": true}, sink)
	ts, err := trace.ParseTraceState("vendor=value")
	require.NoError(t, err)
	sc := trace.NewSpanContext(trace.SpanContextConfig{
		TraceID:    trace.TraceID{0x0a, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15},
		SpanID:     trace.SpanID{0x0b, 1, 2, 3, 4, 5, 6, 7},
		TraceFlags: trace.FlagsSampled,
		TraceState: ts,
		Remote:     true,
	})
	require.NoError(t, p.ConsumeTraces(trace.ContextWithSpanContext(context.Background(), sc), sampleTraces(1)))
	got := reported(t, sink)
	assert.Equal(t, sc.TraceID().String(), got["ctx.trace_id"])
	assert.Equal(t, sc.SpanID().String(), got["ctx.span_id"])
	assert.Equal(t, true, got["ctx.sampled"])
	assert.Equal(t, true, got["ctx.remote"])
	assert.Equal(t, "vendor=value", got["ctx.trace_state"])
}

type recordingConsumer struct {
	mu   sync.Mutex
	ctxs []context.Context
	fn   func(ctx context.Context) error
}

func (r *recordingConsumer) next(t *testing.T) consumer.Traces {
	c, err := consumer.NewTraces(func(ctx context.Context, _ ptrace.Traces) error {
		r.mu.Lock()
		r.ctxs = append(r.ctxs, ctx)
		r.mu.Unlock()
		if r.fn != nil {
			return r.fn(ctx)
		}
		return nil
	})
	require.NoError(t, err)
	return c
}

func (r *recordingConsumer) got() []context.Context {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]context.Context(nil), r.ctxs...)
}

func TestDownstreamGetsTheOriginalContextWithMetadataChanges(t *testing.T) {
	rec := &recordingConsumer{}
	p := newTraces(t, "test_scripted", map[string]any{"set_metadata": map[string]any{"X-Route": []any{"eu"}}}, rec.next(t))
	deadline := time.Now().Add(time.Hour)
	ctx, cancel := context.WithDeadline(context.WithValue(context.Background(), ctxKey{}, "private"), deadline)
	defer cancel()
	ctx = client.NewContext(ctx, client.Info{Metadata: client.NewMetadata(map[string][]string{"tenant": {"acme"}})})
	require.NoError(t, p.ConsumeTraces(ctx, sampleTraces(1)))
	require.Len(t, rec.got(), 1)
	down := rec.got()[0]
	assert.Equal(t, "private", down.Value(ctxKey{}), "values the bridge knows nothing about survive")
	d, ok := down.Deadline()
	require.True(t, ok)
	assert.Equal(t, deadline, d)
	md := client.FromContext(down).Metadata
	assert.Equal(t, []string{"eu"}, md.Get("x-route"), "Rust's change is visible")
	assert.Equal(t, []string{"acme"}, md.Get("tenant"))
	cancel()
	assert.ErrorIs(t, down.Err(), context.Canceled, "the original's cancellation")
}

func TestEmissionAfterCompletionGetsARebuiltContext(t *testing.T) {
	rec := &recordingConsumer{}
	p := newTraces(t, "test_scripted", map[string]any{"emit_later_ms": 20}, rec.next(t))
	sc := trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: trace.TraceID{1}, SpanID: trace.SpanID{2}, TraceFlags: trace.FlagsSampled,
	})
	ctx, cancel := context.WithTimeout(context.WithValue(context.Background(), ctxKey{}, "private"), time.Hour)
	defer cancel()
	ctx = trace.ContextWithSpanContext(ctx, sc)
	ctx = client.NewContext(ctx, client.Info{Metadata: client.NewMetadata(map[string][]string{"tenant": {"acme"}})})
	require.NoError(t, p.ConsumeTraces(ctx, sampleTraces(1)))
	require.Eventually(t, func() bool { return len(rec.got()) == 2 }, 10*time.Second, time.Millisecond)
	late := rec.got()[1]
	assert.Nil(t, late.Value(ctxKey{}), "the request's own context is gone")
	assert.Equal(t, []string{"acme"}, client.FromContext(late).Metadata.Get("tenant"))
	assert.Equal(t, sc.TraceID(), trace.SpanContextFromContext(late).TraceID())
	d, ok := late.Deadline()
	require.True(t, ok)
	assert.WithinDuration(t, time.Now().Add(time.Hour), d, 5*time.Minute)
	waitForRustIdle(t)
}

func TestCancelWhileTheDownstreamConsumerRuns(t *testing.T) {
	entered := make(chan struct{}, 1)
	rec := &recordingConsumer{fn: func(ctx context.Context) error {
		entered <- struct{}{}
		<-ctx.Done()
		return ctx.Err()
	}}
	p := newTraces(t, "test_scripted", map[string]any{"yield_once": true}, rec.next(t))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.ConsumeTraces(ctx, sampleTraces(1)) }()
	<-entered
	cancel()
	assert.ErrorIs(t, <-done, context.Canceled)
	waitForRustIdle(t)
}
