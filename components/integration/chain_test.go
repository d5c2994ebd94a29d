//go:build integration

package integration

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
)

// Three Rust processors in a row are fused into one crossing by the
// distribution's converter; the data comes out as the three would have
// made it one after another, and with the feature gate off (three
// crossings) it is the same.
func TestNeighbouringRustProcessorsAreFused(t *testing.T) {
	for _, gate := range []string{"+otelcolrust.fuseProcessors", "-otelcolrust.fuseProcessors"} {
		t.Run(gate, func(t *testing.T) {
			c := newCollector(t)
			c.args = []string{"--feature-gates=" + gate}
			cfg := c.otlpReceiver(false) + fmt.Sprintf(`processors:
  rust_attributes/first:
    actions:
      - {key: env, value: prod, action: insert}
      - {key: secret.token, action: delete}
  rust_attributes/second:
    actions:
      - {key: user.email, action: hash}
      - {key: copied, from_attribute: env, action: insert}
  rust_ratelimit:
    rate: 1000
    burst: 1000
exporters:
  file:
    path: %s
    flush_interval: 50ms
service:
  telemetry:
    metrics:
      level: none
  pipelines:
    traces:
      receivers: [otlp]
      processors: [rust_attributes/first, rust_attributes/second, rust_ratelimit]
      exporters: [file]
`, c.path("traces"))
			c.start(t, binary(t), cfg)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			_, err := ptraceotlp.NewGRPCClient(grpcConn(t, c.grpcAddr)).Export(ctx, ptraceotlp.NewExportRequestFromTraces(traces("grpc")))
			require.NoError(t, err)
			span := waitFor(t, c, "traces", func(line []byte) (pcommon.Map, bool) {
				td, err := (&ptrace.JSONUnmarshaler{}).UnmarshalTraces(line)
				require.NoError(t, err)
				s := td.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0)
				return s.Attributes(), true
			})
			raw := span.AsRaw()
			assert.Equal(t, "prod", raw["env"])
			assert.Equal(t, "prod", raw["copied"], "the second processor sees the first one's change")
			assert.Equal(t, sha256Hex("alice@example.com"), raw["user.email"])
			assert.NotContains(t, raw, "secret.token")
		})
	}
}
