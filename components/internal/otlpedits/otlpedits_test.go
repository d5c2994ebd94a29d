package otlpedits

import (
	"encoding/binary"
	"fmt"
	"strings"
	"testing"
	"unsafe"

	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// listWriter writes an edit list in the format Rust writes
// (rust/engine/src/pdata/edits.rs).
type listWriter struct{ b []byte }

func (w *listWriter) u8(v byte)    { w.b = append(w.b, v) }
func (w *listWriter) u32(v int)    { w.b = binary.LittleEndian.AppendUint32(w.b, uint32(v)) }
func (w *listWriter) str(s string) { w.u32(len(s)); w.b = append(w.b, s...) }

// appendTo writes one map's edit: an append of key=value to the map of
// kind at resource/scope/item.
func (w *listWriter) appendTo(kind byte, resource, scope, item int, key, value string) {
	w.u8(kind)
	w.u32(resource)
	w.u32(scope)
	w.u32(item)
	w.u32(0)
	w.u32(1)
	w.u8(OpAppend)
	w.str(key)
	w.u8(ValueStr)
	w.str(value)
}

// twoByTwo is a batch of two resources of two scopes of two spans, each
// span named after where it is.
func twoByTwo() ptrace.Traces {
	td := ptrace.NewTraces()
	for r := 0; r < 2; r++ {
		rs := td.ResourceSpans().AppendEmpty()
		for s := 0; s < 2; s++ {
			ss := rs.ScopeSpans().AppendEmpty()
			for i := 0; i < 2; i++ {
				ss.Spans().AppendEmpty().SetName(fmt.Sprintf("%d/%d/%d", r, s, i))
			}
		}
	}
	return td
}

// The replay finds each target's span wherever the list goes next: on in
// the same scope, to another scope or resource, and back.
func TestApplyFindsSpansAcrossScopes(t *testing.T) {
	targets := [][3]int{{0, 0, 0}, {0, 0, 1}, {1, 1, 0}, {0, 1, 1}, {0, 0, 0}, {1, 0, 1}, {1, 1, 1}}
	w := &listWriter{}
	w.u32(len(targets))
	for n, at := range targets {
		w.appendTo(TargetSpan, at[0], at[1], at[2], fmt.Sprintf("edit.%d", n), fmt.Sprintf("%d/%d/%d", at[0], at[1], at[2]))
	}
	td := twoByTwo()
	if err := Apply(w.b, td, pmetric.Metrics{}, plog.Logs{}, SignalTraces); err != nil {
		t.Fatal(err)
	}
	edits := 0
	for r := 0; r < 2; r++ {
		for s := 0; s < 2; s++ {
			spans := td.ResourceSpans().At(r).ScopeSpans().At(s).Spans()
			for i := 0; i < spans.Len(); i++ {
				span := spans.At(i)
				for k, v := range span.Attributes().All() {
					edits++
					if v.Str() != span.Name() {
						t.Errorf("span %s got %s=%s, meant for span %s", span.Name(), k, v.Str(), v.Str())
					}
				}
			}
		}
	}
	if edits != len(targets) {
		t.Fatalf("%d attributes written, want %d", edits, len(targets))
	}
}

// A target past the end of the batch, at any level, is an error that
// names it, also right after a target in range of the same scope.
func TestApplyRejectsTargetsOutsideTheBatch(t *testing.T) {
	for _, at := range [][3]int{{2, 0, 0}, {0, 2, 0}, {0, 0, 2}, {1, 1, 5}} {
		w := &listWriter{}
		w.u32(2)
		w.appendTo(TargetSpan, 0, 0, 0, "k", "v")
		w.appendTo(TargetSpan, at[0], at[1], at[2], "k", "v")
		err := Apply(w.b, twoByTwo(), pmetric.Metrics{}, plog.Logs{}, SignalTraces)
		want := fmt.Sprintf("kind %d at %d/%d/%d/0", TargetSpan, at[0], at[1], at[2])
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("target %v: got %v, want an error naming %q", at, err, want)
		}
	}
}

// A list cut short anywhere is reported, not read past its end.
func TestApplyReportsATruncatedList(t *testing.T) {
	w := &listWriter{}
	w.u32(1)
	w.appendTo(TargetSpan, 0, 0, 0, "key", "value")
	for n := 1; n < len(w.b); n++ {
		if err := Apply(w.b[:n], twoByTwo(), pmetric.Metrics{}, plog.Logs{}, SignalTraces); err == nil {
			t.Errorf("list cut to %d of %d bytes: no error", n, len(w.b))
		}
	}
}

// Appends, removes and sets interleaved in one map leave the entries in
// the order pcommon.Map's own calls, in the same order, leave them.
func TestApplyAppendsAndRemovesInOrder(t *testing.T) {
	build := func() ptrace.Traces {
		td := ptrace.NewTraces()
		a := td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty().Spans().AppendEmpty().Attributes()
		for _, k := range []string{"k0", "k1", "gone", "k3"} {
			a.PutStr(k, k)
		}
		return td
	}
	w := &listWriter{}
	w.u32(1)
	w.u8(TargetSpan)
	for range 4 {
		w.u32(0)
	}
	w.u32(4)
	w.u8(OpAppend)
	w.str("new.1")
	w.u8(ValueStr)
	w.str("v1")
	w.u8(OpRemove)
	w.str("gone")
	w.u8(OpAppend)
	w.str("new.2")
	w.u8(ValueStr)
	w.str("v2")
	w.u8(OpSetAt)
	w.u32(0)
	w.u8(ValueStr)
	w.str("set")
	got := build()
	if err := Apply(w.b, got, pmetric.Metrics{}, plog.Logs{}, SignalTraces); err != nil {
		t.Fatal(err)
	}
	want := build()
	m := want.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0).Attributes()
	m.PutStr("new.1", "v1")
	m.Remove("gone")
	m.PutStr("new.2", "v2")
	m.PutStr("k0", "set")
	gotAttrs := got.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0).Attributes()
	var gotOrder, wantOrder []string
	for k, v := range gotAttrs.All() {
		gotOrder = append(gotOrder, k+"="+v.AsString())
	}
	for k, v := range m.All() {
		wantOrder = append(wantOrder, k+"="+v.AsString())
	}
	if strings.Join(gotOrder, ",") != strings.Join(wantOrder, ",") {
		t.Errorf("replayed %v, pcommon.Map's own calls give %v", gotOrder, wantOrder)
	}
}

// str gives the bytes' own string every time, whatever the slot's last
// string was, and serves repeated short strings from one allocation.
func TestStrReusesRecentStrings(t *testing.T) {
	r := &editReader{}
	words := []string{"production", "environment", "GET", "internal.debug", "", "a", "b", "ab", "ba", strings.Repeat("x", 32), strings.Repeat("y", 33)}
	for round := 0; round < 3; round++ {
		for _, w := range words {
			if got := r.str([]byte(w)); got != w {
				t.Fatalf("str(%q) = %q", w, got)
			}
		}
	}
	first := r.str([]byte("production"))
	if again := r.str([]byte("production")); unsafe.StringData(again) != unsafe.StringData(first) {
		t.Error("a repeated short string was made again")
	}
	if allocs := testing.AllocsPerRun(100, func() { _ = r.str([]byte("production")) }); allocs != 0 {
		t.Errorf("a repeated short string allocates %v times", allocs)
	}
}
