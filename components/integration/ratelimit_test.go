//go:build integration

package integration

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// A gateway limiting each tenant: the noisy tenant is throttled with the
// standard retryable status (gRPC 8, HTTP 429), the quiet one is not.
func TestRateLimitTwoTenantsWithRealClients(t *testing.T) {
	c := newCollector(t)
	cfg := c.otlpReceiver(true) + fmt.Sprintf(`processors:
  rust_ratelimit:
    metadata_keys: [x-tenant]
    strategy: requests
    rate: 0.01
    burst: 3
    throttle_behavior: error
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
`)
	c.start(t, binary(t), cfg)
	client := ptraceotlp.NewGRPCClient(grpcConn(t, c.grpcAddr))
	send := func(tenant string) error {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		ctx = metadata.AppendToOutgoingContext(ctx, "x-tenant", tenant)
		_, err := client.Export(ctx, ptraceotlp.NewExportRequestFromTraces(traces("rl")))
		return err
	}
	for i := 0; i < 3; i++ {
		require.NoError(t, send("noisy"), "within the burst")
	}
	err := send("noisy")
	require.Error(t, err)
	assert.Equal(t, codes.ResourceExhausted, status.Code(err), "%v", err)
	assert.Contains(t, status.Convert(err).Message(), "rate limit")
	require.NoError(t, send("quiet"), "the quiet tenant has its own bucket")

	post := func(tenant string) (int, http.Header) {
		body, err := ptraceotlp.NewExportRequestFromTraces(traces("rl-http")).MarshalProto()
		require.NoError(t, err)
		req, err := http.NewRequest(http.MethodPost, "http://"+c.httpAddr+"/v1/traces", bytes.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/x-protobuf")
		req.Header.Set("X-Tenant", tenant)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode, resp.Header
	}
	code, header := post("noisy")
	assert.Equal(t, http.StatusTooManyRequests, code)
	assert.NotEmpty(t, header.Get("Retry-After"), "the retry delay reaches HTTP clients")
	code, _ = post("quiet")
	assert.Equal(t, http.StatusOK, code)
}
