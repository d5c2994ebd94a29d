package rustprocess

import (
	"context"
	"errors"
	"time"

	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/otelcol-rust/otelcol-rust/components/internal/rusterrors"
	pb "github.com/otelcol-rust/otelcol-rust/components/internal/rustprocesspb"
)

// The Rust processors' telemetry in the Collector's: the same metrics as
// the cgo bridge (components/bridge/telemetry.go) under the same names,
// the processor's own counters read from the Rust process once per
// collection, and its logs forwarded to the component's logger.

const scopeName = "github.com/otelcol-rust/otelcol-rust/components/rustprocess"

type telemetry struct {
	requests   metric.Int64Counter
	duration   metric.Float64Histogram
	attrs      []attribute.KeyValue
	registered metric.Registration
}

func signalName(s pb.Signal) string {
	switch s {
	case pb.Signal_SIGNAL_TRACES:
		return "traces"
	case pb.Signal_SIGNAL_METRICS:
		return "metrics"
	}
	return "logs"
}

func newTelemetry(set processor.Settings, p *Processor) (*telemetry, error) {
	meter := set.MeterProvider.Meter(scopeName)
	t := &telemetry{attrs: []attribute.KeyValue{
		attribute.String("processor", set.ID.String()),
		attribute.String("otel_signal", signalName(p.signal)),
	}}
	var err error
	if t.requests, err = meter.Int64Counter("otelcol_rust_processor_requests",
		metric.WithDescription("Requests the Rust processor handled, by outcome."),
		metric.WithUnit("{requests}")); err != nil {
		return nil, err
	}
	if t.duration, err = meter.Float64Histogram("otelcol_rust_processor_duration",
		metric.WithDescription("Time from entering the processor to the request's end, as the caller saw it."),
		metric.WithUnit("s"),
		metric.WithExplicitBucketBoundaries(0.00001, 0.00005, 0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5)); err != nil {
		return nil, err
	}
	info := p.cfg.info
	if len(info.Metrics) == 0 {
		return t, nil
	}
	counters := make([]metric.Int64ObservableCounter, len(info.Metrics))
	observables := make([]metric.Observable, len(info.Metrics))
	for i, m := range info.Metrics {
		if counters[i], err = meter.Int64ObservableCounter("otelcol_rust_processor_"+info.Name+"_"+m.Name,
			metric.WithDescription(m.Description), metric.WithUnit(m.Unit)); err != nil {
			return nil, err
		}
		observables[i] = counters[i]
	}
	base := metric.WithAttributeSet(attribute.NewSet(t.attrs...))
	t.registered, err = meter.RegisterCallback(func(ctx context.Context, o metric.Observer) error {
		p.mu.Lock()
		instance, generation := p.instance, p.generation
		p.mu.Unlock()
		c, gen, err := shared.current()
		if err != nil || instance == 0 || gen != generation {
			return nil
		}
		ctx, cancel := context.WithTimeout(ctx, time.Second)
		defer cancel()
		read, err := c.Counters(ctx, &pb.CountersRequest{Instance: instance})
		if err != nil {
			return nil
		}
		for _, cv := range read.Counters {
			if int(cv.Index) >= len(counters) {
				continue
			}
			if len(cv.Attributes) == 0 {
				o.ObserveInt64(counters[cv.Index], int64(cv.Value), base)
				continue
			}
			labeled := append([]attribute.KeyValue(nil), t.attrs...)
			for i := 0; i+1 < len(cv.Attributes); i += 2 {
				labeled = append(labeled, attribute.String(cv.Attributes[i], cv.Attributes[i+1]))
			}
			o.ObserveInt64(counters[cv.Index], int64(cv.Value), metric.WithAttributeSet(attribute.NewSet(labeled...)))
		}
		return nil
	}, observables...)
	return t, err
}

func (t *telemetry) shutdown() {
	if t.registered != nil {
		_ = t.registered.Unregister()
	}
}

func (t *telemetry) record(ctx context.Context, start time.Time, err error) {
	if t == nil {
		return
	}
	set := metric.WithAttributeSet(attribute.NewSet(append(t.attrs, attribute.String("outcome", outcomeOf(err)))...))
	t.requests.Add(ctx, 1, set)
	t.duration.Record(ctx, time.Since(start).Seconds(), set)
}

func outcomeOf(err error) string {
	var pe *rusterrors.PanicError
	switch {
	case err == nil:
		return "success"
	case errors.As(err, &pe):
		return "panic"
	case errors.Is(err, context.Canceled):
		return "cancelled"
	case errors.Is(err, context.DeadlineExceeded):
		return "deadline_exceeded"
	case consumererror.IsPermanent(err):
		return "permanent"
	}
	return "retryable"
}

// forwardLogs writes what the Rust processors log to their components'
// loggers, with their component ids, until ctx ends; the stream is opened
// again after the server restarts.
func (s *server) forwardLogs(ctx context.Context, c pb.ProcessorsClient, ready chan<- struct{}) {
	level := uint32(2)
	if s.logger != nil {
		switch {
		case s.logger.Core().Enabled(zapcore.DebugLevel):
			level = 4
		case s.logger.Core().Enabled(zapcore.InfoLevel):
			level = 3
		}
	}
	for ctx.Err() == nil {
		stream, err := c.Logs(ctx, &pb.LogsRequest{MaxLevel: level})
		if err == nil {
			for {
				rec, err := stream.Recv()
				if err != nil {
					break
				}
				if rec.Level == 0 {
					// The stream's first record: it is open.
					if ready != nil {
						close(ready)
						ready = nil
					}
					continue
				}
				s.writeLog(rec)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func (s *server) writeLog(rec *pb.LogRecord) {
	logger := s.logger
	if l, ok := s.logSinks.Load(rec.Instance); ok {
		logger = l.(*zap.Logger)
	}
	if logger == nil {
		return
	}
	fields := []zap.Field{zap.String("rust.target", rec.Target)}
	for i := 0; i+1 < len(rec.Fields); i += 2 {
		fields = append(fields, zap.String(rec.Fields[i], rec.Fields[i+1]))
	}
	switch rec.Level {
	case 1:
		logger.Error(rec.Message, fields...)
	case 2:
		logger.Warn(rec.Message, fields...)
	case 3:
		logger.Info(rec.Message, fields...)
	default:
		logger.Debug(rec.Message, fields...)
	}
}
