#!/usr/bin/env bash
# Builds the image from the top-level Dockerfile with the first of podman,
# buildah and docker found (or CONTAINER_ENGINE). The Dockerfile starts
# FROM scratch and only copies what `make image` laid out, so no registry
# is needed.
#
# Environment:
#   CONTAINER_ENGINE           podman, buildah or docker (a path works too)
#   CONTAINER_STORAGE_FLAGS    global flags for podman/buildah, e.g.
#                              "--root DIR --runroot DIR --storage-driver vfs"
#   IMAGE_VERSION, IMAGE_REVISION   the OCI version and revision labels
set -euo pipefail
tag=${1:?usage: build-image.sh TAG}
cd "$(dirname "$0")/.."

engine=${CONTAINER_ENGINE:-}
if [ -z "$engine" ]; then
	for candidate in podman buildah docker; do
		if command -v "$candidate" >/dev/null; then
			engine=$candidate
			break
		fi
	done
fi
[ -n "$engine" ] || { echo "build-image: none of podman, buildah, docker is installed" >&2; exit 1; }

read -r -a storage <<<"${CONTAINER_STORAGE_FLAGS:-}"
args=(-f Dockerfile -t "$tag"
	--build-arg "VERSION=${IMAGE_VERSION:-0.0.0-dev}"
	--build-arg "REVISION=${IMAGE_REVISION:-unknown}")
case $(basename "$engine") in
buildah) cmd=("$engine" "${storage[@]}" bud --layers) ;;
podman) cmd=("$engine" "${storage[@]}" build) ;;
*) cmd=("$engine" build) ;;
esac
echo "${cmd[*]} ${args[*]} ."
"${cmd[@]}" "${args[@]}" .
