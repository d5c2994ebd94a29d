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

// rust2go's generated control calls leaked every answer
// (rust/bridge/src/answers.rs), and the Collector reads each component's
// counters on every metrics collection: thousands of calls of every
// answer type leave Rust's live heap where it was.
func TestControlCallsFreeTheirAnswers(t *testing.T) {
	p := newTraces(t, "rust_attributes", map[string]any{"actions": []any{
		map[string]any{"key": "environment", "value": "production", "action": "insert"},
	}}, consumertest.NewNop()).(*Processor)
	require.True(t, p.keysNamed, "a create answer with keys")
	validate := &ValidateRequest{processor_type: "rust_attributes", config_json: `{"actions":[{"key":"k","action":"delete"}]}`}
	invalid := &ValidateRequest{processor_type: "rust_attributes", config_json: `{"actions":7}`}
	calls := func() {
		require.NotEmpty(t, RustBridgeImpl{}.registry().processors)
		require.Empty(t, RustBridgeImpl{}.validate(validate).error)
		require.NotEmpty(t, RustBridgeImpl{}.validate(invalid).error)
		require.NotEmpty(t, RustBridgeImpl{}.effective_config(validate).config_json)
		require.NotEmpty(t, RustBridgeImpl{}.start(&HandleRequest{handle: 1 << 60}).error)
		RustBridgeImpl{}.read_counters(&StageRequest{handle: p.handle})
		RustBridgeImpl{}.stats()
	}
	for i := 0; i < 50; i++ {
		calls()
	}
	base := ReadStats().RustHeapBytes
	for i := 0; i < 2000; i++ {
		calls()
	}
	after := ReadStats().RustHeapBytes
	assert.LessOrEqual(t, after, base+16<<10,
		"Rust's live heap does not grow with control calls (%d -> %d bytes over 14000 calls)", base, after)
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
