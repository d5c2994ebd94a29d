//go:build integration

package integration

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
)

// The collector's own telemetry shows the Rust side: a Rust warning in the
// collector's log with the component id, the bridge's and the processor's
// metrics on the metrics endpoint, the Rust processor's spans in its own
// traces with the right parents.
func TestRustTelemetryInTheCollectorsOwnTelemetry(t *testing.T) {
	metricsAddr := freePort(t)
	host, port, err := net.SplitHostPort(metricsAddr)
	require.NoError(t, err)
	selfAddr := freePort(t)
	c := newCollector(t)
	cfg := c.otlpReceiver(false) + fmt.Sprintf(`  otlp/self:
    protocols:
      http:
        endpoint: %s
processors:
  test_scripted/loud:
    log_warning: "rust says hello"
  rust_attributes:
    actions:
      - key: env
        value: prod
        action: insert
exporters:
  debug: {}
  file/self:
    path: %s
    flush_interval: 50ms
service:
  telemetry:
    logs:
      level: info
    metrics:
      level: normal
      readers:
        - pull:
            exporter:
              prometheus:
                host: %s
                port: %s
    traces:
      processors:
        - batch:
            schedule_delay: 100
            exporter:
              otlp:
                protocol: http/protobuf
                endpoint: http://%s
  pipelines:
    traces:
      receivers: [otlp]
      processors: [test_scripted/loud, rust_attributes]
      exporters: [debug]
    traces/self:
      receivers: [otlp/self]
      exporters: [file/self]
`, selfAddr, filepath.Join(c.dir, "self.json"), host, port, selfAddr)
	c.start(t, testingBinary(t), cfg)

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for i := 0; i < 3; i++ {
		_, err := ptraceotlp.NewGRPCClient(grpcConn(t, c.grpcAddr)).Export(ctx, ptraceotlp.NewExportRequestFromTraces(traces("telemetry")))
		require.NoError(t, err)
	}

	// Logs: the Rust warning, with the component id the Collector adds.
	require.Eventually(t, func() bool {
		for _, line := range strings.Split(c.output.String(), "\n") {
			if strings.Contains(line, "rust says hello") && strings.Contains(line, "test_scripted/loud") && strings.Contains(line, "warn") {
				return true
			}
		}
		return false
	}, 20*time.Second, 50*time.Millisecond, "no Rust warning in:\n%s", c.output.String())

	// Metrics: scraped from the collector's own endpoint.
	var body string
	require.Eventually(t, func() bool {
		resp, err := http.Get("http://" + metricsAddr + "/metrics")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		body = string(b)
		return strings.Contains(body, "otelcol_rust_processor_requests") &&
			strings.Contains(body, "otelcol_rust_processor_rust_attributes_actions_applied")
	}, 20*time.Second, 100*time.Millisecond, "metrics endpoint:\n%s", body)
	assert.Contains(t, body, `outcome="success"`)
	assert.Contains(t, body, `processor="rust_attributes"`)
	assert.Contains(t, body, "otelcol_rust_processor_duration")

	// Traces: the Rust processors' spans, in the collector's own traces,
	// each a child of the previous component's span.
	var found map[string]ptrace.Span
	require.Eventually(t, func() bool {
		found = map[string]ptrace.Span{}
		for _, line := range c.lines("self") {
			td, err := (&ptrace.JSONUnmarshaler{}).UnmarshalTraces(line)
			if err != nil {
				continue
			}
			for i := 0; i < td.ResourceSpans().Len(); i++ {
				ss := td.ResourceSpans().At(i).ScopeSpans()
				for j := 0; j < ss.Len(); j++ {
					for k := 0; k < ss.At(j).Spans().Len(); k++ {
						s := ss.At(j).Spans().At(k)
						found[s.Name()] = s
					}
				}
			}
		}
		_, a := found["test_scripted/loud"]
		_, b := found["rust_attributes"]
		return a && b
	}, 30*time.Second, 100*time.Millisecond, "self traces: %v", keys(found))
	first, second := found["test_scripted/loud"], found["rust_attributes"]
	assert.Equal(t, first.TraceID(), second.TraceID())
	assert.Equal(t, first.SpanID(), second.ParentSpanID(), "the second Rust processor's span is a child of the first's")
	assert.False(t, first.ParentSpanID().IsEmpty(), "the first Rust processor's span has the receiver's span as parent")
}

func keys(m map[string]ptrace.Span) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
