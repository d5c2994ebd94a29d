//go:build otelcolrust_testing

package bridge

import (
	"context"
	"errors"
	"math/rand/v2"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/client"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// rust_ratelimit in delay mode, through the real bridge: the wait is the
// slow path (a Rust timer), bounded by the caller's deadline and ended by
// its cancellation.

func tenantCtx(ctx context.Context, tenant string) context.Context {
	return client.NewContext(ctx, client.Info{Metadata: client.NewMetadata(map[string][]string{"x-tenant": {tenant}})})
}

func delayLimiter(t testing.TB, rate float64, burst int, next *consumertest.TracesSink) *Processor {
	return newTraces(t, "rust_ratelimit", map[string]any{
		"metadata_keys": []any{"x-tenant"}, "rate": rate, "burst": burst, "throttle_behavior": "delay",
	}, next).(*Processor)
}

func TestRateLimitDelayWaitsThenForwards(t *testing.T) {
	sink := new(consumertest.TracesSink)
	p := delayLimiter(t, 20, 1, sink)
	ctx := tenantCtx(context.Background(), "a")
	before := ReadStats().SlowPathTotal
	require.NoError(t, p.ConsumeTraces(ctx, sampleTraces(1)))
	require.NoError(t, p.ConsumeTraces(ctx, sampleTraces(1)), "waits for a token, then goes through")
	assert.Equal(t, 2, sink.SpanCount())
	assert.Greater(t, ReadStats().SlowPathTotal, before, "the wait ran on the bridge's runtime")
}

func TestRateLimitDelayFailsUpFrontWhenTheDeadlineWouldPass(t *testing.T) {
	sink := new(consumertest.TracesSink)
	p := delayLimiter(t, 0.5, 1, sink) // a token every 2 s
	ctx := tenantCtx(context.Background(), "a")
	require.NoError(t, p.ConsumeTraces(ctx, sampleTraces(1)))
	short, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := p.ConsumeTraces(short, sampleTraces(1))
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Less(t, time.Since(start), 400*time.Millisecond, "decided up front, not after waiting")
	assert.Equal(t, 1, sink.SpanCount())
}

func TestRateLimitDelayEndsAtOnceWhenCancelled(t *testing.T) {
	sink := new(consumertest.TracesSink)
	p := delayLimiter(t, 0.1, 1, sink) // a token every 10 s
	ctx := tenantCtx(context.Background(), "a")
	require.NoError(t, p.ConsumeTraces(ctx, sampleTraces(1)))
	waiting, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- p.ConsumeTraces(waiting, sampleTraces(1)) }()
	require.Eventually(t, func() bool { return ReadStats().InFlight == 1 }, 10*time.Second, time.Millisecond)
	cancel()
	assert.ErrorIs(t, <-done, context.Canceled)
	waitForRustIdle(t)
	assert.Equal(t, 1, sink.SpanCount())
}

// TestStressRateLimitDelay is the stress harness in delay mode: 64 callers
// of a few tenants with random deadlines and cancels against a small rate.
// Every call is answered once with the right class, nothing leaks, and the
// admitted rate stays within rate x time + burst per tenant.
func TestStressRateLimitDelay(t *testing.T) {
	const (
		callers = 64
		rate    = 2000.0
		burst   = 20
	)
	total := 4000
	if v, err := strconv.Atoi(os.Getenv("OTELCOL_RUST_STRESS_REQUESTS")); err == nil && v > 0 {
		total = v / 10 // the limiter makes each request slow on purpose
	}
	tenants := []string{"a", "b", "c"}
	var admitted, forwarded [3]atomic.Int64
	// The next consumer counts, per tenant, what the limiter let through.
	counting, err := consumer.NewTraces(func(ctx context.Context, _ ptrace.Traces) error {
		switch client.FromContext(ctx).Metadata.Get("x-tenant")[0] {
		case "a":
			forwarded[0].Add(1)
		case "b":
			forwarded[1].Add(1)
		case "c":
			forwarded[2].Add(1)
		}
		return nil
	})
	require.NoError(t, err)
	p := newTraces(t, "rust_ratelimit", map[string]any{
		"metadata_keys": []any{"x-tenant"}, "rate": rate, "burst": burst, "throttle_behavior": "delay",
	}, counting).(*Processor)

	start := time.Now()
	var next atomic.Int64
	var failures atomic.Int64
	var wg sync.WaitGroup
	for c := 0; c < callers; c++ {
		wg.Add(1)
		go func(seed uint64) {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(seed, 7))
			for next.Add(1) <= int64(total) {
				ti := rng.IntN(len(tenants))
				ctx := tenantCtx(context.Background(), tenants[ti])
				var cancel context.CancelFunc = func() {}
				mode := rng.IntN(3)
				switch mode {
				case 1:
					ctx, cancel = context.WithTimeout(ctx, time.Duration(1+rng.IntN(20))*time.Millisecond)
				case 2:
					ctx, cancel = context.WithCancel(ctx)
					time.AfterFunc(time.Duration(rng.IntN(5000))*time.Microsecond, cancel)
				}
				err := p.ConsumeTraces(ctx, sampleTraces(1))
				cancel()
				switch {
				case err == nil:
					admitted[ti].Add(1)
				case mode == 1 && errors.Is(err, context.DeadlineExceeded):
				case mode == 2 && errors.Is(err, context.Canceled):
				default:
					if failures.Add(1) <= 5 {
						t.Errorf("mode %d: unexpected result %v", mode, err)
					}
				}
			}
		}(uint64(c))
	}
	wg.Wait()
	elapsed := time.Since(start)
	require.Zero(t, failures.Load())
	waitForRustIdle(t)
	s := ReadStats()
	assert.Zero(t, s.GoWaiters)
	assert.Zero(t, s.GoErrors)
	var sum int64
	for i := range tenants {
		bound := rate*elapsed.Seconds() + burst
		assert.LessOrEqual(t, float64(forwarded[i].Load()), bound, "tenant %s let through within rate x time + burst", tenants[i])
		// A caller whose context ends while Rust forwards returns its
		// context's error without waiting: forwarded can exceed the calls
		// that returned nil, never the reverse.
		assert.GreaterOrEqual(t, forwarded[i].Load(), admitted[i].Load(), "tenant %s", tenants[i])
		sum += forwarded[i].Load()
	}
	t.Logf("rate limiter stress: %d requests in %v, let through %d", total, elapsed, sum)
}
