// Package rusterrors turns what a Rust processor reported (its
// ProcessingError's class, gRPC and HTTP codes, retry delay and text)
// into the error a Go processor would return. It is pure Go, shared by the
// cgo bridge (components/bridge) and the cgo-free path
// (components/rustprocess), so that both distributions answer clients
// identically.
package rusterrors // import "github.com/otelcol-rust/otelcol-rust/components/internal/rusterrors"

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"go.opentelemetry.io/collector/consumer/consumererror"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"
)

// ValidGRPCCode reports whether Rust sent a code the Collector accepts in
// an error: OK and numbers gRPC does not define are treated as absent
// (consumererror.NewOTLPGRPCError panics on OK).
func ValidGRPCCode(c int32) bool { return c > 0 && c <= 16 }

// ValidHTTPStatus likewise: only 4xx and 5xx (NewOTLPHTTPError panics on 2xx).
func ValidHTTPStatus(s int32) bool { return s >= 400 && s <= 599 }

// PanicError marks a contained Rust panic (for the requests metric); it
// is otherwise the permanent error it wraps.
type PanicError struct{ error }

// NewPanicError wraps err.
func NewPanicError(err error) error { return &PanicError{err} }

// Unwrap returns the permanent error.
func (p *PanicError) Unwrap() error { return p.error }

// StatusError makes an error carrying a class and transport codes in the
// forms the Collector reads: consumererror.IsPermanent, (*Error).IsRetryable,
// ToGRPCStatus, ToHTTPStatus, and status.FromError (what otlpreceiver uses
// to answer gRPC and HTTP clients).
func StatusError(msg string, permanent bool, grpcCode, httpStatus int32, retryAfter time.Duration) error {
	code, hasCode := codes.Code(0), false
	switch {
	case ValidGRPCCode(grpcCode):
		code, hasCode = codes.Code(grpcCode), true
	case ValidHTTPStatus(httpStatus):
		// An HTTP status alone still reaches gRPC clients, as the closest
		// code (and HTTP clients through it).
		code, hasCode = GRPCCodeForHTTP(int(httpStatus)), true
	}
	var err error
	var st *status.Status
	if hasCode {
		st = status.New(code, msg)
		if retryAfter > 0 {
			if withInfo, derr := st.WithDetails(&errdetails.RetryInfo{RetryDelay: durationpb.New(retryAfter)}); derr == nil {
				st = withInfo
			}
		}
		err = consumererror.NewOTLPGRPCError(errors.New(msg), st)
		if ValidHTTPStatus(httpStatus) && !ValidGRPCCode(grpcCode) {
			err = consumererror.NewOTLPHTTPError(err, int(httpStatus))
		}
	} else {
		err = errors.New(msg)
		if !permanent {
			err = consumererror.NewRetryableError(err)
		}
	}
	if permanent {
		err = consumererror.NewPermanent(err)
	}
	if hasCode {
		// Outermost, so that status.FromError (what otlpreceiver answers
		// clients with) takes this status as is, message included.
		err = &statusCarrier{err: err, st: st}
	}
	return err
}

// A retry hint is what a throttled client waits before it resends. OTLP
// over HTTP carries it as whole seconds (Retry-After), so a hint under a
// second would read "0" there (resend at once); a hint past the longest a
// time.Duration holds would overflow to a negative one and be dropped.
// Hints are therefore rounded up to whole seconds and kept within
// [MinRetryHint, MaxRetryHint]: a client always gets one it can act on.
const (
	MinRetryHint = time.Second
	MaxRetryHint = time.Hour
)

// RetryHint turns the delay Rust suggested (0: none) into the hint sent.
func RetryHint(nanos uint64) time.Duration {
	if nanos == 0 {
		return 0
	}
	if nanos >= uint64(MaxRetryHint) {
		return MaxRetryHint
	}
	d := time.Duration(nanos)
	if r := d % time.Second; r != 0 {
		d += time.Second - r
	}
	return max(d, MinRetryHint)
}

// statusCarrier gives an error chain the gRPC status Rust asked for.
type statusCarrier struct {
	err error
	st  *status.Status
}

func (s *statusCarrier) Error() string              { return s.err.Error() }
func (s *statusCarrier) Unwrap() error              { return s.err }
func (s *statusCarrier) GRPCStatus() *status.Status { return s.st }

// GRPCCodeForHTTP maps an HTTP error status to the gRPC code that
// otlpreceiver maps back to it.
func GRPCCodeForHTTP(s int) codes.Code {
	switch s {
	case http.StatusBadRequest:
		return codes.InvalidArgument
	case http.StatusUnauthorized:
		return codes.Unauthenticated
	case http.StatusForbidden:
		return codes.PermissionDenied
	case http.StatusNotFound:
		return codes.Unimplemented
	case http.StatusTooManyRequests:
		return codes.ResourceExhausted
	case http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return codes.Unavailable
	}
	return codes.Unknown
}

// CanceledError is context.Canceled, keeping the context's cause.
func CanceledError(ctx context.Context) error {
	if ctx != nil {
		if cause := context.Cause(ctx); cause != nil && !errors.Is(cause, context.Canceled) {
			return fmt.Errorf("%w: %w", context.Canceled, cause)
		}
	}
	return context.Canceled
}

// CtxError is the error of an ended context, as a Go processor returns
// it: context.DeadlineExceeded or context.Canceled, its cause kept.
func CtxError(ctx context.Context) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		if cause := context.Cause(ctx); cause != nil && !errors.Is(cause, context.DeadlineExceeded) {
			return fmt.Errorf("%w: %w", context.DeadlineExceeded, cause)
		}
		return context.DeadlineExceeded
	}
	return CanceledError(ctx)
}
