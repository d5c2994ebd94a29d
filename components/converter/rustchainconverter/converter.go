// Package rustchainconverter fuses neighbouring Rust processors of a
// pipeline into one, so that data crosses between Go and Rust once per
// pipeline run of Rust processors instead of once per processor.
//
// The Collector wraps every processor's next consumer in its own types, so
// a processor cannot see at run time that its neighbour is a Rust
// processor too. This converter sees it in the configuration: for each
// pipeline, each maximal run of two or more adjacent Rust processors is
// replaced, in that pipeline only, by one rust_chain processor whose
// configuration lists the run's processors with their own configurations.
// The user's file is unchanged; the processors' own definitions stay (and
// are validated as before); each processor keeps its component id in its
// logs, metrics and spans. The feature gate otelcolrust.fuseProcessors
// (on by default) turns it off.
package rustchainconverter // import "github.com/otelcol-rust/otelcol-rust/components/converter/rustchainconverter"

import (
	"context"
	"fmt"
	"strings"

	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/featuregate"

	"github.com/otelcol-rust/otelcol-rust/components/bridge"
)

var fuseGate = featuregate.GlobalRegistry().MustRegister(
	"otelcolrust.fuseProcessors",
	featuregate.StageBeta,
	featuregate.WithRegisterDescription("Fuse neighbouring Rust processors of a pipeline into one crossing between Go and Rust."),
	featuregate.WithRegisterFromVersion("v0.1.0"),
)

// NewFactory returns the converter's factory, for an ocb manifest's
// converters section.
func NewFactory() confmap.ConverterFactory {
	return confmap.NewConverterFactory(func(confmap.ConverterSettings) confmap.Converter {
		return converter{isRust: isRegisteredRustProcessor}
	})
}

func isRegisteredRustProcessor(typ string) bool {
	_, ok := bridge.LookupProcessor(typ)
	return ok
}

type converter struct {
	isRust func(typ string) bool
}

func typeOf(id string) string {
	typ, _, _ := strings.Cut(id, "/")
	return typ
}

// chainID names the chain of a pipeline's run: readable, and unique per
// pipeline and run.
func chainID(pipeline string, run []string) string {
	ids := make([]string, len(run))
	for i, id := range run {
		ids[i] = strings.ReplaceAll(id, "/", ".")
	}
	return fmt.Sprintf("%s/%s[%s]", bridge.ChainType, strings.ReplaceAll(pipeline, "/", "."), strings.Join(ids, ","))
}

func (c converter) Convert(_ context.Context, conf *confmap.Conf) error {
	if !fuseGate.IsEnabled() {
		return nil
	}
	pipelines, ok := conf.Get("service::pipelines").(map[string]any)
	if !ok {
		return nil
	}
	defined, _ := conf.Get("processors").(map[string]any)
	newProcessors := map[string]any{}
	newPipelines := map[string]any{}
	for pid, raw := range pipelines {
		p, ok := raw.(map[string]any)
		if !ok {
			continue
		}
		list, ok := p["processors"].([]any)
		if !ok {
			continue
		}
		var out []any
		changed := false
		for i := 0; i < len(list); {
			j := i
			for j < len(list) {
				id, ok := list[j].(string)
				if !ok || !c.isRust(typeOf(id)) {
					break
				}
				j++
			}
			if j-i < 2 {
				if j == i {
					j++
				}
				out = append(out, list[i:j]...)
				i = j
				continue
			}
			run := make([]string, 0, j-i)
			stages := make([]any, 0, j-i)
			for _, v := range list[i:j] {
				id := v.(string)
				run = append(run, id)
				stages = append(stages, map[string]any{"id": id, "config": defined[id]})
			}
			id := chainID(pid, run)
			newProcessors[id] = map[string]any{"stages": stages}
			out = append(out, id)
			changed = true
			i = j
		}
		if changed {
			newPipelines[pid] = map[string]any{"processors": out}
		}
	}
	if len(newPipelines) == 0 {
		return nil
	}
	return conf.Merge(confmap.NewFromStringMap(map[string]any{
		"processors": newProcessors,
		"service":    map[string]any{"pipelines": newPipelines},
	}))
}
