// Package bridge is the Go half of the otelcol-rust bridge: it links the
// Rust staticlib through cgo and turns each registered Rust processor into
// an ordinary Collector processor.
//
// A ConsumeTraces/Metrics/Logs call marshals the pdata once, pins the bytes
// and calls Rust on the same goroutine (otelcol_rust_process, hand-written
// cgo). The Rust processor usually finishes inside that call; its
// send_message comes back into Go synchronously (the rust2go GoBridge.emit
// callback) and calls the next consumer with the request's own context.
// A processor that has to wait finishes later on the bridge's tokio runtime
// and completes the request through GoBridge.complete.
//
// The control plane (registry, validate, effective configuration, create,
// start, shutdown, destroy) goes through rust2go-generated code in
// ffi_gen.go; see rust/bridge/README.md for why the request path is
// hand-written.
package bridge

// rustLibrary is set at link time (-ldflags -X) to a hash of the Rust
// staticlib. Go's build cache does not look at libraries named in
// #cgo LDFLAGS; a changed -X value makes it relink when only Rust changed.
var rustLibrary = "unset"
