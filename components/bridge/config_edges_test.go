package bridge

import (
	"context"
	"math"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/consumer/consumertest"
)

func validate(t *testing.T, typ string, settings map[string]any) error {
	t.Helper()
	return config(t, testFactory(t, typ), settings).(*Config).Validate()
}

func deleteMatching(pattern string) map[string]any {
	return map[string]any{"actions": []any{map[string]any{"pattern": pattern, "action": "delete"}}}
}

// Patterns are accepted and refused as Go's regexp accepts and refuses
// them, and an error quotes a long pattern cut.
func TestPatternsAreJudgedByGo(t *testing.T) {
	for _, p := range []string{`a{1000}`, `\Q.*\E`, `a{`, `(?P<n>x)`, `[[:alpha:]]+`, `\pL`, `(?i)abc`, `\d\b`, `[]a]`} {
		_, goErr := regexp.Compile(p)
		require.NoError(t, goErr, p)
		assert.NoError(t, validate(t, "rust_attributes", deleteMatching(p)), p)
	}
	for _, p := range []string{`a{1001}`, `a{100000}`, `x**`, `(unclosed`, `[z-a]`, `\8`, `(?<>x)`} {
		_, goErr := regexp.Compile(p)
		require.Error(t, goErr, p)
		err := validate(t, "rust_attributes", deleteMatching(p))
		require.Error(t, err, p)
		assert.Contains(t, err.Error(), "actions[0].pattern", p)
	}
	long := "(" + strings.Repeat("a", 1<<20)
	err := validate(t, "rust_attributes", deleteMatching(long))
	require.Error(t, err)
	assert.Less(t, len(err.Error()), 600, "the message cuts the pattern: %.700s", err.Error())
	assert.Contains(t, err.Error(), "1048577 bytes")
}

// Go's canonical form of a pattern matches what the pattern matches in
// Go: classes are ASCII, a byte that is not UTF-8 is U+FFFD.
func TestPatternsMatchAsInGo(t *testing.T) {
	for _, tc := range []struct {
		pattern, key string
	}{
		{`^\w+$`, "abc_1"},
		{`^\w+$`, "é"},
		{`^.$`, "\xff"},
		{`^\x{FFFD}$`, "\xff"},
		{`(?i)^K$`, "\u212a"},
		{`^\s$`, "\v"},
		{`[[:^alpha:]]`, "a"},
	} {
		want := regexp.MustCompile(tc.pattern).MatchString(tc.key)
		next := new(consumertest.TracesSink)
		p := newTraces(t, "rust_attributes", deleteMatching(tc.pattern), next)
		td := sampleTraces(1)
		attrs := td.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0).Attributes()
		attrs.PutStr(tc.key, "v")
		require.NoError(t, p.ConsumeTraces(context.Background(), td))
		got := next.AllTraces()[0].ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0).Attributes()
		_, kept := got.Get(tc.key)
		assert.Equal(t, want, !kept, "pattern %q on key %q: Go matches: %v", tc.pattern, tc.key, want)
	}
}

// YAML's .inf, -.inf and .nan reach Rust: contrib inserts them as
// doubles, so rust_attributes does; the rate limiter refuses a rate that
// is not finite, naming the field.
func TestNonFiniteNumbersCross(t *testing.T) {
	for _, v := range []float64{math.Inf(1), math.Inf(-1), math.NaN()} {
		cfg := map[string]any{"actions": []any{map[string]any{"key": "x", "value": v, "action": "insert"}}}
		require.NoError(t, validate(t, "rust_attributes", cfg), "%v", v)
		next := new(consumertest.TracesSink)
		p := newTraces(t, "rust_attributes", cfg, next)
		require.NoError(t, p.ConsumeTraces(context.Background(), sampleTraces(1)))
		got, ok := next.AllTraces()[0].ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0).Attributes().Get("x")
		require.True(t, ok)
		if math.IsNaN(v) {
			assert.True(t, math.IsNaN(got.Double()))
		} else {
			assert.Equal(t, v, got.Double())
		}

		err := validate(t, "rust_ratelimit", map[string]any{"rate": v, "burst": 1})
		require.Error(t, err)
		assert.Contains(t, err.Error(), "rate: must be a finite number greater than zero")
	}
}
