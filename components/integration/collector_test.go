//go:build integration

// Package integration runs the ocb-built otelcol-rust binary and talks to it
// with real OTLP clients over gRPC and HTTP. `make test-integration` builds
// the binary and points OTELCOL_RUST_BINARY at it.
package integration

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/pmetric/pmetricotlp"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"go.yaml.in/yaml/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

func binary(t *testing.T) string {
	return binaryFrom(t, "OTELCOL_RUST_BINARY")
}

// testingBinary is the collector with the test-only Rust processors.
func testingBinary(t *testing.T) string {
	return binaryFrom(t, "OTELCOL_RUST_TESTING_BINARY")
}

func binaryFrom(t *testing.T, env string) string {
	t.Helper()
	bin := os.Getenv(env)
	require.NotEmpty(t, bin, "%s must name an ocb-built collector (make test-integration sets it)", env)
	_, err := os.Stat(bin)
	require.NoError(t, err)
	return bin
}

var (
	portsMu sync.Mutex
	// handedOut are the ports freePort gave out in this test binary: the
	// kernel may offer a released port again before the collector that is
	// to use it binds it.
	handedOut = map[string]bool{}
)

// freePort returns a loopback address nothing listens on and no other
// test of this binary was given.
func freePort(t *testing.T) string {
	t.Helper()
	portsMu.Lock()
	defer portsMu.Unlock()
	for {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		addr := l.Addr().String()
		require.NoError(t, l.Close())
		if !handedOut[addr] {
			handedOut[addr] = true
			return addr
		}
	}
}

// collector is a running otelcol-rust process.
type collector struct {
	args               []string
	grpcAddr, httpAddr string
	dir                string
	cmd                *exec.Cmd
	output             *syncBuffer
	// exited is closed when the process has ended, with exitErr.
	exited   chan struct{}
	exitErr  error
	exitedAt time.Time
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

const processorsConfig = `
processors:
  rust_attributes:
    actions:
      - key: env
        value: prod
        action: insert
      - key: user.email
        action: hash
      - pattern: ^secret\.
        action: delete
      - key: count
        value: 42
        action: upsert
  rust_attributes/second:
    actions:
      - key: pipeline
        value: second
        action: insert
      - key: env
        action: delete
`

func startCollector(t *testing.T) *collector {
	t.Helper()
	c := newCollector(t)
	cfg := c.otlpReceiver(false) + fmt.Sprintf(`%s
exporters:
  file/traces:
    path: %s
    flush_interval: 50ms
  file/traces_second:
    path: %s
    flush_interval: 50ms
  file/metrics:
    path: %s
    flush_interval: 50ms
  file/logs:
    path: %s
    flush_interval: 50ms
service:
  telemetry:
    metrics:
      level: none
  pipelines:
    traces:
      receivers: [otlp]
      processors: [rust_attributes]
      exporters: [file/traces]
    traces/second:
      receivers: [otlp]
      processors: [rust_attributes/second]
      exporters: [file/traces_second]
    metrics:
      receivers: [otlp]
      processors: [rust_attributes]
      exporters: [file/metrics]
    logs:
      receivers: [otlp]
      processors: [rust_attributes]
      exporters: [file/logs]
`, processorsConfig,
		c.path("traces"), c.path("traces_second"), c.path("metrics"), c.path("logs"))
	c.start(t, binary(t), cfg)
	return c
}

// start runs bin on cfg and waits until the OTLP gRPC port listens.
func (c *collector) start(t *testing.T, bin, cfg string) {
	t.Helper()
	cfgPath := filepath.Join(c.dir, "config.yaml")
	require.NoError(t, os.WriteFile(cfgPath, []byte(cfg), 0o600))

	c.cmd = exec.Command(bin, append([]string{"--config", cfgPath}, c.args...)...)
	c.cmd.Stdout = c.output
	c.cmd.Stderr = c.output
	require.NoError(t, c.cmd.Start())
	c.exited = make(chan struct{})
	go func() {
		c.exitErr = c.cmd.Wait()
		c.exitedAt = time.Now()
		close(c.exited)
	}()
	t.Cleanup(func() {
		_ = c.cmd.Process.Signal(os.Interrupt)
		select {
		case <-c.exited:
			assert.NoError(t, c.exitErr, "collector exit; output:\n%s", c.output.String())
		case <-time.After(30 * time.Second):
			_ = c.cmd.Process.Kill()
			t.Errorf("collector did not stop; output:\n%s", c.output.String())
		}
	})
	require.Eventually(t, func() bool {
		conn, err := net.DialTimeout("tcp", c.grpcAddr, time.Second)
		if err != nil {
			return false
		}
		conn.Close()
		return true
	}, 60*time.Second, 100*time.Millisecond, "collector did not listen; output:\n%s", c.output.String())
}

func (c *collector) path(name string) string { return filepath.Join(c.dir, name+".json") }

// newCollector reserves the OTLP ports of a collector not started yet;
// args are added to its command line.
func newCollector(t *testing.T) *collector {
	return &collector{grpcAddr: freePort(t), httpAddr: freePort(t), dir: t.TempDir(), output: &syncBuffer{}}
}

// otlpReceiver is the receivers section every test config starts with: an
// otlp receiver on the collector's ports, keeping client metadata when
// asked.
func (c *collector) otlpReceiver(includeMetadata bool) string {
	meta := ""
	if includeMetadata {
		meta = "\n        include_metadata: true"
	}
	return fmt.Sprintf(`receivers:
  otlp:
    protocols:
      grpc:
        endpoint: %s%s
      http:
        endpoint: %s%s
`, c.grpcAddr, meta, c.httpAddr, meta)
}

// lines returns the JSON lines an exporter wrote so far.
func (c *collector) lines(name string) [][]byte {
	f, err := os.Open(c.path(name))
	if err != nil {
		return nil
	}
	defer f.Close()
	var out [][]byte
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 1<<20), 16<<20)
	for sc.Scan() {
		out = append(out, append([]byte(nil), sc.Bytes()...))
	}
	return out
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func fillAttrs(m pcommon.Map, via string) {
	m.PutStr("via", via)
	m.PutStr("user.email", "alice@example.com")
	m.PutStr("secret.token", "hunter2")
	m.PutStr("keep", "yes")
	m.PutStr("count", "one")
}

// assertEdited checks the first attributes processor's actions.
func assertEdited(t *testing.T, m pcommon.Map) {
	t.Helper()
	got := m.AsRaw()
	assert.Equal(t, "prod", got["env"])
	assert.Equal(t, sha256Hex("alice@example.com"), got["user.email"])
	assert.NotContains(t, got, "secret.token")
	assert.Equal(t, "yes", got["keep"])
	assert.Equal(t, int64(42), got["count"])
}

func traces(via string) ptrace.Traces {
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("service.name", "integration")
	s := rs.ScopeSpans().AppendEmpty().Spans().AppendEmpty()
	s.SetName("span-" + via)
	s.SetTraceID(pcommon.TraceID{1, 2, 3})
	s.SetSpanID(pcommon.SpanID{4, 5, 6})
	fillAttrs(s.Attributes(), via)
	return td
}

func metrics(via string) pmetric.Metrics {
	md := pmetric.NewMetrics()
	m := md.ResourceMetrics().AppendEmpty().ScopeMetrics().AppendEmpty().Metrics().AppendEmpty()
	m.SetName("metric-" + via)
	dp := m.SetEmptySum().DataPoints().AppendEmpty()
	dp.SetIntValue(7)
	fillAttrs(dp.Attributes(), via)
	return md
}

func logs(via string) plog.Logs {
	ld := plog.NewLogs()
	lr := ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
	lr.Body().SetStr("log-" + via)
	fillAttrs(lr.Attributes(), via)
	return ld
}

func grpcConn(t *testing.T, addr string) *grpc.ClientConn {
	t.Helper()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close() })
	return conn
}

func postProto(t *testing.T, url string, body []byte) {
	t.Helper()
	resp, err := http.Post(url, "application/x-protobuf", bytes.NewReader(body))
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
}

func TestAttributesOverGRPCAndHTTP(t *testing.T) {
	c := startCollector(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn := grpcConn(t, c.grpcAddr)

	_, err := ptraceotlp.NewGRPCClient(conn).Export(ctx, ptraceotlp.NewExportRequestFromTraces(traces("grpc")))
	require.NoError(t, err)
	_, err = pmetricotlp.NewGRPCClient(conn).Export(ctx, pmetricotlp.NewExportRequestFromMetrics(metrics("grpc")))
	require.NoError(t, err)
	_, err = plogotlp.NewGRPCClient(conn).Export(ctx, plogotlp.NewExportRequestFromLogs(logs("grpc")))
	require.NoError(t, err)

	body, err := ptraceotlp.NewExportRequestFromTraces(traces("http")).MarshalProto()
	require.NoError(t, err)
	postProto(t, "http://"+c.httpAddr+"/v1/traces", body)
	body, err = pmetricotlp.NewExportRequestFromMetrics(metrics("http")).MarshalProto()
	require.NoError(t, err)
	postProto(t, "http://"+c.httpAddr+"/v1/metrics", body)
	body, err = plogotlp.NewExportRequestFromLogs(logs("http")).MarshalProto()
	require.NoError(t, err)
	postProto(t, "http://"+c.httpAddr+"/v1/logs", body)

	for _, via := range []string{"grpc", "http"} {
		t.Run("traces/"+via, func(t *testing.T) {
			span := waitFor(t, c, "traces", func(line []byte) (pcommon.Map, bool) {
				td, err := (&ptrace.JSONUnmarshaler{}).UnmarshalTraces(line)
				require.NoError(t, err)
				s := td.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0)
				return s.Attributes(), s.Name() == "span-"+via
			})
			assertEdited(t, span)
			// The second pipeline's instance has its own configuration.
			second := waitFor(t, c, "traces_second", func(line []byte) (pcommon.Map, bool) {
				td, err := (&ptrace.JSONUnmarshaler{}).UnmarshalTraces(line)
				require.NoError(t, err)
				s := td.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0)
				return s.Attributes(), s.Name() == "span-"+via
			})
			raw := second.AsRaw()
			assert.Equal(t, "second", raw["pipeline"])
			assert.NotContains(t, raw, "env")
			assert.Equal(t, "alice@example.com", raw["user.email"])
			assert.Equal(t, "hunter2", raw["secret.token"])
		})
		t.Run("metrics/"+via, func(t *testing.T) {
			dp := waitFor(t, c, "metrics", func(line []byte) (pcommon.Map, bool) {
				md, err := (&pmetric.JSONUnmarshaler{}).UnmarshalMetrics(line)
				require.NoError(t, err)
				m := md.ResourceMetrics().At(0).ScopeMetrics().At(0).Metrics().At(0)
				return m.Sum().DataPoints().At(0).Attributes(), m.Name() == "metric-"+via
			})
			assertEdited(t, dp)
		})
		t.Run("logs/"+via, func(t *testing.T) {
			lr := waitFor(t, c, "logs", func(line []byte) (pcommon.Map, bool) {
				ld, err := (&plog.JSONUnmarshaler{}).UnmarshalLogs(line)
				require.NoError(t, err)
				r := ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0)
				return r.Attributes(), r.Body().Str() == "log-"+via
			})
			assertEdited(t, lr)
		})
	}
}

// waitFor polls an exporter's file until a line matches.
func waitFor(t *testing.T, c *collector, file string, match func([]byte) (pcommon.Map, bool)) pcommon.Map {
	t.Helper()
	var found pcommon.Map
	ok := assert.Eventually(t, func() bool {
		for _, line := range c.lines(file) {
			if m, ok := match(line); ok {
				found = m
				return true
			}
		}
		return false
	}, 30*time.Second, 50*time.Millisecond, "nothing matching in %s; collector output:\n%s", file, c.output.String())
	require.True(t, ok)
	return found
}

func TestMalformedOTLPIsRejectedAndCollectorSurvives(t *testing.T) {
	c := startCollector(t)
	resp, err := http.Post("http://"+c.httpAddr+"/v1/traces", "application/x-protobuf", strings.NewReader("\xff\xff\xff not protobuf"))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
	body, err := ptraceotlp.NewExportRequestFromTraces(traces("after-bad")).MarshalProto()
	require.NoError(t, err)
	postProto(t, "http://"+c.httpAddr+"/v1/traces", body)
	waitFor(t, c, "traces", func(line []byte) (pcommon.Map, bool) {
		td, err := (&ptrace.JSONUnmarshaler{}).UnmarshalTraces(line)
		require.NoError(t, err)
		s := td.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0)
		return s.Attributes(), s.Name() == "span-after-bad"
	})
}

func TestValidateReportsTheBadField(t *testing.T) {
	dir := t.TempDir()
	cfg := `
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:0
processors:
  rust_attributes/broken:
    actions:
      - pattern: "(unclosed"
        action: delete
exporters:
  debug: {}
service:
  pipelines:
    traces:
      receivers: [otlp]
      processors: [rust_attributes/broken]
      exporters: [debug]
`
	path := filepath.Join(dir, "bad.yaml")
	require.NoError(t, os.WriteFile(path, []byte(cfg), 0o600))
	out, err := exec.Command(binary(t), "validate", "--config", path).CombinedOutput()
	require.Error(t, err, "validate must fail; output:\n%s", out)
	text := string(out)
	assert.Contains(t, text, "rust_attributes/broken")
	assert.Contains(t, text, "actions[0].pattern")

	cfg = strings.Replace(cfg, `- pattern: "(unclosed"`, `- pattern: "ok"
        colour: blue`, 1)
	require.NoError(t, os.WriteFile(path, []byte(cfg), 0o600))
	out, err = exec.Command(binary(t), "validate", "--config", path).CombinedOutput()
	require.Error(t, err, "validate must fail; output:\n%s", out)
	assert.Contains(t, string(out), "colour")
}

func TestComponentsListsRustProcessors(t *testing.T) {
	out, err := exec.Command(binary(t), "components").CombinedOutput()
	require.NoError(t, err, string(out))
	text := string(out)
	for _, name := range []string{"rust_attributes", "attributes", "batch", "otlp", "debug"} {
		assert.Contains(t, text, "name: "+name)
	}
	// Each Rust processor under its crate and the crate's version
	// (otelcol-rust-builder writes one Go module per crate); the cgo-free
	// build's packages are this module's own (README: Two distributions).
	module := "github.com/otelcol-rust/otelcol-rust/crates/otelcol-rust-processors v0.1.0"
	if os.Getenv("OTELCOL_RUST_NOCGO_BINARY") == binary(t) {
		module = "github.com/otelcol-rust/otelcol-rust/components v0.0.0"
	}
	for _, name := range []string{"rust_attributes", "rust_ratelimit", "rust_redaction"} {
		assert.Contains(t, text, "name: "+name+"\n      module: "+module)
	}
}

// print-config shows a Rust processor's effective settings, as it shows a
// Go processor's: every default written out, names normalized.
func TestPrintConfigShowsRustSettings(t *testing.T) {
	cfg := `
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:0
processors:
  rust_attributes:
    actions:
      - key: env
        value: prod
        action: INSERT
  rust_ratelimit:
    rate: 100
    burst: 10
    retry_delay: 1500ms
exporters:
  debug: {}
service:
  pipelines:
    traces:
      receivers: [otlp]
      processors: [rust_ratelimit, rust_attributes]
      exporters: [debug]
`
	path := filepath.Join(t.TempDir(), "config.yaml")
	require.NoError(t, os.WriteFile(path, []byte(cfg), 0o600))
	out, err := exec.Command(binary(t), "print-config", "--config", path).CombinedOutput()
	require.NoError(t, err, string(out))
	var printed struct {
		Processors map[string]map[string]any `yaml:"processors"`
	}
	require.NoError(t, yaml.Unmarshal(out, &printed), string(out))
	assert.Equal(t, []any{map[string]any{"key": "env", "value": "prod", "action": "insert"}},
		printed.Processors["rust_attributes"]["actions"])
	rl := printed.Processors["rust_ratelimit"]
	assert.Equal(t, 100, rl["rate"])
	assert.Equal(t, "1500ms", rl["retry_delay"])
	// Defaults nobody wrote.
	assert.Equal(t, "requests", rl["strategy"])
	assert.Equal(t, "error", rl["throttle_behavior"])
	assert.Equal(t, 10000, rl["max_buckets"])
	assert.Equal(t, "local", rl["type"])

	if os.Getenv("OTELCOL_RUST_NOCGO_BINARY") == binary(t) {
		// The cgo-free distribution does not fuse neighbours (README,
		// "Two distributions").
		return
	}
	// The two neighbours are fused into a rust_chain, which prints them
	// the same way.
	var chain map[string]any
	for id, p := range printed.Processors {
		if strings.HasPrefix(id, "rust_chain/") {
			chain = p
		}
	}
	require.NotNil(t, chain, string(out))
	stages := chain["stages"].([]any)
	require.Len(t, stages, 2)
	first := stages[0].(map[string]any)
	assert.Equal(t, "rust_ratelimit", first["id"])
	assert.Equal(t, "requests", first["config"].(map[string]any)["strategy"])
}
