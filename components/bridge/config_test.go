//go:build otelcolrust_testing

package bridge

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/xconfmap"
)

// test_scripted declares token and set_metadata.* secret.
func scriptedConfig(t *testing.T, section map[string]any) *Config {
	t.Helper()
	cfg := NewDefaultConfig("test_scripted")
	require.NoError(t, cfg.Unmarshal(confmap.NewFromStringMap(section)))
	return cfg
}

func TestConfigHoldsTheEffectiveConfiguration(t *testing.T) {
	cfg := scriptedConfig(t, map[string]any{"sleep_ms": 2, "token": "hunter2"})
	conf := confmap.New()
	require.NoError(t, conf.Marshal(cfg, xconfmap.WithUnredacted()))
	got := conf.ToStringMap()
	assert.Equal(t, int64(2), got["sleep_ms"])
	assert.Equal(t, "hunter2", got["token"])
	// Defaults Rust applied, though the section did not name them.
	assert.Equal(t, false, got["yield_once"])
	assert.Contains(t, got, "put_attributes")
}

func TestConfigSecretsAreRedactedAsConfigopaque(t *testing.T) {
	cfg := scriptedConfig(t, map[string]any{
		"token":        "hunter2",
		"set_metadata": map[string]any{"x-api-key": []any{"k1", "k2"}},
	})
	conf := confmap.New()
	require.NoError(t, conf.Marshal(cfg))
	got := conf.ToStringMap()
	assert.Equal(t, "[REDACTED]", got["token"])
	assert.Equal(t, map[string]any{"x-api-key": []any{"[REDACTED]", "[REDACTED]"}}, got["set_metadata"])
	assert.Equal(t, int64(0), got["sleep_ms"], "only the declared fields are redacted")

	// Rust still gets the secret itself.
	configJSON, err := cfg.json()
	require.NoError(t, err)
	assert.Contains(t, configJSON, `"hunter2"`)
}

// Unmarshal then Marshal then Unmarshal gives the same configuration, as
// for a Go component.
func TestConfigRoundTripsThroughConfmap(t *testing.T) {
	cfg := scriptedConfig(t, map[string]any{
		"emit":           3,
		"token":          "hunter2",
		"put_attributes": map[string]any{"a": "b"},
		"error":          map[string]any{"kind": "permanent", "message": "no", "grpc": 3},
	})
	first := confmap.New()
	require.NoError(t, first.Marshal(cfg, xconfmap.WithUnredacted()))

	again := NewDefaultConfig("test_scripted")
	require.NoError(t, first.Unmarshal(again))
	assert.Equal(t, cfg, again)
	second := confmap.New()
	require.NoError(t, second.Marshal(again, xconfmap.WithUnredacted()))
	assert.Equal(t, first.ToStringMap(), second.ToStringMap())
	require.NoError(t, again.Validate())
}

func TestConfigRefusedByRustIsKeptAsWritten(t *testing.T) {
	cfg := scriptedConfig(t, map[string]any{"sleep_ms": 1, "no_such_field": true})
	conf := confmap.New()
	require.NoError(t, conf.Marshal(cfg))
	assert.Equal(t, true, conf.Get("no_such_field"))
	assert.ErrorContains(t, cfg.Validate(), "no_such_field")
}
