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
	cfg := c.otlpReceiver(true) + `processors:
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
`
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

// A throttled client always gets a retry hint it can act on: at least one
// second (HTTP's Retry-After counts whole seconds, so a shorter hint would
// read 0), also when the bucket refills so slowly that the exact wait
// does not fit a duration.
func TestThrottledClientsAlwaysGetARetryHint(t *testing.T) {
	for _, rate := range []string{"1", "1e-10"} {
		t.Run("rate "+rate, func(t *testing.T) {
			c := newCollector(t)
			c.start(t, binary(t), c.otlpReceiver(false)+fmt.Sprintf(`processors:
  rust_ratelimit:
    rate: %s
    burst: 1
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
`, rate))
			ctx := context.Background()
			require.Zero(t, sendHeld(t, c, "grpc", ctx).code, "the burst")
			a := sendHeld(t, c, "grpc", ctx)
			assert.Equal(t, int(codes.ResourceExhausted), a.code, a.err)
			assert.GreaterOrEqual(t, a.retry, time.Second, "RetryInfo")
			a = sendHeld(t, c, "http", ctx)
			assert.Equal(t, http.StatusTooManyRequests, a.code)
			assert.GreaterOrEqual(t, a.retry, time.Second, "Retry-After")
		})
	}
}
