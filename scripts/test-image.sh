#!/usr/bin/env bash
# The image test of `make test`: builds the image from the binary `make
# build` made, in a container store of its own (vfs driver, under
# _build/image-test, so that the machine's store is left alone), saves it
# as an OCI layout, reports its size, and runs the Go image tests
# (components/integration/image_test.go) on it.
#
# The collector runs under `podman run` where podman can start containers;
# where it cannot (a host whose limits or cgroups podman refuses), the
# image's layers are unpacked and the collector runs in a chroot of them as
# uid 65532: the same files, the same user, nothing else inside.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
image=localhost/otelcol-rust:test
work=$root/_build/image-test

engine=
for candidate in buildah podman; do
	if command -v "$candidate" >/dev/null; then
		engine=$candidate
		break
	fi
done
if [ -z "$engine" ]; then
	echo "test-image: SKIPPED: neither buildah nor podman is installed (apt-get install buildah podman)"
	exit 0
fi

rm -rf "$work"
mkdir -p "$work"
storage=(--root "$work/storage/root" --runroot "$work/storage/run" --storage-driver vfs)
cleanup() {
	"$engine" "${storage[@]}" rmi --all --force >/dev/null 2>&1 || true
	rm -rf "$work/storage"
}
trap cleanup EXIT

revision=$(git rev-parse HEAD 2>/dev/null || echo unknown)
CONTAINER_ENGINE=$engine CONTAINER_STORAGE_FLAGS="${storage[*]}" \
	IMAGE_VERSION=$(awk '$1 == "version:" { print $2; exit }' builder-config.yaml) IMAGE_REVISION=$revision \
	scripts/build-image.sh "$image" >"$work/build.log" 2>&1 || { cat "$work/build.log"; exit 1; }

case $engine in
buildah) "$engine" "${storage[@]}" push --quiet "$image" "oci:$work/oci" ;;
podman) "$engine" "${storage[@]}" save --quiet --format oci-dir -o "$work/oci" "$image" ;;
esac
size=$("$engine" "${storage[@]}" images --format '{{.Size}}' "$image" | head -1)
compressed=$(find "$work/oci/blobs" -type f -printf '%s\n' | awk '{ s += $1 } END { printf "%.1f MB", s / 1e6 }')
echo "test-image: $image built with $engine: $size unpacked, $compressed as stored in a registry (OCI layout)"

runner=chroot
if command -v podman >/dev/null; then
	if probe=$(podman "${storage[@]}" run --rm --network=host "$image" --version 2>&1); then
		runner=podman
	else
		echo "test-image: podman run refused here ($(tail -1 <<<"$probe")); running the image's root filesystem in a chroot as uid 65532"
	fi
fi

cd components
OTELCOL_RUST_IMAGE_OCI=$work/oci OTELCOL_RUST_IMAGE_RUNNER=$runner OTELCOL_RUST_IMAGE=$image \
	OTELCOL_RUST_PODMAN="podman ${storage[*]}" OTELCOL_RUST_IMAGE_REVISION=$revision \
	go test ${GO_TEST_FLAGS:--count=1} -v -tags integration -run '^TestImage' ./integration/
