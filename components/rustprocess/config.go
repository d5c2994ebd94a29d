package rustprocess

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"strings"

	"go.opentelemetry.io/collector/confmap"

	"github.com/otelcol-rust/otelcol-rust/components/internal/rustconfig"
)

// Config is the configuration of a Rust processor in the cgo-free
// distribution: the same section, the same defaults, the same validation
// and the same errors as the cgo one (bridge.Config). Rust owns the
// schema; validation runs `otelcol-rust-server validate`, which builds
// the configuration exactly as the server will.
type Config struct {
	info     *ProcessorInfo
	settings map[string]any
}

var (
	_ confmap.Unmarshaler = (*Config)(nil)
	_ confmap.Marshaler   = (*Config)(nil)
)

// ProcessorInfo is what `make generate` records of a registered Rust
// processor in its cgo-free package (the cgo packages read it from the
// linked library at run time).
type ProcessorInfo struct {
	Name              string
	MutatesData       bool
	DataAccess        string
	DefaultConfigJSON string
	OpaqueFields      []string
	Metrics           []Metric
}

// Metric is a counter a Rust processor declares.
type Metric struct {
	Name        string
	Description string
	Unit        string
}

// NewDefaultConfig returns the default configuration of a processor.
func NewDefaultConfig(info *ProcessorInfo) *Config {
	cfg := &Config{info: info, settings: map[string]any{}}
	if settings, err := rustconfig.DecodeJSON(info.DefaultConfigJSON); err == nil {
		cfg.settings = settings
	}
	return cfg
}

// Unmarshal implements confmap.Unmarshaler: the user's section is merged
// over the defaults, then replaced by its effective form when Rust
// accepts it.
func (c *Config) Unmarshal(conf *confmap.Conf) error {
	merged := confmap.NewFromStringMap(c.settings)
	if err := merged.Merge(conf); err != nil {
		return err
	}
	c.settings = merged.ToStringMap()
	if effective, err := c.effective(); err == nil {
		c.settings = effective
	}
	return nil
}

// Marshal implements confmap.Marshaler; secrets print as [REDACTED].
func (c Config) Marshal(conf *confmap.Conf) error {
	settings := any(c.settings)
	for _, path := range c.info.OpaqueFields {
		settings = rustconfig.MaskOpaque(settings, strings.Split(path, "."))
	}
	m, _ := settings.(map[string]any)
	return conf.Merge(confmap.NewFromStringMap(m))
}

// Validate implements xconfmap.Validator by asking Rust.
func (c *Config) Validate() error {
	_, err := c.effective()
	return err
}

func (c *Config) json() (string, error) {
	b, err := json.Marshal(rustconfig.ForRust(c.settings))
	if err != nil {
		return "", fmt.Errorf("%s configuration cannot be expressed as JSON: %w", c.info.Name, err)
	}
	return string(b), nil
}

// effective runs `otelcol-rust-server validate TYPE` on the configuration.
func (c *Config) effective() (map[string]any, error) {
	configJSON, err := c.json()
	if err != nil {
		return nil, err
	}
	bin, err := serverBinary()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "validate", c.info.Name)
	cmd.Stdin = strings.NewReader(configJSON)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) && exit.ExitCode() == 1 && stderr.Len() > 0 {
			return nil, errors.New(stderr.String())
		}
		return nil, fmt.Errorf("running %s validate: %w: %s", bin, err, stderr.String())
	}
	return rustconfig.DecodeJSON(stdout.String())
}
