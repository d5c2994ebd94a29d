// Package rustconfig holds the JSON forms of a Rust processor's
// configuration that both distributions share: the confmap section as
// Rust reads it, Rust's effective configuration as confmap holds it, and
// the secrets masked as configopaque values.
package rustconfig // import "github.com/otelcol-rust/otelcol-rust/components/internal/rustconfig"

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"

	"go.opentelemetry.io/collector/config/configopaque"
)

// DecodeJSON reads a JSON object from Rust as confmap holds YAML: integers
// stay integers (a float would turn an integer attribute value into a
// double on the way back), other numbers are float64.
func DecodeJSON(text string) (map[string]any, error) {
	dec := json.NewDecoder(strings.NewReader(text))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, err
	}
	return numbers(m).(map[string]any), nil
}

func numbers(v any) any {
	switch t := v.(type) {
	case map[string]any:
		if f, ok := nonFinite(t); ok {
			return f
		}
		for k, e := range t {
			t[k] = numbers(e)
		}
	case []any:
		for i, e := range t {
			t[i] = numbers(e)
		}
	case json.Number:
		if !strings.ContainsAny(t.String(), ".eE") {
			if i, err := t.Int64(); err == nil {
				return i
			}
			if u, err := strconv.ParseUint(t.String(), 10, 64); err == nil {
				return u
			}
		}
		f, _ := t.Float64()
		return f
	}
	return v
}

// MaskOpaque returns v with the values at path (dotted; "*" is any map key
// or list index) made configopaque.String: a string itself, or every
// string under a map or list. v is not modified.
func MaskOpaque(v any, path []string) any {
	if len(path) == 0 {
		return opaque(v)
	}
	switch t := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, e := range t {
			if path[0] == "*" || path[0] == k {
				e = MaskOpaque(e, path[1:])
			}
			out[k] = e
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			if path[0] == "*" || path[0] == strconv.Itoa(i) {
				e = MaskOpaque(e, path[1:])
			}
			out[i] = e
		}
		return out
	}
	return v
}

func opaque(v any) any {
	switch t := v.(type) {
	case string:
		return configopaque.String(t)
	case map[string]any:
		return MaskOpaque(t, []string{"*"})
	case []any:
		return MaskOpaque(t, []string{"*"})
	}
	return v
}

// nonFiniteKey marks a float JSON cannot hold. YAML has .inf, -.inf and
// .nan, and contrib's processors accept them (attributes inserts a double
// +Inf); JSON has no such numbers, so each crosses as
// {"$otelcol_rust_float": "+Inf" | "-Inf" | "NaN"}, both ways: the
// engine's config helpers read and write it (rust/engine/src/config.rs).
const nonFiniteKey = "$otelcol_rust_float"

// ForRust returns v as Rust reads it: the secrets themselves rather than
// configopaque.String, and every non-finite float replaced by its marker.
// v itself is not changed.
func ForRust(v any) any {
	switch t := v.(type) {
	case configopaque.String:
		return string(t)
	case float64:
		switch {
		case math.IsNaN(t):
			return map[string]any{nonFiniteKey: "NaN"}
		case math.IsInf(t, 1):
			return map[string]any{nonFiniteKey: "+Inf"}
		case math.IsInf(t, -1):
			return map[string]any{nonFiniteKey: "-Inf"}
		}
		return t
	case float32:
		return ForRust(float64(t))
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, e := range t {
			out[k] = ForRust(e)
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = ForRust(e)
		}
		return out
	}
	return v
}

// nonFinite reads a marker Rust wrote for a non-finite float.
func nonFinite(m map[string]any) (float64, bool) {
	if len(m) != 1 {
		return 0, false
	}
	switch m[nonFiniteKey] {
	case "NaN":
		return math.NaN(), true
	case "+Inf":
		return math.Inf(1), true
	case "-Inf":
		return math.Inf(-1), true
	}
	return 0, false
}
