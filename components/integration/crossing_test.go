//go:build integration

package integration

import (
	"context"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/grpc"
	// The OTLP exporter compresses with gzip by default.
	_ "google.golang.org/grpc/encoding/gzip"
)

// The request path under a downstream that blocks: Go consumers run on
// the caller's goroutine, outside cgo, so a blocked exporter holds
// goroutines, not threads, and one pipeline's blocked exporter does not
// hold up another's.

// peer is an OTLP/gRPC backend in the test process: it answers every call
// after `delay`, or never, until released, when `delay` is negative.
type peer struct {
	ptraceotlp.UnimplementedGRPCServer
	delay    time.Duration
	release  chan struct{}
	arrived  atomic.Int64
	answered atomic.Int64
	addr     string
	once     sync.Once
}

// unblock answers every waiting and later call.
func (p *peer) unblock() { p.once.Do(func() { close(p.release) }) }

func (p *peer) Export(ctx context.Context, _ ptraceotlp.ExportRequest) (ptraceotlp.ExportResponse, error) {
	p.arrived.Add(1)
	var wait <-chan time.Time
	if p.delay >= 0 {
		wait = time.After(p.delay)
	}
	select {
	case <-wait:
	case <-p.release:
	case <-ctx.Done():
	}
	p.answered.Add(1)
	return ptraceotlp.NewExportResponse(), nil
}

func startPeer(t *testing.T, delay time.Duration) *peer {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	p := &peer{delay: delay, release: make(chan struct{}), addr: l.Addr().String()}
	srv := grpc.NewServer()
	ptraceotlp.RegisterGRPCServer(srv, p)
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() {
		p.unblock()
		srv.Stop()
	})
	return p
}

// otlpExporter is an exporter section that calls the peer synchronously:
// no sending queue and no retries, so a caller waits as long as the peer.
func otlpExporter(name, addr string) string {
	return fmt.Sprintf(`  %s:
    endpoint: %s
    tls: {insecure: true}
    timeout: 60s
    sending_queue: {enabled: false}
    retry_on_failure: {enabled: false}
`, name, addr)
}

// threads is the collector process's thread count.
func threads(t *testing.T, pid int) int {
	t.Helper()
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	require.NoError(t, err)
	for _, line := range strings.Split(string(raw), "\n") {
		if v, ok := strings.CutPrefix(line, "Threads:"); ok {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			require.NoError(t, err)
			return n
		}
	}
	t.Fatal("no Threads line in /proc status")
	return 0
}

// sendConcurrently starts n exports on conn and returns a channel that
// gets each one's error when it ends.
func sendConcurrently(conn *grpc.ClientConn, n int, timeout time.Duration) <-chan error {
	client := ptraceotlp.NewGRPCClient(conn)
	done := make(chan error, n)
	for i := 0; i < n; i++ {
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), timeout)
			defer cancel()
			_, err := client.Export(ctx, ptraceotlp.NewExportRequestFromTraces(traces("blocked")))
			done <- err
		}()
	}
	return done
}

// A thousand requests through rust_attributes wait on an exporter whose
// peer does not answer: the collector holds a thousand goroutines and a
// handful of threads, as it does for a Go processor, and every request
// completes once the peer answers.
func TestBlockedExporterHoldsGoroutinesNotThreads(t *testing.T) {
	const requests = 1000
	backend := startPeer(t, -1)
	c := newCollector(t)
	cfg := c.otlpReceiver(false) + `processors:
  rust_attributes:
    actions:
      - {key: env, value: prod, action: insert}
exporters:
` + otlpExporter("otlp", backend.addr) + `service:
  telemetry:
    metrics:
      level: none
  pipelines:
    traces:
      receivers: [otlp]
      processors: [rust_attributes]
      exporters: [otlp]
`
	c.start(t, binary(t), cfg)
	pid := c.cmd.Process.Pid
	idle := threads(t, pid)

	done := sendConcurrently(grpcConn(t, c.grpcAddr), requests, 90*time.Second)
	require.Eventually(t, func() bool { return backend.arrived.Load() == requests },
		60*time.Second, 50*time.Millisecond, "every request reaches the exporter's peer (%d did)", backend.arrived.Load())
	blocked := threads(t, pid)
	t.Logf("collector threads: %d idle, %d with %d requests blocked downstream", idle, blocked, requests)
	assert.Less(t, blocked, idle+32, "a blocked request holds a goroutine, not an OS thread")

	backend.unblock()
	for i := 0; i < requests; i++ {
		select {
		case err := <-done:
			require.NoError(t, err)
		case <-time.After(60 * time.Second):
			t.Fatalf("only %d of %d requests completed after the peer answered", i, requests)
		}
	}
}

// Pipeline A's exporter hangs with hundreds of requests through a Rust
// processor; pipeline B's requests, delayed by rust_ratelimit, still pass
// at B's own rate.
func TestHangingExporterDoesNotDelayAnotherPipeline(t *testing.T) {
	hanging := startPeer(t, -1)
	healthy := startPeer(t, 0)
	c := newCollector(t)
	otherAddr := freePort(t)
	cfg := c.otlpReceiver(false) + fmt.Sprintf(`  otlp/b:
    protocols:
      grpc:
        endpoint: %s
processors:
  rust_attributes:
    actions:
      - {key: env, value: prod, action: insert}
  rust_ratelimit:
    rate: 50
    burst: 1
    throttle_behavior: delay
exporters:
`, otherAddr) + otlpExporter("otlp/hanging", hanging.addr) + otlpExporter("otlp/healthy", healthy.addr) + `service:
  telemetry:
    metrics:
      level: none
  pipelines:
    traces/a:
      receivers: [otlp]
      processors: [rust_attributes]
      exporters: [otlp/hanging]
    traces/b:
      receivers: [otlp/b]
      processors: [rust_ratelimit]
      exporters: [otlp/healthy]
`
	c.start(t, binary(t), cfg)
	const stuck = 300
	_ = sendConcurrently(grpcConn(t, c.grpcAddr), stuck, 90*time.Second)
	require.Eventually(t, func() bool { return hanging.arrived.Load() == stuck },
		60*time.Second, 50*time.Millisecond, "pipeline A's requests reach its hanging peer")

	// 20 requests at 50/s take 0.4 s through the limiter; the bound below
	// only tells "passes at its own rate" from "waits for pipeline A".
	const through = 20
	start := time.Now()
	done := sendConcurrently(grpcConn(t, otherAddr), through, 60*time.Second)
	for i := 0; i < through; i++ {
		require.NoError(t, <-done)
	}
	took := time.Since(start)
	t.Logf("%d delayed requests of pipeline B took %s while %d of pipeline A hung", through, took, stuck)
	assert.Less(t, took, 15*time.Second, "pipeline B does not wait for pipeline A's exporter")
	assert.EqualValues(t, through, healthy.answered.Load())
}

// Two rate limiters in delay mode, one after the other, before an exporter
// whose peer takes 100 ms a call, with many concurrent callers: requests
// keep flowing at the limiters' rate (no collapse to what a couple of
// runtime workers could carry) and every request ends, fused or not.
func TestChainedWaitingProcessorsBeforeASlowExporter(t *testing.T) {
	for _, gate := range []string{"+otelcolrust.fuseProcessors", "-otelcolrust.fuseProcessors"} {
		t.Run(gate, func(t *testing.T) {
			const rate = 100
			slow := startPeer(t, 100*time.Millisecond)
			c := newCollector(t)
			c.args = []string{"--feature-gates=" + gate}
			cfg := c.otlpReceiver(false) + fmt.Sprintf(`processors:
  rust_ratelimit/first:
    rate: %d
    burst: 1
    throttle_behavior: delay
  rust_ratelimit/second:
    rate: %d
    burst: 1
    throttle_behavior: delay
exporters:
`, rate, rate) + otlpExporter("otlp", slow.addr) + `service:
  telemetry:
    metrics:
      level: none
  pipelines:
    traces:
      receivers: [otlp]
      processors: [rust_ratelimit/first, rust_ratelimit/second]
      exporters: [otlp]
`
			c.start(t, binary(t), cfg)
			const callers = 64
			const window = 4 * time.Second
			client := ptraceotlp.NewGRPCClient(grpcConn(t, c.grpcAddr))
			ctx, cancel := context.WithTimeout(context.Background(), window)
			defer cancel()
			var ok, failed atomic.Int64
			var wg sync.WaitGroup
			for i := 0; i < callers; i++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for ctx.Err() == nil {
						rctx, rcancel := context.WithTimeout(context.Background(), 30*time.Second)
						_, err := client.Export(rctx, ptraceotlp.NewExportRequestFromTraces(traces("chain")))
						rcancel()
						if err != nil {
							if failed.Add(1) == 1 {
								t.Logf("first failure: %v", err)
							}
						} else if ctx.Err() == nil {
							ok.Add(1) // within the window
						}
					}
				}()
			}
			finished := make(chan struct{})
			go func() { wg.Wait(); close(finished) }()
			select {
			case <-finished:
			case <-time.After(window + 40*time.Second):
				t.Fatal("callers still waiting long after the window: the runtime stalled")
			}
			perSecond := float64(ok.Load()) / window.Seconds()
			t.Logf("%.0f requests/s through two delaying limiters at %d/s (%d failed)", perSecond, rate, failed.Load())
			assert.Zero(t, failed.Load())
			// The load test measures the rate itself; this only tells a
			// flowing pipeline from a collapsed one.
			assert.Greater(t, perSecond, rate*0.5)
		})
	}
}
