// Package attrtest makes the random batches and attributes-processor
// configurations of the differential tests, which hold rust_attributes
// (alone and fused in a chain) to contrib's attributes processor: the same
// inputs through both must export the same bytes.
package attrtest

import (
	"context"
	"fmt"
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
)

var keys = []string{"http.method", "user.email", "env", "", "a", "b.c", "internal.x", "internal.y", "n"}

var patterns = []string{`^internal\..*`, `^[ab]`, `\.`, `^$`, `n`, `^user\.(email|id)$`}

func randomValue(r *rand.Rand, v pcommon.Value, depth int) {
	switch r.IntN(9) {
	case 0, 1, 2:
		v.SetStr([]string{"GET", "x@example.com", "", "v", "ünï"}[r.IntN(5)])
	case 3:
		v.SetInt(r.Int64N(2000) - 1000)
	case 4:
		v.SetBool(r.IntN(2) == 0)
	case 5:
		v.SetDouble([]float64{0.5, -1, 3.25, 0}[r.IntN(4)])
	case 6:
		v.SetEmptyBytes().FromRaw([]byte{byte(r.IntN(256)), 0})
	case 7:
		if depth > 1 {
			v.SetStr("leaf")
			return
		}
		s := v.SetEmptySlice()
		for i := r.IntN(3); i > 0; i-- {
			randomValue(r, s.AppendEmpty(), depth+1)
		}
	default:
		if depth > 1 {
			return // empty value
		}
		m := v.SetEmptyMap()
		for i := r.IntN(3); i > 0; i-- {
			randomValue(r, m.PutEmpty(keys[r.IntN(len(keys))]), depth+1)
		}
	}
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

// RandomMetrics is a small batch of gauges, histograms and summaries
// with random data point attributes.
func RandomMetrics(r *rand.Rand) pmetric.Metrics {
	md := pmetric.NewMetrics()
	rm := md.ResourceMetrics().AppendEmpty()
	randomAttributes(r, rm.Resource().Attributes())
	sm := rm.ScopeMetrics().AppendEmpty()
	for k := r.IntN(4); k >= 0; k-- {
		m := sm.Metrics().AppendEmpty()
		m.SetName(fmt.Sprintf("m%d", k))
		switch r.IntN(3) {
		case 0:
			dp := m.SetEmptyGauge().DataPoints().AppendEmpty()
			dp.SetIntValue(1)
			randomAttributes(r, dp.Attributes())
		case 1:
			dp := m.SetEmptyHistogram().DataPoints().AppendEmpty()
			randomAttributes(r, dp.Attributes())
		default:
			dp := m.SetEmptySummary().DataPoints().AppendEmpty()
			randomAttributes(r, dp.Attributes())
		}
	}
	return md
}

// RandomActions is a configuration both processors accept.
func RandomActions(r *rand.Rand) map[string]any {
	var actions []any
	for i := r.IntN(5) + 1; i > 0; i-- {
		key := keys[r.IntN(len(keys))]
		switch kind := []string{"insert", "update", "upsert", "delete", "hash"}[r.IntN(5)]; kind {
		case "insert", "update", "upsert":
			a := map[string]any{"action": kind, "key": key}
			if key == "" {
				a["key"] = "k"
			}
			switch r.IntN(6) {
			case 0:
				a["value"] = r.IntN(100)
			case 1:
				a["value"] = r.IntN(2) == 0
			case 2:
				a["value"] = 1.5
			case 3:
				a["from_attribute"] = keys[r.IntN(len(keys))]
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
