//go:build otelcolrust_testing

package bridge

// The test build of the Rust staticlib: the distribution's processors plus
// the test-only ones (cargo feature `testing`), built by `make rust-testing`.

/*
#cgo CFLAGS: -DOTELCOL_RUST_TESTING
#cgo LDFLAGS: ${SRCDIR}/../../target/testing/release/libotelcol_rust_bridge.a -ldl -lm -lpthread
*/
import "C"
