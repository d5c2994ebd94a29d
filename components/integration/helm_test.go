//go:build integration

package integration

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

// withoutNulls applies Helm's rule for merging values: a key set to null
// removes the key from the chart's defaults.
func withoutNulls(v any) any {
	m, ok := v.(map[string]any)
	if !ok {
		return v
	}
	out := map[string]any{}
	for k, e := range m {
		if e != nil {
			out[k] = withoutNulls(e)
		}
	}
	return out
}

// The collector configuration of the Helm example is one this
// distribution accepts (the chart itself is not rendered here: it is not
// reachable from the build).
func TestHelmExampleConfigValidates(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "examples", "helm", "values.yaml"))
	require.NoError(t, err)
	var values struct {
		Image   map[string]any `yaml:"image"`
		Command struct {
			Name string `yaml:"name"`
		} `yaml:"command"`
		Config map[string]any `yaml:"config"`
	}
	require.NoError(t, yaml.Unmarshal(raw, &values))
	require.Equal(t, "otelcol-rust", values.Command.Name, "the chart runs /<command.name>")

	cfg, err := yaml.Marshal(withoutNulls(values.Config))
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "config.yaml")
	require.NoError(t, os.WriteFile(path, cfg, 0o600))
	cmd := exec.Command(binary(t), "validate", "--config", path)
	cmd.Env = append(os.Environ(), "MY_POD_IP=127.0.0.1")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s\n%s", cfg, out)
}
