package bridge

// The control plane (rust/bridge/src/control.rs, through rust2go): the
// configuration Rust validates, the factory every generated component
// package calls, the registry of processors the linked library holds, and
// the leak counters tests read.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sync"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/processor"
)

// Config is the configuration of a Rust processor: the YAML section as a
// map, defaults from Rust merged under it. Rust owns the schema: Validate
// hands the section to the processor's serde types, whose errors name the
// offending field.
type Config struct {
	processorType string
	settings      map[string]any
}

var _ confmap.Unmarshaler = (*Config)(nil)

// NewDefaultConfig returns the default configuration Rust declares for a
// processor type.
func NewDefaultConfig(processorType string) *Config {
	cfg := &Config{processorType: processorType, settings: map[string]any{}}
	info, ok := LookupProcessor(processorType)
	if !ok || info.DefaultConfigJSON == "" {
		return cfg
	}
	// The registry's JSON comes from serde_json; it always parses.
	_ = json.Unmarshal([]byte(info.DefaultConfigJSON), &cfg.settings)
	return cfg
}

// Unmarshal implements confmap.Unmarshaler: the user's section is merged
// over the defaults.
func (c *Config) Unmarshal(conf *confmap.Conf) error {
	merged := confmap.NewFromStringMap(c.settings)
	if err := merged.Merge(conf); err != nil {
		return err
	}
	c.settings = merged.ToStringMap()
	return nil
}

// Validate implements xconfmap.Validator by asking Rust.
func (c *Config) Validate() error {
	configJSON, err := c.json()
	if err != nil {
		return err
	}
	resp := RustBridgeImpl{}.validate(&ValidateRequest{
		processor_type: c.processorType,
		config_json:    configJSON,
	})
	if resp.error != "" {
		return errors.New(resp.error)
	}
	return nil
}

func (c *Config) json() (string, error) {
	b, err := json.Marshal(withNonFiniteMarked(c.settings))
	if err != nil {
		return "", fmt.Errorf("%s configuration cannot be expressed as JSON: %w", c.processorType, err)
	}
	return string(b), nil
}

// nonFiniteKey marks a float JSON cannot hold. YAML has .inf, -.inf and
// .nan, and contrib's processors accept them (attributes inserts a double
// +Inf); JSON has no such numbers, so each crosses as
// {"$otelcol_rust_float": "+Inf" | "-Inf" | "NaN"}, which the engine's
// config helpers read back (rust/engine/src/config.rs).
const nonFiniteKey = "$otelcol_rust_float"

// withNonFiniteMarked returns v with every non-finite float replaced by
// its marker; v itself is not changed.
func withNonFiniteMarked(v any) any {
	switch t := v.(type) {
	case float64:
		switch {
		case math.IsNaN(t):
			return map[string]any{nonFiniteKey: "NaN"}
		case math.IsInf(t, 1):
			return map[string]any{nonFiniteKey: "+Inf"}
		case math.IsInf(t, -1):
			return map[string]any{nonFiniteKey: "-Inf"}
		}
		return t
	case float32:
		return withNonFiniteMarked(float64(t))
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, e := range t {
			out[k] = withNonFiniteMarked(e)
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = withNonFiniteMarked(e)
		}
		return out
	}
	return v
}

// Stabilities gives the stability of each signal a processor supports; a
// signal left at StabilityLevelUndefined is not supported.
type Stabilities struct {
	Traces  component.StabilityLevel
	Metrics component.StabilityLevel
	Logs    component.StabilityLevel
}

// NewProcessorFactory returns the Collector factory of a registered Rust
// processor. Every generated component package's NewFactory calls it.
func NewProcessorFactory(typ component.Type, stability Stabilities) processor.Factory {
	processorType := typ.String()
	var opts []processor.FactoryOption
	if stability.Traces != component.StabilityLevelUndefined {
		opts = append(opts, processor.WithTraces(func(_ context.Context, set processor.Settings, cfg component.Config, next consumer.Traces) (processor.Traces, error) {
			p, err := newProcessor(set, []stage{{id: set.ID, cfg: cfg.(*Config)}}, signalTraces)
			if err != nil {
				return nil, err
			}
			p.nextTraces = next
			return p, nil
		}, stability.Traces))
	}
	if stability.Metrics != component.StabilityLevelUndefined {
		opts = append(opts, processor.WithMetrics(func(_ context.Context, set processor.Settings, cfg component.Config, next consumer.Metrics) (processor.Metrics, error) {
			p, err := newProcessor(set, []stage{{id: set.ID, cfg: cfg.(*Config)}}, signalMetrics)
			if err != nil {
				return nil, err
			}
			p.nextMetrics = next
			return p, nil
		}, stability.Metrics))
	}
	if stability.Logs != component.StabilityLevelUndefined {
		opts = append(opts, processor.WithLogs(func(_ context.Context, set processor.Settings, cfg component.Config, next consumer.Logs) (processor.Logs, error) {
			p, err := newProcessor(set, []stage{{id: set.ID, cfg: cfg.(*Config)}}, signalLogs)
			if err != nil {
				return nil, err
			}
			p.nextLogs = next
			return p, nil
		}, stability.Logs))
	}
	return processor.NewFactory(typ, func() component.Config {
		return NewDefaultConfig(processorType)
	}, opts...)
}

// RegisteredProcessor describes one registered Rust processor.
type RegisteredProcessor struct {
	Name            string
	Description     string
	Stability       string
	Signals         []string
	MutatesData     bool
	NeedsClientAuth bool
	// DataAccess is what of a batch it reads: "attributes" (Go sends only
	// the attribute maps) or "full".
	DataAccess        string
	DefaultConfigJSON string
	ExampleConfigJSON string
	README            string
	Metrics           []RegisteredMetric
}

// RegisteredMetric is a counter a Rust processor declares.
type RegisteredMetric struct {
	Name        string
	Description string
	Unit        string
}

var (
	registryOnce sync.Once
	registryList []RegisteredProcessor
)

// RegisteredProcessors lists the processors the linked Rust library
// registers, in registration order.
func RegisteredProcessors() []RegisteredProcessor {
	registryOnce.Do(func() {
		reg := RustBridgeImpl{}.registry()
		for _, p := range reg.processors {
			info := RegisteredProcessor{
				Name:              p.name,
				Description:       p.description,
				Stability:         p.stability,
				MutatesData:       p.mutates_data,
				NeedsClientAuth:   p.needs_client_auth,
				DataAccess:        p.data_access,
				DefaultConfigJSON: p.default_config_json,
				ExampleConfigJSON: p.example_config_json,
				README:            p.readme,
			}
			for _, m := range p.metrics {
				info.Metrics = append(info.Metrics, RegisteredMetric{Name: m.name, Description: m.description, Unit: m.unit})
			}
			for _, s := range p.signals {
				info.Signals = append(info.Signals, signalName(s))
			}
			registryList = append(registryList, info)
		}
	})
	return registryList
}

// LookupProcessor finds a registered processor by type.
func LookupProcessor(processorType string) (RegisteredProcessor, bool) {
	for _, p := range RegisteredProcessors() {
		if p.Name == processorType {
			return p, true
		}
	}
	return RegisteredProcessor{}, false
}

func signalName(s uint8) string {
	switch s {
	case signalTraces:
		return "traces"
	case signalMetrics:
		return "metrics"
	case signalLogs:
		return "logs"
	}
	return fmt.Sprintf("signal(%d)", s)
}

// Stats are the bridge's counters, Rust's and Go's, that tests use to
// prove nothing leaks and to count what crossings cost.
type Stats struct {
	Components         uint64
	InFlight           uint64
	RetainedBuffers    uint64
	ProcessorInstances uint64
	// SlowPathTotal is the number of requests that waited in Rust.
	SlowPathTotal uint64
	// RustHeapBytes is Rust's live heap (test builds only).
	RustHeapBytes uint64
	// Go-side tables, for the same purpose.
	GoWaiters  uint64
	GoErrors   uint64
	GoRetained uint64
	// GoUnmarshals counts emissions Go unmarshalled from Rust memory;
	// GoEditsApplied the edit lists Go applied to its own pdata. Unchanged
	// data costs neither.
	GoUnmarshals   uint64
	GoEditsApplied uint64
	// GoPending counts requests that went PENDING; GoWaits the times a
	// goroutine parked for a wake-up.
	GoPending uint64
	GoWaits   uint64
}

// ReadStats returns the bridge's current counters.
func ReadStats() Stats {
	s := RustBridgeImpl{}.stats()
	out := Stats{
		Components:         s.components,
		InFlight:           s.in_flight,
		RetainedBuffers:    s.retained_buffers,
		ProcessorInstances: s.processor_instances,
		SlowPathTotal:      s.slow_path_total,
		RustHeapBytes:      s.heap_bytes,
		GoUnmarshals:       unmarshals.Load(),
		GoEditsApplied:     editsApplied.Load(),
		GoPending:          pendingTotal.Load(),
		GoWaits:            waitsTotal.Load(),
	}
	waiters.Range(func(any, any) bool { out.GoWaiters++; return true })
	goErrors.Range(func(any, any) bool { out.GoErrors++; return true })
	retained.Range(func(any, any) bool { out.GoRetained++; return true })
	return out
}
