package bridge

/*
#include "otelcol_rust_bridge.h"
*/
import "C"

import (
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/otelcol-rust/otelcol-rust/components/internal/otlpedits"
)

// Applying the edit list a Rust processor returns for the request's own
// data: the replay is pure Go (internal/otlpedits), shared with the
// cgo-free path.

// applyEdits replays an edit list on the signal's data in place.
func applyEdits(list []byte, td ptrace.Traces, md pmetric.Metrics, ld plog.Logs, signal uint8) error {
	return otlpedits.Apply(list, td, md, ld, signal)
}

// headerEditConstants are the edit list's constants as the generated C
// header defines them, against otlpedits' spelled-out copies (a test
// compares them).
func headerEditConstants() map[string][2]int {
	return map[string][2]int{
		"SignalTraces":                        {C.OTELCOL_RUST_SIGNAL_TRACES, int(otlpedits.SignalTraces)},
		"SignalMetrics":                       {C.OTELCOL_RUST_SIGNAL_METRICS, int(otlpedits.SignalMetrics)},
		"SignalLogs":                          {C.OTELCOL_RUST_SIGNAL_LOGS, int(otlpedits.SignalLogs)},
		"OpSetAt":                             {C.OTELCOL_RUST_EDIT_OP_SET_AT, otlpedits.OpSetAt},
		"OpAppend":                            {C.OTELCOL_RUST_EDIT_OP_APPEND, otlpedits.OpAppend},
		"OpRemove":                            {C.OTELCOL_RUST_EDIT_OP_REMOVE, otlpedits.OpRemove},
		"OpRetain":                            {C.OTELCOL_RUST_EDIT_OP_RETAIN, otlpedits.OpRetain},
		"OpSkip":                              {C.OTELCOL_RUST_EDIT_OP_SKIP, otlpedits.OpSkip},
		"ValueEmpty":                          {C.OTELCOL_RUST_EDIT_VALUE_EMPTY, otlpedits.ValueEmpty},
		"ValueStr":                            {C.OTELCOL_RUST_EDIT_VALUE_STR, otlpedits.ValueStr},
		"ValueBool":                           {C.OTELCOL_RUST_EDIT_VALUE_BOOL, otlpedits.ValueBool},
		"ValueInt":                            {C.OTELCOL_RUST_EDIT_VALUE_INT, otlpedits.ValueInt},
		"ValueDouble":                         {C.OTELCOL_RUST_EDIT_VALUE_DOUBLE, otlpedits.ValueDouble},
		"ValueBytes":                          {C.OTELCOL_RUST_EDIT_VALUE_BYTES, otlpedits.ValueBytes},
		"ValueRaw":                            {C.OTELCOL_RUST_EDIT_VALUE_RAW, otlpedits.ValueRaw},
		"TargetResource":                      {C.OTELCOL_RUST_TARGET_RESOURCE, otlpedits.TargetResource},
		"TargetScope":                         {C.OTELCOL_RUST_TARGET_SCOPE, otlpedits.TargetScope},
		"TargetSpan":                          {C.OTELCOL_RUST_TARGET_SPAN, otlpedits.TargetSpan},
		"TargetSpanEvent":                     {C.OTELCOL_RUST_TARGET_SPAN_EVENT, otlpedits.TargetSpanEvent},
		"TargetSpanLink":                      {C.OTELCOL_RUST_TARGET_SPAN_LINK, otlpedits.TargetSpanLink},
		"TargetLogRecord":                     {C.OTELCOL_RUST_TARGET_LOG_RECORD, otlpedits.TargetLogRecord},
		"TargetNumberDataPoint":               {C.OTELCOL_RUST_TARGET_NUMBER_DATA_POINT, otlpedits.TargetNumberDataPoint},
		"TargetHistogramDataPoint":            {C.OTELCOL_RUST_TARGET_HISTOGRAM_DATA_POINT, otlpedits.TargetHistogramDataPoint},
		"TargetExponentialHistogramDataPoint": {C.OTELCOL_RUST_TARGET_EXPONENTIAL_HISTOGRAM_DATA_POINT, otlpedits.TargetExponentialHistogramDataPoint},
		"TargetSummaryDataPoint":              {C.OTELCOL_RUST_TARGET_SUMMARY_DATA_POINT, otlpedits.TargetSummaryDataPoint},
		"TargetLogBody":                       {C.OTELCOL_RUST_TARGET_LOG_BODY, otlpedits.TargetLogBody},
		"TargetSpanName":                      {C.OTELCOL_RUST_TARGET_SPAN_NAME, otlpedits.TargetSpanName},
	}
}
