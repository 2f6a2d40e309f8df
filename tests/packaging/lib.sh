# shellcheck shell=bash
# Shared settings for the packaging scripts: one container storage (vfs works without
# overlay or fuse support), the image names, and the cache folder.
PKG_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$PKG_DIR/../.." && pwd)"
# Outside the work tree, so a fresh clone on the same machine (as CI makes) reuses it.
CACHE_DIR="${QUIVER_PACKAGING_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/quiver-packaging}"
# shellcheck disable=SC2034  # used by the scripts that source this file
STORAGE_ARGS=(--storage-driver vfs)
QUIVER_VERSION="${QUIVER_VERSION:-0.1.0}"
QUIVER_IMAGE="${QUIVER_IMAGE:-localhost/quiver:$QUIVER_VERSION}"
export PKG_DIR REPO_ROOT CACHE_DIR QUIVER_VERSION QUIVER_IMAGE

log() { printf '[packaging %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
