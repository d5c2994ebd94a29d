//go:generate mdatagen metadata.yaml

// Package rustchainprocessor is the Collector component of fused chains of
// Rust processors: neighbouring Rust processors of a pipeline, run one
// after another inside Rust with one crossing in and one out. The
// rustchainconverter writes its configuration from the user's; a
// configuration does not name it.
package rustchainprocessor // import "github.com/otelcol-rust/otelcol-rust/components/processor/rustchainprocessor"
