#!/usr/bin/env bash
# Reads an ELF binary with readelf (binutils) and fails unless it has the
# four properties checksec reports for a hardened executable:
#   PIE        ET_DYN with DF_1_PIE (an ET_DYN without it is a library)
#   RELRO      PT_GNU_RELRO plus BIND_NOW ("full": the GOT is read-only too)
#   canary     an import of __stack_chk_fail: some C was built with a
#              stack protector (the dynamic symbol table survives strip)
#   NX         PT_GNU_STACK without the execute flag
# Text relocations, which defeat PIE's sharing and W^X, also fail it.
# Prints one checksec-like line per binary.
set -euo pipefail
[ $# -gt 0 ] || { echo "usage: check-elf.sh ELF..." >&2; exit 2; }

rc=0
for f in "$@"; do
	header=$(LC_ALL=C readelf -hW "$f")
	dynamic=$(LC_ALL=C readelf -dW "$f")
	segments=$(LC_ALL=C readelf -lW "$f")
	dynsyms=$(LC_ALL=C readelf --dyn-syms -W "$f")

	type=$(awk '$1 == "Type:" { print $2 }' <<<"$header")
	pie=no
	if [ "$type" = DYN ] && grep -Eq '\(FLAGS_1\).*\bPIE\b' <<<"$dynamic"; then pie=yes; fi

	relro=no
	if grep -q GNU_RELRO <<<"$segments"; then
		relro=partial
		if grep -Eq '\(BIND_NOW\)|\(FLAGS\).*\bBIND_NOW\b|\(FLAGS_1\).*\bNOW\b' <<<"$dynamic"; then relro=full; fi
	fi

	canary=no
	if grep -q '__stack_chk_fail' <<<"$dynsyms"; then canary=yes; fi

	# The flags column of PT_GNU_STACK: "RW" or "RWE".
	stack=$(awk '$1 == "GNU_STACK" { f = ""; for (i = 7; i <= NF; i++) if ($i ~ /^[RWE]+$/) f = f $i; print f }' <<<"$segments")
	nx=no
	if [ -n "$stack" ] && [[ $stack != *E* ]]; then nx=yes; fi

	textrel=no
	if grep -Eq '\(TEXTREL\)|\(FLAGS\).*\bTEXTREL\b' <<<"$dynamic"; then textrel=yes; fi

	echo "$f: PIE=$pie RELRO=$relro CANARY=$canary NX=$nx TEXTREL=$textrel"
	if [ $pie != yes ] || [ $relro != full ] || [ $canary != yes ] || [ $nx != yes ] || [ $textrel != no ]; then
		echo "$f: not hardened (needs PIE, full RELRO, a stack canary, NX and no text relocations)" >&2
		rc=1
	fi
done
exit $rc
