package bridge

import "testing"

// The pure-Go edit replay spells the header's constants out; they must be
// the ones Rust writes.
func TestEditConstantsMatchTheHeader(t *testing.T) {
	for name, v := range headerEditConstants() {
		if v[0] != v[1] {
			t.Errorf("%s: header %d, otlpedits %d", name, v[0], v[1])
		}
	}
}
