//go:build otelcolrust_testing

package bridge

import (
	"context"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/consumer/consumertest"
)

// The copy rules of the data path (rust/bridge/README.md "Data: under the
// marshal + unmarshal floor").

func TestRustReadsTheGoBufferInPlace(t *testing.T) {
	var pinned uintptr
	testHookPinned = func(buf []byte) { pinned = uintptr(unsafe.Pointer(&buf[0])) }
	t.Cleanup(func() { testHookPinned = nil })

	p := newTraces(t, "test_scripted", nil, consumertest.NewNop())
	require.NoError(t, p.ConsumeTraces(context.Background(), sampleTraces(10)))
	lastInput, _ := rustTestingPointers()
	require.NotZero(t, pinned)
	assert.Equal(t, pinned, lastInput, "Rust read the bytes Go marshalled, at the same address")
}

func TestGoUnmarshalsStraightFromRustMemory(t *testing.T) {
	var seen uintptr
	testHookEmitData = func(data []byte) { seen = uintptr(unsafe.Pointer(unsafe.SliceData(data))) }
	t.Cleanup(func() { testHookEmitData = nil })

	sink := new(consumertest.TracesSink)
	p := newTraces(t, "test_scripted", map[string]any{"modify": true}, sink)
	before := ReadStats().GoUnmarshals
	require.NoError(t, p.ConsumeTraces(context.Background(), sampleTraces(10)))
	_, lastEmitted := rustTestingPointers()
	require.NotZero(t, seen)
	assert.Equal(t, lastEmitted, seen, "Go unmarshalled the bytes where Rust encoded them")
	assert.Equal(t, before+1, ReadStats().GoUnmarshals)
	assert.Equal(t, 10, sink.SpanCount())
}

func TestUnchangedDataIsNotUnmarshalled(t *testing.T) {
	sink := new(consumertest.TracesSink)
	p := newTraces(t, "test_noop", nil, sink)
	td := sampleTraces(5)
	before := ReadStats().GoUnmarshals
	require.NoError(t, p.ConsumeTraces(context.Background(), td))
	assert.Equal(t, before, ReadStats().GoUnmarshals, "no unmarshal for unchanged data")
	require.Len(t, sink.AllTraces(), 1)
	// The consumer got the caller's own pdata: a change through one is
	// visible through the other.
	sink.AllTraces()[0].ResourceSpans().At(0).Resource().Attributes().PutStr("seen", "downstream")
	v, ok := td.ResourceSpans().At(0).Resource().Attributes().Get("seen")
	require.True(t, ok)
	assert.Equal(t, "downstream", v.Str())
}
