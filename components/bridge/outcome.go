package bridge

/*
#include "otelcol_rust_bridge.h"
*/
import "C"

import (
	"context"
	"errors"
	"fmt"
	"time"
	"unsafe"

	"go.opentelemetry.io/collector/consumer/consumererror"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/otelcol-rust/otelcol-rust/components/internal/rusterrors"
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

// The classification is shared with the cgo-free path
// (internal/rusterrors), so both distributions answer clients alike.
func validGRPCCode(c int32) bool   { return rusterrors.ValidGRPCCode(c) }
func validHTTPStatus(s int32) bool { return rusterrors.ValidHTTPStatus(s) }

func statusError(msg string, permanent bool, grpcCode, httpStatus int32, retryAfter time.Duration) error {
	return rusterrors.StatusError(msg, permanent, grpcCode, httpStatus, retryAfter)
}

func retryHint(nanos uint64) time.Duration { return rusterrors.RetryHint(nanos) }

func canceledError(ctx context.Context) error { return rusterrors.CanceledError(ctx) }

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
		return rusterrors.NewPanicError(err)
	}
	return err
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
