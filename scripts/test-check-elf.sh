#!/usr/bin/env bash
# Proves that scripts/check-elf.sh notices each missing protection: a small
# C program is built hardened (must pass) and then once without each of
# PIE, BIND_NOW, the stack protector and a non-executable stack (each must
# fail).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cat >"$tmp/p.c" <<'EOF'
#include <stdio.h>
#include <string.h>
int main(int argc, char **argv) {
	char buf[64];
	strncpy(buf, argc > 1 ? argv[1] : "x", sizeof buf - 1);
	buf[sizeof buf - 1] = 0;
	puts(buf);
	return 0;
}
EOF

hardened=(-O2 -fPIE -pie -fstack-protector-strong -Wl,-z,relro,-z,now,-z,noexecstack)
build() { # name, extra flags (later flags win)
	local name=$1
	shift
	cc "${hardened[@]}" "$@" -o "$tmp/$name" "$tmp/p.c" 2>/dev/null
}
build hardened
build no-pie -fno-PIE -no-pie
build lazy-binding -Wl,-z,lazy
build no-canary -fno-stack-protector
build exec-stack -Wl,-z,execstack

"$here/check-elf.sh" "$tmp/hardened" >/dev/null
for bad in no-pie lazy-binding no-canary exec-stack; do
	if "$here/check-elf.sh" "$tmp/$bad" >/dev/null 2>&1; then
		echo "check-elf.sh accepted a binary built with $bad" >&2
		exit 1
	fi
done
echo "check-elf.sh: accepts a hardened binary, refuses each of no-pie, lazy-binding, no-canary, exec-stack"
