package main

import (
	"strings"
	"testing"
)

// perf script -F ip,sym output: three samples in the processor (contrib's,
// a Rust frame with Go frames around it, the bridge's Go), one in the
// exporter called from the bridge, two in the receiver's unmarshal, one
// unresolved.
const perfScript = `
	  a7820b go.opentelemetry.io/collector/pdata/internal.NewSpan
	  a2fe8d go.opentelemetry.io/collector/pdata/internal.(*ExportTraceServiceRequest).UnmarshalProto
	  13b95ae go.opentelemetry.io/collector/pdata/internal/otelgrpc.traceServiceExportHandler

	  a77d38 go.opentelemetry.io/collector/pdata/internal.(*ScopeSpans).UnmarshalProto

	  650a04 runtime.mallocgc
	  18574ad github.com/open-telemetry/opentelemetry-collector-contrib/internal/coreinternal/attraction.(*AttrProc).Process
	  13b95ae go.opentelemetry.io/collector/pdata/internal/otelgrpc.traceServiceExportHandler

	  1945fd5 otelcol_rust_engine::pdata::walk::visit
	  7f4a98d978a8 [unknown]

	  1868e13 github.com/otelcol-rust/otelcol-rust/components/bridge.(*projectionWriter).entries.func1
	  13b95ae go.opentelemetry.io/collector/pdata/internal/otelgrpc.traceServiceExportHandler

	  a0b0c0 go.opentelemetry.io/collector/exporter/debugexporter.(*debugExporter).pushTraces
	  1868e13 github.com/otelcol-rust/otelcol-rust/components/bridge.(*request).forward

	  7f4a98d978a8 [unknown]
`

func TestClassifyStacks(t *testing.T) {
	got := classifyStacks(strings.NewReader(perfScript))
	want := stackCounts{processor: 3, unmarshal: 2, total: 7, resolved: 6}
	if got != want {
		t.Fatalf("classifyStacks = %+v, want %+v", got, want)
	}
}

func TestSampledCosts(t *testing.T) {
	r := result{usPerSpan: 4, profile: windowProfile{processor: 0.25, unmarshal: 0.5, samples: 100}}
	if got := sampledCost(r); got != 1 {
		t.Fatalf("sampledCost = %v, want 1", got)
	}
	if got := againstUnmarshal(r); got != 0.5 {
		t.Fatalf("againstUnmarshal = %v, want 0.5", got)
	}
	if got := againstUnmarshal(result{}); got != 0 {
		t.Fatalf("againstUnmarshal without samples = %v, want 0", got)
	}
}
