package rustchainprocessor // import "github.com/otelcol-rust/otelcol-rust/components/processor/rustchainprocessor"

import (
	"go.opentelemetry.io/collector/processor"

	"github.com/otelcol-rust/otelcol-rust/components/bridge"
)

// Config is the configuration of a fused chain: its processors, each with
// its component id and configuration section.
type Config = bridge.ChainConfig

// NewFactory returns the factory of rust_chain, the processor the
// rustchainconverter puts in place of neighbouring Rust processors.
func NewFactory() processor.Factory {
	return bridge.NewChainFactory()
}
