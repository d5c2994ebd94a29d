//go:build otelcolrust_testing

package bridge

/*
#include "otelcol_rust_bridge.h"
*/
import "C"

// rustTestingPointers reports where the test processor last read its input
// and where the last emission's bytes were, as Rust saw them.
func rustTestingPointers() (lastInput, lastEmitted uintptr) {
	p := C.otelcol_rust_testing_pointers()
	return uintptr(p.last_input), uintptr(p.last_emitted)
}
