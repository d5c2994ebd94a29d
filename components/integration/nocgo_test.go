//go:build integration

package integration

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// The cgo-free distribution's own contracts: the Rust processors run in
// otelcol-rust-server, a child of the collector. These tests need
// OTELCOL_RUST_NOCGO_BINARY (make test-integration-nocgo sets it, and
// points OTELCOL_RUST_BINARY at the same binary for the shared tests).

func nocgoBinary(t *testing.T) string {
	t.Helper()
	if os.Getenv("OTELCOL_RUST_NOCGO_BINARY") == "" {
		t.Skip("OTELCOL_RUST_NOCGO_BINARY is not set (make test-integration-nocgo sets it)")
	}
	return binaryFrom(t, "OTELCOL_RUST_NOCGO_BINARY")
}

// serverPID finds the collector's otelcol-rust-server child.
func serverPID(t *testing.T, collectorPID int) int {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	require.NoError(t, err)
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...
		s := string(raw)
		end := strings.LastIndexByte(s, ')')
		if end < 0 || !strings.Contains(s[:end], "otelcol-rust-se") {
			continue
		}
		fields := strings.Fields(s[end+1:])
		if len(fields) > 1 && fields[1] == strconv.Itoa(collectorPID) {
			return pid
		}
	}
	return 0
}

func startNoCgo(t *testing.T) *collector {
	t.Helper()
	bin := nocgoBinary(t)
	c := newCollector(t)
	// The collector makes its private socket directory under TMPDIR.
	t.Setenv("TMPDIR", c.dir)
	cfg := c.otlpReceiver(false) + fmt.Sprintf(`processors:
  rust_attributes:
    actions:
      - {key: env, value: prod, action: insert}
exporters:
  file/traces:
    path: %s
    flush_interval: 20ms
service:
  telemetry:
    metrics:
      level: none
  pipelines:
    traces:
      receivers: [otlp]
      processors: [rust_attributes]
      exporters: [file/traces]
`, c.path("traces"))
	c.start(t, bin, cfg)
	require.Eventually(t, func() bool { return serverPID(t, c.cmd.Process.Pid) != 0 },
		10*time.Second, 10*time.Millisecond, "no otelcol-rust-server child")
	return c
}

func tracesNamed(name string) ptrace.Traces {
	td := ptrace.NewTraces()
	td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty().Spans().AppendEmpty().SetName(name)
	return td
}

// The socket is private to the collector's user: its directory is 0700
// and the socket 0600.
func TestNoCgoSocketIsPrivate(t *testing.T) {
	c := startNoCgo(t)
	dirs, err := filepath.Glob(filepath.Join(c.dir, "otelcol-rust-*"))
	require.NoError(t, err)
	require.Len(t, dirs, 1)
	st, err := os.Stat(dirs[0])
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o700), st.Mode().Perm())
	st, err = os.Stat(filepath.Join(dirs[0], "server.sock"))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), st.Mode().Perm())
}

// Killing the Rust process under load: the collector stays up, callers
// get retryable errors (UNAVAILABLE) until it is back, within a second,
// and every request the collector acknowledged reached the exporter.
func TestNoCgoKilledServerUnderLoad(t *testing.T) {
	c := startNoCgo(t)
	client := ptraceotlp.NewGRPCClient(grpcConn(t, c.grpcAddr))
	var acked, failed atomic.Int64
	var mu sync.Mutex
	var firstErrAt, lastErrAt time.Time
	codesSeen := map[codes.Code]int{}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				_, err := client.Export(ctx, ptraceotlp.NewExportRequestFromTraces(tracesNamed(fmt.Sprintf("w%d-%d", w, i))))
				cancel()
				if err == nil {
					acked.Add(1)
					continue
				}
				failed.Add(1)
				mu.Lock()
				codesSeen[status.Code(err)]++
				if firstErrAt.IsZero() {
					firstErrAt = time.Now()
				}
				lastErrAt = time.Now()
				mu.Unlock()
				time.Sleep(time.Millisecond)
			}
		}(w)
	}
	time.Sleep(500 * time.Millisecond)
	pid := serverPID(t, c.cmd.Process.Pid)
	require.NotZero(t, pid)
	before := acked.Load()
	require.NoError(t, syscall.Kill(pid, syscall.SIGKILL))
	killed := time.Now()
	require.Eventually(t, func() bool {
		p := serverPID(t, c.cmd.Process.Pid)
		return p != 0 && p != pid
	}, 5*time.Second, 5*time.Millisecond, "the server was not restarted")
	time.Sleep(time.Second)
	close(stop)
	wg.Wait()

	select {
	case <-c.exited:
		t.Fatalf("the collector exited: %v\n%s", c.exitErr, c.output.String())
	default:
	}
	mu.Lock()
	defer mu.Unlock()
	t.Logf("acked %d (%d before the kill), failed %d, codes %v", acked.Load(), before, failed.Load(), codesSeen)
	for code := range codesSeen {
		assert.Equal(t, codes.Unavailable, code, "only retryable UNAVAILABLE while the server is down")
	}
	if !lastErrAt.IsZero() {
		t.Logf("errors from %s to %s after the kill", firstErrAt.Sub(killed), lastErrAt.Sub(killed))
		assert.Less(t, lastErrAt.Sub(killed), time.Second, "back within a second")
	}
	assert.Greater(t, acked.Load(), before, "requests succeed again after the restart")
	// Nothing acknowledged is lost.
	require.Eventually(t, func() bool { return jsonSpans(c.lines("traces")) == int(acked.Load()) },
		10*time.Second, 50*time.Millisecond, "exported spans != acknowledged requests")
}

// A hung Rust process is bounded by the request deadline, and the
// collector works again once it resumes.
func TestNoCgoHungServerIsBoundedByTheDeadline(t *testing.T) {
	c := startNoCgo(t)
	client := ptraceotlp.NewGRPCClient(grpcConn(t, c.grpcAddr))
	pid := serverPID(t, c.cmd.Process.Pid)
	require.NoError(t, syscall.Kill(pid, syscall.SIGSTOP))
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	_, err := client.Export(ctx, ptraceotlp.NewExportRequestFromTraces(tracesNamed("hung")))
	cancel()
	took := time.Since(start)
	require.NoError(t, syscall.Kill(pid, syscall.SIGCONT))
	require.Error(t, err)
	// The client's deadline, or the collector's copy of it ending the
	// hop first (a retryable error that says so): either way the deadline.
	if status.Code(err) != codes.DeadlineExceeded {
		assert.Equal(t, codes.Unavailable, status.Code(err), "%v", err)
		assert.Contains(t, status.Convert(err).Message(), "deadline exceeded")
	}
	assert.Less(t, took, 2*time.Second)
	ctx, cancel = context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err = client.Export(ctx, ptraceotlp.NewExportRequestFromTraces(tracesNamed("after")))
	require.NoError(t, err)
}

// jsonSpans counts the spans of the file exporter's JSON lines.
func jsonSpans(lines [][]byte) int {
	n := 0
	for _, l := range lines {
		td, err := (&ptrace.JSONUnmarshaler{}).UnmarshalTraces(l)
		if err == nil {
			n += td.SpanCount()
		}
	}
	return n
}

// startGRPC serves an OTLP trace service on a loopback port.
func startGRPC(t *testing.T, srv ptraceotlp.GRPCServer) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	s := grpc.NewServer()
	ptraceotlp.RegisterGRPCServer(s, srv)
	go func() { _ = s.Serve(l) }()
	t.Cleanup(s.Stop)
	return l.Addr().String()
}

// deadlinePeer records the deadline of each export it receives and
// whether the export's context was cancelled.
type deadlinePeer struct {
	ptraceotlp.UnimplementedGRPCServer
	mu        sync.Mutex
	remaining []time.Duration
	cancelled atomic.Int64
	hold      chan struct{}
}

func (p *deadlinePeer) Export(ctx context.Context, _ ptraceotlp.ExportRequest) (ptraceotlp.ExportResponse, error) {
	if d, ok := ctx.Deadline(); ok {
		p.mu.Lock()
		p.remaining = append(p.remaining, time.Until(d))
		p.mu.Unlock()
	}
	select {
	case <-p.hold:
	case <-ctx.Done():
		p.cancelled.Add(1)
	}
	return ptraceotlp.NewExportResponse(), nil
}

// The client's deadline reaches the exporter through the Rust process,
// and a client that gives up cancels the export.
func TestNoCgoDeadlineAndCancellationReachTheExporter(t *testing.T) {
	bin := nocgoBinary(t)
	hold := make(chan struct{})
	p := &deadlinePeer{hold: hold}
	srvAddr := startGRPC(t, p)
	c := newCollector(t)
	cfg := c.otlpReceiver(false) + `processors:
  rust_attributes:
    actions:
      - {key: env, value: prod, action: insert}
exporters:
` + otlpExporter("otlp", srvAddr) + `service:
  telemetry:
    metrics:
      level: none
  pipelines:
    traces:
      receivers: [otlp]
      processors: [rust_attributes]
      exporters: [otlp]
`
	c.start(t, bin, cfg)
	client := ptraceotlp.NewGRPCClient(grpcConn(t, c.grpcAddr))
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	done := make(chan error, 1)
	go func() {
		_, err := client.Export(ctx, ptraceotlp.NewExportRequestFromTraces(tracesNamed("deadline")))
		done <- err
	}()
	require.Eventually(t, func() bool {
		p.mu.Lock()
		defer p.mu.Unlock()
		return len(p.remaining) == 1
	}, 5*time.Second, 5*time.Millisecond, "the export did not arrive")
	p.mu.Lock()
	remaining := p.remaining[0]
	p.mu.Unlock()
	assert.LessOrEqual(t, remaining, 3*time.Second, "the exporter sees the client's deadline")
	assert.Greater(t, remaining, time.Second)
	cancel()
	require.Error(t, <-done)
	require.Eventually(t, func() bool { return p.cancelled.Load() == 1 },
		5*time.Second, 5*time.Millisecond, "the client's cancel reached the exporter")
	close(hold)
}
