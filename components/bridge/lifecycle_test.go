//go:build otelcolrust_testing

package bridge

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/processor/processortest"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func TestStartShutdownLoopLeavesNothing(t *testing.T) {
	f := testFactory(t, "test_scripted")
	cfg := config(t, f, map[string]any{"modify": true})
	cycle := func() {
		p, err := f.CreateTraces(context.Background(), processortest.NewNopSettings(f.Type()), cfg, consumertest.NewNop())
		require.NoError(t, err)
		require.NoError(t, p.Start(context.Background(), componenttest.NewNopHost()))
		require.NoError(t, p.ConsumeTraces(context.Background(), sampleTraces(3)))
		require.NoError(t, p.Shutdown(context.Background()))
	}
	// Warm up the runtime, registries and allocator caches first.
	for i := 0; i < 20; i++ {
		cycle()
	}
	base := ReadStats()
	for i := 0; i < 200; i++ {
		p, err := f.CreateTraces(context.Background(), processortest.NewNopSettings(f.Type()), cfg, consumertest.NewNop())
		require.NoError(t, err)
		require.NoError(t, p.Start(context.Background(), componenttest.NewNopHost()))
		require.NoError(t, p.ConsumeTraces(context.Background(), sampleTraces(3)))
		require.NoError(t, p.Shutdown(context.Background()))
		require.NoError(t, p.Shutdown(context.Background()), "a second shutdown is harmless")
	}
	s := ReadStats()
	assert.Equal(t, base.Components, s.Components, "every Rust component freed")
	assert.Equal(t, base.ProcessorInstances, s.ProcessorInstances, "every processor instance freed")
	assert.Zero(t, s.InFlight)
	assert.Zero(t, s.GoWaiters)
	assert.Zero(t, s.GoErrors)
	assert.Zero(t, s.RetainedBuffers)
	assert.LessOrEqual(t, s.RustHeapBytes, base.RustHeapBytes+64<<10,
		"Rust's live heap does not grow with Start/Shutdown cycles (%d -> %d bytes)", base.RustHeapBytes, s.RustHeapBytes)
}

func TestShutdownWithoutStart(t *testing.T) {
	f := testFactory(t, "test_noop")
	p, err := f.CreateTraces(context.Background(), processortest.NewNopSettings(f.Type()), f.CreateDefaultConfig(), consumertest.NewNop())
	require.NoError(t, err)
	require.NoError(t, p.Shutdown(context.Background()))
	err = p.ConsumeTraces(context.Background(), sampleTraces(1))
	require.Error(t, err)
	assert.False(t, consumererror.IsPermanent(err), "the client may resend to a collector that is up")
	assert.Contains(t, err.Error(), "shutting down")
}

func TestMalformedOTLPReachingRustIsAPermanentError(t *testing.T) {
	p := newTraces(t, "test_scripted", map[string]any{"modify": true}, consumertest.NewNop()).(*Processor)
	err := p.process(&request{ctx: context.Background(), proc: p, buf: []byte{0xff, 0xff, 0xff, 0x01}})
	require.Error(t, err)
	assert.True(t, consumererror.IsPermanent(err))
	assert.Contains(t, err.Error(), "invalid traces data")
	// The processor keeps serving.
	require.NoError(t, p.ConsumeTraces(context.Background(), sampleTraces(1)))
}

func TestUnknownProcessorTypeIsAConfigError(t *testing.T) {
	cfg := NewDefaultConfig("no_such_processor")
	err := cfg.Validate()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "no_such_processor")
}
