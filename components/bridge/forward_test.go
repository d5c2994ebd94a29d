//go:build otelcolrust_testing

package bridge

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/processor/processortest"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
)

// recordSteps records the kind of every step the requests of the test
// cross back with.
func recordSteps(t *testing.T) func() []uint8 {
	var mu sync.Mutex
	var kinds []uint8
	testHookStep = func(kind uint8) {
		mu.Lock()
		defer mu.Unlock()
		kinds = append(kinds, kind)
	}
	t.Cleanup(func() { testHookStep = nil })
	return func() []uint8 {
		mu.Lock()
		defer mu.Unlock()
		out := kinds
		kinds = nil
		return out
	}
}

func refusingConsumer(t *testing.T, err error) consumer.Traces {
	next, e := consumer.NewTraces(func(context.Context, ptrace.Traces) error { return err })
	require.NoError(t, e)
	return next
}

func TestForwardEndsTheRequestInOneCrossing(t *testing.T) {
	steps := recordSteps(t)
	sentinel := consumererror.NewPermanent(errors.New("exporter says no"))

	p := newTraces(t, "test_noop", nil, refusingConsumer(t, sentinel))
	got := p.ConsumeTraces(context.Background(), sampleTraces(3))
	assert.Equal(t, sentinel, got, "the next consumer's answer is the outcome, the very value")
	assert.Equal(t, []uint8{stepForward}, steps(), "one crossing: the data and the end together")

	sink := new(consumertest.TracesSink)
	p = newTraces(t, "test_noop", nil, sink)
	td := sampleTraces(3)
	require.NoError(t, p.ConsumeTraces(context.Background(), td))
	require.Len(t, sink.AllTraces(), 1)
	assert.Equal(t, td, sink.AllTraces()[0], "Go's own pdata goes on")
	assert.Equal(t, []uint8{stepForward}, steps())

	// send_message still brings the answer back into Rust.
	p = newTraces(t, "test_scripted", map[string]any{}, consumertest.NewNop())
	require.NoError(t, p.ConsumeTraces(context.Background(), sampleTraces(1)))
	assert.Equal(t, []uint8{stepEmit, stepDone}, steps())
}

func TestForwardedConsumerPanicIsAPermanentError(t *testing.T) {
	next, err := consumer.NewTraces(func(context.Context, ptrace.Traces) error { panic("exporter bug") })
	require.NoError(t, err)
	p := newTraces(t, "test_noop", nil, next)
	got := p.ConsumeTraces(context.Background(), sampleTraces(1))
	require.Error(t, got)
	assert.True(t, consumererror.IsPermanent(got))
	assert.Contains(t, got.Error(), "exporter bug")
}

func TestWorkAfterForwardKeepsTheAnswer(t *testing.T) {
	steps := recordSteps(t)
	sentinel := errors.New("retry later")
	p := newTraces(t, "test_scripted", map[string]any{"forward_then_sleep_ms": 5}, refusingConsumer(t, sentinel))
	got := p.ConsumeTraces(context.Background(), sampleTraces(1))
	require.ErrorIs(t, got, sentinel, "the forwarded data's answer is the outcome though the processor went on")
	kinds := steps()
	assert.Equal(t, stepEmit, kinds[0], "delivered as an ordinary emission")
	assert.Equal(t, stepDone, kinds[len(kinds)-1])

	sink := new(consumertest.TracesSink)
	p = newTraces(t, "test_scripted", map[string]any{"forward_then_sleep_ms": 1}, sink)
	require.NoError(t, p.ConsumeTraces(context.Background(), sampleTraces(2)))
	assert.Equal(t, 2, sink.SpanCount())
}

func TestChainStageThatWaitsForTheAnswerStillGetsIt(t *testing.T) {
	sentinel := errors.New("exporter says no")
	// The first stage sends with send_message and ignores the answer; the
	// second forwards. The second must not let Go take the answer past the
	// first.
	ignoring := newChain(t, processortest.NewNopSettings(component.MustNewType(ChainType)), refusingConsumer(t, sentinel),
		ChainStage{ID: component.MustNewIDWithName("test_scripted", "ignores"), Config: map[string]any{"ignore_downstream_error": true}},
		ChainStage{ID: component.MustNewIDWithName("test_noop", "forwards"), Config: map[string]any{}},
	)
	require.NoError(t, ignoring.ConsumeTraces(context.Background(), sampleTraces(1)))

	wrapping := newChain(t, processortest.NewNopSettings(component.MustNewType(ChainType)), refusingConsumer(t, sentinel),
		ChainStage{ID: component.MustNewIDWithName("test_scripted", "wraps"), Config: map[string]any{"wrap_downstream_error": "tenant a"}},
		ChainStage{ID: component.MustNewIDWithName("test_noop", "forwards"), Config: map[string]any{}},
	)
	got := wrapping.ConsumeTraces(context.Background(), sampleTraces(1))
	require.ErrorIs(t, got, sentinel)
	assert.Contains(t, got.Error(), "tenant a")
}

func TestForwardingChainRecordsTheAnswerForEveryStage(t *testing.T) {
	steps := recordSteps(t)
	reader := sdkmetric.NewManualReader()
	set := processortest.NewNopSettings(component.MustNewType(ChainType))
	set.MeterProvider = sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	refused := consumererror.NewPermanent(errors.New("exporter says no"))
	var fail bool
	next, err := consumer.NewTraces(func(context.Context, ptrace.Traces) error {
		if fail {
			return refused
		}
		return nil
	})
	require.NoError(t, err)
	chain := newChain(t, set, next,
		ChainStage{ID: component.MustNewIDWithName("test_noop", "a"), Config: map[string]any{}},
		ChainStage{ID: component.MustNewIDWithName("test_noop", "b"), Config: map[string]any{}},
	)
	require.NoError(t, chain.ConsumeTraces(context.Background(), sampleTraces(1)))
	fail = true
	assert.Equal(t, refused, chain.ConsumeTraces(context.Background(), sampleTraces(1)))
	assert.Equal(t, []uint8{stepForward, stepForward}, steps(), "one crossing per request through both")

	var rm metricdata.ResourceMetrics
	require.NoError(t, reader.Collect(context.Background(), &rm))
	for _, id := range []string{"test_noop/a", "test_noop/b"} {
		for outcome, want := range map[string]int64{"success": 1, "permanent": 1} {
			v, ok := sumValue(t, rm, "otelcol_rust_processor_requests", attribute.String("processor", id),
				attribute.String("otel_signal", "traces"), attribute.String("outcome", outcome))
			require.True(t, ok, "%s %s", id, outcome)
			assert.Equal(t, want, v, "%s %s", id, outcome)
		}
	}
}
