package bridge

import (
	"context"
	"errors"
	"testing"
	"time"

	"go.opentelemetry.io/collector/client"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc/status"
)

// Fuzz targets for what Go decodes of what Rust wrote: the request
// context of an emission, the error an outcome carries, and the edit list
// of a changed batch. Whatever the bytes, Go returns an error or a value,
// never panics. `make fuzz` runs each for a bounded time; the seeds in
// testdata/fuzz (and those added below) run with every `go test`.

func FuzzDecodeRequestContext(f *testing.F) {
	sc := trace.NewSpanContext(trace.SpanContextConfig{TraceID: trace.TraceID{1}, SpanID: trace.SpanID{2}, TraceFlags: 1})
	ctx := trace.ContextWithSpanContext(context.Background(), sc)
	ctx = client.NewContext(ctx, client.Info{Metadata: client.NewMetadata(map[string][]string{
		"x-tenant": {"a", "b\xff"}, "k-bin": {"\x00\x01"},
	})})
	f.Add(encodeRequestContext(ctx, false))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, buf []byte) {
		info, _, _, err := decodeRequestContext(buf)
		if err != nil {
			return
		}
		for k := range info.Metadata.Keys() {
			_ = info.Metadata.Get(k)
		}
	})
}

func FuzzRustErrorToGoError(f *testing.F) {
	f.Add(uint8(errRetryable), false, int32(8), int32(429), uint64(time.Second), "slow down")
	f.Add(uint8(errPermanent), true, int32(0), int32(200), uint64(0), "")
	f.Add(uint8(errPanic), true, int32(17), int32(600), ^uint64(0), "boom")
	f.Fuzz(func(t *testing.T, kind uint8, permanent bool, grpcCode, httpStatus int32, retryNanos uint64, msg string) {
		re := &rustError{kind: kind % (errBridge + 1), permanent: permanent, grpcCode: grpcCode, httpStatus: httpStatus,
			retryAfter: retryHint(retryNanos), message: msg}
		err := re.goError(context.Background())
		if err == nil {
			return
		}
		if re.kind != errCancelled && re.kind != errDeadline {
			if consumererror.IsPermanent(err) != permanent && re.kind != errPanic {
				t.Fatalf("permanent %v became %v: %v", permanent, consumererror.IsPermanent(err), err)
			}
		}
		st, hasStatus := status.FromError(err)
		if hasStatus && validGRPCCode(grpcCode) && int32(st.Code()) != grpcCode {
			t.Fatalf("code %d became %d", grpcCode, st.Code())
		}
		// consumererror.ToGRPCStatus (v0.161.0) dereferences a nil
		// *Error for an error that has neither an Error nor a status
		// (found by this target); the Collector calls it only on errors
		// that have one, and so does this.
		var ce *consumererror.Error
		if errors.As(err, &ce) || hasStatus {
			_ = consumererror.ToGRPCStatus(err)
			_ = consumererror.ToHTTPStatus(err)
		}
	})
}

func FuzzApplyEdits(f *testing.F) {
	f.Add([]byte{}, uint8(0))
	f.Add([]byte{1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, uint8(0))
	f.Fuzz(func(t *testing.T, list []byte, signal uint8) {
		td := sampleTraces(3)
		md := pmetric.NewMetrics()
		dp := md.ResourceMetrics().AppendEmpty().ScopeMetrics().AppendEmpty().Metrics().AppendEmpty().SetEmptySum().DataPoints().AppendEmpty()
		dp.Attributes().PutStr("a", "b")
		ld := plog.NewLogs()
		ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords().AppendEmpty().Attributes().PutInt("n", 1)
		_ = applyEdits(list, td, md, ld, signal%3)
		// Whatever was applied, the batch still marshals.
		if _, err := (&ptrace.ProtoMarshaler{}).MarshalTraces(td); err != nil {
			t.Fatal(err)
		}
	})
}
