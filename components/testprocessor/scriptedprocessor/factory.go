//go:build otelcolrust_testing

package scriptedprocessor

import (
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/processor"

	"github.com/otelcol-rust/otelcol-rust/components/bridge"
)

// NewFactory returns the factory of the test_scripted processor.
func NewFactory() processor.Factory {
	return bridge.NewProcessorFactory(component.MustNewType("test_scripted"), bridge.Stabilities{
		Traces:  component.StabilityLevelDevelopment,
		Metrics: component.StabilityLevelDevelopment,
		Logs:    component.StabilityLevelDevelopment,
	})
}
