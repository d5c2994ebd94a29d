// Package attrtest makes the random batches and attributes-processor
// configurations of the differential tests, which hold rust_attributes
// (alone and fused in a chain) to contrib's attributes processor: the same
// inputs through both must export the same bytes.
package attrtest

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/client"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/collector/processor/processortest"
	"google.golang.org/protobuf/encoding/protowire"
)

// keys are the attribute keys of random batches: the empty key, keys that
// are not valid UTF-8 (Go's regexp reads each bad byte as U+FFFD), keys the
// patterns below match.
var keys = []string{"http.method", "user.email", "env", "", "a", "b.c", "internal.x", "internal.y", "n", "k\xff", "\xc3"}

// configKeys are the keys a configuration names: YAML cannot hold bytes
// that are not UTF-8 (and Go's JSON encoding would replace them), so only
// valid ones; patterns reach the others.
var configKeys = []string{"http.method", "user.email", "env", "", "a", "b.c", "internal.x", "internal.y", "n"}

var patterns = []string{`^internal\..*`, `^[ab]`, `\.`, `^$`, `n`, `^user\.(email|id)$`, `\x{FFFD}`, `^k.$`}

// strs are string values: empty, not ASCII, not valid UTF-8.
var strs = []string{"GET", "x@example.com", "", "v", "ünï", "caf\xc3", "\xff\xfe"}

// doubles include what only a float can be: NaN, the infinities, -0.
var doubles = []float64{0.5, -1, 3.25, 0, math.NaN(), math.Inf(1), math.Inf(-1), math.Copysign(0, -1)}

func randomValue(r *rand.Rand, v pcommon.Value, depth int) {
	switch r.IntN(11) {
	case 0, 1, 2:
		v.SetStr(strs[r.IntN(len(strs))])
	case 3:
		v.SetInt([]int64{r.Int64N(2000) - 1000, math.MinInt64, math.MaxInt64}[r.IntN(3)])
	case 4:
		v.SetBool(r.IntN(2) == 0)
	case 5:
		v.SetDouble(doubles[r.IntN(len(doubles))])
	case 6:
		b := v.SetEmptyBytes()
		for i := r.IntN(3); i > 0; i-- {
			b.Append(byte(r.IntN(256)))
		}
	case 7:
		if depth > 1 {
			v.SetStr("leaf")
			return
		}
		s := v.SetEmptySlice()
		for i := r.IntN(3); i > 0; i-- {
			randomValue(r, s.AppendEmpty(), depth+1)
		}
	case 8:
		// Now and then far deeper than prost's decoder would go.
		deep(v, 1+r.IntN(3)*40)
	case 9:
		// An empty value: no type at all.
	default:
		if depth > 1 {
			return
		}
		m := v.SetEmptyMap()
		for i := r.IntN(3); i > 0; i-- {
			randomValue(r, m.PutEmpty(keys[r.IntN(len(keys))]), depth+1)
		}
	}
}

// deep nests maps and lists depth levels deep.
func deep(v pcommon.Value, depth int) {
	for i := 0; i < depth; i++ {
		if i%2 == 0 {
			v = v.SetEmptyMap().PutEmpty("d")
		} else {
			v = v.SetEmptySlice().AppendEmpty()
		}
	}
	v.SetStr("bottom")
}

func randomAttributes(r *rand.Rand, m pcommon.Map) {
	for i := r.IntN(7); i > 0; i-- {
		randomValue(r, m.PutEmpty(keys[r.IntN(len(keys))]), 0)
	}
}

// RandomTraces is a small batch with random attributes on resources,
// scopes, spans and span events.
func RandomTraces(r *rand.Rand) ptrace.Traces {
	td := ptrace.NewTraces()
	for i := r.IntN(3); i >= 0; i-- {
		rs := td.ResourceSpans().AppendEmpty()
		randomAttributes(r, rs.Resource().Attributes())
		for j := r.IntN(2); j >= 0; j-- {
			ss := rs.ScopeSpans().AppendEmpty()
			randomAttributes(r, ss.Scope().Attributes())
			for k := r.IntN(4); k >= 0; k-- {
				s := ss.Spans().AppendEmpty()
				s.SetName(fmt.Sprintf("span-%d", k))
				randomAttributes(r, s.Attributes())
				if r.IntN(3) == 0 {
					randomAttributes(r, s.Events().AppendEmpty().Attributes())
				}
			}
		}
	}
	return td
}

// RandomLogs is a small batch of log records with random attributes.
func RandomLogs(r *rand.Rand) plog.Logs {
	ld := plog.NewLogs()
	for i := r.IntN(2); i >= 0; i-- {
		rl := ld.ResourceLogs().AppendEmpty()
		randomAttributes(r, rl.Resource().Attributes())
		sl := rl.ScopeLogs().AppendEmpty()
		for k := r.IntN(4); k >= 0; k-- {
			lr := sl.LogRecords().AppendEmpty()
			lr.Body().SetStr("body")
			randomAttributes(r, lr.Attributes())
		}
	}
	return ld
}

// RandomMetrics is a small batch with metrics of all five types and
// random data point attributes.
func RandomMetrics(r *rand.Rand) pmetric.Metrics {
	md := pmetric.NewMetrics()
	rm := md.ResourceMetrics().AppendEmpty()
	randomAttributes(r, rm.Resource().Attributes())
	sm := rm.ScopeMetrics().AppendEmpty()
	for k := r.IntN(6); k >= 0; k-- {
		m := sm.Metrics().AppendEmpty()
		m.SetName(fmt.Sprintf("m%d", k))
		for p := r.IntN(2); p >= 0; p-- {
			switch r.IntN(5) {
			case 0:
				dp := m.SetEmptyGauge().DataPoints().AppendEmpty()
				dp.SetIntValue(1)
				randomAttributes(r, dp.Attributes())
			case 1:
				dp := m.SetEmptySum().DataPoints().AppendEmpty()
				dp.SetDoubleValue(doubles[r.IntN(len(doubles))])
				randomAttributes(r, dp.Attributes())
			case 2:
				dp := m.SetEmptyHistogram().DataPoints().AppendEmpty()
				randomAttributes(r, dp.Attributes())
			case 3:
				dp := m.SetEmptyExponentialHistogram().DataPoints().AppendEmpty()
				randomAttributes(r, dp.Attributes())
			default:
				dp := m.SetEmptySummary().DataPoints().AppendEmpty()
				randomAttributes(r, dp.Attributes())
			}
		}
	}
	return md
}

// RandomActions is a configuration both processors accept.
func RandomActions(r *rand.Rand) map[string]any {
	var actions []any
	for i := r.IntN(5) + 1; i > 0; i-- {
		key := configKeys[r.IntN(len(configKeys))]
		switch kind := []string{"insert", "update", "upsert", "delete", "hash"}[r.IntN(5)]; kind {
		case "insert", "update", "upsert":
			a := map[string]any{"action": kind, "key": key}
			if key == "" {
				a["key"] = "k"
			}
			switch r.IntN(7) {
			case 0:
				a["value"] = r.IntN(100)
			case 1:
				a["value"] = r.IntN(2) == 0
			case 2:
				a["value"] = 1.5
			case 6:
				a["value"] = []float64{math.NaN(), math.Inf(1), math.Inf(-1)}[r.IntN(3)]
			case 3:
				a["from_attribute"] = configKeys[r.IntN(len(configKeys))]
			case 4:
				a["from_context"] = []string{"metadata.tenant", "tenant", "client.address", "metadata.missing"}[r.IntN(4)]
			default:
				a["value"] = "production"
			}
			actions = append(actions, a)
		default:
			a := map[string]any{"action": kind}
			switch r.IntN(3) {
			case 0:
				a["pattern"] = patterns[r.IntN(len(patterns))]
			case 1:
				a["pattern"] = patterns[r.IntN(len(patterns))]
				a["key"] = key
			default:
				if key == "" {
					key = "a"
				}
				a["key"] = key
			}
			actions = append(actions, a)
		}
	}
	return map[string]any{"actions": actions}
}

// RequestContext carries what from_context reads, the same for both.
func RequestContext() context.Context {
	return client.NewContext(context.Background(), client.Info{
		Metadata: client.NewMetadata(map[string][]string{"tenant": {"acme", "beta"}}),
	})
}

// RequireSameTraces fails t unless got are want, byte for byte once
// marshalled; on a difference it shows both as JSON.
func RequireSameTraces(t *testing.T, want, got []ptrace.Traces, cfg map[string]any) {
	t.Helper()
	var m ptrace.ProtoMarshaler
	var j ptrace.JSONMarshaler
	requireSame(t, want, got, m.MarshalTraces, j.MarshalTraces, cfg)
}

// RequireSameLogs is RequireSameTraces for logs.
func RequireSameLogs(t *testing.T, want, got []plog.Logs, cfg map[string]any) {
	t.Helper()
	var m plog.ProtoMarshaler
	var j plog.JSONMarshaler
	requireSame(t, want, got, m.MarshalLogs, j.MarshalLogs, cfg)
}

// RequireSameMetrics is RequireSameTraces for metrics.
func RequireSameMetrics(t *testing.T, want, got []pmetric.Metrics, cfg map[string]any) {
	t.Helper()
	var m pmetric.ProtoMarshaler
	var j pmetric.JSONMarshaler
	requireSame(t, want, got, m.MarshalMetrics, j.MarshalMetrics, cfg)
}

func requireSame[T any](t *testing.T, want, got []T, proto, json func(T) ([]byte, error), cfg map[string]any) {
	t.Helper()
	require.Len(t, got, len(want))
	for i := range want {
		w, err := proto(want[i])
		require.NoError(t, err)
		g, err := proto(got[i])
		require.NoError(t, err)
		if string(w) != string(g) {
			wj, _ := json(want[i])
			gj, _ := json(got[i])
			require.Equal(t, string(wj), string(gj), "config %v", cfg)
			require.Fail(t, "same JSON, different bytes", "config %v", cfg)
		}
	}
}

// Accepts reports whether f takes the configuration: it unmarshals,
// validates and creates a processor (contrib checks actions only when it
// creates one).
func Accepts(t *testing.T, f processor.Factory, raw map[string]any) (component.Config, error) {
	cfg := f.CreateDefaultConfig()
	require.NoError(t, confmap.NewFromStringMap(raw).Unmarshal(cfg))
	if err := confmap.Validate(cfg); err != nil {
		return nil, err
	}
	p, err := f.CreateTraces(context.Background(), processortest.NewNopSettings(f.Type()), cfg, consumertest.NewNop())
	if err != nil {
		return nil, err
	}
	require.NoError(t, p.Shutdown(context.Background()))
	return cfg, nil
}

// Started returns a function that starts what a factory created and
// shuts it down when the test ends.
func Started[T component.Component](t *testing.T) func(T, error) T {
	return func(p T, err error) T {
		require.NoError(t, err)
		require.NoError(t, p.Start(context.Background(), componenttest.NewNopHost()))
		t.Cleanup(func() { require.NoError(t, p.Shutdown(context.Background())) })
		return p
	}
}

// Batches whose maps hold one key more than once. pdata's API never makes
// them (Put replaces), but an OTLP client can send them and pdata keeps
// them as they came; contrib then acts on the first entry of a key
// (insert, update, hash, delete by key) or on all (delete by pattern).
// They are written here as protobuf and unmarshalled.

// anyValue encodes a random AnyValue.
func anyValue(r *rand.Rand, depth int) []byte {
	var b []byte
	switch r.IntN(8) {
	case 0, 1:
		b = protowire.AppendTag(b, 1, protowire.BytesType)
		b = protowire.AppendString(b, strs[r.IntN(len(strs))])
	case 2:
		b = protowire.AppendTag(b, 2, protowire.VarintType)
		b = protowire.AppendVarint(b, uint64(r.IntN(2)))
	case 3:
		b = protowire.AppendTag(b, 3, protowire.VarintType)
		b = protowire.AppendVarint(b, uint64(r.Int64N(100)-50))
	case 4:
		b = protowire.AppendTag(b, 4, protowire.Fixed64Type)
		b = protowire.AppendFixed64(b, math.Float64bits(doubles[r.IntN(len(doubles))]))
	case 5:
		b = protowire.AppendTag(b, 7, protowire.BytesType)
		b = protowire.AppendBytes(b, []byte{byte(r.IntN(256))})
	case 6:
		if depth < 2 {
			var kvs []byte
			for i := r.IntN(3); i > 0; i-- {
				kvs = protowire.AppendTag(kvs, 1, protowire.BytesType)
				kvs = protowire.AppendBytes(kvs, keyValue(r, depth+1))
			}
			b = protowire.AppendTag(b, 6, protowire.BytesType)
			b = protowire.AppendBytes(b, kvs)
		}
	}
	return b
}

// dupKeys are few, so that random entries repeat them.
var dupKeys = []string{"a", "n", "env", "internal.x", "", "k\xff"}

func keyValue(r *rand.Rand, depth int) []byte {
	var b []byte
	b = protowire.AppendTag(b, 1, protowire.BytesType)
	b = protowire.AppendString(b, dupKeys[r.IntN(len(dupKeys))])
	b = protowire.AppendTag(b, 2, protowire.BytesType)
	return protowire.AppendBytes(b, anyValue(r, depth))
}

// attributesField appends 2 to 8 entries, keys likely repeated, as
// repeated field num.
func attributesField(r *rand.Rand, b []byte, num protowire.Number) []byte {
	for i := 2 + r.IntN(7); i > 0; i-- {
		b = protowire.AppendTag(b, num, protowire.BytesType)
		b = protowire.AppendBytes(b, keyValue(r, 0))
	}
	return b
}

// nest wraps msg in the given field numbers, innermost last.
func nest(msg []byte, fields ...protowire.Number) []byte {
	for i := len(fields) - 1; i >= 0; i-- {
		var b []byte
		b = protowire.AppendTag(b, fields[i], protowire.BytesType)
		msg = protowire.AppendBytes(b, msg)
	}
	return msg
}

// resource is a Resource message with repeated keys.
func resource(r *rand.Rand) []byte {
	var res []byte
	res = protowire.AppendTag(res, 1, protowire.BytesType)
	return protowire.AppendBytes(res, attributesField(r, nil, 1))
}

// DuplicateKeyTraces is a batch whose resource and span attributes repeat
// keys.
func DuplicateKeyTraces(t *testing.T, r *rand.Rand) ptrace.Traces {
	span := []byte{}
	span = protowire.AppendTag(span, 1, protowire.BytesType)
	span = protowire.AppendBytes(span, make([]byte, 16))
	span = protowire.AppendTag(span, 2, protowire.BytesType)
	span = protowire.AppendBytes(span, make([]byte, 8))
	span = protowire.AppendTag(span, 5, protowire.BytesType)
	span = protowire.AppendString(span, "dup")
	span = attributesField(r, span, 9)
	rs := append(resource(r), nest(span, 2, 2)...) // ResourceSpans.scope_spans.spans
	td, err := (&ptrace.ProtoUnmarshaler{}).UnmarshalTraces(nest(rs, 1))
	require.NoError(t, err)
	return td
}

// DuplicateKeyLogs is DuplicateKeyTraces for log records.
func DuplicateKeyLogs(t *testing.T, r *rand.Rand) plog.Logs {
	rec := attributesField(r, nil, 6)
	rl := append(resource(r), nest(rec, 2, 2)...)
	ld, err := (&plog.ProtoUnmarshaler{}).UnmarshalLogs(nest(rl, 1))
	require.NoError(t, err)
	return ld
}

// DuplicateKeyMetrics is DuplicateKeyTraces for a gauge's data point.
func DuplicateKeyMetrics(t *testing.T, r *rand.Rand) pmetric.Metrics {
	dp := attributesField(r, nil, 7)
	dp = protowire.AppendTag(dp, 6, protowire.Fixed64Type) // as_int
	dp = protowire.AppendFixed64(dp, 1)
	var metric []byte
	metric = protowire.AppendTag(metric, 1, protowire.BytesType)
	metric = protowire.AppendString(metric, "dup")
	metric = append(metric, nest(dp, 5, 1)...) // Metric.gauge.data_points
	rm := append(resource(r), nest(metric, 2, 2)...)
	md, err := (&pmetric.ProtoUnmarshaler{}).UnmarshalMetrics(nest(rm, 1))
	require.NoError(t, err)
	return md
}

// CopyTraces copies td through its protobuf encoding, which keeps
// repeated keys (CopyTo need not).
func CopyTraces(t *testing.T, td ptrace.Traces) ptrace.Traces {
	b, err := (&ptrace.ProtoMarshaler{}).MarshalTraces(td)
	require.NoError(t, err)
	out, err := (&ptrace.ProtoUnmarshaler{}).UnmarshalTraces(b)
	require.NoError(t, err)
	return out
}

// CopyLogs is CopyTraces for logs.
func CopyLogs(t *testing.T, ld plog.Logs) plog.Logs {
	b, err := (&plog.ProtoMarshaler{}).MarshalLogs(ld)
	require.NoError(t, err)
	out, err := (&plog.ProtoUnmarshaler{}).UnmarshalLogs(b)
	require.NoError(t, err)
	return out
}

// CopyMetrics is CopyTraces for metrics.
func CopyMetrics(t *testing.T, md pmetric.Metrics) pmetric.Metrics {
	b, err := (&pmetric.ProtoMarshaler{}).MarshalMetrics(md)
	require.NoError(t, err)
	out, err := (&pmetric.ProtoUnmarshaler{}).UnmarshalMetrics(b)
	require.NoError(t, err)
	return out
}
