//go:build integration

package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/pmetric/pmetricotlp"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
)

// The same section configures contrib's redaction processor and
// rust_redaction.
const redactionSection = `
    allowed_keys: [id, name, email, user.email, credit_card, client.ip, nested, list, deep, token_x, http.url, redaction.body.masked.keys]
    ignored_keys: [safe]
    ignored_key_patterns: ["^ign_"]
    blocked_key_patterns: ["token", "^api_"]
    blocked_values:
      - "4[0-9]{12}(?:[0-9]{3})?"
      - "[a-zA-Z0-9._%+-]+@[a-zA-Z0-9.-]+\\.[a-zA-Z]{2,}"
      - "(?i)bearer\\s+[a-z0-9._-]+"
      - "\\b(?:[0-9]{1,3}\\.){3}[0-9]{1,3}\\b"
    allowed_values: ["@mycompany\\.com$"]
    hash_function: sha1
    url_sanitizer:
      enabled: true
      attributes: [http.url]
    summary: debug`

func sensitiveAttrs(m pcommon.Map, via string) {
	m.PutStr("via", via)
	m.PutStr("id", "user 4111111111111111")
	m.PutStr("name", "Bearer abc.def and 10.0.0.1")
	m.PutStr("email", "bob@example.com")
	m.PutStr("user.email", "alice@mycompany.com")
	m.PutInt("credit_card", 4111111111111111)
	m.PutStr("token_x", "secret")
	m.PutStr("api_key", "k")
	m.PutStr("safe", "4111111111111111")
	m.PutStr("ign_note", "bob@example.com")
	nested := m.PutEmptyMap("nested")
	nested.PutStr("email", "carol@example.com")
	nested.PutInt("n", 1)
	m.PutEmptySlice("list").AppendEmpty().SetStr("10.1.2.3")
	m.PutStr("http.url", "https://shop.example.com/users/12345/cart?item=42")
	m.PutStr("redaction.masked.keys", "earlier")
	m.PutInt("redaction.masked.count", 3)
}

func sensitiveBody(v pcommon.Value) {
	body := v.SetEmptyMap()
	body.PutStr("id", "card 4111111111111111")
	body.PutStr("dropped", "x")
	body.PutStr("token_y", "secret")
	deep := body.PutEmptyMap("nested").PutEmptyMap("deep")
	deep.PutStr("email", "dave@example.com")
	deep.PutStr("other", "y")
	list := body.PutEmptySlice("list")
	list.AppendEmpty().SetInt(4111111111111111)
	list.AppendEmpty().SetEmptyMap().PutStr("name", "eve@mycompany.com")
}

// Contrib's redaction processor and rust_redaction in two pipelines of the
// built collector, fed by the same receiver from real OTLP clients over
// gRPC and HTTP: the exports of every signal are the same.
func TestRedactionSameAsContribWithRealClients(t *testing.T) {
	c := newCollector(t)
	cfg := c.otlpReceiver(false) + fmt.Sprintf(`processors:
  redaction:%s
  rust_redaction:%s
exporters:
`, redactionSection, redactionSection)
	pipelines := ""
	for _, signal := range []string{"traces", "metrics", "logs"} {
		for _, impl := range []string{"redaction", "rust_redaction"} {
			cfg += fmt.Sprintf("  file/%s_%s:\n    path: %s\n    flush_interval: 50ms\n", impl, signal, c.path(impl+"_"+signal))
			pipelines += fmt.Sprintf("    %s/%s:\n      receivers: [otlp]\n      processors: [%s]\n      exporters: [file/%s_%s]\n", signal, impl, impl, impl, signal)
		}
	}
	cfg += "service:\n  telemetry:\n    metrics:\n      level: none\n  pipelines:\n" + pipelines
	c.start(t, binary(t), cfg)

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn := grpcConn(t, c.grpcAddr)
	for _, via := range []string{"grpc", "http"} {
		td := ptrace.NewTraces()
		rs := td.ResourceSpans().AppendEmpty()
		sensitiveAttrs(rs.Resource().Attributes(), via)
		ss := rs.ScopeSpans().AppendEmpty()
		sensitiveAttrs(ss.Scope().Attributes(), via)
		for i := 0; i < 3; i++ {
			s := ss.Spans().AppendEmpty()
			s.SetName(fmt.Sprintf("GET /users/%d", i))
			s.SetKind(ptrace.SpanKind(i + 1))
			sensitiveAttrs(s.Attributes(), via)
			sensitiveAttrs(s.Events().AppendEmpty().Attributes(), via)
			sensitiveAttrs(s.Links().AppendEmpty().Attributes(), via)
		}
		md := pmetric.NewMetrics()
		rm := md.ResourceMetrics().AppendEmpty()
		sensitiveAttrs(rm.Resource().Attributes(), via)
		ms := rm.ScopeMetrics().AppendEmpty().Metrics()
		sum := ms.AppendEmpty()
		sum.SetName("sum")
		sensitiveAttrs(sum.SetEmptySum().DataPoints().AppendEmpty().Attributes(), via)
		h := ms.AppendEmpty()
		h.SetName("histogram")
		sensitiveAttrs(h.SetEmptyHistogram().DataPoints().AppendEmpty().Attributes(), via)
		ld := plog.NewLogs()
		rl := ld.ResourceLogs().AppendEmpty()
		sensitiveAttrs(rl.Resource().Attributes(), via)
		records := rl.ScopeLogs().AppendEmpty().LogRecords()
		lr := records.AppendEmpty()
		sensitiveBody(lr.Body())
		sensitiveAttrs(lr.Attributes(), via)
		lr.Attributes().PutStr("redaction.body.masked.keys", "old")
		records.AppendEmpty().Body().SetStr("login from 192.168.0.7 by frank@example.com")
		records.AppendEmpty().Body().SetInt(4111111111111111)

		if via == "grpc" {
			_, err := ptraceotlp.NewGRPCClient(conn).Export(ctx, ptraceotlp.NewExportRequestFromTraces(td))
			require.NoError(t, err)
			_, err = pmetricotlp.NewGRPCClient(conn).Export(ctx, pmetricotlp.NewExportRequestFromMetrics(md))
			require.NoError(t, err)
			_, err = plogotlp.NewGRPCClient(conn).Export(ctx, plogotlp.NewExportRequestFromLogs(ld))
			require.NoError(t, err)
			continue
		}
		body, err := ptraceotlp.NewExportRequestFromTraces(td).MarshalProto()
		require.NoError(t, err)
		postProto(t, "http://"+c.httpAddr+"/v1/traces", body)
		body, err = pmetricotlp.NewExportRequestFromMetrics(md).MarshalProto()
		require.NoError(t, err)
		postProto(t, "http://"+c.httpAddr+"/v1/metrics", body)
		body, err = plogotlp.NewExportRequestFromLogs(ld).MarshalProto()
		require.NoError(t, err)
		postProto(t, "http://"+c.httpAddr+"/v1/logs", body)
	}

	for _, signal := range []string{"traces", "metrics", "logs"} {
		t.Run(signal, func(t *testing.T) {
			var contrib, rust [][]byte
			require.Eventually(t, func() bool {
				contrib, rust = c.lines("redaction_"+signal), c.lines("rust_redaction_"+signal)
				// Lines are complete once they parse (the exporter may be
				// writing the last one).
				return len(contrib) == 2 && len(rust) == 2 &&
					json.Valid(contrib[1]) && json.Valid(rust[1])
			}, 30*time.Second, 50*time.Millisecond, "exports of %s; collector output:\n%s", signal, c.output.String())
			for i := range contrib {
				require.JSONEq(t, string(contrib[i]), string(rust[i]), "%s batch %d", signal, i)
				require.Equal(t, string(contrib[i]), string(rust[i]), "%s batch %d, byte for byte", signal, i)
			}
			require.Contains(t, string(rust[0]), "redaction.masked.count", "the summary is there")
			if signal == "traces" {
				require.Contains(t, string(rust[0]), `"name":"GET /users/*"`, "server and client span names are sanitized")
				require.Contains(t, string(rust[0]), `"name":"GET /users/0"`, "internal ones are not")
			}
		})
	}
}
