//go:build !otelcolrust_testing && !otelcolrust_builder

package bridge

// The distribution's Rust staticlib, built by `make rust`
// (cargo build --release -p otelcol-rust-bridge), for this module's own
// tests and tools. A collector that otelcol-rust-builder builds sets the
// build tag otelcolrust_builder: then this file is left out and the
// module the builder generates links the staticlib it built instead (its
// #cgo LDFLAGS name the archive inside the builder's output folder), so
// a binary links exactly one Rust archive.

/*
#cgo LDFLAGS: ${SRCDIR}/../../target/release/libotelcol_rust_bridge.a -ldl -lm -lpthread
*/
import "C"
