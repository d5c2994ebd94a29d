//go:build integration

package integration

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
)

// The custom collector otelcol-rust-builder builds from
// testdata/example-processor: an out-of-tree processor crate
// (example_tag) beside the Go components its manifest picks.
func exampleBinary(t *testing.T) string {
	return binaryFrom(t, "OTELCOL_RUST_EXAMPLE_BINARY")
}

func TestExampleCollectorListsTheCrateAndItsVersion(t *testing.T) {
	out, err := exec.Command(exampleBinary(t), "components").CombinedOutput()
	require.NoError(t, err, string(out))
	text := string(out)
	assert.Contains(t, text, "name: example_tag\n      module: otelcol-rust.local/otelcol-example/example-tag v0.1.0")
	// Only what its manifest lists: no processor of this repository.
	assert.NotContains(t, text, "rust_attributes")
	assert.Contains(t, text, "name: batch")
}

func TestExampleCollectorValidatesWithFieldPaths(t *testing.T) {
	for _, tc := range []struct{ section, want string }{
		{`key: ""`, "key: must not be empty"},
		{"key: team\n    colour: blue", "unknown field `colour`"},
		{"key: [a, b]", "key: invalid type"},
	} {
		cfg := fmt.Sprintf(`
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:0
processors:
  example_tag/broken:
    %s
exporters:
  debug: {}
service:
  pipelines:
    traces:
      receivers: [otlp]
      processors: [example_tag/broken]
      exporters: [debug]
`, tc.section)
		path := filepath.Join(t.TempDir(), "config.yaml")
		require.NoError(t, os.WriteFile(path, []byte(cfg), 0o600))
		out, err := exec.Command(exampleBinary(t), "validate", "--config", path).CombinedOutput()
		require.Error(t, err, "validate must fail; output:\n%s", out)
		assert.Contains(t, string(out), "example_tag/broken")
		assert.Contains(t, string(out), tc.want)
	}
}

// A real OTLP client sends spans and logs; each record leaves with the
// attribute, and one that had it keeps its own value.
func TestExampleCollectorSetsTheAttribute(t *testing.T) {
	c := newCollector(t)
	cfg := c.otlpReceiver(false) + fmt.Sprintf(`
processors:
  example_tag:
    key: team
    value: payments
exporters:
  file/traces:
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
      processors: [example_tag]
      exporters: [file/traces]
    logs:
      receivers: [otlp]
      processors: [example_tag]
      exporters: [file/logs]
`, c.path("traces"), c.path("logs"))
	c.start(t, exampleBinary(t), cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn := grpcConn(t, c.grpcAddr)

	td := ptrace.NewTraces()
	spans := td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty().Spans()
	spans.AppendEmpty().SetName("plain")
	kept := spans.AppendEmpty()
	kept.SetName("kept")
	kept.Attributes().PutStr("team", "search")
	_, err := ptraceotlp.NewGRPCClient(conn).Export(ctx, ptraceotlp.NewExportRequestFromTraces(td))
	require.NoError(t, err)

	ld := plog.NewLogs()
	ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords().AppendEmpty().Body().SetStr("a log")
	_, err = plogotlp.NewGRPCClient(conn).Export(ctx, plogotlp.NewExportRequestFromLogs(ld))
	require.NoError(t, err)

	span := func(name string) pcommon.Map {
		return waitFor(t, c, "traces", func(line []byte) (pcommon.Map, bool) {
			got, err := (&ptrace.JSONUnmarshaler{}).UnmarshalTraces(line)
			require.NoError(t, err)
			ss := got.ResourceSpans().At(0).ScopeSpans().At(0).Spans()
			for i := 0; i < ss.Len(); i++ {
				if ss.At(i).Name() == name {
					return ss.At(i).Attributes(), true
				}
			}
			return pcommon.Map{}, false
		})
	}
	assert.Equal(t, map[string]any{"team": "payments"}, span("plain").AsRaw())
	assert.Equal(t, map[string]any{"team": "search"}, span("kept").AsRaw())

	lr := waitFor(t, c, "logs", func(line []byte) (pcommon.Map, bool) {
		got, err := (&plog.JSONUnmarshaler{}).UnmarshalLogs(line)
		require.NoError(t, err)
		r := got.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0)
		return r.Attributes(), r.Body().Str() == "a log"
	})
	assert.Equal(t, map[string]any{"team": "payments"}, lr.AsRaw())
}
