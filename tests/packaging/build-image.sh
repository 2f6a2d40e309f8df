#!/usr/bin/env bash
# Builds the Quiver image from the repository's Dockerfile with buildah (no daemon needed),
# against the local Debian base images made by base-images.sh (--pull=never: no registry).
# --layers keeps every step's result, so an unchanged tree rebuilds in seconds and a source
# change reuses the slow apt layer. --format docker keeps the HEALTHCHECK (OCI has none).
# CONTEXT_DIR (default: the repository) builds another tree, e.g. a frozen copy.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

log "buildah bud -> $QUIVER_IMAGE (log: $CACHE_DIR/image-build.log)"
mkdir -p "$CACHE_DIR/ccache"
if ! buildah bud "${STORAGE_ARGS[@]}" --isolation chroot --pull=never --layers \
      --format docker \
      --build-arg "VERSION=$QUIVER_VERSION" --build-arg "JOBS=${JOBS:-2}" \
      --build-arg "GIT_SHA=$(git -C "$REPO_ROOT" rev-parse --short=12 HEAD 2>/dev/null || echo unknown)" \
      --volume "$CACHE_DIR/ccache:/ccache:rw" \
      -t "$QUIVER_IMAGE" -f "${CONTEXT_DIR:-$REPO_ROOT}/Dockerfile" "${CONTEXT_DIR:-$REPO_ROOT}" \
      >"$CACHE_DIR/image-build.log" 2>&1; then
  tail -n 40 "$CACHE_DIR/image-build.log" >&2
  log "image build failed"
  exit 1
fi
grep -E '^runtime-packages:|^lib.*\.so' "$CACHE_DIR/image-build.log" >&2 || true
podman "${STORAGE_ARGS[@]}" images --format '{{.Repository}}:{{.Tag}} {{.Size}}' "$QUIVER_IMAGE" >&2
