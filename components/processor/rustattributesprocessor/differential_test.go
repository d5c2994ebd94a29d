package rustattributesprocessor

import (
	"math/rand/v2"
	"testing"

	"github.com/open-telemetry/opentelemetry-collector-contrib/processor/attributesprocessor"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/collector/processor/processortest"

	"github.com/otelcol-rust/otelcol-rust/components/internal/attrtest"
)

// The differential test: contrib's attributes processor is the oracle.
// Random configurations run on random batches through both, and the
// exports must be the same bytes: the same entries, values and order.

type pair struct {
	contrib, rust processor.Factory
}

func newPair() pair {
	return pair{contrib: attributesprocessor.NewFactory(), rust: NewFactory()}
}

func TestSameExportsAsContribAttributes(t *testing.T) {
	sameExports(t, rand.New(rand.NewPCG(1, 2)), attrtest.RandomActions)
}

// Configurations without patterns name every key they read, so only those
// entries cross into Rust, the others as placeholders in their places
// (rust_attributes' attribute_keys): the exports must not tell.
func TestSameExportsAsContribWithNamedKeysOnly(t *testing.T) {
	sameExports(t, rand.New(rand.NewPCG(3, 4)), func(r *rand.Rand) map[string]any {
		raw := attrtest.RandomActions(r)
		for _, a := range raw["actions"].([]any) {
			action := a.(map[string]any)
			if _, ok := action["pattern"]; ok {
				delete(action, "pattern")
				if k, _ := action["key"].(string); k == "" {
					action["key"] = "a"
				}
			}
		}
		return raw
	})
}

func sameExports(t *testing.T, r *rand.Rand, configs func(*rand.Rand) map[string]any) {
	f := newPair()
	ctx := attrtest.RequestContext()
	rejected := 0
	defer func() { require.Less(t, rejected, 60, "most random configurations are valid") }()
	for i := 0; i < 300; i++ {
		raw := configs(r)
		cc, cerr := attrtest.Accepts(t, f.contrib, raw)
		rc, rerr := attrtest.Accepts(t, f.rust, raw)
		require.Equal(t, cerr == nil, rerr == nil, "contrib: %v\nrust_attributes: %v\nconfig %v", cerr, rerr, raw)
		if cerr != nil {
			rejected++
			continue
		}
		var cs, rs struct {
			t consumertest.TracesSink
			l consumertest.LogsSink
			m consumertest.MetricsSink
		}
		ct := attrtest.Started[processor.Traces](t)(f.contrib.CreateTraces(ctx, processortest.NewNopSettings(f.contrib.Type()), cc, &cs.t))
		rt := attrtest.Started[processor.Traces](t)(f.rust.CreateTraces(ctx, processortest.NewNopSettings(f.rust.Type()), rc, &rs.t))
		cl := attrtest.Started[processor.Logs](t)(f.contrib.CreateLogs(ctx, processortest.NewNopSettings(f.contrib.Type()), cc, &cs.l))
		rl := attrtest.Started[processor.Logs](t)(f.rust.CreateLogs(ctx, processortest.NewNopSettings(f.rust.Type()), rc, &rs.l))
		cm := attrtest.Started[processor.Metrics](t)(f.contrib.CreateMetrics(ctx, processortest.NewNopSettings(f.contrib.Type()), cc, &cs.m))
		rm := attrtest.Started[processor.Metrics](t)(f.rust.CreateMetrics(ctx, processortest.NewNopSettings(f.rust.Type()), rc, &rs.m))
		for j := 0; j < 4; j++ {
			// The last batch of each signal repeats keys in its maps.
			dup := j == 3
			td := attrtest.RandomTraces(r)
			if dup {
				td = attrtest.DuplicateKeyTraces(t, r)
			}
			in := attrtest.CopyTraces(t, td)
			require.NoError(t, ct.ConsumeTraces(ctx, td))
			require.NoError(t, rt.ConsumeTraces(ctx, in))
			ld := attrtest.RandomLogs(r)
			if dup {
				ld = attrtest.DuplicateKeyLogs(t, r)
			}
			lin := attrtest.CopyLogs(t, ld)
			require.NoError(t, cl.ConsumeLogs(ctx, ld))
			require.NoError(t, rl.ConsumeLogs(ctx, lin))
			md := attrtest.RandomMetrics(r)
			if dup {
				md = attrtest.DuplicateKeyMetrics(t, r)
			}
			min := attrtest.CopyMetrics(t, md)
			require.NoError(t, cm.ConsumeMetrics(ctx, md))
			require.NoError(t, rm.ConsumeMetrics(ctx, min))
		}
		attrtest.RequireSameTraces(t, cs.t.AllTraces(), rs.t.AllTraces(), raw)
		attrtest.RequireSameLogs(t, cs.l.AllLogs(), rs.l.AllLogs(), raw)
		attrtest.RequireSameMetrics(t, cs.m.AllMetrics(), rs.m.AllMetrics(), raw)
	}
}
