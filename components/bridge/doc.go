// Package bridge is the Go half of the otelcol-rust bridge: it links the
// Rust staticlib through cgo and turns each registered Rust processor into
// an ordinary Collector processor.
//
// Go drives every request on the caller's goroutine (request.go). A
// ConsumeTraces/Metrics/Logs call hands Rust the batch (the whole batch
// marshalled, or only its attribute maps for processors that read nothing
// else, projection.go) and Rust polls the processor right there. Each
// crossing returns a step: EMIT (Go calls the next consumer itself, outside
// any cgo call, with the request's own context, and resumes the request
// with the answer), PENDING (the goroutine parks until Rust's waker wakes
// it, wake.go) or DONE (the outcome, outcome.go). A processor that changed
// only attributes hands back an edit list that Go replays on its own pdata
// (edits.go); one that changed nothing hands back nothing, and Go forwards
// its own pdata.
//
// The request path's structs and constants come from the generated C
// header otelcol_rust_bridge.h (cbindgen, from rust/bridge/src/abi.rs);
// the control plane (registry, validate, effective configuration, create,
// start, shutdown, destroy) goes through rust2go-generated code in
// ffi_gen.go. rust/bridge/README.md maps each file here to its Rust
// counterpart.
//
// Which Rust archive is linked: this package's link_release.go names the
// one `make rust` builds in this repository. A collector built by
// otelcol-rust-builder sets the build tag otelcolrust_builder, which
// leaves that file out; the Go module the builder generates then names the
// archive it built in its own #cgo LDFLAGS, and every generated component
// package imports it. cgo gathers the LDFLAGS of every package of a
// binary into the one external link, so the bridge's symbols resolve
// there.
package bridge

// rustLibrary is set at link time (-ldflags -X) to a hash of the Rust
// staticlib. Go's build cache does not look at libraries named in
// #cgo LDFLAGS; a changed -X value makes it relink when only Rust changed.
var rustLibrary = "unset" //nolint:unused // read by the linker, not by Go code
