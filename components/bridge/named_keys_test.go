package bridge

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/processor"
)

// A processor that names the attribute keys it reads
// (Processor::attribute_keys in Rust) gets only those entries; every other
// entry crosses as an empty placeholder in its place.

func TestNamedKeysAreAllThatCrossWhole(t *testing.T) {
	p := newTraces(t, "rust_attributes", actions(
		map[string]any{"key": "environment", "from_attribute": "deployment", "action": "insert"},
		map[string]any{"key": "user.email", "action": "hash"},
	), consumertest.NewNop()).(*Processor)
	require.True(t, p.keysNamed)
	assert.ElementsMatch(t, []string{"environment", "deployment", "user.email"}, p.attributeKeys.keys)

	td := ptrace.NewTraces()
	span := td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty().Spans().AppendEmpty()
	attrs := span.Attributes()
	attrs.PutStr("http.method", "GET")
	attrs.PutStr("user.email", "a@b.c")
	attrs.PutEmptyMap("nested").PutStr("user.email", "inside a value")
	attrs.PutInt("deployment", 7)

	w := getProjection()
	defer putProjection(w)
	w.keysNamed, w.keys = p.keysNamed, p.attributeKeys
	w.traces(td, false)
	projected, err := (&ptrace.ProtoUnmarshaler{}).UnmarshalTraces(w.buf)
	require.NoError(t, err)
	got := projected.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0).Attributes()
	require.Equal(t, attrs.Len(), got.Len(), "every entry keeps its place")
	var keys []string
	var types []pcommon.ValueType
	for k, v := range got.All() {
		keys, types = append(keys, k), append(types, v.Type())
	}
	assert.Equal(t, []string{"", "user.email", "", "deployment"}, keys)
	assert.Equal(t, []pcommon.ValueType{pcommon.ValueTypeEmpty, pcommon.ValueTypeStr, pcommon.ValueTypeEmpty, pcommon.ValueTypeInt}, types)
}

func TestKeysAreNotNamedByPatternsOrProcessorsThatReadEverything(t *testing.T) {
	pattern := newTraces(t, "rust_attributes", actions(
		map[string]any{"key": "environment", "value": "production", "action": "insert"},
		map[string]any{"pattern": "^internal\\.", "action": "delete"},
	), consumertest.NewNop()).(*Processor)
	assert.False(t, pattern.keysNamed, "a pattern may match any key")

	named := actions(map[string]any{"key": "environment", "value": "production", "action": "insert"})
	other := actions(map[string]any{"key": "user.email", "action": "hash"})
	stage := func(name string, cfg map[string]any) ChainStage {
		return ChainStage{ID: component.MustNewIDWithName("rust_attributes", name), Config: cfg}
	}
	union := newChain(t, processor.Settings{}, consumertest.NewNop(), stage("a", named), stage("b", other)).(*Processor)
	assert.True(t, union.keysNamed)
	assert.ElementsMatch(t, []string{"environment", "user.email"}, union.attributeKeys.keys, "a chain reads its processors' keys")

	redaction := newChain(t, processor.Settings{}, consumertest.NewNop(), stage("a", named),
		ChainStage{ID: component.MustNewID("rust_redaction"), Config: map[string]any{"allow_all_keys": true}}).(*Processor)
	assert.False(t, redaction.keysNamed, "a redaction processor reads every value")
}

// A remove moves the map's last entry into the hole, placeholder or not:
// the edits Rust makes on placeholders land on the same entries in Go.
func TestEditsAroundPlaceholdersLandOnGosEntries(t *testing.T) {
	sink := new(consumertest.TracesSink)
	p := newTraces(t, "rust_attributes", actions(
		map[string]any{"key": "internal.debug", "action": "delete"},
		map[string]any{"key": "environment", "value": "production", "action": "insert"},
		map[string]any{"key": "user.email", "action": "hash"},
		map[string]any{"key": "http.method", "value": "POST", "action": "update"},
	), sink).(*Processor)
	require.True(t, p.keysNamed)
	td := ptrace.NewTraces()
	attrs := td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty().Spans().AppendEmpty().Attributes()
	attrs.PutStr("http.method", "GET")
	attrs.PutStr("internal.debug", "x")
	attrs.PutStr("user.email", "a@b.c")
	attrs.PutStr("http.route", "/a")
	attrs.PutStr("peer.service", "db")
	require.NoError(t, p.ConsumeTraces(context.Background(), td))

	// pcommon.Map's own operations, in the actions' order.
	want := pcommon.NewMap()
	want.PutStr("http.method", "GET")
	want.PutStr("internal.debug", "x")
	want.PutStr("user.email", "a@b.c")
	want.PutStr("http.route", "/a")
	want.PutStr("peer.service", "db")
	want.Remove("internal.debug")
	want.PutStr("environment", "production")
	sum := sha256.Sum256([]byte("a@b.c"))
	want.PutStr("user.email", hex.EncodeToString(sum[:]))
	want.PutStr("http.method", "POST")
	got := sink.AllTraces()[0].ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0).Attributes()
	var gotKeys, wantKeys []string
	for k := range got.All() {
		gotKeys = append(gotKeys, k)
	}
	for k := range want.All() {
		wantKeys = append(wantKeys, k)
	}
	assert.Equal(t, wantKeys, gotKeys, "the same entries in the same order")
	assert.Equal(t, want.AsRaw(), got.AsRaw())
}

func TestKeySetHasExactlyItsKeys(t *testing.T) {
	long := strings.Repeat("k", 63)
	longer := strings.Repeat("k", 80)
	set := newKeySet([]string{"user.email", "http.method", long, ""})
	for key, want := range map[string]bool{
		"user.email":    true,
		"http.method":   true,
		long:            true,
		"":              true,
		"user.emaiL":    false, // a named key's length, other bytes
		"environment":   false, // the length of http.method
		"http.url":      false, // a length no key has
		longer:          false, // past 63 bytes, where lengths share a bit
		long[:62] + "x": false,
	} {
		assert.Equal(t, want, set.has(key), "%q", key)
	}
	assert.False(t, newKeySet(nil).has(""), "an empty set holds no key, not even the empty one")
}
