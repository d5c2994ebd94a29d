//go:build integration

package integration

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Shutdown with requests held by rust_ratelimit in delay mode: the
// Collector shuts its receivers down first, and they wait for the
// requests they serve, so a held request that nobody ends keeps the
// process alive until its client gives up. On the first SIGTERM every
// held request must end at once with a retryable error and a retry hint,
// requests that arrive afterwards must not be held, and the process must
// exit promptly.

// heldConfig is a limiter that lets one request through and then holds
// every other one for (at least) minutes.
func heldConfig(c *collector, rate string) string {
	return c.otlpReceiver(false) + fmt.Sprintf(`processors:
  rust_ratelimit:
    rate: %s
    burst: 1
    throttle_behavior: delay
exporters:
  debug: {}
service:
  telemetry:
    metrics:
      level: none
  pipelines:
    traces:
      receivers: [otlp]
      processors: [rust_ratelimit]
      exporters: [debug]
`, rate)
}

// heldAnswer is how one client's request ended.
type heldAnswer struct {
	via   string
	code  int // gRPC code or HTTP status; -1: transport error
	retry time.Duration
	err   string
}

// sendHeld sends one request without a deadline (a deadline would make
// the limiter refuse it at once rather than hold it).
func sendHeld(t *testing.T, c *collector, via string, ctx context.Context) heldAnswer {
	td := traces("held")
	if via == "grpc" {
		_, err := ptraceotlp.NewGRPCClient(grpcConn(t, c.grpcAddr)).Export(ctx, ptraceotlp.NewExportRequestFromTraces(td))
		st := status.Convert(err)
		a := heldAnswer{via: via, code: int(st.Code()), err: st.Message()}
		for _, d := range st.Details() {
			if ri, ok := d.(*errdetails.RetryInfo); ok {
				a.retry = ri.GetRetryDelay().AsDuration()
			}
		}
		return a
	}
	body, err := ptraceotlp.NewExportRequestFromTraces(td).MarshalProto()
	if err != nil {
		return heldAnswer{via: via, code: -1, err: err.Error()}
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+c.httpAddr+"/v1/traces", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/x-protobuf")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return heldAnswer{via: via, code: -1, err: err.Error()}
	}
	defer resp.Body.Close()
	a := heldAnswer{via: via, code: resp.StatusCode}
	if s := resp.Header.Get("Retry-After"); s != "" {
		n, _ := strconv.Atoi(s)
		a.retry = time.Duration(n) * time.Second
	}
	return a
}

func TestSIGTERMEndsHeldRequestsAndExits(t *testing.T) {
	for _, rate := range []string{"1e-10", "0.001", "1"} {
		t.Run("rate "+rate, func(t *testing.T) {
			c := newCollector(t)
			c.start(t, binary(t), heldConfig(c, rate))
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			// The burst: one request goes through at once.
			require.Zero(t, sendHeld(t, c, "grpc", ctx).code)

			const held = 20
			answers := make(chan heldAnswer, 4*held)
			var wg sync.WaitGroup
			for i := 0; i < held; i++ {
				for _, via := range []string{"grpc", "http"} {
					wg.Add(1)
					go func() {
						defer wg.Done()
						answers <- sendHeld(t, c, via, ctx)
					}()
				}
			}
			// Let them reach the limiter and wait there. At rate 1 a
			// few pass meanwhile; the rest are held.
			time.Sleep(time.Second)
			require.NoError(t, c.cmd.Process.Signal(syscall.SIGTERM))
			signalled := time.Now()
			// Clients that keep sending after the signal.
			late := 0
			for until := signalled.Add(500 * time.Millisecond); time.Now().Before(until); late++ {
				wg.Add(1)
				go func(via string) {
					defer wg.Done()
					answers <- sendHeld(t, c, via, ctx)
				}([]string{"grpc", "http"}[late%2])
				time.Sleep(25 * time.Millisecond)
			}
			select {
			case <-c.exited:
			case <-time.After(20 * time.Second):
				t.Fatalf("the collector had not exited 20 s after SIGTERM; output:\n%s", c.output.String())
			}
			took := c.exitedAt.Sub(signalled)
			require.NoError(t, c.exitErr, "exit status; output:\n%s", c.output.String())
			wg.Wait()
			close(answers)
			counts := map[string]int{}
			for a := range answers {
				ended := strings.Contains(a.err, "shutting down") || a.retry > 0
				switch {
				case a.via == "grpc" && a.code == int(codes.OK), a.via == "http" && a.code == http.StatusOK:
					counts["ok"]++
				case a.via == "grpc" && a.code == int(codes.Unavailable) && ended:
					counts["grpc unavailable"]++
					assert.GreaterOrEqual(t, a.retry, time.Second, "a retry hint of at least 1 s (%s)", a.err)
				case a.via == "http" && a.code == http.StatusServiceUnavailable:
					counts["http 503"]++
					assert.GreaterOrEqual(t, a.retry, time.Second, "Retry-After of at least 1 s")
				case a.code == -1 || a.via == "grpc" && a.code == int(codes.Unavailable):
					// Sent after the receiver closed its listener: refused
					// before any data was taken, and retryable.
					counts["not connected"]++
				default:
					t.Errorf("%s request ended with %d (%s)", a.via, a.code, a.err)
				}
			}
			t.Logf("rate %s: exited %s after SIGTERM; %d held and %d late requests ended as %v", rate, took.Round(time.Millisecond), 2*held, late, counts)
			assert.Less(t, took, 5*time.Second, "exit soon after the first SIGTERM")
			assert.GreaterOrEqual(t, counts["grpc unavailable"]+counts["http 503"], held, "held requests end with a retryable error")
		})
	}
}

// SIGHUP reloads the configuration: the pipelines are shut down and built
// again. Held requests end with the retryable error (their clients resend
// to the new pipelines) instead of holding the reload up.
func TestSIGHUPEndsHeldRequestsAndReloads(t *testing.T) {
	c := newCollector(t)
	c.start(t, binary(t), heldConfig(c, "0.001"))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	require.Zero(t, sendHeld(t, c, "grpc", ctx).code)
	const held = 10
	answers := make(chan heldAnswer, 2*held)
	for i := 0; i < held; i++ {
		for _, via := range []string{"grpc", "http"} {
			go func() { answers <- sendHeld(t, c, via, ctx) }()
		}
	}
	time.Sleep(time.Second)
	require.NoError(t, c.cmd.Process.Signal(syscall.SIGHUP))
	for i := 0; i < 2*held; i++ {
		select {
		case a := <-answers:
			if a.via == "grpc" {
				assert.Equal(t, int(codes.Unavailable), a.code, a.err)
			} else {
				assert.Equal(t, http.StatusServiceUnavailable, a.code)
			}
			assert.GreaterOrEqual(t, a.retry, time.Second)
		case <-time.After(20 * time.Second):
			t.Fatalf("%d of %d held requests still waiting 20 s after SIGHUP; output:\n%s", 2*held-i, 2*held, c.output.String())
		}
	}
	// The reloaded pipeline has a fresh limiter: its burst passes.
	require.Eventually(t, func() bool {
		rctx, rcancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer rcancel()
		_, err := ptraceotlp.NewGRPCClient(grpcConn(t, c.grpcAddr)).Export(rctx, ptraceotlp.NewExportRequestFromTraces(traces("after")))
		return err == nil
	}, 20*time.Second, 100*time.Millisecond, "the reloaded collector takes requests; output:\n%s", c.output.String())
}
