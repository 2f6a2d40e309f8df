#!/usr/bin/env bash
# Installs the Debian packages that `make test-packaging` needs: a daemonless image builder
# and runner (buildah, podman), debootstrap for the local Debian base images, Go + Sprig for
# the Helm chart renderer, and the YAML/JSON-schema/shell linters.
# Idempotent: packages already installed are skipped, and apt is not touched at all when
# nothing is missing. Uses sudo only when not running as root.
set -euo pipefail

packages=(
  # OCI images without a daemon (runc: crun refuses this machine's hybrid cgroup layout)
  # and Debian base images made from the Debian archive
  buildah podman runc debootstrap fuse-overlayfs slirp4netns uidmap
  # Helm chart renderer (text/template + Sprig, like Helm itself)
  golang-go golang-github-masterminds-sprig-dev golang-gopkg-yaml.v3-dev
  # chart and script checks
  python3 python3-yaml python3-jsonschema python3-requests yamllint shellcheck
  # talking to the server under test
  curl procps
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "bootstrap-packaging: all ${#packages[@]} packages present"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "bootstrap-packaging: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
