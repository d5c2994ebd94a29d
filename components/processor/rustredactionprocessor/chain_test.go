package rustredactionprocessor

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/open-telemetry/opentelemetry-collector-contrib/processor/redactionprocessor"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/collector/processor/processortest"

	"github.com/otelcol-rust/otelcol-rust/components/bridge"
	"github.com/otelcol-rust/otelcol-rust/components/internal/attrtest"
	"github.com/otelcol-rust/otelcol-rust/components/processor/rustchainprocessor"
)

// Two rust_redaction fused into one crossing (as the distribution's
// converter fuses neighbours) against two contrib redaction processors in
// series: the second pass redacts what the first left, summary attributes
// included, with edits to attributes, log bodies and span names layered
// in one edit list.
func TestFusedRedactionsAsContribInSeries(t *testing.T) {
	contrib := redactionprocessor.NewFactory()
	chain := rustchainprocessor.NewFactory()
	r := rand.New(rand.NewPCG(5, 6))
	ctx := context.Background()
	for i := 0; i < 60; i++ {
		var stages []bridge.ChainStage
		var cfgs []component.Config
		for s := 0; s < 2; s++ {
			raw := randomConfig(r)
			cfg, err := accepts(contrib, raw)
			require.NoError(t, err, "%v", raw)
			cfgs = append(cfgs, cfg)
			stages = append(stages, bridge.ChainStage{ID: component.MustNewIDWithName("rust_redaction", fmt.Sprint(s)), Config: raw})
		}
		var ct consumertest.TracesSink
		var cl consumertest.LogsSink
		var cm consumertest.MetricsSink
		set := processortest.NewNopSettings(contrib.Type())
		t2 := attrtest.Started[processor.Traces](t)(contrib.CreateTraces(ctx, set, cfgs[1], &ct))
		t1 := attrtest.Started[processor.Traces](t)(contrib.CreateTraces(ctx, set, cfgs[0], t2))
		l2 := attrtest.Started[processor.Logs](t)(contrib.CreateLogs(ctx, set, cfgs[1], &cl))
		l1 := attrtest.Started[processor.Logs](t)(contrib.CreateLogs(ctx, set, cfgs[0], l2))
		m2 := attrtest.Started[processor.Metrics](t)(contrib.CreateMetrics(ctx, set, cfgs[1], &cm))
		m1 := attrtest.Started[processor.Metrics](t)(contrib.CreateMetrics(ctx, set, cfgs[0], m2))

		var rtSink consumertest.TracesSink
		var rlSink consumertest.LogsSink
		var rmSink consumertest.MetricsSink
		cfg := chain.CreateDefaultConfig().(*rustchainprocessor.Config)
		cfg.Stages = stages
		cset := processortest.NewNopSettings(chain.Type())
		cset.ID = component.MustNewIDWithName(chain.Type().String(), "traces[rust_redaction.0,rust_redaction.1]")
		rt := attrtest.Started[processor.Traces](t)(chain.CreateTraces(ctx, cset, cfg, &rtSink))
		rl := attrtest.Started[processor.Logs](t)(chain.CreateLogs(ctx, cset, cfg, &rlSink))
		rm := attrtest.Started[processor.Metrics](t)(chain.CreateMetrics(ctx, cset, cfg, &rmSink))
		for j := 0; j < 2; j++ {
			td := randomTraces(r)
			in := ptrace.NewTraces()
			td.CopyTo(in)
			require.NoError(t, t1.ConsumeTraces(ctx, td))
			require.NoError(t, rt.ConsumeTraces(ctx, in))
			ld := randomLogs(r)
			lin := plog.NewLogs()
			ld.CopyTo(lin)
			require.NoError(t, l1.ConsumeLogs(ctx, ld))
			require.NoError(t, rl.ConsumeLogs(ctx, lin))
			md := randomMetrics(r)
			min := pmetric.NewMetrics()
			md.CopyTo(min)
			require.NoError(t, m1.ConsumeMetrics(ctx, md))
			require.NoError(t, rm.ConsumeMetrics(ctx, min))
		}
		desc := map[string]any{"stages": stages}
		attrtest.RequireSameTraces(t, ct.AllTraces(), rtSink.AllTraces(), desc)
		attrtest.RequireSameLogs(t, cl.AllLogs(), rlSink.AllLogs(), desc)
		attrtest.RequireSameMetrics(t, cm.AllMetrics(), rmSink.AllMetrics(), desc)
	}
}
