#!/usr/bin/env bash
# Moves the DWARF and the symbol table of an ELF binary into BINARY.debug
# and leaves a .gnu_debuglink in the binary: gdb, perf, pprof and Rust's
# own backtraces find names and file:line when the .debug file sits beside
# it (or under /usr/lib/debug). Go's stack traces need neither: they come
# from .gopclntab, which stays. The dynamic symbol table stays too, so the
# binary still links and checks (scripts/check-elf.sh) as before.
#
# Idempotent: `go build` leaves an up-to-date binary alone, and a binary
# already split keeps its .debug file.
set -euo pipefail
bin=${1:?usage: split-debug.sh BINARY}
dbg=$bin.debug

sections=$(LC_ALL=C readelf -SW "$bin")
has_section() { grep -q " $1 " <<<"$sections"; }

if ! has_section .debug_info; then
	if has_section .gnu_debuglink && [ -s "$dbg" ]; then
		exit 0
	fi
	echo "split-debug: $bin has no debug info to split" >&2
	exit 1
fi
objcopy --only-keep-debug "$bin" "$dbg"
chmod 0644 "$dbg"
objcopy --strip-all --remove-section=.gnu_debuglink --add-gnu-debuglink="$dbg" "$bin" "$bin.tmp"
mv "$bin.tmp" "$bin"
