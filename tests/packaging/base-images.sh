#!/usr/bin/env bash
# Makes the two Debian base images the Dockerfile starts FROM (debian:bookworm for the build
# stage, debian:bookworm-slim for the runtime stage) with debootstrap, from the same mirror
# the host's apt uses, and registers them in the local container storage under the names
# Docker Hub uses, so `buildah bud --pull=never` resolves them without a registry.
#
# Cached: the rootfs tarballs live in ~/.cache/quiver-packaging/ and the images in the vfs
# storage; a second run only checks that both exist. FORCE_BASE=1 rebuilds them.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

SUITE=bookworm
FULL_IMAGE=docker.io/library/debian:$SUITE
SLIM_IMAGE=docker.io/library/debian:$SUITE-slim
FULL_TAR="$CACHE_DIR/debian-$SUITE.tar"
SLIM_TAR="$CACHE_DIR/debian-$SUITE-slim.tar"
mkdir -p "$CACHE_DIR"

image_exists() { podman "${STORAGE_ARGS[@]}" image exists "$1"; }

make_rootfs_tars() {
  local mirror rootfs
  mirror="$("$PKG_DIR/apt_sources.py" mirror "$SUITE")"
  rootfs="$CACHE_DIR/rootfs-$SUITE"
  rm -rf "$rootfs"
  log "debootstrap $SUITE (minbase) from $mirror"
  debootstrap --variant=minbase "$SUITE" "$rootfs" "$mirror" >"$CACHE_DIR/debootstrap.log" 2>&1 || {
    tail -n 30 "$CACHE_DIR/debootstrap.log" >&2
    return 1
  }
  # The image's apt must reach the same mirror as the host (no host is written here).
  "$PKG_DIR/apt_sources.py" sources-list "$SUITE" >"$rootfs/etc/apt/sources.list"
  rm -f "$rootfs"/etc/apt/sources.list.d/*
  # Like Docker's images: no cached package lists or .debs, no host name, no machine id.
  chroot "$rootfs" apt-get clean
  rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/log/*.log
  : >"$rootfs/etc/machine-id"
  rm -f "$rootfs/etc/hostname" "$rootfs/etc/resolv.conf"
  tar --numeric-owner -C "$rootfs" -cf "$FULL_TAR.tmp" .
  mv "$FULL_TAR.tmp" "$FULL_TAR"

  # -slim: the same system without documentation, man pages and translations, and a dpkg
  # filter so packages installed later do not bring them back.
  rm -rf "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* \
         "$rootfs"/usr/share/locale/* "$rootfs"/usr/share/lintian
  cat >"$rootfs/etc/dpkg/dpkg.cfg.d/slim-excludes" <<'CFG'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-exclude /usr/share/lintian/*
CFG
  tar --numeric-owner -C "$rootfs" -cf "$SLIM_TAR.tmp" .
  mv "$SLIM_TAR.tmp" "$SLIM_TAR"
  rm -rf "$rootfs"
}

import_tar() {
  local tar_file=$1 name=$2
  log "importing $tar_file as $name"
  podman "${STORAGE_ARGS[@]}" import --change 'CMD ["bash"]' - "$name" <"$tar_file" >/dev/null
}

if [ "${FORCE_BASE:-0}" = 1 ]; then
  rm -f "$FULL_TAR" "$SLIM_TAR"
  podman "${STORAGE_ARGS[@]}" rmi -f "$FULL_IMAGE" "$SLIM_IMAGE" >/dev/null 2>&1 || true
fi
if image_exists "$FULL_IMAGE" && image_exists "$SLIM_IMAGE"; then
  log "base images $FULL_IMAGE and $SLIM_IMAGE already present"
  exit 0
fi
if [ ! -f "$FULL_TAR" ] || [ ! -f "$SLIM_TAR" ]; then
  make_rootfs_tars
fi
image_exists "$FULL_IMAGE" || import_tar "$FULL_TAR" "$FULL_IMAGE"
image_exists "$SLIM_IMAGE" || import_tar "$SLIM_TAR" "$SLIM_IMAGE"
podman "${STORAGE_ARGS[@]}" images --format '{{.Repository}}:{{.Tag}} {{.Size}}' | grep -F "debian:$SUITE" >&2
