//go:build otelcolrust_testing

package noopprocessor

import (
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/processor"

	"github.com/otelcol-rust/otelcol-rust/components/bridge"
)

// NewFactory returns the factory of the test_noop processor.
func NewFactory() processor.Factory {
	return bridge.NewProcessorFactory(component.MustNewType("test_noop"), bridge.Stabilities{
		Traces:  component.StabilityLevelDevelopment,
		Metrics: component.StabilityLevelDevelopment,
		Logs:    component.StabilityLevelDevelopment,
	})
}
