package bridge

/*
#include "otelcol_rust_bridge.h"
*/
import "C"

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"
	"unsafe"

	"go.opentelemetry.io/collector/consumer/consumererror"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"
)

// Errors across the crossing (rust/bridge/src/outcome.rs): a request's
// ProcessingError becomes the error a Go processor would return, and the
// next consumer's error goes back into Rust with its class and codes.

// Error kinds, from the generated header.
const (
	errNone        = C.OTELCOL_RUST_ERR_NONE
	errPermanent   = C.OTELCOL_RUST_ERR_PERMANENT
	errRetryable   = C.OTELCOL_RUST_ERR_RETRYABLE
	errCancelled   = C.OTELCOL_RUST_ERR_CANCELLED
	errDeadline    = C.OTELCOL_RUST_ERR_DEADLINE
	errPanic       = C.OTELCOL_RUST_ERR_PANIC
	errInvalidData = C.OTELCOL_RUST_ERR_INVALID_DATA
	errDownstream  = C.OTELCOL_RUST_ERR_DOWNSTREAM
	errBridge      = C.OTELCOL_RUST_ERR_BRIDGE
)

// rustError is what Rust reported, before it becomes a Go error.
type rustError struct {
	kind       uint8
	permanent  bool
	grpcCode   int32
	httpStatus int32
	retryAfter time.Duration
	message    string
	original   error // the Go error Rust passed back, if any
}

// readError copies what a Rust error says and frees what it owns.
func readError(e *C.OtelcolRustError) *rustError {
	if e.kind == errNone {
		return nil
	}
	re := &rustError{
		kind:       uint8(e.kind),
		permanent:  e.permanent != 0,
		grpcCode:   int32(e.grpc_code),
		httpStatus: int32(e.http_status),
		retryAfter: retryHint(uint64(e.retry_after_nanos)),
		message:    C.GoStringN((*C.char)(unsafe.Pointer(e.message)), C.int(e.message_len)),
	}
	if e.foreign_error != 0 {
		re.original = heldError(uint64(e.foreign_error))
	}
	// Freeing the details drops Rust's reference to the foreign error,
	// which releases it from goErrors: read it first.
	C.otelcol_rust_error_free(e.details)
	return re
}

// validGRPCCode reports whether Rust sent a code the Collector accepts in
// an error: OK and numbers gRPC does not define are treated as absent
// (consumererror.NewOTLPGRPCError panics on OK).
func validGRPCCode(c int32) bool { return c > 0 && c <= 16 }

// validHTTPStatus likewise: only 4xx and 5xx (NewOTLPHTTPError panics on 2xx).
func validHTTPStatus(s int32) bool { return s >= 400 && s <= 599 }

// goError builds the error a Go processor would have returned for what
// Rust reported. ctx is the request's context, for cancellation causes.
func (re *rustError) goError(ctx context.Context) error {
	if re == nil {
		return nil
	}
	if re.original != nil {
		if re.message == re.original.Error() {
			// Rust returned the downstream error unchanged: the very value.
			return re.original
		}
		// Rust wrapped it: keep its text, unwrap to the original.
		return &wrappedError{msg: re.message, err: re.original}
	}
	switch re.kind {
	case errCancelled, errDeadline:
		// Go's cancel reaches Rust also when the deadline passes: what
		// ended the context decides which of the two it was.
		if ctx != nil && ctx.Err() != nil {
			return ctxError(ctx)
		}
		if re.kind == errDeadline {
			return context.DeadlineExceeded
		}
		return canceledError(ctx)
	}
	err := statusError(re.message, re.permanent, re.grpcCode, re.httpStatus, re.retryAfter)
	if re.kind == errPanic {
		return &panicError{err}
	}
	return err
}

// panicError marks a contained Rust panic (for the requests metric); it
// is otherwise the permanent error it wraps.
type panicError struct{ error }

func (p *panicError) Unwrap() error { return p.error }

// statusError makes an error carrying a class and transport codes in the
// forms the Collector reads: consumererror.IsPermanent, (*Error).IsRetryable,
// ToGRPCStatus, ToHTTPStatus, and status.FromError (what otlpreceiver uses
// to answer gRPC and HTTP clients).
func statusError(msg string, permanent bool, grpcCode, httpStatus int32, retryAfter time.Duration) error {
	code, hasCode := codes.Code(0), false
	switch {
	case validGRPCCode(grpcCode):
		code, hasCode = codes.Code(grpcCode), true
	case validHTTPStatus(httpStatus):
		// An HTTP status alone still reaches gRPC clients, as the closest
		// code (and HTTP clients through it).
		code, hasCode = grpcCodeForHTTP(int(httpStatus)), true
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
		if validHTTPStatus(httpStatus) && !validGRPCCode(grpcCode) {
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
// [minRetryHint, maxRetryHint]: a client always gets one it can act on.
const (
	minRetryHint = time.Second
	maxRetryHint = time.Hour
)

// retryHint turns the delay Rust suggested (0: none) into the hint sent.
func retryHint(nanos uint64) time.Duration {
	if nanos == 0 {
		return 0
	}
	if nanos >= uint64(maxRetryHint) {
		return maxRetryHint
	}
	d := time.Duration(nanos)
	if r := d % time.Second; r != 0 {
		d += time.Second - r
	}
	return max(d, minRetryHint)
}

// statusCarrier gives an error chain the gRPC status Rust asked for.
type statusCarrier struct {
	err error
	st  *status.Status
}

func (s *statusCarrier) Error() string              { return s.err.Error() }
func (s *statusCarrier) Unwrap() error              { return s.err }
func (s *statusCarrier) GRPCStatus() *status.Status { return s.st }

// grpcCodeForHTTP maps an HTTP error status to the gRPC code that
// otlpreceiver maps back to it.
func grpcCodeForHTTP(s int) codes.Code {
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

// canceledError is context.Canceled, keeping the context's cause.
func canceledError(ctx context.Context) error {
	if ctx != nil {
		if cause := context.Cause(ctx); cause != nil && !errors.Is(cause, context.Canceled) {
			return fmt.Errorf("%w: %w", context.Canceled, cause)
		}
	}
	return context.Canceled
}

// wrappedError is a Go error that Rust wrapped with more text.
type wrappedError struct {
	msg string
	err error
}

func (w *wrappedError) Error() string { return w.msg }
func (w *wrappedError) Unwrap() error { return w.err }

// reply is the next consumer's answer to an emission, as Rust reads it.
type reply struct {
	kind       C.uint8_t
	grpcCode   C.int32_t
	httpStatus C.int32_t
	foreign    C.uint64_t
	message    string
}

// replyFor tells Rust what the next consumer answered: its class, its
// codes and its text, and an id for the value itself.
func replyFor(err error) reply {
	if err == nil {
		return reply{kind: C.OTELCOL_RUST_ERR_NONE}
	}
	var r reply
	switch {
	case consumererror.IsPermanent(err):
		r.kind = C.OTELCOL_RUST_ERR_PERMANENT
	case errors.Is(err, context.Canceled):
		r.kind = C.OTELCOL_RUST_ERR_CANCELLED
	case errors.Is(err, context.DeadlineExceeded):
		r.kind = C.OTELCOL_RUST_ERR_DEADLINE
	default:
		r.kind = C.OTELCOL_RUST_ERR_RETRYABLE
	}
	if ce, ok := errors.AsType[*consumererror.Error](err); ok {
		if st := consumererror.ToGRPCStatus(ce); st != nil && st.Code() != codes.OK {
			r.grpcCode = C.int32_t(st.Code())
		}
		if s := consumererror.ToHTTPStatus(ce); validHTTPStatus(int32(s)) {
			r.httpStatus = C.int32_t(s)
		}
	} else if st, ok := status.FromError(err); ok && st.Code() != codes.OK {
		r.grpcCode = C.int32_t(st.Code())
	}
	r.message = err.Error()
	r.foreign = C.uint64_t(holdError(err))
	return r
}

// messagePtr is the address of the reply's text, which Rust copies during
// the call that passes it.
func (r *reply) messagePtr() (*C.uint8_t, C.size_t) {
	if r.message == "" {
		return nil, 0
	}
	return (*C.uint8_t)(unsafe.Pointer(unsafe.StringData(r.message))), C.size_t(len(r.message))
}

// rustBytes views n bytes of Rust memory at p, valid until the next call
// into the request that handed them over.
func rustBytes(p *C.uint8_t, n C.size_t) []byte {
	if p == nil || n == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(p)), int(n))
}

func bridgeError(format string, args ...any) error {
	return consumererror.NewPermanent(fmt.Errorf(format, args...))
}
