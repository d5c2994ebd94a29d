package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
)

// With -profile, each window is also sampled with perf, and a pipeline's
// processor cost is measured a second way: the share of the collector's
// CPU samples whose stack is in the processor's own code, times the
// window's CPU per span.
//
// Why a second way: "processor cost" as the table computes it is the
// difference of two collectors' CPU per span measured seconds apart, each
// about 3 µs/span, while a processor costs 0.5-1. On a machine whose speed
// moves by ±10% from one window to the next, that difference moves by as
// much as the processor's whole cost, and the ratio of two such
// differences swings from 1x to 4x between rounds. A stack sample is
// taken inside the one process, in the same window as the CPU figure it
// divides, so the machine's drift scales the processor's share and the
// rest alike and cancels out.
//
// The window's CPU per span still carries the machine's drift, so the
// ratios between pipelines are also given against a yardstick sampled in
// the same window: the receiver's unmarshalling of the requests, the same
// work for the same batches in every pipeline (no processor here
// unmarshals). A processor's samples over the receiver's unmarshal samples
// compare across windows, rounds and builds without the drift.
//
// What the sampled cost leaves out: the garbage collector's background
// marking (no processor's stack is on it; the processors compared here
// allocate alike), and the pipeline's own wrappers (processorhelper, the
// next consumer's obsconsumer). What it counts for a Rust processor is all
// of the bridge: the projection, the crossing, the Rust work, the edit
// replay and the bridge's own telemetry.

// profileSampleHz is perf's sampling frequency: enough samples in a 6 s
// window on 2 cores (about 6000) for a share of 10-20% to be read within
// a percent or two, and little enough overhead not to change the load.
const profileSampleHz = 499

// processorFrames are the parts of a symbol that mark a frame as a
// processor's own code. Rust symbols are the only ones with "::", and
// only processors are written in Rust.
var processorFrames = []string{
	"/processor/attributesprocessor.",
	"/internal/coreinternal/attraction.",
	"/processor/redactionprocessor.",
	"/otelcol-rust/components/bridge.",
	"/otelcol-rust/components/internal/otlpedits.",
	"::",
}

// isProcessorFrame reports whether a symbol is a processor's own code.
func isProcessorFrame(sym string) bool {
	for _, p := range processorFrames {
		if strings.Contains(sym, p) {
			return true
		}
	}
	return false
}

// isUnmarshalFrame reports whether a symbol is pdata's unmarshalling of a
// request: the receiver's, as no processor compared here unmarshals.
func isUnmarshalFrame(sym string) bool {
	return strings.Contains(sym, "go.opentelemetry.io/collector/pdata/internal.") && strings.Contains(sym, "UnmarshalProto")
}

// isNextConsumerFrame reports whether a symbol is the exporter's: a
// processor calls the next consumer from its own stack, and that work is
// the exporter's, not the processor's.
func isNextConsumerFrame(sym string) bool {
	return strings.Contains(sym, "exporter")
}

// stackProfile is perf sampling one collector for a window.
type stackProfile struct {
	cmd  *exec.Cmd
	file string
	errs bytes.Buffer
}

// startProfile starts sampling pid's stacks.
func startProfile(pid int) (*stackProfile, error) {
	perf, err := exec.LookPath("perf")
	if err != nil {
		return nil, fmt.Errorf("-profile needs perf (Debian: linux-perf): %w", err)
	}
	dir, err := os.MkdirTemp("", "loadtest-profile-")
	if err != nil {
		return nil, err
	}
	p := &stackProfile{file: filepath.Join(dir, "perf.data")}
	p.cmd = exec.Command(perf, "record", "-q", "-g", "-e", "cpu-clock",
		"-F", fmt.Sprint(profileSampleHz), "-p", fmt.Sprint(pid), "-o", p.file)
	p.cmd.Stderr = &p.errs
	if err := p.cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("perf record: %w", err)
	}
	return p, nil
}

// windowProfile is what a window's stack samples say.
type windowProfile struct {
	// processor and unmarshal: the share of the samples in a processor's
	// own code and in the receiver's unmarshalling.
	processor, unmarshal float64
	samples              int
}

// stop ends the sampling and returns what the samples say.
func (p *stackProfile) stop() (windowProfile, error) {
	defer os.RemoveAll(filepath.Dir(p.file))
	_ = p.cmd.Process.Signal(syscall.SIGINT)
	if err := p.cmd.Wait(); err != nil {
		// perf exits with the signal's status after writing its file.
		if _, statErr := os.Stat(p.file); statErr != nil {
			return windowProfile{}, fmt.Errorf("perf record: %w: %s", err, strings.TrimSpace(p.errs.String()))
		}
	}
	script := exec.Command("perf", "script", "-i", p.file, "-F", "ip,sym")
	out, err := script.StdoutPipe()
	if err != nil {
		return windowProfile{}, err
	}
	var stderr bytes.Buffer
	script.Stderr = &stderr
	if err := script.Start(); err != nil {
		return windowProfile{}, fmt.Errorf("perf script: %w", err)
	}
	c := classifyStacks(out)
	if err := script.Wait(); err != nil {
		return windowProfile{}, fmt.Errorf("perf script: %w: %s", err, strings.TrimSpace(stderr.String()))
	}
	if c.total == 0 {
		return windowProfile{}, fmt.Errorf("perf recorded no samples")
	}
	if c.resolved == 0 {
		return windowProfile{}, fmt.Errorf("perf resolved no symbols of the collector (a stripped binary without its .debug file?)")
	}
	n := float64(c.total)
	return windowProfile{processor: float64(c.processor) / n, unmarshal: float64(c.unmarshal) / n, samples: c.total}, nil
}

// stackCounts counts a window's samples by where they are.
type stackCounts struct {
	processor, unmarshal, total, resolved int
}

// classifyStacks reads perf script's output (each sample's call chain, a
// frame per line, samples separated by blank lines) and counts the
// samples: all of them, those in a processor's own code, those in the
// receiver's unmarshalling, and those with any symbol resolved.
func classifyStacks(r io.Reader) stackCounts {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	var c stackCounts
	var inProcessor, inNext, inUnmarshal, known, any bool
	flush := func() {
		if any {
			c.total++
			switch {
			case inProcessor && !inNext:
				c.processor++
			case inUnmarshal && !inProcessor:
				c.unmarshal++
			}
			if known {
				c.resolved++
			}
		}
		inProcessor, inNext, inUnmarshal, known, any = false, false, false, false, false
	}
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			flush()
			continue
		}
		any = true
		// "<address> <symbol>" (perf writes "[unknown]" when it has none).
		_, sym, _ := strings.Cut(line, " ")
		if sym == "" || strings.HasPrefix(sym, "[unknown]") {
			continue
		}
		known = true
		if isProcessorFrame(sym) {
			inProcessor = true
		}
		if isNextConsumerFrame(sym) {
			inNext = true
		}
		if isUnmarshalFrame(sym) {
			inUnmarshal = true
		}
	}
	flush()
	return c
}

// sampledCost is a window's processor cost by stack sampling.
func sampledCost(r result) float64 { return r.profile.processor * r.usPerSpan }

// againstUnmarshal is a window's processor samples over its receiver's
// unmarshal samples.
func againstUnmarshal(r result) float64 {
	if r.profile.unmarshal == 0 {
		return 0
	}
	return r.profile.processor / r.profile.unmarshal
}

// profiledCosts shows each pipeline's processor cost by stack sampling
// and the two ratios the targets are about, both as the median of the
// per-round ratios and their spread.
func profiledCosts(w io.Writer, selected []pipeline, runs map[string][]result) {
	fmt.Fprintf(w, "\nProcessor cost by stack sampling (perf, %d Hz): the share of the collector's CPU samples in the processor's own code, times the window's CPU µs/span; median over rounds:\n\n", profileSampleHz)
	fmt.Fprintf(w, "| pipeline | processor share of CPU | processor cost µs/span (sampled) | processor / receiver unmarshal | samples per window |\n|---|---|---|---|---|\n")
	medianOf := func(name string, f func(result) float64) (float64, bool) {
		var v []float64
		for _, r := range runs[name] {
			if r.profile.samples > 0 {
				v = append(v, f(r))
			}
		}
		if len(v) == 0 {
			return 0, false
		}
		sort.Float64s(v)
		return v[len(v)/2], true
	}
	for _, p := range selected {
		if len(p.order) == 0 || p.nocgo {
			continue
		}
		share, ok := medianOf(p.name, func(r result) float64 { return r.profile.processor })
		if !ok {
			continue
		}
		cost, _ := medianOf(p.name, sampledCost)
		rel, _ := medianOf(p.name, againstUnmarshal)
		n, _ := medianOf(p.name, func(r result) float64 { return float64(r.profile.samples) })
		fmt.Fprintf(w, "| %s | %.1f%% | %.3f | %.3f | %.0f |\n", p.name, 100*share, cost, rel, n)
	}
	ratio := func(what, name, against string) {
		a, b := runs[name], runs[against]
		var byCost, byUnmarshal []float64
		for i := range a {
			if i >= len(b) || a[i].profile.samples == 0 || b[i].profile.samples == 0 {
				continue
			}
			if d := sampledCost(b[i]); d > 0 {
				byCost = append(byCost, sampledCost(a[i])/d)
			}
			if d := againstUnmarshal(b[i]); d > 0 {
				byUnmarshal = append(byUnmarshal, againstUnmarshal(a[i])/d)
			}
		}
		spread := func(v []float64) string {
			sort.Float64s(v)
			return fmt.Sprintf("median %.2fx (min %.2fx, max %.2fx)", v[len(v)/2], v[0], v[len(v)-1])
		}
		if len(byCost) == 0 || len(byUnmarshal) == 0 {
			return
		}
		fmt.Fprintf(w, "\n%s, sampled, per round over %d rounds: µs/span %s; against the receiver's unmarshal %s.\n",
			what, len(byCost), spread(byCost), spread(byUnmarshal))
	}
	ratio("rust_attributes against contrib attributes (1000 spans)", "rust_attributes, batch 1000", "attributes (contrib), batch 1000")
	ratio("Three rust_attributes against one", "3 x rust_attributes, batch 1000", "rust_attributes, batch 1000")
	ratio("Three rust_attributes against three contrib attributes", "3 x rust_attributes, batch 1000", "3 x attributes (contrib), batch 1000")
}
