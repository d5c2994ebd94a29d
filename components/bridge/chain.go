package bridge

import (
	"context"
	"errors"
	"fmt"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/processor"
)

// Fused chains of Rust processors (rust/bridge/src/component.rs): when
// several Rust processors follow each other in a pipeline, the
// rustchainconverter replaces them, in that pipeline, by one rust_chain
// processor that holds them all, so that the data crosses into Rust once,
// passes through every processor there, and crosses back once. Each
// processor keeps its own component id in its logs, metrics and spans.

// ChainType is the component type of a fused chain.
const ChainType = "rust_chain"

// ChainStage is one processor of a chain: its component id and its
// configuration section, as the user wrote them.
type ChainStage struct {
	ID     component.ID   `mapstructure:"id"`
	Config map[string]any `mapstructure:"config"`
}

// ChainConfig is the configuration of a fused chain.
type ChainConfig struct {
	Stages []ChainStage `mapstructure:"stages"`
}

var (
	_ confmap.Unmarshaler = (*ChainConfig)(nil)
	_ confmap.Marshaler   = ChainConfig{}
)

// Unmarshal implements confmap.Unmarshaler: each processor's section is
// held in its effective form, as the processor's own Config holds it, so
// that print-config shows a chain's processors as it shows them alone.
func (c *ChainConfig) Unmarshal(conf *confmap.Conf) error {
	if err := conf.Unmarshal(c); err != nil {
		return err
	}
	for i, s := range c.Stages {
		typ := s.ID.Type().String()
		if _, ok := LookupProcessor(typ); !ok {
			// Validate names it.
			continue
		}
		cfg := NewDefaultConfig(typ)
		if err := cfg.Unmarshal(confmap.NewFromStringMap(s.Config)); err != nil {
			return fmt.Errorf("stages[%d]: %s: %w", i, s.ID, err)
		}
		c.Stages[i].Config = cfg.settings
	}
	return nil
}

// Marshal implements confmap.Marshaler: each processor's secrets are
// configopaque values, as in its own Config.
func (c ChainConfig) Marshal(conf *confmap.Conf) error {
	stages := make([]any, len(c.Stages))
	for i, s := range c.Stages {
		section := confmap.New()
		if err := (Config{processorType: s.ID.Type().String(), settings: s.Config}).Marshal(section); err != nil {
			return err
		}
		stages[i] = map[string]any{"id": s.ID.String(), "config": section.ToStringMap()}
	}
	return conf.Merge(confmap.NewFromStringMap(map[string]any{"stages": stages}))
}

// stages turns the configuration into the processors to create, each
// configured as its own component would be.
func (c *ChainConfig) stages() ([]stage, error) {
	if len(c.Stages) == 0 {
		return nil, errors.New("stages: at least one processor is required")
	}
	out := make([]stage, 0, len(c.Stages))
	for i, s := range c.Stages {
		typ := s.ID.Type().String()
		if _, ok := LookupProcessor(typ); !ok {
			return nil, fmt.Errorf("stages[%d]: %s is not a Rust processor of this build", i, s.ID)
		}
		cfg := NewDefaultConfig(typ)
		if err := cfg.Unmarshal(confmap.NewFromStringMap(s.Config)); err != nil {
			return nil, fmt.Errorf("%s: %w", s.ID, err)
		}
		out = append(out, stage{id: s.ID, cfg: cfg})
	}
	return out, nil
}

// Validate implements xconfmap.Validator: each processor's configuration
// is checked by Rust, and errors name the processor.
func (c *ChainConfig) Validate() error {
	stages, err := c.stages()
	if err != nil {
		return err
	}
	var errs []error
	for _, s := range stages {
		if err := s.cfg.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", s.id, err))
		}
	}
	return errors.Join(errs...)
}

// NewChainFactory returns the factory of fused chains of Rust processors.
// The rustchainconverter writes their configurations; users do not.
func NewChainFactory() processor.Factory {
	create := func(set processor.Settings, cfg component.Config, signal uint8) (*Processor, error) {
		stages, err := cfg.(*ChainConfig).stages()
		if err != nil {
			return nil, err
		}
		return newProcessor(set, stages, signal)
	}
	return processor.NewFactory(component.MustNewType(ChainType), func() component.Config { return &ChainConfig{} },
		processor.WithTraces(func(_ context.Context, set processor.Settings, cfg component.Config, next consumer.Traces) (processor.Traces, error) {
			p, err := create(set, cfg, signalTraces)
			if err != nil {
				return nil, err
			}
			p.nextTraces = next
			return p, nil
		}, component.StabilityLevelAlpha),
		processor.WithMetrics(func(_ context.Context, set processor.Settings, cfg component.Config, next consumer.Metrics) (processor.Metrics, error) {
			p, err := create(set, cfg, signalMetrics)
			if err != nil {
				return nil, err
			}
			p.nextMetrics = next
			return p, nil
		}, component.StabilityLevelAlpha),
		processor.WithLogs(func(_ context.Context, set processor.Settings, cfg component.Config, next consumer.Logs) (processor.Logs, error) {
			p, err := create(set, cfg, signalLogs)
			if err != nil {
				return nil, err
			}
			p.nextLogs = next
			return p, nil
		}, component.StabilityLevelAlpha),
	)
}
