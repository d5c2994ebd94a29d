// Package rustprocess runs the Rust processors of otelcol-rust in a
// collector built without cgo.
//
// The processors run in a separate Rust process, otelcol-rust-server
// (rust/server), built from the same engine and processor crates as the
// cgo bridge. This package, pure Go, starts that process when the first
// Rust processor starts (or connects to a socket named by
// OTELCOL_RUST_SERVER_SOCKET), restarts it with backoff if it dies, and
// stops it when the last one shuts down. Every generated cgo-free
// component package (components/nocgo/processor/...) calls
// NewProcessorFactory, as the cgo packages call bridge.NewProcessorFactory:
// same type, same configuration, same errors.
//
// A request crosses as a gRPC call on a Unix domain socket private to the
// collector's user (proto/otelcolrust/v1/processors.proto): the batch as
// OTLP bytes, the client metadata, peer address and span context of the
// caller's context, its deadline as the gRPC deadline. Cancelling the
// caller's context cancels the call, and the server drops the processor's
// future. What the processor sends downstream comes back in the reply, and
// the next consumer is called here, with the caller's own context: a
// consumer's error reaches the caller as the very same value.
//
// What cannot hold across the process boundary is listed in the README
// ("Two distributions").
package rustprocess // import "github.com/otelcol-rust/otelcol-rust/components/rustprocess"
