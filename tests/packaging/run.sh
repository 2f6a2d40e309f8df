#!/usr/bin/env bash
# `make test-packaging`: checks the Docker image and the Helm chart on a machine with no
# Docker daemon, no cluster and no helm binary.
#
#   1. scripts/bootstrap-packaging.sh installs buildah, podman, debootstrap, Go + Sprig,
#      yamllint, shellcheck, python3-jsonschema (Debian packages only).
#   2. Chart: helmrender (Go text/template + Sprig, Helm's own engine) renders
#      deploy/helm/quiver with default values and with values-custom.yaml; check_chart.py
#      checks the objects, labels, selectors, probes, ports, image tag, storage and the
#      values schema; yamllint and shellcheck lint the chart, values and scripts.
#   3. Image: base-images.sh debootstraps debian:bookworm and debian:bookworm-slim (cached
#      in ~/.cache/quiver-packaging/), build-image.sh builds the Dockerfile with buildah, test_image.py runs
#      it with podman: API round trip, SIGTERM exit 0, restart with the data, non-root.
#
# Environment: SKIP_IMAGE=1 runs only the chart part; FORCE_BASE=1 re-debootstraps.
# Prints "N passed, N failed" last and exits non-zero on any failure.
# The check functions below run through step(), which shellcheck cannot follow.
# shellcheck disable=SC2317
set -uo pipefail
started=$(date +%s)
cd "$(dirname "${BASH_SOURCE[0]}")/../.." || exit 1
# shellcheck source=lib.sh
source tests/packaging/lib.sh
log() { printf '[packaging %s] %s\n' "$(date +%H:%M:%S)" "$*"; }

passed=0
failed=0
# Runs one step; counts its PASS/FAIL lines (or the step itself when it prints none).
step() {
  local name=$1 out rc p f
  shift
  log "step: $name"
  out=$("$@" 2>&1)
  rc=$?
  if [ -n "$out" ]; then printf '%s\n' "$out" | grep -v '^PASS ' | sed 's/^/  /' || true; fi
  p=$(printf '%s\n' "$out" | grep -c '^PASS ' || true)
  f=$(printf '%s\n' "$out" | grep -c '^FAIL ' || true)
  if [ "$p" -eq 0 ] && [ "$f" -eq 0 ]; then
    if [ "$rc" -eq 0 ]; then p=1; echo "PASS $name"; else f=1; echo "FAIL $name (exit $rc)"; fi
  elif [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
    f=1
    echo "FAIL $name (exit $rc)"
  fi
  echo "  $name: $p passed, $f failed"
  passed=$((passed + p))
  failed=$((failed + f))
  return "$rc"
}

finish() {
  echo "total time: $(($(date +%s) - started)) s"
  echo "$passed passed, $failed failed"
  [ "$failed" -eq 0 ]
  exit $?
}

step "bootstrap-packaging.sh" scripts/bootstrap-packaging.sh || finish

# --- Chart -----------------------------------------------------------------------------
CHART=deploy/helm/quiver
RENDER="$CACHE_DIR/helmrender"
mkdir -p "$CACHE_DIR"
step "helmrender builds (GOPATH mode, Debian's Sprig)" \
  env GOPATH=/usr/share/gocode GO111MODULE=off GOFLAGS= GOCACHE="$CACHE_DIR/go-build" \
  go build -o "$RENDER" ./tests/packaging/helmrender || finish
go_clean() {
  [ -z "$(gofmt -l tests/packaging/helmrender)" ] &&
    GOPATH=/usr/share/gocode GO111MODULE=off GOCACHE="$CACHE_DIR/go-build" \
      go vet ./tests/packaging/helmrender
}
render() {  # render OUTPUT_NAME [helmrender flags...]
  local out=$1
  shift
  "$RENDER" -name quiver -namespace default -notes "$CACHE_DIR/notes-$out.txt" "$@" "$CHART" \
    >"$CACHE_DIR/rendered-$out.yaml"
}
required_fails() {  # `required` must stop the render, as in Helm
  printf 'image:\n  repository: ""\n' >"$CACHE_DIR/values-norepo.yaml"
  ! "$RENDER" -f "$CACHE_DIR/values-norepo.yaml" "$CHART" >/dev/null 2>&1
}
step "helmrender is gofmt-clean and go vet-clean" go_clean
step "render with default values" render default
step "render with values-custom.yaml" render custom -f tests/packaging/values-custom.yaml
step "render fails on a missing required value" required_fails
step "check_chart.py" /usr/bin/python3 tests/packaging/check_chart.py \
  "$CACHE_DIR/rendered-default.yaml" "$CACHE_DIR/rendered-custom.yaml" "$CACHE_DIR/notes-default.txt"
step "yamllint --strict (chart, values, rendered manifests)" \
  yamllint --strict -c tests/packaging/yamllint.yaml "$CHART" tests/packaging/values-custom.yaml \
  tests/packaging/values-bad.yaml "$CACHE_DIR/rendered-default.yaml" "$CACHE_DIR/rendered-custom.yaml"
step "apt_sources.py (mirror for the base images)" /usr/bin/python3 tests/packaging/test_apt_sources.py
step "shellcheck (packaging scripts)" shellcheck -x -P SCRIPTDIR tests/packaging/*.sh \
  deploy/docker/*.sh scripts/bootstrap-packaging.sh

# --- Image -----------------------------------------------------------------------------
if [ "${SKIP_IMAGE:-0}" = 1 ]; then
  log "SKIP_IMAGE=1: image build and run skipped"
  finish
fi
image_started=$(date +%s)
step "Debian base images (debootstrap, cached)" tests/packaging/base-images.sh || finish
step "image build (buildah bud)" tests/packaging/build-image.sh || finish
log "image ready after $(($(date +%s) - image_started)) s"
step "image run (podman): API, SIGTERM, restart, non-root" \
  /usr/bin/python3 tests/packaging/test_image.py "$QUIVER_IMAGE"
finish
