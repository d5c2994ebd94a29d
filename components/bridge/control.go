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
	"strings"
	"sync"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/processor"

	"github.com/otelcol-rust/otelcol-rust/components/internal/rustconfig"
)

// Config is the configuration of a Rust processor. Rust owns the schema:
// Unmarshal merges the user's section over the defaults Rust declares and
// asks Rust for the effective configuration (every default written out,
// names normalized), which the Config then holds. So print-config and
// confmap marshalling show what the processor runs with, and the
// configuration round-trips through confmap as a Go component's does. A
// section Rust refuses is kept as written: Validate then reports why,
// naming the offending field.
type Config struct {
	processorType string
	settings      map[string]any
}

var (
	_ confmap.Unmarshaler = (*Config)(nil)
	_ confmap.Marshaler   = (*Config)(nil)
)

// NewDefaultConfig returns the default configuration Rust declares for a
// processor type.
func NewDefaultConfig(processorType string) *Config {
	cfg := &Config{processorType: processorType, settings: map[string]any{}}
	info, ok := LookupProcessor(processorType)
	if !ok || info.DefaultConfigJSON == "" {
		return cfg
	}
	// The registry's JSON comes from serde_json; it always parses.
	settings, _ := decodeJSON(info.DefaultConfigJSON)
	cfg.settings = settings
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

// Marshal implements confmap.Marshaler. The fields the processor declares
// secret are configopaque.String values, so the Collector prints them as
// [REDACTED] unless asked for the unredacted configuration.
func (c Config) Marshal(conf *confmap.Conf) error {
	settings := any(c.settings)
	if info, ok := LookupProcessor(c.processorType); ok {
		for _, path := range info.OpaqueFields {
			settings = maskOpaque(settings, strings.Split(path, "."))
		}
	}
	m, _ := settings.(map[string]any)
	return conf.Merge(confmap.NewFromStringMap(m))
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

// effective asks Rust for the configuration with every default written
// out; an error when Rust refuses the configuration.
func (c *Config) effective() (map[string]any, error) {
	configJSON, err := c.json()
	if err != nil {
		return nil, err
	}
	resp := RustBridgeImpl{}.effective_config(&ValidateRequest{
		processor_type: c.processorType,
		config_json:    configJSON,
	})
	if resp.error != "" {
		return nil, errors.New(resp.error)
	}
	return decodeJSON(resp.config_json)
}

func (c *Config) json() (string, error) {
	b, err := json.Marshal(forRust(c.settings))
	if err != nil {
		return "", fmt.Errorf("%s configuration cannot be expressed as JSON: %w", c.processorType, err)
	}
	return string(b), nil
}

// The JSON forms of a configuration are shared with the cgo-free path
// (internal/rustconfig).
func decodeJSON(text string) (map[string]any, error) { return rustconfig.DecodeJSON(text) }
func maskOpaque(v any, path []string) any            { return rustconfig.MaskOpaque(v, path) }
func forRust(v any) any                              { return rustconfig.ForRust(v) }

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
	// the attribute maps), "attributes_and_record_fields" (and the log
	// bodies and span names), "counts" (only the item count and encoded
	// size) or "full".
	DataAccess        string
	DefaultConfigJSON string
	ExampleConfigJSON string
	README            string
	Metrics           []RegisteredMetric
	// OpaqueFields are the dotted paths of the configuration fields that
	// hold secrets ("*": any map key or list index).
	OpaqueFields []string
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
				OpaqueFields:      p.opaque_fields,
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
