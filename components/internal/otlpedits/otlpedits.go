// Package otlpedits replays the edit list a Rust processor returns for a
// request's own data (the format is documented in
// rust/engine/src/pdata/edits.rs) on Go's pdata, so that Go gets the
// processed data without unmarshalling a batch. It is pure Go, shared by
// the cgo bridge (components/bridge) and the cgo-free path
// (components/rustprocess); its constants are the ones cbindgen writes
// into the bridge's C header, which a bridge test checks.
package otlpedits // import "github.com/otelcol-rust/otelcol-rust/components/internal/otlpedits"

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"google.golang.org/protobuf/encoding/protowire"
)

// Applying the edit list a Rust processor returns for the request's own
// data (the format is documented in rust/engine/src/pdata/edits.rs; its
// constants come from the generated header). Rust recorded each attribute
// change as the pcommon.Map operation that makes it, on the list as Go
// marshalled it; replaying them here gives Go the processed data without
// unmarshalling a batch.

// The signals, as Rust numbers them.
const (
	SignalTraces  uint8 = 0
	SignalMetrics uint8 = 1
	SignalLogs    uint8 = 2
)

// The edit list's constants (OTELCOL_RUST_EDIT_* and OTELCOL_RUST_TARGET_*
// in the bridge's header).
const (
	OpSetAt                             = 1
	OpAppend                            = 2
	OpRemove                            = 3
	OpRetain                            = 4
	OpSkip                              = 5
	ValueEmpty                          = 0
	ValueStr                            = 1
	ValueBool                           = 2
	ValueInt                            = 3
	ValueDouble                         = 4
	ValueBytes                          = 5
	ValueRaw                            = 6
	TargetResource                      = 1
	TargetScope                         = 2
	TargetSpan                          = 3
	TargetSpanEvent                     = 4
	TargetSpanLink                      = 5
	TargetLogRecord                     = 6
	TargetNumberDataPoint               = 7
	TargetHistogramDataPoint            = 8
	TargetExponentialHistogramDataPoint = 9
	TargetSummaryDataPoint              = 10
	TargetLogBody                       = 11
	TargetSpanName                      = 12
)

// editReader reads an edit list front to back. It moves an offset, never
// the slice: the reader lives on the heap (closures capture it), and
// reslicing would store the slice's pointer at every read, which, while
// the garbage collector marks (much of the time in a loaded collector),
// goes through the write barrier.
type editReader struct {
	b   []byte
	pos int
	// short is set when a read wanted more bytes than were left; every
	// read after it gives zeros. Checked once per operation rather than
	// per read, so that the reads inline.
	short bool
	// recent holds short strings made from this list so far: a processor
	// that writes a constant into every record writes the same bytes
	// each time, and one Go string serves them all. A string has one
	// slot, chosen by its length and end bytes, so a lookup is one
	// comparison: scanning a list of recent strings was a fifth of the
	// replay.
	recent [16]string
}

// str returns b as a Go string, reusing a recent one with the same bytes.
func (r *editReader) str(b []byte) string {
	n := len(b)
	if n == 0 || n > 32 {
		return string(b)
	}
	slot := &r.recent[(uint(n)*31+uint(b[0])*7+uint(b[n-1]))%uint(len(r.recent))]
	if *slot != string(b) {
		*slot = string(b)
	}
	return *slot
}

// more reports whether bytes are left and every read so far fitted.
func (r *editReader) more() bool { return !r.short && r.pos < len(r.b) }

// fail marks the list short: every read from now on gives zeros.
func (r *editReader) fail() {
	r.short, r.pos = true, len(r.b)
}

func (r *editReader) take(n int) []byte {
	if uint(n) > uint(len(r.b)-r.pos) {
		r.fail()
		return nil
	}
	out := r.b[r.pos : r.pos+n : r.pos+n]
	r.pos += n
	return out
}

func (r *editReader) error() error {
	if r.short {
		return errors.New("edit list from Rust truncated")
	}
	return nil
}

func (r *editReader) u8() byte {
	if r.pos >= len(r.b) {
		r.fail()
		return 0
	}
	v := r.b[r.pos]
	r.pos++
	return v
}

func (r *editReader) u32() int {
	if len(r.b)-r.pos < 4 {
		r.fail()
		return 0
	}
	v := binary.LittleEndian.Uint32(r.b[r.pos:])
	r.pos += 4
	return int(v)
}

func (r *editReader) u64() uint64 {
	if len(r.b)-r.pos < 8 {
		r.fail()
		return 0
	}
	v := binary.LittleEndian.Uint64(r.b[r.pos:])
	r.pos += 8
	return v
}

func (r *editReader) bytes() []byte { return r.take(r.u32()) }

// target names one attribute map of a batch.
type target struct {
	kind                       byte
	resource, scope, item, sub int
}

func (r *editReader) target() target {
	return target{kind: r.u8(), resource: r.u32(), scope: r.u32(), item: r.u32(), sub: r.u32()}
}

func outOfRange(t target) error {
	return fmt.Errorf("edit list from Rust names an attribute map that does not exist (kind %d at %d/%d/%d/%d)", t.kind, t.resource, t.scope, t.item, t.sub)
}

// Apply replays an edit list on the signal's data in place.
func Apply(list []byte, td ptrace.Traces, md pmetric.Metrics, ld plog.Logs, signal uint8) error {
	r := &editReader{b: list}
	spans := spanCursor{td: td}
	for r.more() {
		maps := r.u32()
		for i := 0; i < maps && !r.short; i++ {
			t := r.target()
			nOps := r.u32()
			if r.short {
				break
			}
			if signal == SignalLogs && t.kind == TargetLogBody {
				body, ok := logBody(ld, t)
				if !ok {
					return outOfRange(t)
				}
				if err := applyFieldOps(r, nOps, func() error { return readValue(r, body) }); err != nil {
					return err
				}
				continue
			}
			if signal == SignalTraces && t.kind == TargetSpanName {
				span, ok := spanOf(&spans, t)
				if !ok {
					return outOfRange(t)
				}
				if err := applyFieldOps(r, nOps, func() error { return readName(r, span) }); err != nil {
					return err
				}
				continue
			}
			var m pcommon.Map
			var ok bool
			switch signal {
			case SignalTraces:
				m, ok = traceMap(&spans, t)
			case SignalMetrics:
				m, ok = metricMap(md, t)
			case SignalLogs:
				m, ok = logMap(ld, t)
			}
			if !ok {
				return outOfRange(t)
			}
			if err := applyOps(r, m, nOps); err != nil {
				return err
			}
		}
	}
	return r.error()
}

// spanCursor remembers the spans of the scope the last target named: an
// edit list names its maps in batch order, so most targets are in the
// same scope as the one before, and finding a span is then one index.
type spanCursor struct {
	td              ptrace.Traces
	resource, scope int
	spans           ptrace.SpanSlice
	valid           bool
}

// of returns the spans of scope `scope` of resource `resource`.
func (c *spanCursor) of(resource, scope int) (ptrace.SpanSlice, bool) {
	if c.valid && c.resource == resource && c.scope == scope {
		return c.spans, true
	}
	rss := c.td.ResourceSpans()
	if resource >= rss.Len() {
		return ptrace.SpanSlice{}, false
	}
	sss := rss.At(resource).ScopeSpans()
	if scope >= sss.Len() {
		return ptrace.SpanSlice{}, false
	}
	c.resource, c.scope, c.spans, c.valid = resource, scope, sss.At(scope).Spans(), true
	return c.spans, true
}

func traceMap(c *spanCursor, t target) (pcommon.Map, bool) {
	if t.kind == TargetSpan {
		span, ok := spanOf(c, t)
		if !ok {
			return pcommon.Map{}, false
		}
		return span.Attributes(), true
	}
	td := c.td
	rss := td.ResourceSpans()
	if t.resource >= rss.Len() {
		return pcommon.Map{}, false
	}
	rs := rss.At(t.resource)
	if t.kind == TargetResource {
		return rs.Resource().Attributes(), true
	}
	if t.scope >= rs.ScopeSpans().Len() {
		return pcommon.Map{}, false
	}
	ss := rs.ScopeSpans().At(t.scope)
	if t.kind == TargetScope {
		return ss.Scope().Attributes(), true
	}
	if t.item >= ss.Spans().Len() {
		return pcommon.Map{}, false
	}
	span := ss.Spans().At(t.item)
	switch t.kind {
	case TargetSpanEvent:
		if t.sub < span.Events().Len() {
			return span.Events().At(t.sub).Attributes(), true
		}
	case TargetSpanLink:
		if t.sub < span.Links().Len() {
			return span.Links().At(t.sub).Attributes(), true
		}
	}
	return pcommon.Map{}, false
}

func logMap(ld plog.Logs, t target) (pcommon.Map, bool) {
	rls := ld.ResourceLogs()
	if t.resource >= rls.Len() {
		return pcommon.Map{}, false
	}
	rl := rls.At(t.resource)
	if t.kind == TargetResource {
		return rl.Resource().Attributes(), true
	}
	if t.scope >= rl.ScopeLogs().Len() {
		return pcommon.Map{}, false
	}
	sl := rl.ScopeLogs().At(t.scope)
	if t.kind == TargetScope {
		return sl.Scope().Attributes(), true
	}
	if t.kind == TargetLogRecord && t.item < sl.LogRecords().Len() {
		return sl.LogRecords().At(t.item).Attributes(), true
	}
	return pcommon.Map{}, false
}

// logBody is the body of the record a LOG_BODY target names.
func logBody(ld plog.Logs, t target) (pcommon.Value, bool) {
	rls := ld.ResourceLogs()
	if t.resource >= rls.Len() {
		return pcommon.Value{}, false
	}
	sls := rls.At(t.resource).ScopeLogs()
	if t.scope >= sls.Len() {
		return pcommon.Value{}, false
	}
	records := sls.At(t.scope).LogRecords()
	if t.item >= records.Len() {
		return pcommon.Value{}, false
	}
	return records.At(t.item).Body(), true
}

// spanOf is the span a SPAN or SPAN_NAME target names, found through the
// cursor.
func spanOf(c *spanCursor, t target) (ptrace.Span, bool) {
	spans, ok := c.of(t.resource, t.scope)
	if !ok || t.item >= spans.Len() {
		return ptrace.Span{}, false
	}
	return spans.At(t.item), true
}

// readName reads a span name (a string value) into span.
func readName(r *editReader, span ptrace.Span) error {
	if tag := r.u8(); tag != ValueStr {
		return fmt.Errorf("edit list from Rust sets a span name to a value of type %d", tag)
	}
	if b := r.bytes(); !r.short {
		span.SetName(r.str(b))
	}
	return r.error()
}

// applyFieldOps replays the operations on a record field (a log body, a
// span name), a map of one entry: only setting entry 0, with set, and
// skips can occur.
func applyFieldOps(r *editReader, n int, set func() error) error {
	for i := 0; i < n && !r.short; i++ {
		switch op := r.u8(); op {
		case OpSetAt:
			if index := r.u32(); index != 0 && !r.short {
				return fmt.Errorf("edit list from Rust sets entry %d of a record field", index)
			}
			if err := set(); err != nil {
				return err
			}
		case OpSkip:
			r.take(r.u32())
		default:
			return fmt.Errorf("edit list from Rust has operation %d on a record field", op)
		}
	}
	return r.error()
}

func metricMap(md pmetric.Metrics, t target) (pcommon.Map, bool) {
	rms := md.ResourceMetrics()
	if t.resource >= rms.Len() {
		return pcommon.Map{}, false
	}
	rm := rms.At(t.resource)
	if t.kind == TargetResource {
		return rm.Resource().Attributes(), true
	}
	if t.scope >= rm.ScopeMetrics().Len() {
		return pcommon.Map{}, false
	}
	sm := rm.ScopeMetrics().At(t.scope)
	if t.kind == TargetScope {
		return sm.Scope().Attributes(), true
	}
	if t.item >= sm.Metrics().Len() {
		return pcommon.Map{}, false
	}
	m := sm.Metrics().At(t.item)
	switch {
	case t.kind == TargetNumberDataPoint && m.Type() == pmetric.MetricTypeGauge:
		if t.sub < m.Gauge().DataPoints().Len() {
			return m.Gauge().DataPoints().At(t.sub).Attributes(), true
		}
	case t.kind == TargetNumberDataPoint && m.Type() == pmetric.MetricTypeSum:
		if t.sub < m.Sum().DataPoints().Len() {
			return m.Sum().DataPoints().At(t.sub).Attributes(), true
		}
	case t.kind == TargetHistogramDataPoint && m.Type() == pmetric.MetricTypeHistogram:
		if t.sub < m.Histogram().DataPoints().Len() {
			return m.Histogram().DataPoints().At(t.sub).Attributes(), true
		}
	case t.kind == TargetExponentialHistogramDataPoint && m.Type() == pmetric.MetricTypeExponentialHistogram:
		if t.sub < m.ExponentialHistogram().DataPoints().Len() {
			return m.ExponentialHistogram().DataPoints().At(t.sub).Attributes(), true
		}
	case t.kind == TargetSummaryDataPoint && m.Type() == pmetric.MetricTypeSummary:
		if t.sub < m.Summary().DataPoints().Len() {
			return m.Summary().DataPoints().At(t.sub).Attributes(), true
		}
	}
	return pcommon.Map{}, false
}

// applyOps replays n operations on m with pcommon.Map's own methods.
func applyOps(r *editReader, m pcommon.Map, n int) error {
	for i := 0; i < n && !r.short; i++ {
		switch op := r.u8(); op {
		case OpSetAt:
			index := r.u32()
			found := false
			j := 0
			for _, v := range m.All() {
				if j == index {
					if err := readValue(r, v); err != nil {
						return err
					}
					found = true
					break
				}
				j++
			}
			if !found && !r.short {
				return fmt.Errorf("edit list from Rust sets entry %d of a map of %d", index, m.Len())
			}
		case OpAppend:
			key := r.str(r.bytes())
			if r.short {
				break
			}
			if err := readValue(r, m.PutEmpty(key)); err != nil {
				return err
			}
		case OpRemove:
			key := r.bytes()
			if !r.short {
				m.Remove(r.str(key))
			}
		case OpSkip:
			r.take(r.u32())
		case OpRetain:
			count := r.u32()
			mask := r.take((count + 7) / 8)
			if r.short {
				break
			}
			if count != m.Len() {
				return fmt.Errorf("edit list from Rust keeps entries of a map of %d, but the map has %d", count, m.Len())
			}
			j := 0
			m.RemoveIf(func(string, pcommon.Value) bool {
				keep := mask[j/8]&(1<<(j%8)) != 0
				j++
				return !keep
			})
		default:
			return fmt.Errorf("edit list from Rust has an unknown operation %d", op)
		}
	}
	return r.error()
}

// readValue reads one value of the edit list into dst.
func readValue(r *editReader, dst pcommon.Value) error {
	switch tag := r.u8(); tag {
	case ValueEmpty:
		pcommon.NewValueEmpty().CopyTo(dst)
	case ValueStr:
		if b := r.bytes(); !r.short {
			dst.SetStr(r.str(b))
		}
	case ValueBool:
		dst.SetBool(r.u8() != 0)
	case ValueInt:
		dst.SetInt(int64(r.u64()))
	case ValueDouble:
		dst.SetDouble(math.Float64frombits(r.u64()))
	case ValueBytes:
		if b := r.bytes(); !r.short {
			dst.SetEmptyBytes().FromRaw(bytes.Clone(b))
		}
	case ValueRaw:
		if b := r.bytes(); !r.short {
			v, err := decodeAnyValue(b)
			if err != nil {
				return err
			}
			v.CopyTo(dst)
		}
	default:
		return fmt.Errorf("edit list from Rust has an unknown value tag %d", tag)
	}
	return r.error()
}

var logsUnmarshalerForValues plog.ProtoUnmarshaler

// decodeAnyValue decodes an encoded AnyValue (an array or map copied from
// another attribute). pdata has no public decoder for a lone value, so it
// travels as the body of a one-record log batch, which it unmarshals at
// any depth it would accept from a client.
func decodeAnyValue(encoded []byte) (pcommon.Value, error) {
	record := protowire.AppendTag(nil, 5, protowire.BytesType)
	record = protowire.AppendBytes(record, encoded)
	scope := protowire.AppendTag(nil, 2, protowire.BytesType)
	scope = protowire.AppendBytes(scope, record)
	resource := protowire.AppendTag(nil, 2, protowire.BytesType)
	resource = protowire.AppendBytes(resource, scope)
	batch := protowire.AppendTag(nil, 1, protowire.BytesType)
	batch = protowire.AppendBytes(batch, resource)
	ld, err := logsUnmarshalerForValues.UnmarshalLogs(batch)
	if err != nil {
		return pcommon.Value{}, fmt.Errorf("edit list from Rust has an invalid nested value: %w", err)
	}
	return ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0).Body(), nil
}
