package rustattributesprocessor

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"testing"

	"github.com/open-telemetry/opentelemetry-collector-contrib/processor/attributesprocessor"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/collector/processor/processortest"

	"github.com/otelcol-rust/otelcol-rust/components/internal/attrtest"
)

// The hash action's output for every kind of value, as contrib computes
// it, is kept in a golden file that the Rust unit test of the hash
// (rust/processors/src/attributes/action.rs) reads: the Rust test checks
// against Go's output, and this test checks that the file is Go's output
// and that rust_attributes gives the same. UPDATE_HASH_GOLDEN=1 rewrites
// the file from contrib.
const hashGolden = "../../../rust/processors/src/attributes/testdata/hash_golden.json"

// hashCase is one value, in a form both languages rebuild exactly.
type hashCase struct {
	Name string `json:"name"`
	Kind string `json:"kind"` // str, int, double, bool, bytes, slice, map, empty
	// Hex: a string's or bytes' bytes; a double's IEEE bits.
	Hex  string `json:"hex,omitempty"`
	Int  int64  `json:"int,omitempty"`
	Bool bool   `json:"bool,omitempty"`
	// Result: the attribute's value after the action, as contrib leaves
	// it (a hex digest, or what contrib makes of a type it does not hash).
	ResultKind string `json:"result_kind"`
	Result     string `json:"result"`
}

func (c hashCase) put(m pcommon.Map) {
	v := m.PutEmpty("k")
	raw, _ := hex.DecodeString(c.Hex)
	switch c.Kind {
	case "str":
		v.SetStr(string(raw))
	case "int":
		v.SetInt(c.Int)
	case "double":
		var bits uint64
		for _, b := range raw {
			bits = bits<<8 | uint64(b)
		}
		v.SetDouble(math.Float64frombits(bits))
	case "bool":
		v.SetBool(c.Bool)
	case "bytes":
		v.SetEmptyBytes().FromRaw(raw)
	case "slice":
		v.SetEmptySlice().AppendEmpty().SetStr("x")
	case "map":
		v.SetEmptyMap().PutStr("x", "y")
	}
}

func doubleCase(name string, f float64) hashCase {
	return hashCase{Name: name, Kind: "double", Hex: fmt.Sprintf("%016x", math.Float64bits(f))}
}

func hashCases() []hashCase {
	return []hashCase{
		{Name: "string", Kind: "str", Hex: hex.EncodeToString([]byte("foo"))},
		{Name: "empty string", Kind: "str"},
		{Name: "string not UTF-8", Kind: "str", Hex: "ff00c3"},
		{Name: "int", Kind: "int", Int: 42},
		{Name: "negative int", Kind: "int", Int: -1},
		{Name: "min int", Kind: "int", Int: math.MinInt64},
		{Name: "zero", Kind: "int"},
		{Name: "true", Kind: "bool", Bool: true},
		{Name: "false", Kind: "bool"},
		doubleCase("double", 2.5),
		doubleCase("negative zero", math.Copysign(0, -1)),
		doubleCase("NaN", math.NaN()),
		doubleCase("+Inf", math.Inf(1)),
		doubleCase("-Inf", math.Inf(-1)),
		doubleCase("tiny", 5e-324),
		doubleCase("large", 1e300),
		{Name: "bytes", Kind: "bytes", Hex: "0102ff"},
		{Name: "slice", Kind: "slice"},
		{Name: "map", Kind: "map"},
		{Name: "empty value", Kind: "empty"},
	}
}

// hashWith runs c through a processor made by f with a hash action on "k".
func hashWith(t *testing.T, f processor.Factory, c hashCase) pcommon.Value {
	raw := map[string]any{"actions": []any{map[string]any{"key": "k", "action": "hash"}}}
	cfg, err := attrtest.Accepts(t, f, raw)
	require.NoError(t, err)
	sink := new(consumertest.LogsSink)
	p := attrtest.Started[processor.Logs](t)(f.CreateLogs(context.Background(), processortest.NewNopSettings(f.Type()), cfg, sink))
	ld := plog.NewLogs()
	c.put(ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords().AppendEmpty().Attributes())
	require.NoError(t, p.ConsumeLogs(context.Background(), ld))
	v, ok := sink.AllLogs()[0].ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0).Attributes().Get("k")
	require.True(t, ok)
	return v
}

func TestHashGoldenIsContribsOutput(t *testing.T) {
	var got []hashCase
	for _, c := range hashCases() {
		v := hashWith(t, attributesprocessor.NewFactory(), c)
		c.ResultKind, c.Result = v.Type().String(), v.AsString()
		got = append(got, c)
		r := hashWith(t, NewFactory(), c)
		assert.Equal(t, v.Type(), r.Type(), c.Name)
		assert.Equal(t, v.AsString(), r.AsString(), c.Name)
	}
	encoded, err := json.MarshalIndent(got, "", "  ")
	require.NoError(t, err)
	encoded = append(encoded, '\n')
	if os.Getenv("UPDATE_HASH_GOLDEN") != "" {
		require.NoError(t, os.WriteFile(hashGolden, encoded, 0o644))
	}
	want, err := os.ReadFile(hashGolden)
	require.NoError(t, err)
	assert.Equal(t, string(want), string(encoded), "the golden file is contrib's output (UPDATE_HASH_GOLDEN=1 rewrites it)")
}
