package rustchainconverter

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/confmap"
)

func TestRunsOfRustProcessorsAreFusedPerPipeline(t *testing.T) {
	conf := confmap.NewFromStringMap(map[string]any{
		"processors": map[string]any{
			"rust_attributes/a": map[string]any{"actions": []any{map[string]any{"key": "k", "action": "delete"}}},
			"rust_attributes/b": nil,
			"rust_ratelimit":    map[string]any{"rate": 10, "burst": 10},
			"batch":             nil,
		},
		"service": map[string]any{"pipelines": map[string]any{
			"traces":      map[string]any{"processors": []any{"rust_attributes/a", "rust_attributes/b", "batch", "rust_ratelimit"}},
			"logs/mixed":  map[string]any{"processors": []any{"batch", "rust_ratelimit", "rust_attributes/a", "rust_attributes/b"}},
			"metrics/one": map[string]any{"processors": []any{"rust_attributes/a"}},
		}},
	})
	c := converter{isRust: func(typ string) bool { return typ == "rust_attributes" || typ == "rust_ratelimit" }}
	require.NoError(t, c.Convert(context.Background(), conf))

	assert.Equal(t, []any{"rust_chain/traces[rust_attributes.a,rust_attributes.b]", "batch", "rust_ratelimit"},
		conf.Get("service::pipelines::traces::processors"))
	assert.Equal(t, []any{"batch", "rust_chain/logs.mixed[rust_ratelimit,rust_attributes.a,rust_attributes.b]"},
		conf.Get("service::pipelines::logs/mixed::processors"))
	assert.Equal(t, []any{"rust_attributes/a"}, conf.Get("service::pipelines::metrics/one::processors"), "a lone Rust processor stays")

	chain, ok := conf.Get("processors::rust_chain/traces[rust_attributes.a,rust_attributes.b]").(map[string]any)
	require.True(t, ok, "the chain is defined")
	stages := chain["stages"].([]any)
	require.Len(t, stages, 2)
	assert.Equal(t, "rust_attributes/a", stages[0].(map[string]any)["id"])
	assert.NotNil(t, stages[0].(map[string]any)["config"], "each processor keeps its configuration")
	assert.NotNil(t, conf.Get("processors::rust_attributes/a"), "the original definitions stay, validated as before")
}

func TestNothingToFuseLeavesTheConfigAlone(t *testing.T) {
	in := map[string]any{
		"processors": map[string]any{"batch": nil},
		"service":    map[string]any{"pipelines": map[string]any{"traces": map[string]any{"processors": []any{"batch"}}}},
	}
	conf := confmap.NewFromStringMap(in)
	c := converter{isRust: func(string) bool { return false }}
	require.NoError(t, c.Convert(context.Background(), conf))
	assert.Equal(t, in, conf.ToStringMap())
}
