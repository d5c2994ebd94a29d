package bridge

/*
#include <stdlib.h>
#include <string.h>
#include "bridge.h"
*/
import "C"

import (
	"context"
	"errors"
	"fmt"
	"unsafe"

	"go.opentelemetry.io/collector/consumer/consumererror"
)

// Error kinds shared with Rust (rust/bridge/src/abi.rs).
const (
	errNone        = 0
	errPermanent   = 1
	errRetryable   = 2
	errCancelled   = 3
	errDeadline    = 4
	errPanic       = 5
	errInvalidData = 6
	errDownstream  = 7
	errBridge      = 8
)

// outcomeError turns a Rust outcome into the error a Go processor would
// have returned, and frees what the outcome owns.
func outcomeError(o *C.otelcol_rust_outcome) error {
	if o.error_kind == errNone {
		return nil
	}
	msg := C.GoStringN(o.message_ptr, C.int(o.message_len))
	var original error
	if o.foreign_error != 0 {
		original = heldError(uint64(o.foreign_error))
	}
	// Freeing the details drops Rust's reference to the foreign error,
	// which releases it from goErrors: read it first.
	C.otelcol_rust_details_free(o.details)
	if original != nil {
		return original
	}
	switch o.error_kind {
	case errCancelled:
		return context.Canceled
	case errDeadline:
		return context.DeadlineExceeded
	}
	err := errors.New(msg)
	if o.permanent != 0 {
		return consumererror.NewPermanent(err)
	}
	return err
}

// writeReply tells Rust what the next consumer answered to an emission.
func writeReply(reply *C.otelcol_rust_emit_reply, err error) {
	*reply = C.otelcol_rust_emit_reply{}
	if err == nil {
		return
	}
	switch {
	case consumererror.IsPermanent(err):
		reply.error_kind = errPermanent
	case errors.Is(err, context.Canceled):
		reply.error_kind = errCancelled
	case errors.Is(err, context.DeadlineExceeded):
		reply.error_kind = errDeadline
	default:
		reply.error_kind = errRetryable
	}
	msg := err.Error()
	reply.message = (*C.char)(C.CBytes([]byte(msg)))
	reply.message_len = C.size_t(len(msg))
	reply.foreign_error = C.uint64_t(holdError(err))
}

// cPointer turns an address that Rust sent as an integer back into a
// pointer. Only ever used on Rust-owned memory (never Go memory), which the
// garbage collector neither moves nor scans.
func cPointer(addr uint) unsafe.Pointer {
	return *(*unsafe.Pointer)(unsafe.Pointer(&addr))
}

func bridgeError(format string, args ...any) error {
	return consumererror.NewPermanent(fmt.Errorf(format, args...))
}
