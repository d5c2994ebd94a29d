//go:build integration

package integration

import (
	"bytes"
	"context"
	binenc "encoding/binary"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strings"
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
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// Input parity: whatever OTLP the Go path (contrib attributes) accepts
// and exports, each Rust path accepts and exports the same way. One
// collector runs every path side by side, each on its own OTLP receiver
// and with its own file exporters, so a refusal on one path cannot hide
// behind another's answer.

// path is one pipeline per signal behind its own receiver.
type path struct {
	name       string
	processors []string
	grpcAddr   string
	httpAddr   string
}

type parityCollector struct {
	*collector
	paths map[string]*path
}

// startPaths runs one collector with a pipeline per path and signal.
// processors is the processors section's body; every path's exporter
// writes protobuf, so exports compare byte for byte.
func startPaths(t *testing.T, processors string, includeMetadata bool, paths ...*path) *parityCollector {
	t.Helper()
	c := newCollector(t)
	pc := &parityCollector{collector: c, paths: map[string]*path{}}
	meta := ""
	if includeMetadata {
		meta = "\n        include_metadata: true"
	}
	var b strings.Builder
	b.WriteString("receivers:\n")
	for i, p := range paths {
		if i == 0 {
			p.grpcAddr, p.httpAddr = c.grpcAddr, c.httpAddr
		} else {
			p.grpcAddr, p.httpAddr = freePort(t), freePort(t)
		}
		pc.paths[p.name] = p
		fmt.Fprintf(&b, "  otlp/%s:\n    protocols:\n      grpc:\n        endpoint: %s%s\n        max_recv_msg_size_mib: 64\n      http:\n        endpoint: %s%s\n",
			p.name, p.grpcAddr, meta, p.httpAddr, meta)
	}
	b.WriteString("processors:\n" + processors + "\nexporters:\n")
	for _, p := range paths {
		for _, sig := range []string{"traces", "metrics", "logs"} {
			fmt.Fprintf(&b, "  file/%s_%s:\n    path: %s\n    format: proto\n    flush_interval: 20ms\n", p.name, sig, c.path(p.name+"_"+sig))
		}
	}
	b.WriteString("service:\n  telemetry:\n    metrics:\n      level: none\n  pipelines:\n")
	for _, p := range paths {
		for _, sig := range []string{"traces", "metrics", "logs"} {
			fmt.Fprintf(&b, "    %s/%s:\n      receivers: [otlp/%s]\n      processors: [%s]\n      exporters: [file/%s_%s]\n",
				sig, p.name, p.name, strings.Join(p.processors, ", "), p.name, sig)
		}
	}
	c.start(t, binary(t), b.String())
	return pc
}

// messages reads the length-prefixed protobuf messages a file exporter
// wrote so far.
func (c *collector) messages(name string) [][]byte {
	raw, err := os.ReadFile(c.path(name))
	if err != nil {
		return nil
	}
	var out [][]byte
	for len(raw) >= 4 {
		n := int(binenc.BigEndian.Uint32(raw))
		if len(raw) < 4+n {
			break // being written
		}
		out = append(out, raw[4:4+n])
		raw = raw[4+n:]
	}
	return out
}

// payload is one export request in each of the three signals' forms.
type payload struct {
	signal string
	proto  []byte
	json   []byte
}

func tracesPayload(t *testing.T, td ptrace.Traces) payload {
	req := ptraceotlp.NewExportRequestFromTraces(td)
	p, err := req.MarshalProto()
	require.NoError(t, err)
	j, err := req.MarshalJSON()
	require.NoError(t, err)
	return payload{signal: "traces", proto: p, json: j}
}

func metricsPayload(t *testing.T, md pmetric.Metrics) payload {
	req := pmetricotlp.NewExportRequestFromMetrics(md)
	p, err := req.MarshalProto()
	require.NoError(t, err)
	j, err := req.MarshalJSON()
	require.NoError(t, err)
	return payload{signal: "metrics", proto: p, json: j}
}

func logsPayload(t *testing.T, ld plog.Logs) payload {
	req := plogotlp.NewExportRequestFromLogs(ld)
	p, err := req.MarshalProto()
	require.NoError(t, err)
	j, err := req.MarshalJSON()
	require.NoError(t, err)
	return payload{signal: "logs", proto: p, json: j}
}

// answer is what a client got: a gRPC status code or an HTTP status.
type answer struct {
	code    int
	message string
	header  http.Header
}

// sendGRPC sends a payload's protobuf through the OTLP gRPC service, with
// outgoing metadata md (nil for none).
func sendGRPC(t *testing.T, addr string, pl payload, md metadata.MD) answer {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if md != nil {
		ctx = metadata.NewOutgoingContext(ctx, md)
	}
	conn := grpcConn(t, addr)
	var err error
	switch pl.signal {
	case "traces":
		req := ptraceotlp.NewExportRequest()
		require.NoError(t, req.UnmarshalProto(pl.proto))
		_, err = ptraceotlp.NewGRPCClient(conn).Export(ctx, req)
	case "metrics":
		req := pmetricotlp.NewExportRequest()
		require.NoError(t, req.UnmarshalProto(pl.proto))
		_, err = pmetricotlp.NewGRPCClient(conn).Export(ctx, req)
	default:
		req := plogotlp.NewExportRequest()
		require.NoError(t, req.UnmarshalProto(pl.proto))
		_, err = plogotlp.NewGRPCClient(conn).Export(ctx, req)
	}
	st := status.Convert(err)
	return answer{code: int(st.Code()), message: st.Message()}
}

// sendHTTP posts a body to the OTLP/HTTP receiver with extra headers.
func sendHTTP(t *testing.T, addr, signal, contentType string, body []byte, header http.Header) answer {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, "http://"+addr+"/v1/"+signal, bytes.NewReader(body))
	require.NoError(t, err)
	for k, vs := range header {
		req.Header[k] = vs
	}
	req.Header.Set("Content-Type", contentType)
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	msg, _ := io.ReadAll(resp.Body)
	return answer{code: resp.StatusCode, message: string(msg), header: resp.Header}
}

// exports waits until every path wrote want messages for signal and
// returns each path's messages.
func (pc *parityCollector) exports(t *testing.T, signal string, want int) map[string][][]byte {
	t.Helper()
	out := map[string][][]byte{}
	require.Eventually(t, func() bool {
		for name := range pc.paths {
			out[name] = pc.messages(name + "_" + signal)
			if len(out[name]) < want {
				return false
			}
		}
		return true
	}, 30*time.Second, 20*time.Millisecond, "every path exports %d %s messages; collector output:\n%s", want, signal, pc.output.String())
	return out
}

// sameAsGo checks that every path exported exactly what the path named
// "go" exported, message by message. Messages may be written in any order
// across concurrent requests, so both sides are sorted first when sorted
// is true.
func sameAsGo(t *testing.T, exports map[string][][]byte, sorted bool) {
	t.Helper()
	for name, got := range exports {
		// The redaction paths have their own Go reference.
		ref := "go"
		if strings.HasPrefix(name, "redaction") {
			ref = "redaction-go"
		}
		if name == ref {
			continue
		}
		want := exports[ref]
		if sorted {
			want, got = sortedCopy(want), sortedCopy(got)
		}
		require.Len(t, got, len(want), "path %s", name)
		for i := range want {
			if !bytes.Equal(want[i], got[i]) {
				require.Fail(t, "export differs from the Go path's", "path %s, message %d:\n%s: %q\n%s: %q", name, i, ref, want[i], name, got[i])
			}
		}
	}
}

func sortedCopy(in [][]byte) [][]byte {
	out := append([][]byte(nil), in...)
	sort.Slice(out, func(i, j int) bool { return bytes.Compare(out[i], out[j]) < 0 })
	return out
}

// attributesConfig is the same attributes configuration under both
// processor types; it matches, hashes, copies and deletes, so a string
// that is not valid UTF-8 goes through every kind of action. (YAML cannot
// hold bytes that are not UTF-8: the configuration names valid keys whose
// values are not, and patterns that match keys that are not.)
func attributesConfig(typ string) string {
	return fmt.Sprintf(`  %s:
    actions:
      - {key: env, value: prod, action: insert}
      - {key: copied, from_attribute: kx, action: upsert}
      - {key: hashme, action: hash}
      - {pattern: "^secret", action: delete}
      - {pattern: "^h\\.", action: hash}
      - {pattern: "^z\\x{FFFD}$", action: hash}
      - {key: tenant, from_context: metadata.x-tenant, action: insert}
      - {key: tenant.bin, from_context: metadata.x-tenant-bin, action: insert}
`, typ)
}

// redactionConfig masks values both processors see in the parity batches
// (the hashed ones, and "caf" before bytes that are not UTF-8), with the
// debug summary.
func redactionConfig(typ string) string {
	return fmt.Sprintf(`  %s:
    allow_all_keys: true
    blocked_values: ["hash me", "caf"]
    summary: debug
`, typ)
}

// The paths every parity test compares: contrib attributes (the
// reference), rust_attributes alone (the attribute projection),
// rust_ratelimit alone, and both Rust processors fused before contrib
// (the whole batch crosses); and contrib redaction before contrib
// attributes (the reference of the redaction paths) against the Rust
// pair fused (the projection with record fields), with and without
// rust_ratelimit before them.
func parityPaths() (string, []*path) {
	processors := attributesConfig("attributes") + attributesConfig("rust_attributes") +
		redactionConfig("redaction") + redactionConfig("rust_redaction") + `  rust_ratelimit:
    rate: 1000000
    burst: 1000000
    metadata_keys: [x-tenant, x-tenant-bin]
`
	return processors, []*path{
		{name: "go", processors: []string{"attributes"}},
		{name: "rust", processors: []string{"rust_attributes"}},
		{name: "ratelimit", processors: []string{"rust_ratelimit", "attributes"}},
		{name: "chain", processors: []string{"rust_ratelimit", "rust_attributes"}},
		{name: "redaction-go", processors: []string{"redaction", "attributes"}},
		{name: "redaction-rust", processors: []string{"rust_redaction", "rust_attributes"}},
		{name: "redaction-chain", processors: []string{"rust_ratelimit", "rust_redaction", "rust_attributes"}},
	}
}

// invalidUTF8 is a set of strings Go carries as they are but that are not
// valid UTF-8: a lone continuation byte, a truncated sequence, an
// overlong encoding, a surrogate and a byte no UTF-8 has.
var invalidUTF8 = []string{"\x80", "caf\xc3", "\xc0\xaf", "\xed\xa0\x80", "a\xffb"}

func fillInvalid(m pcommon.Map) {
	for i, s := range invalidUTF8 {
		m.PutStr(fmt.Sprintf("v%d", i), s)
		m.PutStr(s, "key-"+fmt.Sprint(i))
	}
	m.PutStr("kx", "copy me \xfe")
	m.PutStr("hashme", "hash me \xfe")
	// Go's regexp reads a byte that is not UTF-8 as U+FFFD.
	m.PutStr("z\xff", "\xfe\xfe")
	m.PutStr("h.x", "\xc3\x28")
	m.PutStr("secret\xff", "gone")
	l := m.PutEmptySlice("list")
	l.AppendEmpty().SetStr("\xf0\x28\x8c\xbc")
	m.PutEmptyMap("map").PutStr("\xfe", "\xff")
}

func invalidUTF8Batches(t *testing.T) []payload {
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	fillInvalid(rs.Resource().Attributes())
	ss := rs.ScopeSpans().AppendEmpty()
	ss.Scope().SetName("scope\xff")
	s := ss.Spans().AppendEmpty()
	s.SetName("span \xff name")
	s.TraceState().FromRaw("k=\xff")
	fillInvalid(s.Attributes())
	fillInvalid(s.Events().AppendEmpty().Attributes())
	s.Status().SetMessage("\xc3")

	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	fillInvalid(rl.Resource().Attributes())
	lr := rl.ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
	lr.Body().SetStr("body \xff")
	lr.SetSeverityText("\xfe")
	fillInvalid(lr.Attributes())

	md := pmetric.NewMetrics()
	rm := md.ResourceMetrics().AppendEmpty()
	fillInvalid(rm.Resource().Attributes())
	m := rm.ScopeMetrics().AppendEmpty().Metrics().AppendEmpty()
	m.SetName("metric\xff")
	m.SetUnit("\xff")
	dp := m.SetEmptyGauge().DataPoints().AppendEmpty()
	dp.SetDoubleValue(1)
	fillInvalid(dp.Attributes())
	return []payload{tracesPayload(t, td), metricsPayload(t, md), logsPayload(t, ld)}
}

// nested sets v to a map nested depth levels deep, alternating maps and
// lists.
func nested(v pcommon.Value, depth int) {
	for i := 0; i < depth; i++ {
		if i%2 == 0 {
			v = v.SetEmptyMap().PutEmpty("k")
		} else {
			v = v.SetEmptySlice().AppendEmpty()
		}
	}
	v.SetStr("leaf")
}

func deepBatches(t *testing.T, depth int) []payload {
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	nested(rs.Resource().Attributes().PutEmpty("deep"), depth)
	s := rs.ScopeSpans().AppendEmpty().Spans().AppendEmpty()
	s.SetName("deep")
	nested(s.Attributes().PutEmpty("deep"), depth)
	s.Attributes().PutStr("h.x", "hash me")

	ld := plog.NewLogs()
	lr := ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
	nested(lr.Body(), depth)
	nested(lr.Attributes().PutEmpty("deep"), depth)

	md := pmetric.NewMetrics()
	m := md.ResourceMetrics().AppendEmpty().ScopeMetrics().AppendEmpty().Metrics().AppendEmpty()
	m.SetName("deep")
	dp := m.SetEmptySum().DataPoints().AppendEmpty()
	dp.SetIntValue(1)
	nested(dp.Attributes().PutEmpty("deep"), depth)
	return []payload{tracesPayload(t, td), metricsPayload(t, md), logsPayload(t, ld)}
}

// sendEverywhere sends each payload to every path over gRPC, HTTP
// protobuf and HTTP JSON, requiring the answer the Go path got, and
// returns the number of messages each path must then have exported per
// signal.
func sendEverywhere(t *testing.T, pc *parityCollector, payloads []payload) map[string]int {
	t.Helper()
	sent := map[string]int{}
	for _, pl := range payloads {
		for _, via := range []string{"grpc", "http/protobuf", "http/json"} {
			answers := map[string]answer{}
			for name, p := range pc.paths {
				switch via {
				case "grpc":
					answers[name] = sendGRPC(t, p.grpcAddr, pl, nil)
				case "http/protobuf":
					answers[name] = sendHTTP(t, p.httpAddr, pl.signal, "application/x-protobuf", pl.proto, nil)
				default:
					answers[name] = sendHTTP(t, p.httpAddr, pl.signal, "application/json", pl.json, nil)
				}
			}
			for name, a := range answers {
				assert.Equal(t, answers["go"].code, a.code, "%s %s through %s: %s (Go path: %s)", pl.signal, via, name, a.message, answers["go"].message)
			}
			if answers["go"].code == 0 || answers["go"].code == http.StatusOK {
				sent[pl.signal]++
			}
		}
	}
	return sent
}

func TestInvalidUTF8IsCarriedAsGoCarriesIt(t *testing.T) {
	processors, paths := parityPaths()
	pc := startPaths(t, processors, false, paths...)
	sent := sendEverywhere(t, pc, invalidUTF8Batches(t))
	for _, signal := range []string{"traces", "metrics", "logs"} {
		require.Equal(t, 3, sent[signal], "the Go path accepts %s that are not valid UTF-8 over every protocol", signal)
		exports := pc.exports(t, signal, sent[signal])
		sameAsGo(t, exports, true)
	}
}

func TestDeepNestingIsCarriedAsGoCarriesIt(t *testing.T) {
	processors, paths := parityPaths()
	pc := startPaths(t, processors, false, paths...)
	var payloads []payload
	for _, depth := range []int{47, 48, 64, 200} {
		payloads = append(payloads, deepBatches(t, depth)...)
	}
	sent := sendEverywhere(t, pc, payloads)
	for _, signal := range []string{"traces", "metrics", "logs"} {
		require.NotZero(t, sent[signal])
		sameAsGo(t, pc.exports(t, signal, sent[signal]), true)
	}
}

// Client metadata that is not valid UTF-8 (an HTTP header's obs-text, a
// gRPC binary header) reaches from_context and the rate limiter's keys as
// bytes.
func TestMetadataThatIsNotUTF8(t *testing.T) {
	processors, paths := parityPaths()
	pc := startPaths(t, processors, true, paths...)
	td := traces("meta")
	pl := tracesPayload(t, td)
	for name, p := range pc.paths {
		a := sendGRPC(t, p.grpcAddr, pl, metadata.Pairs("x-tenant-bin", "\xff\x00\xfe", "x-tenant", "plain"))
		assert.Zero(t, a.code, "gRPC -bin metadata through %s: %s", name, a.message)
		a = sendHTTP(t, p.httpAddr, "traces", "application/x-protobuf", pl.proto, http.Header{"X-Tenant": {"caf\xe9"}})
		assert.Equal(t, http.StatusOK, a.code, "HTTP header not UTF-8 through %s: %s", name, a.message)
	}
	sameAsGo(t, pc.exports(t, "traces", 2), true)
}

// One client's odd span (strings that are not UTF-8, a value nested 200
// deep) batched with another client's thousand ordinary spans: the batch
// processor makes one batch of them before the Rust processor, and every
// span of it is exported, as on the Go path.
func TestOneOddSpanDoesNotCostTheBatch(t *testing.T) {
	processors, _ := parityPaths()
	processors += "  batch:\n    timeout: 200ms\n    send_batch_size: 5000\n"
	pc := startPaths(t, processors, false,
		&path{name: "go", processors: []string{"batch", "attributes"}},
		&path{name: "rust", processors: []string{"batch", "rust_attributes"}},
		&path{name: "chain", processors: []string{"batch", "rust_ratelimit", "rust_attributes"}},
	)
	odd := ptrace.NewTraces()
	rs := odd.ResourceSpans().AppendEmpty()
	fillInvalid(rs.Resource().Attributes())
	s := rs.ScopeSpans().AppendEmpty().Spans().AppendEmpty()
	s.SetName("odd \xff")
	fillInvalid(s.Attributes())
	nested(s.Attributes().PutEmpty("deep"), 200)
	oddPayload := tracesPayload(t, odd)

	good := ptrace.NewTraces()
	spans := good.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty().Spans()
	for i := 0; i < 100; i++ {
		sp := spans.AppendEmpty()
		sp.SetName(fmt.Sprintf("good-%d", i))
		sp.Attributes().PutStr("h.x", "hash me")
	}
	goodPayload := tracesPayload(t, good)

	for name, p := range pc.paths {
		done := make(chan answer, 11)
		go func() { done <- sendGRPC(t, p.grpcAddr, oddPayload, nil) }()
		for i := 0; i < 10; i++ {
			go func() { done <- sendHTTP(t, p.httpAddr, "traces", "application/x-protobuf", goodPayload.proto, nil) }()
		}
		for i := 0; i < 11; i++ {
			a := <-done
			assert.Contains(t, []int{0, http.StatusOK}, a.code, "path %s: %s", name, a.message)
		}
	}
	require.Eventually(t, func() bool {
		for name := range pc.paths {
			if exportedSpans(pc.messages(name+"_traces")) < 1001 {
				return false
			}
		}
		return true
	}, 30*time.Second, 50*time.Millisecond, "every path exports all 1001 spans")
	for name := range pc.paths {
		assert.Equal(t, 1001, exportedSpans(pc.messages(name+"_traces")), "path %s", name)
	}
}

func exportedSpans(msgs [][]byte) int {
	n := 0
	for _, m := range msgs {
		td, err := (&ptrace.ProtoUnmarshaler{}).UnmarshalTraces(m)
		if err == nil {
			n += td.SpanCount()
		}
	}
	return n
}
