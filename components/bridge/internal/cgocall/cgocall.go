// Package cgocall makes the calls that rust2go-generated Go code makes into
// Rust (rust2go's `#[cgo_call]` mode).
//
// rust2go's own Go package of this name is not served by the Go module
// proxy, so `make generate` points the generated code here instead. This
// version is plain cgo: a C trampoline calls the Rust function pointer.
//
// Soundness. rust2go passes each argument as a pointer to a Go array of
// pointers to Go values, which the cgo pointer check rejects ("Go pointer to
// unpinned Go pointer") and which Rust could not safely hold if the
// goroutine's stack moved during a callback into Go. So the trampoline:
//
//   - forces every argument onto the heap (keepOnHeap below makes them
//     escape), where Go never moves memory; the generated code keeps them
//     alive across the call with runtime.KeepAlive;
//   - passes the addresses as integers, which the pointer check does not
//     inspect.
//
// The Rust side (rust/bridge/src/control.rs) only reads the arguments
// during the call and writes its result pointer into the slot array before
// returning; it never keeps a Go address. These calls are the control plane
// only (create, start, shutdown...), never the per-request path, which is
// hand-written cgo that follows the pointer rules directly.
package cgocall

/*
#include <stdint.h>

static void call_p0(uintptr_t f) { ((void (*)(void))f)(); }
static void call_p1(uintptr_t f, uintptr_t a) { ((void (*)(void *))f)((void *)a); }
static void call_p2(uintptr_t f, uintptr_t a, uintptr_t b) {
  ((void (*)(void *, void *))f)((void *)a, (void *)b);
}
*/
import "C"

import "unsafe"

var (
	heapSink  unsafe.Pointer
	neverTrue bool
)

// keepOnHeap makes p escape, so the compiler allocates what it points to on
// the heap rather than on a goroutine stack that a callback could move.
//
//go:noinline
func keepOnHeap(p unsafe.Pointer) {
	if neverTrue {
		heapSink = p
	}
}

// CallFuncG0P0 calls a Rust function without arguments.
func CallFuncG0P0(fn unsafe.Pointer) {
	C.call_p0(C.uintptr_t(uintptr(fn)))
}

// CallFuncG0P1 calls a Rust function with one argument.
func CallFuncG0P1(fn, a unsafe.Pointer) {
	keepOnHeap(a)
	C.call_p1(C.uintptr_t(uintptr(fn)), C.uintptr_t(uintptr(a)))
}

// CallFuncG0P2 calls a Rust function with two arguments.
func CallFuncG0P2(fn, a, b unsafe.Pointer) {
	keepOnHeap(a)
	keepOnHeap(b)
	C.call_p2(C.uintptr_t(uintptr(fn)), C.uintptr_t(uintptr(a)), C.uintptr_t(uintptr(b)))
}
