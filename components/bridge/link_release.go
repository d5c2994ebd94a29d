//go:build !otelcolrust_testing

package bridge

// The distribution's Rust staticlib, built by `make rust`
// (cargo build --release -p otelcol-rust-bridge).

/*
#cgo LDFLAGS: ${SRCDIR}/../../target/release/libotelcol_rust_bridge.a -ldl -lm -lpthread
*/
import "C"
