//go:build otelcolrust_testing

package bridge

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/processor"
)

// stressRequests is the number of requests per round: small in make test,
// OTELCOL_RUST_STRESS_REQUESTS=200000 in make stress.
func stressRequests() int {
	if v, err := strconv.Atoi(os.Getenv("OTELCOL_RUST_STRESS_REQUESTS")); err == nil && v > 0 {
		return v
	}
	return 6000
}

type scenario int

const (
	scSuccess scenario = iota
	scSlowSuccess
	scExpired
	scDeadlineDuring
	scCancelDuring
	scCancelDownstream
	scError
	scenarios
)

var scenarioNames = [...]string{"success", "slow success", "expired deadline", "deadline during processing", "cancel during processing", "cancel while downstream runs", "error"}

type stressRig struct {
	procs map[scenario]processor.Traces
}

// cancelledAtKey carries, in a request's context, when the test cancelled
// it (UnixNano), for the cancellation latency.
type cancelledAtKey struct{}

// enteredKey carries, in the request's context, the channel the blocking
// consumer of the cancel-downstream scenario signals when it runs: the
// downstream consumer gets the caller's own context.
type enteredKey struct{}

func newStressRig(t *testing.T) *stressRig {
	rig := &stressRig{procs: map[scenario]processor.Traces{}}
	blocking, err := consumer.NewTraces(func(ctx context.Context, _ ptrace.Traces) error {
		ctx.Value(enteredKey{}).(chan struct{}) <- struct{}{}
		<-ctx.Done()
		return ctx.Err()
	})
	require.NoError(t, err)
	rig.procs[scSuccess] = newTraces(t, "test_noop", nil, consumertest.NewNop())
	rig.procs[scSlowSuccess] = newTraces(t, "test_scripted", map[string]any{"yield_once": true}, consumertest.NewNop())
	rig.procs[scExpired] = rig.procs[scSuccess]
	rig.procs[scDeadlineDuring] = newTraces(t, "test_scripted", map[string]any{"sleep_ms": 50}, consumertest.NewNop())
	rig.procs[scCancelDuring] = newTraces(t, "test_scripted", map[string]any{"wait_for_cancel": true}, consumertest.NewNop())
	rig.procs[scCancelDownstream] = newTraces(t, "test_scripted", map[string]any{"yield_once": true}, blocking)
	rig.procs[scError] = newTraces(t, "test_scripted", map[string]any{"emit": 0, "error": map[string]any{"kind": "retryable", "message": "stress error"}}, consumertest.NewNop())
	return rig
}

// call runs one request of scenario s and checks the class of its result.
func (rig *stressRig) call(s scenario, td ptrace.Traces, rng *rand.Rand) error {
	ctx := context.Background()
	var cancel context.CancelFunc = func() {}
	switch s {
	case scExpired:
		ctx, cancel = context.WithDeadline(ctx, time.Now().Add(-time.Millisecond))
	case scDeadlineDuring:
		ctx, cancel = context.WithTimeout(ctx, time.Duration(1+rng.IntN(3))*time.Millisecond)
	case scCancelDuring:
		var cancelNow context.CancelFunc
		ctx, cancelNow = context.WithCancel(ctx)
		// The test hook measures from here to the Rust future dropped.
		at := new(atomic.Int64)
		ctx = context.WithValue(ctx, cancelledAtKey{}, at)
		cancel = cancelNow
		delay := time.Duration(rng.IntN(500)) * time.Microsecond
		time.AfterFunc(delay, func() {
			at.Store(time.Now().UnixNano())
			cancelNow()
		})
	case scCancelDownstream:
		ctx, cancel = context.WithCancel(ctx)
	}
	defer cancel()
	entered := make(chan struct{}, 1)
	ctx = context.WithValue(ctx, enteredKey{}, entered)
	done := make(chan error, 1)
	go func() { done <- rig.procs[s].ConsumeTraces(ctx, td) }()
	if s == scCancelDownstream {
		<-entered
		cancel()
	}
	err := <-done
	switch s {
	case scSuccess, scSlowSuccess:
		if err != nil {
			return fmt.Errorf("%s: unexpected error %w", scenarioNames[s], err)
		}
	case scExpired, scDeadlineDuring:
		if !errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("%s: want DeadlineExceeded, got %v (%#v, ctx.Err=%v)", scenarioNames[s], err, err, ctx.Err())
		}
	case scCancelDuring, scCancelDownstream:
		if !errors.Is(err, context.Canceled) {
			return fmt.Errorf("%s: want Canceled, got %v", scenarioNames[s], err)
		}
	case scError:
		if err == nil || consumererror.IsPermanent(err) || err.Error() != "stress error" {
			return fmt.Errorf("%s: want the retryable stress error, got %v", scenarioNames[s], err)
		}
	}
	return nil
}

func TestStress(t *testing.T) {
	const callers = 64
	total := stressRequests()
	rig := newStressRig(t)
	td := sampleTraces(5)

	var latMu sync.Mutex
	var latencies []time.Duration
	testHookCancelled = func(ctx context.Context) {
		at, ok := ctx.Value(cancelledAtKey{}).(*atomic.Int64)
		if !ok || at.Load() == 0 {
			return
		}
		d := time.Duration(time.Now().UnixNano() - at.Load())
		latMu.Lock()
		latencies = append(latencies, d)
		latMu.Unlock()
	}
	t.Cleanup(func() { testHookCancelled = nil })

	var rustHeap, goHeap []uint64
	const rounds = 3
	for round := 0; round < rounds; round++ {
		var next atomic.Int64
		var counts [scenarios]atomic.Int64
		var failures atomic.Int64
		var wg sync.WaitGroup
		for c := 0; c < callers; c++ {
			wg.Add(1)
			go func(seed uint64) {
				defer wg.Done()
				rng := rand.New(rand.NewPCG(seed, uint64(round)))
				for next.Add(1) <= int64(total/rounds) {
					s := scenario(rng.IntN(int(scenarios)))
					if err := rig.call(s, td, rng); err != nil {
						if failures.Add(1) <= 5 {
							t.Error(err)
						}
					}
					counts[s].Add(1)
				}
			}(uint64(c))
		}
		wg.Wait()
		require.Zero(t, failures.Load(), "requests with the wrong result")
		waitForRustIdle(t)
		s := ReadStats()
		assert.Zero(t, s.GoWaiters, "every waiting request ended exactly once")
		var held []string
		goErrors.Range(func(k, v any) bool {
			held = append(held, fmt.Sprintf("%v: %T %v", k, v, v))
			return true
		})
		assert.Empty(t, held, "Go errors released (stats %+v)", s)
		assert.Zero(t, s.RetainedBuffers)
		assert.Zero(t, s.GoRetained)
		var sum int64
		for i := range counts {
			sum += counts[i].Load()
			assert.NotZero(t, counts[i].Load(), "scenario %q ran", scenarioNames[i])
		}
		assert.Equal(t, int64(total/rounds), sum, "every call returned once")

		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		goHeap = append(goHeap, ms.HeapAlloc)
		rustHeap = append(rustHeap, s.RustHeapBytes)
	}
	// Round 0 warms pools and caches; later rounds must not keep growing.
	const slack = 8 << 20
	assert.LessOrEqual(t, rustHeap[rounds-1], rustHeap[1]+slack, "Rust heap by round: %v", rustHeap)
	assert.LessOrEqual(t, goHeap[rounds-1], goHeap[1]+slack, "Go heap by round: %v", goHeap)

	latMu.Lock()
	defer latMu.Unlock()
	require.NotEmpty(t, latencies)
	slices.Sort(latencies)
	p := func(q float64) time.Duration { return latencies[int(q*float64(len(latencies)-1))] }
	line := fmt.Sprintf("cancellation latency (Go cancel -> Rust future dropped), %d callers, %d cancels: p50=%v p99=%v max=%v",
		callers, len(latencies), p(0.50), p(0.99), latencies[len(latencies)-1])
	t.Log(line)
	t.Logf("heap by round: Rust %v, Go %v", rustHeap, goHeap)
	if path := os.Getenv("OTELCOL_RUST_STRESS_REPORT"); path != "" {
		require.NoError(t, os.WriteFile(path, []byte(line+"\n"), 0o644))
	}
}
