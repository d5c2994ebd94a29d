package rustchainprocessor

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/confmaptest"
	"go.opentelemetry.io/collector/confmap/xconfmap"

	"github.com/otelcol-rust/otelcol-rust/components/processor/rustchainprocessor/internal/metadata"
)

func TestLoadConfig(t *testing.T) {
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", "config.yaml"))
	require.NoError(t, err)
	for _, tc := range []struct {
		name    string
		wantErr string
	}{
		{name: "", wantErr: ""},
		{name: "bad", wantErr: "rust_attributes/broken"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := NewFactory().CreateDefaultConfig()
			sub, err := cm.Sub(component.NewIDWithName(metadata.Type, tc.name).String())
			require.NoError(t, err)
			require.NoError(t, sub.Unmarshal(cfg))
			err = confmap.Validate(cfg)
			if tc.wantErr == "" {
				require.NoError(t, err)
				require.Len(t, cfg.(*Config).Stages, 2)
				return
			}
			require.ErrorContains(t, err, tc.wantErr)
			require.ErrorContains(t, err, "nonsense")
		})
	}
}

// A chain prints its processors with every default written out, as they
// print alone, and reads back to the same configuration.
func TestConfigRoundTripsThroughConfmap(t *testing.T) {
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", "config.yaml"))
	require.NoError(t, err)
	sub, err := cm.Sub(component.NewID(metadata.Type).String())
	require.NoError(t, err)
	cfg := NewFactory().CreateDefaultConfig()
	require.NoError(t, sub.Unmarshal(cfg))

	printed := confmap.New()
	require.NoError(t, printed.Marshal(cfg, xconfmap.WithUnredacted()))
	stages := printed.Get("stages").([]any)
	require.Len(t, stages, 2)
	first := stages[0].(map[string]any)
	require.Equal(t, "rust_attributes/first", first["id"])
	require.Equal(t, []any{map[string]any{"key": "environment", "value": "production", "action": "insert"}},
		first["config"].(map[string]any)["actions"])

	again := NewFactory().CreateDefaultConfig()
	require.NoError(t, printed.Unmarshal(again))
	require.Equal(t, cfg, again)
	require.NoError(t, confmap.Validate(again))
}
