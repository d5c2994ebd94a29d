//go:build integration

package integration

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/grpc/metadata"
)

// Client metadata crosses into Rust: a header sent by a real OTLP client,
// kept by otlpreceiver (include_metadata), read by rust_attributes'
// from_context, lands in the exported data.
func TestFromContextWithRealClients(t *testing.T) {
	c := newCollector(t)
	cfg := c.otlpReceiver(true) + fmt.Sprintf(`processors:
  rust_attributes:
    actions:
      - key: tenant
        from_context: metadata.x-tenant
        action: insert
      - key: peer
        from_context: client.address
        action: insert
exporters:
  file/traces:
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
`, filepath.Join(c.dir, "traces.json"))
	c.start(t, binary(t), cfg)

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	ctx = metadata.AppendToOutgoingContext(ctx, "X-Tenant", "acme")
	_, err := ptraceotlp.NewGRPCClient(grpcConn(t, c.grpcAddr)).Export(ctx, ptraceotlp.NewExportRequestFromTraces(traces("grpc")))
	require.NoError(t, err)

	body, err := ptraceotlp.NewExportRequestFromTraces(traces("http")).MarshalProto()
	require.NoError(t, err)
	req, err := http.NewRequest(http.MethodPost, "http://"+c.httpAddr+"/v1/traces", bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-protobuf")
	req.Header.Set("X-Tenant", "beta")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)

	for via, tenant := range map[string]string{"grpc": "acme", "http": "beta"} {
		attrs := waitFor(t, c, "traces", func(line []byte) (pcommon.Map, bool) {
			td, err := (&ptrace.JSONUnmarshaler{}).UnmarshalTraces(line)
			require.NoError(t, err)
			s := td.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0)
			return s.Attributes(), s.Name() == "span-"+via
		}).AsRaw()
		assert.Equal(t, tenant, attrs["tenant"], via)
		assert.Equal(t, "127.0.0.1", attrs["peer"], via)
	}
}
