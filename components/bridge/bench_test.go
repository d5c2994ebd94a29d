//go:build otelcolrust_testing

package bridge

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"testing"

	"github.com/open-telemetry/opentelemetry-collector-contrib/processor/attributesprocessor"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/collector/processor/processortest"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// Benchmarks of the request path. Compare each against
// BenchmarkBaselineGoMarshalUnmarshal with the same span count, measured in
// the same run (make bench prints them together).

var benchSizes = []int{1, 1000}

func BenchmarkBaselineGoMarshalUnmarshal(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("spans=%d", n), func(b *testing.B) {
			td := sampleTraces(n)
			b.ReportAllocs()
			for b.Loop() {
				buf, err := tracesMarshaler.MarshalTraces(td)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := tracesUnmarshaler.UnmarshalTraces(buf); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkNoopConsume is ConsumeTraces through the no-op Rust processor:
// Go marshal, the crossing, the emission of unchanged data (no unmarshal).
func BenchmarkNoopConsume(b *testing.B) {
	for _, n := range benchSizes {
		for _, mode := range []string{"inline", "slow"} {
			settings := map[string]any{}
			typ := "test_noop"
			if mode == "slow" {
				typ, settings = "test_scripted", map[string]any{"yield_once": true}
			}
			b.Run(fmt.Sprintf("%s/spans=%d/sequential", mode, n), func(b *testing.B) {
				p := newTraces(b, typ, settings, consumertest.NewNop())
				td := sampleTraces(n)
				ctx := context.Background()
				b.ReportAllocs()
				for b.Loop() {
					if err := p.ConsumeTraces(ctx, td); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run(fmt.Sprintf("%s/spans=%d/parallel", mode, n), func(b *testing.B) {
				p := newTraces(b, typ, settings, consumertest.NewNop())
				td := sampleTraces(n)
				ctx := context.Background()
				b.ReportAllocs()
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						if err := p.ConsumeTraces(ctx, td); err != nil {
							b.Error(err)
							return
						}
					}
				})
			})
		}
	}
}

// BenchmarkCrossing is the round trip alone: a pre-marshalled 1-span
// request into Rust, the next consumer called from Go, and the outcome;
// no marshal or unmarshal. The input is in C memory, as the pooled
// projection buffers that carry a request's attributes are. Modes:
//
//   - inline: test_noop, which ends with EffectHandler::forward, so the
//     data and the end come back in one crossing;
//   - inline-observing: test_scripted sending with send_message, which
//     waits for the consumer's answer: a second crossing hands it back;
//   - slow: test_scripted waiting once for a task on the bridge's runtime.
func BenchmarkCrossing(b *testing.B) {
	for _, mode := range []string{"inline", "inline-observing", "slow"} {
		typ, settings := "test_noop", map[string]any{}
		switch mode {
		case "inline-observing":
			typ = "test_scripted"
		case "slow":
			typ, settings = "test_scripted", map[string]any{"yield_once": true}
		}
		td := sampleTraces(1)
		marshalled, err := tracesMarshaler.MarshalTraces(td)
		require.NoError(b, err)
		buf, free := cBytes(marshalled)
		b.Cleanup(free)
		b.Run(mode+"/sequential", func(b *testing.B) {
			p := newTraces(b, typ, settings, consumertest.NewNop()).(*Processor)
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				r := newRequest(ctx, p)
				r.traces, r.buf, r.bufInC = td, buf, true
				if err := p.process(r); err != nil {
					b.Fatal(err)
				}
				r.recycle()
			}
		})
		b.Run(mode+"/parallel", func(b *testing.B) {
			p := newTraces(b, typ, settings, consumertest.NewNop()).(*Processor)
			ctx := context.Background()
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					r := newRequest(ctx, p)
					r.traces, r.buf, r.bufInC = td, buf, true
					if err := p.process(r); err != nil {
						b.Error(err)
						return
					}
					r.recycle()
				}
			})
		})
	}
}

var _ = ptrace.NewTraces

// BenchmarkTelemetryCost is the inline no-op round trip (1 span) with the
// Collector's default self-telemetry (an SDK MeterProvider collecting the
// bridge's metrics, an info-level logger, no tracing) against no-op
// providers, in the same run.
func BenchmarkTelemetryCost(b *testing.B) {
	td := sampleTraces(1)
	for _, withTelemetry := range []bool{false, true} {
		name := "noop-providers"
		if withTelemetry {
			name = "default-telemetry"
		}
		b.Run(name, func(b *testing.B) {
			f := testFactory(b, "test_noop")
			set := processortest.NewNopSettings(f.Type())
			if withTelemetry {
				set.MeterProvider = sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
				set.Logger = zap.New(zapcore.NewCore(zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig()), zapcore.AddSync(io.Discard), zapcore.InfoLevel))
			}
			p, err := f.CreateTraces(context.Background(), set, f.CreateDefaultConfig(), consumertest.NewNop())
			require.NoError(b, err)
			require.NoError(b, p.Start(context.Background(), componenttest.NewNopHost()))
			b.Cleanup(func() { require.NoError(b, p.Shutdown(context.Background())) })
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if err := p.ConsumeTraces(ctx, td); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// loadBatch is the load test's batch: n spans with 7 attributes each.
func loadBatch(n int) ptrace.Traces {
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("service.name", "checkout")
	ss := rs.ScopeSpans().AppendEmpty()
	for i := 0; i < n; i++ {
		s := ss.Spans().AppendEmpty()
		s.SetName("GET /api/cart")
		s.SetTraceID([16]byte{1, 2, 3, byte(i)})
		s.SetSpanID([8]byte{9, byte(i), 1})
		s.SetStartTimestamp(1_700_000_000_000_000_000)
		s.SetEndTimestamp(1_700_000_000_001_000_000)
		a := s.Attributes()
		a.PutStr("http.method", "POST")
		a.PutStr("http.url", "https://shop.example.com/api/cart?item=42")
		a.PutInt("http.status_code", 200)
		a.PutStr("user.email", fmt.Sprintf("user%d@example.com", i%97))
		a.PutStr("internal.debug", "trace-sampler=on")
		a.PutStr("net.peer.ip", "10.1.2.3")
		a.PutInt("thread.id", int64(i%16))
	}
	return td
}

var benchActions = map[string]any{"actions": []any{
	map[string]any{"key": "environment", "value": "production", "action": "insert"},
	map[string]any{"key": "http.method", "value": "GET", "action": "update"},
	map[string]any{"key": "internal.debug", "action": "delete"},
	map[string]any{"key": "user.email", "action": "hash"},
}}

// BenchmarkAttributes1k: the attributes actions on 1000 spans, through
// contrib's Go processor and through rust_attributes, and Go's marshal of
// the same batch (the part of a crossing no design of this kind avoids).
func BenchmarkAttributes1k(b *testing.B) {
	b.Run("go-marshal", func(b *testing.B) {
		td := loadBatch(1000)
		for b.Loop() {
			if _, err := tracesMarshaler.MarshalTraces(td); err != nil {
				b.Fatal(err)
			}
		}
	})
	for _, name := range []string{"contrib", "rust", "rust-nothing-changes"} {
		b.Run(name, func(b *testing.B) {
			var p processor.Traces
			if name == "rust-nothing-changes" {
				p = newTraces(b, "rust_attributes", map[string]any{"actions": []any{map[string]any{"key": "no.such", "action": "delete"}}}, consumertest.NewNop())
			} else {
				p = benchAttributesProcessor(b, name)
			}
			consumeFreshBatches(b, p, loadBatch(1000))
		})
	}
}

// benchAttributesProcessor is contrib's attributes processor ("contrib")
// or rust_attributes ("rust") with benchActions, in front of a no-op.
func benchAttributesProcessor(b *testing.B, name string) processor.Traces {
	if name == "rust" {
		return newTraces(b, "rust_attributes", benchActions, consumertest.NewNop())
	}
	f := attributesprocessor.NewFactory()
	cfg := f.CreateDefaultConfig()
	require.NoError(b, confmap.NewFromStringMap(benchActions).Unmarshal(cfg))
	p, err := f.CreateTraces(context.Background(), processortest.NewNopSettings(f.Type()), cfg, consumertest.NewNop())
	require.NoError(b, err)
	return p
}

// BenchmarkProjection1k compares what the attribute projection costs Go
// with the whole-batch marshal and unmarshal it replaces.
func BenchmarkProjection1k(b *testing.B) {
	td := loadBatch(1000)
	b.Run("pdata-marshal", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := tracesMarshaler.MarshalTraces(td); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("pdata-unmarshal", func(b *testing.B) {
		buf, err := tracesMarshaler.MarshalTraces(td)
		require.NoError(b, err)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := tracesUnmarshaler.UnmarshalTraces(buf); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("projection", func(b *testing.B) {
		b.ReportAllocs()
		w := &projectionWriter{}
		for b.Loop() {
			w.buf = w.buf[:0]
			w.traces(td, false)
		}
	})
	// The same, for processors that named their keys (benchActions'):
	// the other entries as placeholders.
	b.Run("projection-named-keys", func(b *testing.B) {
		b.ReportAllocs()
		w := &projectionWriter{keysNamed: true, keys: newKeySet([]string{"environment", "http.method", "internal.debug", "user.email"})}
		for b.Loop() {
			w.buf = w.buf[:0]
			w.traces(td, false)
		}
	})
}

// BenchmarkProjection1kWhileMarking is the named-keys projection while the
// garbage collector marks, as it does much of the time in a loaded
// collector: a goroutine runs collections back to back. Every pointer the
// writer stores then goes through the write barrier, which the writer
// avoids (projection.go); the other benchmarks, with an idle collector,
// cannot show that. The marking goroutine takes a core of its own, so
// compare this with itself across a change, not with the others.
func BenchmarkProjection1kWhileMarking(b *testing.B) {
	td := loadBatch(1000)
	defer keepMarking()()
	w := &projectionWriter{keysNamed: true, keys: newKeySet([]string{"environment", "http.method", "internal.debug", "user.email"})}
	b.ReportAllocs()
	for b.Loop() {
		w.buf = w.buf[:0]
		w.traces(td, false)
	}
}

// keepMarking runs garbage collections back to back until the function it
// returns is called.
func keepMarking() (stop func()) {
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		for {
			select {
			case <-done:
				return
			default:
				runtime.GC()
			}
		}
	}()
	return func() {
		close(done)
		<-stopped
	}
}

// BenchmarkApplyEdits1k is Go's share of an edited batch: replaying the
// edit list rust_attributes made (4 actions on 1000 spans) on a fresh copy
// of the batch.
func BenchmarkApplyEdits1k(b *testing.B) {
	p := newTraces(b, "rust_attributes", benchActions, consumertest.NewNop())
	replayFreshBatches(b, editListOf(b, p, loadBatch(1000)), loadBatch(1000))
}

// consumeFreshBatches times p.ConsumeTraces of a fresh copy of src each
// time, as a receiver makes them: processors edit in place.
func consumeFreshBatches(b *testing.B, p processor.Traces, src ptrace.Traces) {
	ctx := context.Background()
	onFreshBatches(b, src, func(td ptrace.Traces) error { return p.ConsumeTraces(ctx, td) })
}

// editListOf is the edit list p hands Go for td.
func editListOf(b *testing.B, p processor.Traces, td ptrace.Traces) []byte {
	var list []byte
	testHookEmitData = func(data []byte) { list = append([]byte(nil), data...) }
	defer func() { testHookEmitData = nil }()
	require.NoError(b, p.ConsumeTraces(context.Background(), td))
	require.NotEmpty(b, list)
	return list
}

// replayFreshBatches times Go's replay of list on a fresh copy of src each
// time.
func replayFreshBatches(b *testing.B, list []byte, src ptrace.Traces) {
	onFreshBatches(b, src, func(td ptrace.Traces) error {
		return applyEdits(list, td, pmetric.Metrics{}, plog.Logs{}, signalTraces)
	})
}

// onFreshBatches times f on a fresh copy of src each time, decoded from
// the wire as a receiver decodes it (not CopyTo, which sizes every
// attribute map exactly: an insert would then grow maps the receiver
// leaves room in); the decode is not timed.
func onFreshBatches(b *testing.B, src ptrace.Traces, f func(ptrace.Traces) error) {
	wire, err := tracesMarshaler.MarshalTraces(src)
	require.NoError(b, err)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		td, err := tracesUnmarshaler.UnmarshalTraces(wire)
		require.NoError(b, err)
		b.StartTimer()
		if err := f(td); err != nil {
			b.Fatal(err)
		}
	}
}

// distinctStage is stage i of a chain whose stages all record operations
// on every span: an insert of the stage's own key, and an update of
// http.method to a value of another length than the previous stage's.
func distinctStage(i int) map[string]any {
	return map[string]any{"actions": []any{
		map[string]any{"key": fmt.Sprintf("stage.%d", i), "value": "production", "action": "insert"},
		map[string]any{"key": "http.method", "value": []string{"GET", "HEAD", "PATCH"}[i], "action": "update"},
	}}
}

// BenchmarkAttributesChain1k is the whole ConsumeTraces (projection,
// crossing, Rust work, edit replay) of one rust_attributes against a fused
// chain of three with the same actions: the load test's target is three
// costing at most 1.3x one. "nothing" is the same with actions that change
// nothing; "distinct" stages each insert their own key and update
// http.method to a value of another length, so every stage records
// operations on every span.
func BenchmarkAttributesChain1k(b *testing.B) {
	nothing := map[string]any{"actions": []any{map[string]any{"key": "no.such", "action": "delete"}}}
	same := func(settings map[string]any) func(int) map[string]any {
		return func(int) map[string]any { return settings }
	}
	distinct := distinctStage
	for _, c := range []struct {
		name     string
		settings func(int) map[string]any
		stages   int
	}{
		{"one", same(benchActions), 1},
		{"three", same(benchActions), 3},
		{"nothing-one", same(nothing), 1},
		{"nothing-three", same(nothing), 3},
		{"distinct-one", distinct, 1},
		{"distinct-three", distinct, 3},
	} {
		b.Run(c.name, func(b *testing.B) {
			stages := make([]ChainStage, c.stages)
			for i := range stages {
				stages[i] = ChainStage{ID: component.MustNewIDWithName("rust_attributes", fmt.Sprint(i)), Config: c.settings(i)}
			}
			var p processor.Traces
			if c.stages == 1 {
				p = newTraces(b, "rust_attributes", c.settings(0), consumertest.NewNop())
			} else {
				p = newChain(b, processor.Settings{}, consumertest.NewNop(), stages...)
			}
			consumeFreshBatches(b, p, loadBatch(1000))
		})
	}
}

// BenchmarkApplyEditsChain1k is Go's share of a chain of three whose
// stages all record operations (distinctStage): replaying the edit list
// the chain hands back, on a fresh copy of the batch.
func BenchmarkApplyEditsChain1k(b *testing.B) {
	stages := make([]ChainStage, 3)
	for i := range stages {
		stages[i] = ChainStage{ID: component.MustNewIDWithName("rust_attributes", fmt.Sprint(i)), Config: distinctStage(i)}
	}
	p := newChain(b, processor.Settings{}, consumertest.NewNop(), stages...)
	replayFreshBatches(b, editListOf(b, p, loadBatch(1000)), loadBatch(1000))
}
