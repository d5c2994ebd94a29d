//go:build otelcolrust_testing

package bridge

/*
#include <stdint.h>
typedef struct {
  uintptr_t last_input;
  uintptr_t last_emitted;
} otelcol_rust_testing_pointers_t;
otelcol_rust_testing_pointers_t otelcol_rust_testing_pointers(void);
*/
import "C"

// rustTestingPointers reports where the test processor last read its input
// and where the last emission's bytes were, as Rust saw them.
func rustTestingPointers() (lastInput, lastEmitted uintptr) {
	p := C.otelcol_rust_testing_pointers()
	return uintptr(p.last_input), uintptr(p.last_emitted)
}
