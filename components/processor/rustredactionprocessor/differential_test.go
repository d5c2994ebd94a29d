package rustredactionprocessor

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/open-telemetry/opentelemetry-collector-contrib/processor/redactionprocessor"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/collector/processor/processortest"

	"github.com/otelcol-rust/otelcol-rust/components/internal/attrtest"
)

// The differential test: contrib's redaction processor is the oracle.
// Random configurations run on random batches (many keys, values that
// match and do not, every value type, nested maps and arrays, log bodies
// of every shape, summary attributes left by an earlier pass) through
// both, and the exports must be the same bytes: the same entries, values,
// order and summary attributes.

var keys = []string{
	"id", "name", "email", "user.email", "credit_card", "token", "api_key_x", "auth.bearer",
	"http.url", "http.route", "http.method", "url.full",
	"client.ip", "safe", "ign_x", "note", "nested", "list", "b,c", "é", "",
	"redaction.masked.keys", "redaction.masked.count", "redaction.redacted.keys",
	"redaction.allowed.count", "redaction.ignored.count",
}

var values = []string{
	"4111111111111111", "card 4111111111111111 and 5500000000000004", "bob@example.com",
	"alice@mycompany.com", "Bearer abc.def-123", "10.0.0.1", "from 192.168.1.20 to 8.8.8.8",
	"plain text", "", "x", "id 12345", "777-7777@example.com", "line1\nline2", "١٢٣ 123",
	"aaaa", "mystery ****", "token=abcdef0123456789",
	"/users/123/profile", "https://shop.example.com/api/cart?item=42", "/api/v1/orders/4f9a2c1e-1111/items",
	"GET /users/xkcdqwrtz?x=1", "user 42 logged in", "/products//org/3", "/é",
	// Not UTF-8: Go carries such strings, and both must match them alike.
	"a\xff 4111111111111111 \xe2\x80", "\xffbob@example.com", "/users/\xff1",
}

var spanNames = []string{
	"GET /users/123", "/api/v1/orders/4f9a2c1e-1111/items", "GET users?id=1", "/123", "checkout",
	"SELECT 1", "", "POST /cart#frag", "/rhythm/xkcdqwrtz",
}

var spanKinds = []ptrace.SpanKind{
	ptrace.SpanKindUnspecified, ptrace.SpanKindInternal, ptrace.SpanKindServer, ptrace.SpanKindClient,
	ptrace.SpanKindProducer, ptrace.SpanKindConsumer,
}

var keyPatterns = []string{"token", "^api_", `\.bearer$`, "^ign_", "secret|password", "^$", `^redaction\.`}

var valuePatterns = []string{
	`4[0-9]{12}(?:[0-9]{3})?`,
	`5[1-5][0-9]{14}`,
	`[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}`,
	`(?i)bearer [a-z0-9._-]+`,
	`\b(?:[0-9]{1,3}\.){3}[0-9]{1,3}\b`,
	`\d{3}-\d{4}`,
	`[0-9]+`,
	`x*`,
	`^$`,
	`\*+`,
	`token=[0-9a-f]+`,
}

var allowPatterns = []string{`@mycompany\.com$`, "^plain", "^$", "x"}

func pick[T any](r *rand.Rand, from []T, n int) []any {
	out := make([]any, 0, n)
	for i := 0; i < n; i++ {
		out = append(out, from[r.IntN(len(from))])
	}
	return out
}

func randomConfig(r *rand.Rand) map[string]any {
	c := map[string]any{}
	if r.IntN(2) == 0 {
		c["allow_all_keys"] = true
	}
	if n := r.IntN(8); n > 0 {
		c["allowed_keys"] = pick(r, keys, n)
	}
	if r.IntN(3) == 0 {
		c["ignored_keys"] = pick(r, keys, 1+r.IntN(2))
	}
	if r.IntN(3) == 0 {
		c["ignored_key_patterns"] = pick(r, keyPatterns, 1)
	}
	if r.IntN(2) == 0 {
		c["blocked_key_patterns"] = pick(r, keyPatterns, 1+r.IntN(2))
	}
	hashed := r.IntN(7)
	if n := r.IntN(5); n > 0 {
		// Distinct patterns, and none matching the empty string when
		// hashing: each would put a digest between every two characters
		// and the next pattern would hash the digits of those, a value
		// growing a hundredfold per pattern in both processors alike.
		var chosen []any
		for _, i := range r.Perm(len(valuePatterns))[:n] {
			if p := valuePatterns[i]; hashed > 4 || (p != "x*" && p != `[0-9]+`) {
				chosen = append(chosen, p)
			}
		}
		c["blocked_values"] = chosen
	}
	if r.IntN(3) == 0 {
		c["allowed_values"] = pick(r, allowPatterns, 1)
	}
	switch hashed {
	case 0:
		c["hash_function"] = "md5"
	case 1:
		c["hash_function"] = "SHA1"
	case 2:
		c["hash_function"] = "sha3"
	case 3:
		c["hash_function"] = "hmac-sha256"
		c["hmac_key"] = strings.Repeat("k", 32)
	case 4:
		c["hash_function"] = "hmac-sha512"
		c["hmac_key"] = strings.Repeat("0123456789abcdef", 4)
	}
	if r.IntN(3) == 0 {
		c["redact_all_types"] = true
	}
	c["summary"] = []string{"", "info", "debug", "debug", "silent", "DEBUG"}[r.IntN(6)]
	if r.IntN(3) == 0 {
		u := map[string]any{"enabled": r.IntN(4) != 0}
		if r.IntN(2) == 0 {
			u["attributes"] = pick(r, keys, 1+r.IntN(3))
		}
		if r.IntN(3) == 0 {
			u["sanitize_span_name"] = r.IntN(2) == 0
		}
		c["url_sanitizer"] = u
	}
	return c
}

func randomValue(r *rand.Rand, v pcommon.Value, depth int) {
	switch r.IntN(12) {
	case 0, 1, 2, 3, 4:
		v.SetStr(values[r.IntN(len(values))])
	case 5:
		v.SetInt([]int64{4111111111111111, 5, -12, 0}[r.IntN(4)])
	case 6:
		v.SetBool(r.IntN(2) == 0)
	case 7:
		v.SetDouble([]float64{1.5, 2.5e-7, 1e21, 100, -0.25}[r.IntN(5)])
	case 8:
		v.SetEmptyBytes().FromRaw([]byte("4111111111111111"[:1+r.IntN(16)]))
	case 9:
		if depth > 2 {
			return
		}
		s := v.SetEmptySlice()
		for i := r.IntN(4); i > 0; i-- {
			randomValue(r, s.AppendEmpty(), depth+1)
		}
	case 10:
		if depth > 2 {
			v.SetStr("leaf")
			return
		}
		m := v.SetEmptyMap()
		for i := r.IntN(4); i > 0; i-- {
			randomValue(r, m.PutEmpty(keys[r.IntN(len(keys))]), depth+1)
		}
	default:
		// Empty.
	}
}

func randomAttributes(r *rand.Rand, m pcommon.Map) {
	for i := r.IntN(9); i > 0; i-- {
		k := keys[r.IntN(len(keys))]
		switch {
		case strings.HasSuffix(k, ".count") && r.IntN(2) == 0:
			m.PutInt(k, int64(r.IntN(5)))
		case strings.HasSuffix(k, ".keys") && r.IntN(2) == 0:
			m.PutStr(k, "old,zz")
		default:
			randomValue(r, m.PutEmpty(k), 0)
		}
	}
}

func randomTraces(r *rand.Rand) ptrace.Traces {
	td := ptrace.NewTraces()
	for i := r.IntN(2); i >= 0; i-- {
		rs := td.ResourceSpans().AppendEmpty()
		randomAttributes(r, rs.Resource().Attributes())
		for j := r.IntN(2); j >= 0; j-- {
			ss := rs.ScopeSpans().AppendEmpty()
			randomAttributes(r, ss.Scope().Attributes())
			for k := r.IntN(4); k >= 0; k-- {
				s := ss.Spans().AppendEmpty()
				s.SetName(spanNames[r.IntN(len(spanNames))])
				s.SetKind(spanKinds[r.IntN(len(spanKinds))])
				randomAttributes(r, s.Attributes())
				for e := r.IntN(3); e > 0; e-- {
					randomAttributes(r, s.Events().AppendEmpty().Attributes())
				}
				if r.IntN(3) == 0 {
					randomAttributes(r, s.Links().AppendEmpty().Attributes())
				}
			}
		}
	}
	return td
}

func randomLogs(r *rand.Rand) plog.Logs {
	ld := plog.NewLogs()
	for i := r.IntN(2); i >= 0; i-- {
		rl := ld.ResourceLogs().AppendEmpty()
		randomAttributes(r, rl.Resource().Attributes())
		sl := rl.ScopeLogs().AppendEmpty()
		randomAttributes(r, sl.Scope().Attributes())
		for k := r.IntN(5); k >= 0; k-- {
			lr := sl.LogRecords().AppendEmpty()
			randomValue(r, lr.Body(), 0)
			randomAttributes(r, lr.Attributes())
			if r.IntN(4) == 0 {
				lr.Attributes().PutStr("redaction.body.masked.keys", "old")
				lr.Attributes().PutInt("redaction.body.masked.count", 2)
			}
		}
	}
	return ld
}

func randomMetrics(r *rand.Rand) pmetric.Metrics {
	md := pmetric.NewMetrics()
	rm := md.ResourceMetrics().AppendEmpty()
	randomAttributes(r, rm.Resource().Attributes())
	sm := rm.ScopeMetrics().AppendEmpty()
	randomAttributes(r, sm.Scope().Attributes())
	for k := r.IntN(6); k >= 0; k-- {
		m := sm.Metrics().AppendEmpty()
		m.SetName(fmt.Sprintf("m%d", k))
		switch r.IntN(5) {
		case 0:
			dp := m.SetEmptyGauge().DataPoints().AppendEmpty()
			dp.SetIntValue(1)
			randomAttributes(r, dp.Attributes())
			randomAttributes(r, dp.Exemplars().AppendEmpty().FilteredAttributes())
		case 1:
			dp := m.SetEmptySum().DataPoints().AppendEmpty()
			randomAttributes(r, dp.Attributes())
		case 2:
			randomAttributes(r, m.SetEmptyHistogram().DataPoints().AppendEmpty().Attributes())
		case 3:
			randomAttributes(r, m.SetEmptyExponentialHistogram().DataPoints().AppendEmpty().Attributes())
		default:
			randomAttributes(r, m.SetEmptySummary().DataPoints().AppendEmpty().Attributes())
		}
	}
	return md
}

// accepts reports whether f takes the configuration: it unmarshals,
// validates and creates a processor (contrib compiles patterns only then).
func accepts(f processor.Factory, raw map[string]any) (component.Config, error) {
	cfg := f.CreateDefaultConfig()
	if err := confmap.NewFromStringMap(raw).Unmarshal(cfg); err != nil {
		return nil, err
	}
	if err := confmap.Validate(cfg); err != nil {
		return nil, err
	}
	p, err := f.CreateTraces(context.Background(), processortest.NewNopSettings(f.Type()), cfg, consumertest.NewNop())
	if err != nil {
		return nil, err
	}
	return cfg, p.Shutdown(context.Background())
}

func TestSameExportsAsContribRedaction(t *testing.T) {
	contrib, rust := redactionprocessor.NewFactory(), NewFactory()
	r := rand.New(rand.NewPCG(7, 11))
	ctx := context.Background()
	// Batches contrib changed: the comparison must not be of untouched data.
	changed := 0
	defer func() {
		t.Logf("contrib changed %d of 1800 batches", changed)
		require.Greater(t, changed, 600, "most batches are redacted")
	}()
	var tm ptrace.ProtoMarshaler
	var lm plog.ProtoMarshaler
	var mm pmetric.ProtoMarshaler
	for i := 0; i < 200; i++ {
		raw := randomConfig(r)
		cc, cerr := accepts(contrib, raw)
		rc, rerr := accepts(rust, raw)
		require.NoError(t, cerr, "contrib refused %v", raw)
		require.NoError(t, rerr, "rust_redaction refused %v", raw)
		var cs, rs struct {
			t consumertest.TracesSink
			l consumertest.LogsSink
			m consumertest.MetricsSink
		}
		ct := attrtest.Started[processor.Traces](t)(contrib.CreateTraces(ctx, processortest.NewNopSettings(contrib.Type()), cc, &cs.t))
		rt := attrtest.Started[processor.Traces](t)(rust.CreateTraces(ctx, processortest.NewNopSettings(rust.Type()), rc, &rs.t))
		cl := attrtest.Started[processor.Logs](t)(contrib.CreateLogs(ctx, processortest.NewNopSettings(contrib.Type()), cc, &cs.l))
		rl := attrtest.Started[processor.Logs](t)(rust.CreateLogs(ctx, processortest.NewNopSettings(rust.Type()), rc, &rs.l))
		cm := attrtest.Started[processor.Metrics](t)(contrib.CreateMetrics(ctx, processortest.NewNopSettings(contrib.Type()), cc, &cs.m))
		rm := attrtest.Started[processor.Metrics](t)(rust.CreateMetrics(ctx, processortest.NewNopSettings(rust.Type()), rc, &rs.m))
		for j := 0; j < 3; j++ {
			td := randomTraces(r)
			in := ptrace.NewTraces()
			td.CopyTo(in)
			before, _ := tm.MarshalTraces(td)
			require.NoError(t, ct.ConsumeTraces(ctx, td))
			require.NoError(t, rt.ConsumeTraces(ctx, in))
			if after, _ := tm.MarshalTraces(td); string(after) != string(before) {
				changed++
			}
			ld := randomLogs(r)
			lin := plog.NewLogs()
			ld.CopyTo(lin)
			before, _ = lm.MarshalLogs(ld)
			require.NoError(t, cl.ConsumeLogs(ctx, ld))
			require.NoError(t, rl.ConsumeLogs(ctx, lin))
			if after, _ := lm.MarshalLogs(ld); string(after) != string(before) {
				changed++
			}
			md := randomMetrics(r)
			min := pmetric.NewMetrics()
			md.CopyTo(min)
			before, _ = mm.MarshalMetrics(md)
			require.NoError(t, cm.ConsumeMetrics(ctx, md))
			require.NoError(t, rm.ConsumeMetrics(ctx, min))
			if after, _ := mm.MarshalMetrics(md); string(after) != string(before) {
				changed++
			}
		}
		attrtest.RequireSameTraces(t, cs.t.AllTraces(), rs.t.AllTraces(), raw)
		attrtest.RequireSameLogs(t, cs.l.AllLogs(), rs.l.AllLogs(), raw)
		attrtest.RequireSameMetrics(t, cs.m.AllMetrics(), rs.m.AllMetrics(), raw)
	}
}

// Configurations contrib refuses are refused, and those it accepts but
// this processor does not support are refused with the field's path.
func TestConfigurationsAsContrib(t *testing.T) {
	contrib, rust := redactionprocessor.NewFactory(), NewFactory()
	for _, tc := range []struct {
		raw      map[string]any
		contrib  bool   // contrib accepts it
		rustPath string // the path in rust_redaction's error, "" when accepted
	}{
		{map[string]any{"hash_function": "MD5"}, true, ""},
		{map[string]any{"hash_function": "Sha256"}, false, "hash_function"},
		{map[string]any{"hash_function": "hmac-sha256"}, false, "hmac_key"},
		{map[string]any{"hash_function": "hmac-sha512", "hmac_key": "short"}, false, "hmac_key"},
		{map[string]any{"hash_function": "HMAC-SHA256", "hmac_key": strings.Repeat("k", 32)}, true, ""},
		{map[string]any{"blocked_values": []any{"("}}, false, "blocked_values[0]"},
		{map[string]any{"blocked_values": []any{"("}, "ignored_key_patterns": []any{"["}}, false, "ignored_key_patterns[0]"},
		{map[string]any{"allowed_values": []any{"ok", "a{2,1}"}}, false, "allowed_values[1]"},
		{map[string]any{"blocked_key_patterns": []any{"(?<name>x)"}}, true, ""},
		{map[string]any{"blocked_values": []any{`\d{3}`, `(?i)bearer\s+\S+`, `\bfoo\b`}}, true, ""},
		{map[string]any{"blocked_values": []any{`\Qa.b\E`, "a{", "x{,3}"}}, true, ""},
		{map[string]any{"summary": "verbose"}, true, ""},
		{map[string]any{"unknown_field": 1}, false, "unknown_field"},
		{map[string]any{"db_sanitizer": map[string]any{"allow_fallback_without_system": true}}, false, "allow_fallback_without_system"},
		{map[string]any{"url_sanitizer": map[string]any{"enabled": false, "attributes": []any{"http.url"}}}, true, ""},
		{map[string]any{"url_sanitizer": map[string]any{"enabled": true}}, true, ""},
		{map[string]any{"db_sanitizer": map[string]any{"redis": map[string]any{"enabled": true}}}, true, "db_sanitizer.redis.enabled"},
		{map[string]any{"db_sanitizer": map[string]any{"sql": map[string]any{"attributes": []any{"db.statement"}}, "sanitize_span_name": false}}, true, ""},
	} {
		_, cerr := accepts(contrib, tc.raw)
		require.Equal(t, tc.contrib, cerr == nil, "contrib on %v: %v", tc.raw, cerr)
		_, rerr := accepts(rust, tc.raw)
		if tc.rustPath == "" {
			require.NoError(t, rerr, "%v", tc.raw)
			continue
		}
		require.Error(t, rerr, "%v", tc.raw)
		require.Contains(t, rerr.Error(), tc.rustPath, "%v", tc.raw)
	}
}
