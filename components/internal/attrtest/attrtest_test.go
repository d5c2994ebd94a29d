package attrtest

import (
	"math/rand/v2"
	"testing"

	"go.opentelemetry.io/collector/pdata/pcommon"
)

func TestDuplicateKeyBatchesRepeatKeys(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	dups := 0
	for i := 0; i < 20; i++ {
		td := DuplicateKeyTraces(t, r)
		m := td.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0).Attributes()
		seen := map[string]int{}
		m.Range(func(k string, _ pcommon.Value) bool { seen[k]++; return true })
		for _, n := range seen {
			if n > 1 {
				dups++
			}
		}
	}
	t.Log("maps with repeated keys:", dups)
	if dups == 0 {
		t.Fatal("no repeated keys")
	}
}
