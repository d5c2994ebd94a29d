#!/usr/bin/env bash
# Lays out what the Dockerfile copies into the image, from the machine that
# built the binary:
#   OUT/otelcol-rust   the binary
#   OUT/rootfs/        its dynamic loader and shared libraries (at the paths
#                      the binary asks for), their copyright files, CA
#                      certificates, /etc/passwd, group, hosts, nsswitch.conf
# The binary is the only thing that differs between two builds on one
# machine, so it is its own layer.
set -euo pipefail
bin=${1:?usage: image-rootfs.sh BINARY OUT}
out=${2:?usage: image-rootfs.sh BINARY OUT}
ca_bundle=${CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}

rm -rf "$out"
root=$out/rootfs
mkdir -p "$root/etc/ssl/certs"
install -m 0755 "$bin" "$out/otelcol-rust"

# The loader (PT_INTERP) and every library it resolves for the binary.
# ldd prints "name => /path (addr)" for libraries, "/path (addr)" for the
# loader and nothing useful for the vDSO.
libs=$(ldd "$bin" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }')
[ -n "$libs" ] || { echo "image-rootfs: ldd found no libraries for $bin" >&2; exit 1; }
for lib in $libs; do
	install -D -m 0755 "$(readlink -f "$lib")" "$root$lib"
	# The licences of what is shipped: glibc (LGPL), libgcc (GPL with
	# the runtime exception).
	if command -v dpkg >/dev/null; then
		pkg=$( (dpkg -S "$lib" || dpkg -S "$(readlink -f "$lib")") 2>/dev/null | head -1 | cut -d: -f1) || true
		if [ -n "$pkg" ] && [ -f "/usr/share/doc/$pkg/copyright" ]; then
			install -D -m 0644 "/usr/share/doc/$pkg/copyright" "$root/usr/share/doc/$pkg/copyright"
		fi
	fi
done

[ -s "$ca_bundle" ] || { echo "image-rootfs: no CA bundle at $ca_bundle (install ca-certificates or set CA_BUNDLE)" >&2; exit 1; }
install -m 0644 "$ca_bundle" "$root/etc/ssl/certs/ca-certificates.crt"

# uid/gid 65532 is the "nonroot" user of distroless images; Kubernetes'
# runAsNonRoot accepts it from the image's USER.
printf 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' >"$root/etc/passwd"
printf 'root:x:0:\nnonroot:x:65532:\n' >"$root/etc/group"
# Container runtimes mount their own /etc/hosts over this one; it is for
# runs without one (a chroot), where "localhost" must still resolve.
printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n' >"$root/etc/hosts"
printf 'hosts: files dns\n' >"$root/etc/nsswitch.conf"
chmod 0644 "$root/etc/passwd" "$root/etc/group" "$root/etc/hosts" "$root/etc/nsswitch.conf"
