//go:build otelcolrust_testing

package bridge

/*
#include <stdlib.h>
#include "otelcol_rust_bridge.h"
*/
import "C"

import "unsafe"

// rustTestingPointers reports where the test processor last read its input
// and where the last emission's bytes were, as Rust saw them.
func rustTestingPointers() (lastInput, lastEmitted uintptr) {
	p := C.otelcol_rust_testing_pointers()
	return uintptr(p.last_input), uintptr(p.last_emitted)
}

// cBytes copies b into C memory, as a pooled projection buffer holds a
// request's input; free releases it.
func cBytes(b []byte) (buf []byte, free func()) {
	p := C.CBytes(b)
	return unsafe.Slice((*byte)(p), len(b)), func() { C.free(p) }
}
