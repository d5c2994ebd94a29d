package rustchainprocessor

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/open-telemetry/opentelemetry-collector-contrib/processor/attributesprocessor"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/collector/processor/processortest"

	"github.com/otelcol-rust/otelcol-rust/components/bridge"
	"github.com/otelcol-rust/otelcol-rust/components/internal/attrtest"
)

// TestFusedChainExportsWhatContribInSeriesExports holds a fused chain of
// three rust_attributes to three contrib attributes processors in series:
// the chain edits the batch in one crossing, with each stage continuing
// from the previous one's entries and Go replaying the layers, and the
// export must be the same bytes.
func TestFusedChainExportsWhatContribInSeriesExports(t *testing.T) {
	contrib := attributesprocessor.NewFactory()
	chain := NewFactory()
	r := rand.New(rand.NewPCG(3, 4))
	ctx := attrtest.RequestContext()
	ran := 0
	for i := 0; i < 80; i++ {
		var stages []bridge.ChainStage
		var contribCfgs []component.Config
		for s := 0; s < 3; s++ {
			raw := attrtest.RandomActions(r)
			cfg, err := attrtest.Accepts(t, contrib, raw)
			if err != nil {
				break
			}
			contribCfgs = append(contribCfgs, cfg)
			stages = append(stages, bridge.ChainStage{
				ID:     component.MustNewIDWithName("rust_attributes", fmt.Sprint(s)),
				Config: raw,
			})
		}
		if len(stages) < 3 {
			continue
		}
		ran++
		var ctSink, rtSink consumertest.TracesSink
		var clSink, rlSink consumertest.LogsSink
		// contrib: three processors, each the next one's upstream.
		var nextT processor.Traces
		var nextL processor.Logs
		for s := 2; s >= 0; s-- {
			set := processortest.NewNopSettings(contrib.Type())
			if s == 2 {
				nextT = attrtest.Started[processor.Traces](t)(contrib.CreateTraces(ctx, set, contribCfgs[s], &ctSink))
				nextL = attrtest.Started[processor.Logs](t)(contrib.CreateLogs(ctx, set, contribCfgs[s], &clSink))
				continue
			}
			nextT = attrtest.Started[processor.Traces](t)(contrib.CreateTraces(ctx, set, contribCfgs[s], nextT))
			nextL = attrtest.Started[processor.Logs](t)(contrib.CreateLogs(ctx, set, contribCfgs[s], nextL))
		}
		cfg := chain.CreateDefaultConfig().(*Config)
		cfg.Stages = stages
		set := processortest.NewNopSettings(chain.Type())
		set.ID = component.MustNewIDWithName(chain.Type().String(), "traces[rust_attributes.0,rust_attributes.1,rust_attributes.2]")
		rt := attrtest.Started[processor.Traces](t)(chain.CreateTraces(ctx, set, cfg, &rtSink))
		rl := attrtest.Started[processor.Logs](t)(chain.CreateLogs(ctx, set, cfg, &rlSink))
		for j := 0; j < 4; j++ {
			td, ld := attrtest.RandomTraces(r), attrtest.RandomLogs(r)
			if j == 3 {
				td, ld = attrtest.DuplicateKeyTraces(t, r), attrtest.DuplicateKeyLogs(t, r)
			}
			in := attrtest.CopyTraces(t, td)
			require.NoError(t, nextT.ConsumeTraces(ctx, td))
			require.NoError(t, rt.ConsumeTraces(ctx, in))
			lin := attrtest.CopyLogs(t, ld)
			require.NoError(t, nextL.ConsumeLogs(ctx, ld))
			require.NoError(t, rl.ConsumeLogs(ctx, lin))
		}
		desc := map[string]any{"stages": stages}
		attrtest.RequireSameTraces(t, ctSink.AllTraces(), rtSink.AllTraces(), desc)
		attrtest.RequireSameLogs(t, clSink.AllLogs(), rlSink.AllLogs(), desc)
	}
	require.Greater(t, ran, 40, "most random chains are valid")
}
