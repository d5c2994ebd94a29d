package rustprocess

import (
	"context"
	"errors"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/client"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/collector/processor/processortest"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// These tests run the real otelcol-rust-server (OTELCOL_RUST_SERVER, set
// by make test-go); the package itself is built with CGO_ENABLED=0 there.

var (
	attributesInfo = &ProcessorInfo{Name: "rust_attributes", MutatesData: true, DataAccess: "attributes", DefaultConfigJSON: `{}`}
	ratelimitInfo  = &ProcessorInfo{Name: "rust_ratelimit", DataAccess: "counts", DefaultConfigJSON: `{}`}
)

func needServer(t *testing.T) {
	t.Helper()
	if os.Getenv(EnvServer) == "" {
		t.Skip(EnvServer + " is not set (make test-go sets it)")
	}
}

func newTraces(t *testing.T, info *ProcessorInfo, settings map[string]any, next *consumertest.TracesSink) processor.Traces {
	t.Helper()
	typ := component.MustNewType(info.Name)
	f := NewProcessorFactory(typ, info, Stabilities{Traces: component.StabilityLevelAlpha})
	cfg := f.CreateDefaultConfig().(*Config)
	require.NoError(t, cfg.Unmarshal(confmap.NewFromStringMap(settings)))
	require.NoError(t, cfg.Validate())
	p, err := f.CreateTraces(context.Background(), processortest.NewNopSettings(typ), cfg, next)
	require.NoError(t, err)
	require.NoError(t, p.Start(context.Background(), componenttest.NewNopHost()))
	t.Cleanup(func() { require.NoError(t, p.Shutdown(context.Background())) })
	return p
}

func oneSpan() ptrace.Traces {
	td := ptrace.NewTraces()
	span := td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty().Spans().AppendEmpty()
	span.SetName("op")
	span.Attributes().PutStr("user.email", "a@example.com")
	return td
}

func TestAttributesAndContextCrossTheProcess(t *testing.T) {
	needServer(t)
	sink := &consumertest.TracesSink{}
	p := newTraces(t, attributesInfo, map[string]any{"actions": []any{
		map[string]any{"key": "env", "value": "prod", "action": "insert"},
		map[string]any{"key": "tenant", "from_context": "metadata.x-tenant", "action": "insert"},
	}}, sink)
	ctx := client.NewContext(context.Background(), client.Info{
		Metadata: client.NewMetadata(map[string][]string{"X-Tenant": {"acme"}}),
	})
	require.NoError(t, p.ConsumeTraces(ctx, oneSpan()))
	require.Len(t, sink.AllTraces(), 1)
	attrs := sink.AllTraces()[0].ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0).Attributes()
	env, _ := attrs.Get("env")
	tenant, _ := attrs.Get("tenant")
	assert.Equal(t, "prod", env.Str())
	assert.Equal(t, "acme", tenant.Str())
}

func TestConfigErrorsNameTheField(t *testing.T) {
	needServer(t)
	cfg := NewDefaultConfig(attributesInfo)
	require.NoError(t, cfg.Unmarshal(confmap.NewFromStringMap(map[string]any{
		"actions": []any{map[string]any{"key": "k", "action": "explode"}},
	})))
	err := cfg.Validate()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "actions[0]")
}

func TestRateLimitAnswersResourceExhaustedWithADelay(t *testing.T) {
	needServer(t)
	sink := &consumertest.TracesSink{}
	p := newTraces(t, ratelimitInfo, map[string]any{"rate": 1, "burst": 1, "retry_delay": "3s"}, sink)
	require.NoError(t, p.ConsumeTraces(context.Background(), oneSpan()))
	err := p.ConsumeTraces(context.Background(), oneSpan())
	require.Error(t, err)
	assert.False(t, consumererror.IsPermanent(err))
	st, ok := status.FromError(err)
	require.True(t, ok)
	assert.Equal(t, codes.ResourceExhausted, st.Code())
	assert.Equal(t, 429, consumererror.ToHTTPStatus(err))
	assert.Len(t, sink.AllTraces(), 1)
}

func TestCancelledContextNeverCrosses(t *testing.T) {
	needServer(t)
	p := newTraces(t, attributesInfo, map[string]any{"actions": []any{
		map[string]any{"key": "env", "value": "prod", "action": "insert"},
	}}, &consumertest.TracesSink{})
	ctx, cancel := context.WithCancelCause(context.Background())
	cancel(errors.New("client went away"))
	err := p.ConsumeTraces(ctx, oneSpan())
	assert.ErrorIs(t, err, context.Canceled)
	assert.ErrorContains(t, err, "client went away")
}

// Killing the Rust process: callers get retryable errors (UNAVAILABLE),
// never a hang, and the process is back within a second.
func TestKilledServerIsRestarted(t *testing.T) {
	needServer(t)
	sink := &consumertest.TracesSink{}
	p := newTraces(t, attributesInfo, map[string]any{"actions": []any{
		map[string]any{"key": "env", "value": "prod", "action": "insert"},
	}}, sink)
	require.NoError(t, p.ConsumeTraces(context.Background(), oneSpan()))
	pid := ServerPID()
	require.NotZero(t, pid)
	restarts := Restarts()
	require.NoError(t, syscall.Kill(pid, syscall.SIGKILL))
	killed := time.Now()
	var back time.Duration
	for time.Since(killed) < 5*time.Second {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := p.ConsumeTraces(ctx, oneSpan())
		cancel()
		if err == nil {
			back = time.Since(killed)
			break
		}
		assert.False(t, consumererror.IsPermanent(err), "%v", err)
		time.Sleep(5 * time.Millisecond)
	}
	require.NotZero(t, back, "not back after 5s")
	t.Logf("back after %s", back)
	assert.Less(t, back, time.Second)
	assert.Equal(t, restarts+1, Restarts())
	assert.NotEqual(t, pid, ServerPID())
}

// A request the rate limiter holds (delay mode) ends at once with the
// retryable shutdown error when the processor begins stopping, and with
// the caller's cancel when the caller gives up: nothing waits for Rust.
func TestHeldRequestsEndOnStopAndCancel(t *testing.T) {
	needServer(t)
	sink := &consumertest.TracesSink{}
	p := newTraces(t, ratelimitInfo, map[string]any{"rate": 0.001, "burst": 1, "throttle_behavior": "delay"}, sink)
	require.NoError(t, p.ConsumeTraces(context.Background(), oneSpan()))

	ctx, cancel := context.WithCancel(context.Background())
	held := make(chan error, 1)
	go func() { held <- p.ConsumeTraces(ctx, oneSpan()) }()
	time.Sleep(100 * time.Millisecond)
	start := time.Now()
	cancel()
	err := <-held
	assert.ErrorIs(t, err, context.Canceled)
	assert.Less(t, time.Since(start), time.Second)

	go func() { held <- p.ConsumeTraces(context.Background(), oneSpan()) }()
	time.Sleep(100 * time.Millisecond)
	start = time.Now()
	p.(*Processor).beginStopping()
	err = <-held
	require.Error(t, err)
	assert.Less(t, time.Since(start), time.Second)
	assert.False(t, consumererror.IsPermanent(err))
	assert.Equal(t, codes.Unavailable, status.Code(err), "%v", err)
	assert.Contains(t, err.Error(), "shutting down")
	assert.Len(t, sink.AllTraces(), 1)
}

// What Rust logs reaches the component's own logger, with its component
// id, and the processor's counters are in the component's metrics.
func TestRustLogsAndCountersReachTheCollector(t *testing.T) {
	needServer(t)
	core, logs := observer.New(zapcore.DebugLevel)
	typ := component.MustNewType("rust_attributes")
	set := processortest.NewNopSettings(typ)
	set.ID = component.MustNewIDWithName("rust_attributes", "observed")
	set.Logger = zap.New(core).With(zap.String("otelcol.component.id", set.ID.String()))
	tel := componenttest.NewTelemetry()
	t.Cleanup(func() { require.NoError(t, tel.Shutdown(context.Background())) })
	set.MeterProvider = tel.NewTelemetrySettings().MeterProvider

	info := *attributesInfo
	info.Metrics = []Metric{{Name: "actions_applied", Description: "actions", Unit: "{actions}"}}
	f := NewProcessorFactory(typ, &info, Stabilities{Traces: component.StabilityLevelAlpha})
	cfg := f.CreateDefaultConfig().(*Config)
	require.NoError(t, cfg.Unmarshal(confmap.NewFromStringMap(map[string]any{"actions": []any{
		map[string]any{"key": "env", "value": "prod", "action": "insert"},
	}})))
	p, err := f.CreateTraces(context.Background(), set, cfg, &consumertest.TracesSink{})
	require.NoError(t, err)
	require.NoError(t, p.Start(context.Background(), componenttest.NewNopHost()))
	t.Cleanup(func() { require.NoError(t, p.Shutdown(context.Background())) })

	require.Eventually(t, func() bool {
		return logs.FilterMessage("processor instance created").Len() == 1
	}, 5*time.Second, 10*time.Millisecond, "%v", logs.All())
	entry := logs.FilterMessage("processor instance created").All()[0]
	assert.Equal(t, "rust_attributes/observed", entry.ContextMap()["otelcol.component.id"])
	assert.Equal(t, "rust_attributes", entry.ContextMap()["processor_type"])

	for range 3 {
		require.NoError(t, p.ConsumeTraces(context.Background(), oneSpan()))
	}
	m, err := tel.GetMetric("otelcol_rust_processor_rust_attributes_actions_applied")
	require.NoError(t, err)
	sum := m.Data.(metricdata.Sum[int64])
	require.Len(t, sum.DataPoints, 1)
	assert.EqualValues(t, 3, sum.DataPoints[0].Value)
	m, err = tel.GetMetric("otelcol_rust_processor_requests")
	require.NoError(t, err)
	assert.EqualValues(t, 3, m.Data.(metricdata.Sum[int64]).DataPoints[0].Value)
}
