package bridge

/*
#include <stdlib.h>
*/
import "C"

import (
	"math"
	"sync/atomic"
	"unsafe"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// The attribute projection of a batch, for components whose processors
// all read only attributes (DataAccess::Attributes in Rust).

// Idle projection buffers. Not a sync.Pool: the garbage collector empties
// those at every cycle, and a loaded collector, which allocates fast,
// would make a new buffer (grown in steps to a batch's size) for most
// requests. A few buffers kept for good cost a few hundred kilobytes.
//
// The buffers are C memory: Rust reads a request's projection in place
// for as long as the request lasts, which Go memory allows only pinned,
// and pinning and unpinning every request's buffer cost about a tenth of
// a crossing.
var projections = make(chan *projectionWriter, 8)

// maxPooledProjection bounds what an idle pooled buffer may hold on to.
const maxPooledProjection = 8 << 20

// newProjectionCap is the size of a new buffer: a few hundred records.
const newProjectionCap = 64 << 10

func getProjection() *projectionWriter {
	select {
	case w := <-projections:
		w.buf = w.buf[:0]
		w.keysNamed, w.keys = false, keySet{}
		return w
	default:
		w := &projectionWriter{}
		w.allocate(newProjectionCap)
		return w
	}
}

// putProjection keeps an idle buffer for the next request, or frees it.
func putProjection(w *projectionWriter) {
	w.settle()
	if w.cmem == nil {
		// The batch outgrew the C buffer and went to the Go heap: keep C
		// memory of that size for the next one instead.
		if n := cap(w.buf); n <= maxPooledProjection {
			w.allocate(n)
		}
	}
	if w.cmem == nil || cap(w.buf) > maxPooledProjection {
		w.free()
		return
	}
	select {
	case projections <- w:
	default:
		w.free()
	}
}

// projectionBuffers counts the C buffers allocated and not freed, for the
// tests that check none is lost.
var projectionBuffers atomic.Int64

// allocate gives the writer an empty C buffer of n bytes, freeing the one
// it had.
func (w *projectionWriter) allocate(n int) {
	w.free()
	w.cmem = C.malloc(C.size_t(n))
	w.buf = unsafe.Slice((*byte)(w.cmem), n)[:0]
	projectionBuffers.Add(1)
}

// free frees the writer's C buffer, if it has one.
func (w *projectionWriter) free() {
	if w.cmem != nil {
		C.free(w.cmem)
		projectionBuffers.Add(-1)
	}
	w.cmem, w.buf = nil, nil
}

// projectionWriter writes the attribute projection of a batch: the OTLP
// message tree with only the attribute maps in it (and the messages that
// lead to them), so that the indexes of resources, scopes, records and
// entries are those of the full batch. Nested message lengths are written
// as 5-byte varints and patched once the message is complete, so the
// batch is written in one pass into a buffer the bridge reuses.
type projectionWriter struct {
	buf []byte
	// keysNamed: the component's processors read only the attribute keys
	// in keys (Processor::attribute_keys in Rust), so only those entries
	// are written whole. Set for each request (writers are pooled).
	keysNamed bool
	keys      keySet
	// cmem is buf's memory while it is the writer's C buffer; nil once the
	// batch outgrew it (buf is then Go memory, pinned for the request).
	cmem unsafe.Pointer
}

func (w *projectionWriter) tag(field int, wireType byte) {
	w.buf = append(w.buf, byte(field<<3)|wireType)
}

// The writer's buffer is a field of a heap object, so storing a new slice
// into it (w.buf = f(w.buf), as binary.AppendUvarint returns one) stores
// its pointer, and while the garbage collector marks, which in a loaded
// collector is a large part of the time, every such store goes through
// the write barrier: in a loaded collector that was a fifth of what the
// projection cost. `w.buf = append(w.buf, ...)` stores only the length
// unless the buffer grows, so the writes below append byte by byte.

// varint appends v as a protobuf varint.
func (w *projectionWriter) varint(v uint64) {
	for v >= 0x80 {
		w.buf = append(w.buf, byte(v)|0x80)
		v >>= 7
	}
	w.buf = append(w.buf, byte(v))
}

// fixed64 appends v little-endian.
func (w *projectionWriter) fixed64(v uint64) {
	w.buf = append(w.buf, byte(v), byte(v>>8), byte(v>>16), byte(v>>24),
		byte(v>>32), byte(v>>40), byte(v>>48), byte(v>>56))
}

// open starts a nested message (field `field`) and returns where its
// length goes.
func (w *projectionWriter) open(field int) int {
	w.tag(field, 2)
	at := len(w.buf)
	w.buf = append(w.buf, 0x80, 0x80, 0x80, 0x80, 0x00)
	return at
}

// close patches the length of the message opened at `at`.
func (w *projectionWriter) close(at int) {
	n := len(w.buf) - at - 5
	w.buf[at] = byte(n) | 0x80
	w.buf[at+1] = byte(n>>7) | 0x80
	w.buf[at+2] = byte(n>>14) | 0x80
	w.buf[at+3] = byte(n>>21) | 0x80
	w.buf[at+4] = byte(n >> 28)
}

func (w *projectionWriter) bytesField(field int, b string) {
	w.tag(field, 2)
	w.varint(uint64(len(b)))
	w.buf = append(w.buf, b...)
}

func varintLen(v uint64) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}

// attributes writes an attribute map of the batch: each entry as field
// `field` (a KeyValue), or, when the component's processors named the
// keys they read, only the entries with those keys and the others as
// placeholders.
func (w *projectionWriter) attributes(field int, m pcommon.Map) {
	w.entries(field, m, w.keysNamed)
}

// keySet is the attribute keys a component's processors named, with the
// set of their lengths: most entries of a record are ones no processor
// named, and most of those have a key of a length no named key has, so
// they are told apart by one bit test, without comparing bytes.
type keySet struct {
	keys []string
	// lengths has bit n set when a key is n bytes long, bit 63 when one
	// is 63 bytes or longer.
	lengths uint64
}

func newKeySet(keys []string) keySet {
	s := keySet{keys: keys}
	for _, k := range keys {
		s.lengths |= lengthBit(k)
	}
	return s
}

func lengthBit(key string) uint64 {
	return 1 << min(len(key), 63)
}

// has reports whether key is one of the set's.
func (s keySet) has(key string) bool {
	if s.lengths&lengthBit(key) == 0 {
		return false
	}
	for _, k := range s.keys {
		if k == key {
			return true
		}
	}
	return false
}

// entries writes each entry of m as field `field` (a KeyValue). The
// common values (strings, ints) are written with their sizes computed
// up front, in one pass over the map. With filter, an entry whose key
// the processors did not name is written as an empty KeyValue (2 bytes):
// it keeps its place, so Rust's indexes and lengths are Go's, without
// Go reading its value or Rust indexing it.
func (w *projectionWriter) entries(field int, m pcommon.Map, filter bool) {
	tag := byte(field<<3) | 2
	m.Range(func(k string, v pcommon.Value) bool {
		if filter && !w.keys.has(k) {
			w.buf = append(w.buf, tag, 0)
			return true
		}
		keySize := 0
		if k != "" {
			keySize = 1 + varintLen(uint64(len(k))) + len(k)
		}
		switch v.Type() {
		case pcommon.ValueTypeStr:
			s := v.Str()
			av := 1 + varintLen(uint64(len(s))) + len(s)
			w.buf = append(w.buf, tag)
			w.varint(uint64(keySize + 1 + varintLen(uint64(av)) + av))
			w.key(k)
			w.buf = append(w.buf, 0x12)
			w.varint(uint64(av))
			w.buf = append(w.buf, 0x0a)
			w.varint(uint64(len(s)))
			w.buf = append(w.buf, s...)
		case pcommon.ValueTypeInt:
			i := uint64(v.Int())
			av := 1 + varintLen(i)
			w.buf = append(w.buf, tag)
			w.varint(uint64(keySize + 1 + varintLen(uint64(av)) + av))
			w.key(k)
			w.buf = append(w.buf, 0x12)
			w.varint(uint64(av))
			w.buf = append(w.buf, 0x18)
			w.varint(i)
		default:
			kv := w.open(field)
			w.key(k)
			at := w.open(2)
			w.anyValue(v)
			w.close(at)
			w.close(kv)
		}
		return true
	})
}

func (w *projectionWriter) key(k string) {
	if k == "" {
		return
	}
	w.buf = append(w.buf, 0x0a)
	w.varint(uint64(len(k)))
	w.buf = append(w.buf, k...)
}

func (w *projectionWriter) anyValue(v pcommon.Value) {
	switch v.Type() {
	case pcommon.ValueTypeStr:
		w.bytesField(1, v.Str())
	case pcommon.ValueTypeBool:
		w.tag(2, 0)
		if v.Bool() {
			w.varint(1)
		} else {
			w.varint(0)
		}
	case pcommon.ValueTypeInt:
		w.tag(3, 0)
		w.varint(uint64(v.Int()))
	case pcommon.ValueTypeDouble:
		w.tag(4, 1)
		w.fixed64(math.Float64bits(v.Double()))
	case pcommon.ValueTypeBytes:
		w.tag(7, 2)
		b := v.Bytes().AsRaw()
		w.varint(uint64(len(b)))
		w.buf = append(w.buf, b...)
	case pcommon.ValueTypeSlice:
		arr := w.open(5)
		s := v.Slice()
		for i := 0; i < s.Len(); i++ {
			e := w.open(1)
			w.anyValue(s.At(i))
			w.close(e)
		}
		w.close(arr)
	case pcommon.ValueTypeMap:
		list := w.open(6)
		// A value's nested map is the value: written whole.
		w.entries(1, v.Map(), false)
		w.close(list)
	}
}

// A large batch's projection costs memory twice over on the Go heap: a
// buffer grown by append leaves a trail of smaller copies and ends up to
// twice the projection's size, and whatever the heap holds live raises
// the garbage collector's goal by as much again. For forty 10 MB batches
// at once the Rust path then peaked at twice the Go path's memory. A batch
// with more than presizeItems records is therefore measured first (pdata's
// sizer: the whole batch's encoded size, which, with a little room, bounds
// its projection) and
// written into C memory of that size, allocated once and freed when Rust
// lets the buffer go; it never counts toward the Go heap. Smaller batches
// use the pooled Go buffers, where measuring would cost more than it
// saves.
const presizeItems = 2048

func (w *projectionWriter) presize(items int, size func() int) {
	if items <= presizeItems {
		return
	}
	// The projection leaves out everything but attributes (and the record
	// fields some processors rewrite, which the batch holds too), yet writes the
	// length of each message it opens as 5 bytes where the batch may use
	// one: room for that per record, and for the few resource and scope
	// messages. Should a batch still not fit (records of many events with
	// nothing else in them), settle moves it to the Go heap.
	n := size() + 4*items + 256
	if n <= cap(w.buf) {
		return
	}
	w.allocate(n)
}

// settle checks, after a batch is written, that the buffer is still the
// writer's C memory: an append past it (a batch bigger than presize
// allows for, or than a pooled buffer of one that was not presized) moved
// the bytes to the Go heap, and the C memory is then freed at once.
func (w *projectionWriter) settle() {
	if w.cmem != nil && unsafe.Pointer(unsafe.SliceData(w.buf)) != w.cmem {
		C.free(w.cmem)
		w.cmem = nil
	}
}

// inGoHeap reports whether the buffer is Go memory (to pin).
func (w *projectionWriter) inGoHeap() bool { return w.cmem == nil }

// traces writes the projection of td; with names, each span's name and
// kind too (fields 5 and 6).
func (w *projectionWriter) traces(td ptrace.Traces, names bool) {
	w.presize(td.SpanCount(), func() int { return tracesMarshaler.TracesSize(td) })
	rss := td.ResourceSpans()
	for i := 0; i < rss.Len(); i++ {
		rs := rss.At(i)
		rsAt := w.open(1)
		res := w.open(1)
		w.attributes(1, rs.Resource().Attributes())
		w.close(res)
		sss := rs.ScopeSpans()
		for j := 0; j < sss.Len(); j++ {
			ss := sss.At(j)
			ssAt := w.open(2)
			sc := w.open(1)
			w.attributes(3, ss.Scope().Attributes())
			w.close(sc)
			spans := ss.Spans()
			for k := 0; k < spans.Len(); k++ {
				span := spans.At(k)
				spAt := w.open(2)
				if names {
					if name := span.Name(); name != "" {
						w.bytesField(5, name)
					}
					if kind := span.Kind(); kind != 0 {
						w.tag(6, 0)
						w.varint(uint64(kind))
					}
				}
				w.attributes(9, span.Attributes())
				events := span.Events()
				for e := 0; e < events.Len(); e++ {
					ev := w.open(11)
					w.attributes(3, events.At(e).Attributes())
					w.close(ev)
				}
				links := span.Links()
				for l := 0; l < links.Len(); l++ {
					li := w.open(13)
					w.attributes(4, links.At(l).Attributes())
					w.close(li)
				}
				w.close(spAt)
			}
			w.close(ssAt)
		}
		w.close(rsAt)
	}
}

// logs writes the projection of ld; with bodies, each record's body too
// (field 5, written even when empty so that Rust sees every record's).
func (w *projectionWriter) logs(ld plog.Logs, bodies bool) {
	w.presize(ld.LogRecordCount(), func() int { return logsMarshaler.LogsSize(ld) })
	rls := ld.ResourceLogs()
	for i := 0; i < rls.Len(); i++ {
		rl := rls.At(i)
		rlAt := w.open(1)
		res := w.open(1)
		w.attributes(1, rl.Resource().Attributes())
		w.close(res)
		sls := rl.ScopeLogs()
		for j := 0; j < sls.Len(); j++ {
			sl := sls.At(j)
			slAt := w.open(2)
			sc := w.open(1)
			w.attributes(3, sl.Scope().Attributes())
			w.close(sc)
			records := sl.LogRecords()
			for k := 0; k < records.Len(); k++ {
				lr := w.open(2)
				record := records.At(k)
				if bodies {
					body := w.open(5)
					w.anyValue(record.Body())
					w.close(body)
				}
				w.attributes(6, record.Attributes())
				w.close(lr)
			}
			w.close(slAt)
		}
		w.close(rlAt)
	}
}

// metrics writes the projection of md: each metric keeps the field of its
// type, so that Rust sees which kind of data point it holds.
func (w *projectionWriter) metrics(md pmetric.Metrics) {
	w.presize(md.DataPointCount(), func() int { return metricsMarshaler.MetricsSize(md) })
	rms := md.ResourceMetrics()
	for i := 0; i < rms.Len(); i++ {
		rm := rms.At(i)
		rmAt := w.open(1)
		res := w.open(1)
		w.attributes(1, rm.Resource().Attributes())
		w.close(res)
		sms := rm.ScopeMetrics()
		for j := 0; j < sms.Len(); j++ {
			sm := sms.At(j)
			smAt := w.open(2)
			sc := w.open(1)
			w.attributes(3, sm.Scope().Attributes())
			w.close(sc)
			ms := sm.Metrics()
			for k := 0; k < ms.Len(); k++ {
				m := ms.At(k)
				mAt := w.open(2)
				switch m.Type() {
				case pmetric.MetricTypeGauge:
					data := w.open(5)
					w.numberPoints(m.Gauge().DataPoints())
					w.close(data)
				case pmetric.MetricTypeSum:
					data := w.open(7)
					w.numberPoints(m.Sum().DataPoints())
					w.close(data)
				case pmetric.MetricTypeHistogram:
					data := w.open(9)
					dps := m.Histogram().DataPoints()
					for p := 0; p < dps.Len(); p++ {
						dp := w.open(1)
						w.attributes(9, dps.At(p).Attributes())
						w.close(dp)
					}
					w.close(data)
				case pmetric.MetricTypeExponentialHistogram:
					data := w.open(10)
					dps := m.ExponentialHistogram().DataPoints()
					for p := 0; p < dps.Len(); p++ {
						dp := w.open(1)
						w.attributes(1, dps.At(p).Attributes())
						w.close(dp)
					}
					w.close(data)
				case pmetric.MetricTypeSummary:
					data := w.open(11)
					dps := m.Summary().DataPoints()
					for p := 0; p < dps.Len(); p++ {
						dp := w.open(1)
						w.attributes(7, dps.At(p).Attributes())
						w.close(dp)
					}
					w.close(data)
				}
				w.close(mAt)
			}
			w.close(smAt)
		}
		w.close(rmAt)
	}
}

func (w *projectionWriter) numberPoints(dps pmetric.NumberDataPointSlice) {
	for p := 0; p < dps.Len(); p++ {
		dp := w.open(1)
		w.attributes(7, dps.At(p).Attributes())
		w.close(dp)
	}
}
