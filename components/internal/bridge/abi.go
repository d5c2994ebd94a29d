package bridge

/*
#include "bridge.h"
*/
import "C"

import (
	"fmt"
	"unsafe"
)

// checkABI compares the layouts of the hand-written structs as Rust built
// them with bridge.h as cgo sees it. A mismatch means the linked staticlib
// and this package disagree (a stale build), which would corrupt memory.
func checkABI() error {
	l := C.otelcol_rust_abi_layout()
	checks := []struct {
		what       string
		rust, goes uintptr
	}{
		{"sizeof(outcome)", uintptr(l.outcome_size), unsafe.Sizeof(C.otelcol_rust_outcome{})},
		{"offsetof(outcome.foreign_error)", uintptr(l.outcome_foreign_error), unsafe.Offsetof(C.otelcol_rust_outcome{}.foreign_error)},
		{"offsetof(outcome.details)", uintptr(l.outcome_details), unsafe.Offsetof(C.otelcol_rust_outcome{}.details)},
		{"sizeof(emit_reply)", uintptr(l.emit_reply_size), unsafe.Sizeof(C.otelcol_rust_emit_reply{})},
		{"offsetof(emit_reply.message_len)", uintptr(l.emit_reply_message_len), unsafe.Offsetof(C.otelcol_rust_emit_reply{}.message_len)},
	}
	for _, c := range checks {
		if c.rust != c.goes {
			return fmt.Errorf("otelcol-rust bridge ABI mismatch: %s is %d in the Rust library but %d in bridge.h; rebuild the Rust staticlib (make rust)", c.what, c.rust, c.goes)
		}
	}
	return nil
}

func init() {
	if err := checkABI(); err != nil {
		panic(err)
	}
}
