//go:build otelcolrust_testing

package bridge

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// The backward contract (rust/bridge/README.md "Backward: errors"), one row
// per class and code combination Rust can report.
func TestErrorMappingTable(t *testing.T) {
	type want struct {
		permanent bool
		retryable bool // (*consumererror.Error).IsRetryable, when one is in the chain
		grpc      codes.Code
		http      int
	}
	cases := []struct {
		name string
		re   rustError
		want want
	}{
		{"permanent", rustError{kind: errPermanent, permanent: true}, want{permanent: true, grpc: codes.Unknown, http: 500}},
		{"retryable", rustError{kind: errRetryable}, want{retryable: true, grpc: codes.Unavailable, http: 503}},
		{"permanent+grpc", rustError{kind: errPermanent, permanent: true, grpcCode: 3}, want{permanent: true, grpc: codes.InvalidArgument, http: 400}},
		{"retryable+grpc unavailable", rustError{kind: errRetryable, grpcCode: 14}, want{retryable: true, grpc: codes.Unavailable, http: 503}},
		{"retryable+resource exhausted+429", rustError{kind: errRetryable, grpcCode: 8, httpStatus: 429}, want{grpc: codes.ResourceExhausted, http: 429}},
		{"http only 429", rustError{kind: errRetryable, httpStatus: 429}, want{retryable: true, grpc: codes.ResourceExhausted, http: 429}},
		{"http only 400 permanent", rustError{kind: errPermanent, permanent: true, httpStatus: 400}, want{permanent: true, grpc: codes.InvalidArgument, http: 400}},
		{"grpc OK is absent", rustError{kind: errPermanent, permanent: true, grpcCode: 0}, want{permanent: true, grpc: codes.Unknown, http: 500}},
		{"grpc out of range is absent", rustError{kind: errRetryable, grpcCode: 17}, want{retryable: true, grpc: codes.Unavailable, http: 503}},
		{"negative grpc is absent", rustError{kind: errRetryable, grpcCode: -1}, want{retryable: true, grpc: codes.Unavailable, http: 503}},
		{"http 2xx is absent", rustError{kind: errRetryable, httpStatus: 200}, want{retryable: true, grpc: codes.Unavailable, http: 503}},
		{"http out of range is absent", rustError{kind: errPermanent, permanent: true, httpStatus: 700}, want{permanent: true, grpc: codes.Unknown, http: 500}},
		{"panic", rustError{kind: errPanic, permanent: true}, want{permanent: true, grpc: codes.Unknown, http: 500}},
		{"invalid data", rustError{kind: errInvalidData, permanent: true}, want{permanent: true, grpc: codes.Unknown, http: 500}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.re.message = "rust says " + tc.name
			var err error
			require.NotPanics(t, func() { err = tc.re.goError(context.Background()) })
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.re.message, "message kept")
			assert.Equal(t, tc.want.permanent, consumererror.IsPermanent(err), "IsPermanent")
			if ce, ok := errors.AsType[*consumererror.Error](err); ok {
				assert.Equal(t, tc.want.retryable, ce.IsRetryable(), "IsRetryable")
				assert.Equal(t, tc.want.grpc, consumererror.ToGRPCStatus(err).Code(), "ToGRPCStatus")
			} else {
				// Exactly what a Go processor returning
				// consumererror.NewPermanent(errors.New(msg)) gives; the
				// Collector's ToGRPCStatus cannot be called on it (nil
				// dereference in v0.161.0), otlpreceiver answers Internal.
				assert.False(t, tc.want.retryable, "no consumererror.Error in the chain")
				assert.True(t, tc.want.permanent)
			}
			assert.Equal(t, tc.want.http, consumererror.ToHTTPStatus(err), "ToHTTPStatus")
			if validGRPCCode(tc.re.grpcCode) || validHTTPStatus(tc.re.httpStatus) {
				st, ok := status.FromError(err)
				require.True(t, ok, "otlpreceiver finds the status in the chain")
				assert.Equal(t, tc.want.grpc, st.Code())
			}
		})
	}
}

func TestCancelledAndDeadlineKinds(t *testing.T) {
	err := (&rustError{kind: errDeadline}).goError(context.Background())
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	cause := errors.New("caller went away")
	ctx, cancel := context.WithCancelCause(context.Background())
	cancel(cause)
	err = (&rustError{kind: errCancelled}).goError(ctx)
	assert.ErrorIs(t, err, context.Canceled)
	assert.ErrorIs(t, err, cause, "the ctx cause is preserved")
}

func TestRetryAfterTravelsAsRetryInfo(t *testing.T) {
	err := (&rustError{kind: errRetryable, grpcCode: 8, httpStatus: 429, retryAfter: 3 * time.Second, message: "slow down"}).goError(context.Background())
	st, ok := status.FromError(err)
	require.True(t, ok)
	var found bool
	for _, d := range st.Details() {
		if ri, ok := d.(*errdetails.RetryInfo); ok {
			found = true
			assert.Equal(t, 3*time.Second, ri.GetRetryDelay().AsDuration())
		}
	}
	assert.True(t, found, "RetryInfo attached")
}

func TestScriptedErrorsCarryCodesEndToEnd(t *testing.T) {
	p := newTraces(t, "test_scripted", map[string]any{"emit": 0, "error": map[string]any{
		"kind": "retryable", "message": "tenant over limit", "grpc": 8, "http": 429,
	}}, consumertest.NewNop())
	err := p.ConsumeTraces(context.Background(), sampleTraces(1))
	require.Error(t, err)
	assert.False(t, consumererror.IsPermanent(err))
	assert.Equal(t, codes.ResourceExhausted, consumererror.ToGRPCStatus(err).Code())
	assert.Equal(t, http.StatusTooManyRequests, consumererror.ToHTTPStatus(err))
	assert.Equal(t, "tenant over limit", status.Convert(err).Message())
}

type customErr struct{ code int }

func (c *customErr) Error() string { return fmt.Sprintf("custom %d", c.code) }

func TestDownstreamErrorsRoundTripByIdentity(t *testing.T) {
	sentinel := errors.New("sentinel")
	custom := &customErr{code: 7}
	for name, downstream := range map[string]error{
		"wrapped sentinel": fmt.Errorf("exporter: %w", sentinel),
		"custom type":      custom,
		"permanent":        consumererror.NewPermanent(sentinel),
	} {
		t.Run(name, func(t *testing.T) {
			next, err := consumer.NewTraces(func(context.Context, ptrace.Traces) error { return downstream })
			require.NoError(t, err)
			p := newTraces(t, "test_noop", nil, next)
			got := p.ConsumeTraces(context.Background(), sampleTraces(1))
			assert.True(t, got == downstream, "the very same value: got %#v", got)
			assert.Zero(t, ReadStats().GoErrors, "released")
		})
	}
	var asCustom *customErr
	next, err := consumer.NewTraces(func(context.Context, ptrace.Traces) error { return custom })
	require.NoError(t, err)
	p := newTraces(t, "test_scripted", map[string]any{"wrap_downstream_error": "rust context"}, next)
	got := p.ConsumeTraces(context.Background(), sampleTraces(1))
	require.Error(t, got)
	assert.Equal(t, "rust context: custom 7", got.Error())
	require.ErrorAs(t, got, &asCustom, "a wrapped error still unwraps to the original")
	assert.Same(t, custom, asCustom)
	assert.Zero(t, ReadStats().GoErrors)
}

func TestDownstreamErrorClassIsReadableInRust(t *testing.T) {
	cases := map[string]struct {
		err  error
		want string
	}{
		"permanent":   {consumererror.NewPermanent(errors.New("p")), "permanent=true grpc=0 http=0"},
		"retryable":   {errors.New("r"), "permanent=false grpc=0 http=0"},
		"grpc status": {consumererror.NewOTLPGRPCError(nil, status.New(codes.ResourceExhausted, "full")), "permanent=false grpc=8 http=429"},
		"http status": {consumererror.NewOTLPHTTPError(errors.New("h"), 503), "permanent=false grpc=14 http=503"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			next, err := consumer.NewTraces(func(context.Context, ptrace.Traces) error { return tc.err })
			require.NoError(t, err)
			// The scripted processor describes the downstream error it saw
			// in a permanent error of its own.
			p := newTraces(t, "test_scripted", map[string]any{"describe_downstream_error": true}, next)
			got := p.ConsumeTraces(context.Background(), sampleTraces(1))
			require.Error(t, got)
			assert.Contains(t, got.Error(), tc.want)
			assert.Contains(t, got.Error(), "message="+tc.err.Error())
		})
	}
}

// A retry hint is whole seconds, at least one and at most an hour, so
// that OTLP/HTTP's Retry-After never reads 0 and a hint too long for a
// time.Duration is not lost.
func TestRetryHint(t *testing.T) {
	for _, tc := range []struct {
		nanos uint64
		want  time.Duration
	}{
		{0, 0},
		{1, time.Second},
		{uint64(300 * time.Millisecond), time.Second},
		{uint64(time.Second), time.Second},
		{uint64(1500 * time.Millisecond), 2 * time.Second},
		{uint64(2 * time.Hour), time.Hour},
		{1 << 63, time.Hour},
		{^uint64(0), time.Hour},
	} {
		assert.Equal(t, tc.want, retryHint(tc.nanos), "%d ns", tc.nanos)
	}
}
