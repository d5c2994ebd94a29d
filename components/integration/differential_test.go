//go:build integration

package integration

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/metadata"

	"github.com/otelcol-rust/otelcol-rust/components/internal/attrtest"
)

// The differential test against the built collector: random attribute
// configurations, each written once under `attributes` (contrib, the
// reference) and once under `rust_attributes`, run in pipelines side by
// side; random batches of all three signals (every value type, NaN and
// infinities, empty, repeated and non-UTF-8 keys, deep nesting, all five
// metric types) go to both over gRPC and HTTP, one request at a time; the
// file exporters' protobuf must be the same bytes, message for message in
// the same order.

// yamlFlow writes v as YAML flow style. JSON would do but for the floats
// JSON has no spelling for.
func yamlFlow(v any) string {
	switch t := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(t))
		for k := range t {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = yamlFlow(k) + ": " + yamlFlow(t[k])
		}
		return "{" + strings.Join(parts, ", ") + "}"
	case []any:
		parts := make([]string, len(t))
		for i, e := range t {
			parts[i] = yamlFlow(e)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case float64:
		switch {
		case math.IsNaN(t):
			return ".nan"
		case math.IsInf(t, 1):
			return ".inf"
		case math.IsInf(t, -1):
			return "-.inf"
		}
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func TestDifferentialAgainstContribInTheBuiltCollector(t *testing.T) {
	const pairs, batches = 6, 4
	for _, seed := range []uint64{1, 2} {
		t.Run(fmt.Sprint("seed ", seed), func(t *testing.T) {
			r := rand.New(rand.NewPCG(seed, 99))
			var processors strings.Builder
			var paths []*path
			var configs []map[string]any
			for i := 0; i < pairs; i++ {
				cfg := attrtest.RandomActions(r)
				// Both must accept it; contrib checks actions only when
				// it builds a processor, so use only what rust_attributes
				// documents as implemented (RandomActions does).
				configs = append(configs, cfg)
				actions := yamlFlow(cfg["actions"])
				fmt.Fprintf(&processors, "  attributes/%d:\n    actions: %s\n  rust_attributes/%d:\n    actions: %s\n", i, actions, i, actions)
				paths = append(paths,
					&path{name: fmt.Sprintf("go%d", i), processors: []string{fmt.Sprintf("attributes/%d", i)}},
					&path{name: fmt.Sprintf("rust%d", i), processors: []string{fmt.Sprintf("rust_attributes/%d", i)}})
			}
			pc := startPaths(t, processors.String(), true, paths...)
			md := metadata.Pairs("tenant", "acme")
			header := http.Header{"Tenant": {"acme"}}
			sent := map[string]int{}
			for b := 0; b < batches; b++ {
				dup := b == batches-1
				payloads := []payload{}
				if dup {
					payloads = append(payloads,
						tracesPayload(t, attrtest.DuplicateKeyTraces(t, r)),
						metricsPayload(t, attrtest.DuplicateKeyMetrics(t, r)),
						logsPayload(t, attrtest.DuplicateKeyLogs(t, r)))
				} else {
					payloads = append(payloads,
						tracesPayload(t, attrtest.RandomTraces(r)),
						metricsPayload(t, attrtest.RandomMetrics(r)),
						logsPayload(t, attrtest.RandomLogs(r)))
				}
				for _, pl := range payloads {
					sent[pl.signal]++
					for _, p := range paths {
						var a answer
						if b%2 == 0 {
							a = sendGRPC(t, p.grpcAddr, pl, md)
						} else {
							a = sendHTTP(t, p.httpAddr, pl.signal, "application/x-protobuf", pl.proto, header)
						}
						require.Contains(t, []int{0, http.StatusOK}, a.code, "path %s: %s", p.name, a.message)
					}
				}
			}
			for _, signal := range []string{"traces", "metrics", "logs"} {
				exports := pc.exports(t, signal, sent[signal])
				for i := 0; i < pairs; i++ {
					want, got := exports[fmt.Sprintf("go%d", i)], exports[fmt.Sprintf("rust%d", i)]
					require.Len(t, got, len(want))
					for m := range want {
						if !bytes.Equal(want[m], got[m]) {
							t.Fatalf("%s message %d differs for actions %s:\ncontrib: %q\nrust:    %q", signal, m, yamlFlow(configs[i]["actions"]), want[m], got[m])
						}
					}
				}
			}
		})
	}
}
