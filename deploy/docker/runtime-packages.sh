#!/usr/bin/env bash
# Usage: runtime-packages.sh BINARY
#
# Run in the Dockerfile's build stage: prints the Debian package that owns each shared
# library BINARY links directly (its ELF NEEDED entries), i.e. the list that RUNTIME_PACKAGES
# in the Dockerfile must cover. The runtime stage then proves the list complete by running
# ldd on the installed binary, so a missing library fails the image build, not the first
# container start.
set -euo pipefail
binary=$1

owner_of() {
  local lib=$1 candidate
  for candidate in "$lib" "$(readlink -f "$lib")" "${lib#/usr}" "/usr$lib"; do
    if dpkg -S "$candidate" >/dev/null 2>&1; then
      dpkg -S "$candidate" | head -n1 | cut -d: -f1
      return 0
    fi
  done
  echo "?($lib)"
}

needed=$(readelf -d "$binary" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
resolved=$(ldd "$binary")
for soname in $needed; do
  path=$(awk -v so="$soname" '$1 == so && $3 ~ /^\// {print $3}' <<<"$resolved")
  if [ -z "$path" ]; then
    echo "runtime-packages: $soname not found" >&2
    exit 1
  fi
  printf '%-28s %s\n' "$soname" "$(owner_of "$path")"
done
