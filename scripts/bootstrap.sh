#!/usr/bin/env bash
# Installs every Debian package that the build, the tests and the benchmarks need.
# Idempotent: packages already installed are skipped, and apt is not touched at all when
# nothing is missing. Uses sudo only when not running as root.
set -euo pipefail

packages=(
  # toolchain
  build-essential g++ cmake ninja-build ccache pkg-config git clang-14 libclang-rt-14-dev
  # libraries linked into quiverd
  libboost-dev librocksdb-dev libsimdjson-dev rapidjson-dev libspdlog-dev libfmt-dev
  libcli11-dev libcurl4-openssl-dev libroaring-dev
  # unit tests and micro-benchmarks
  libgtest-dev libgmock-dev libbenchmark-dev
  # API and crash tests (Debian's python, never a separate install)
  python3 python3-pytest python3-requests python3-numpy
  # benchmarks: peers, data set, load generator, plots
  libhnswlib-dev libfaiss-dev dataset-fashion-mnist wrk python3-matplotlib
  # misc used by scripts
  curl procps
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "bootstrap: all ${#packages[@]} packages present"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "bootstrap: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
