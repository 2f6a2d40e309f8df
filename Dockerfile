# Quiver server image: `docker build -t quiver:0.1.0 .` or
# `buildah bud --format docker -t quiver:0.1.0 .` (docs/deploy.md).
#
# Stage 1 builds quiverd from source with Debian's toolchain and libraries; stage 2 is
# debian:bookworm-slim with only the shared libraries quiverd loads, tini as PID 1 and a
# non-root user. Both stages use Debian packages only (no downloads besides apt).

# Image metadata. The repository has no LICENSE file and no public URL yet: pass them with
# --build-arg when releasing (NOASSERTION is SPDX's "not stated").
ARG VERSION=0.1.0
ARG SOURCE_URL=NOASSERTION
ARG LICENSES=NOASSERTION

# ---------------------------------------------------------------------------------------
FROM debian:bookworm AS build
ARG JOBS=2
ENV DEBIAN_FRONTEND=noninteractive
WORKDIR /src
# The project's own bootstrap script is the one list of build dependencies; copying it
# alone first keeps the (slow) apt layer cached while sources change.
COPY scripts/bootstrap.sh scripts/bootstrap.sh
RUN scripts/bootstrap.sh && rm -rf /var/lib/apt/lists/*
# The context holds only the build inputs (.dockerignore is an allow-list): CMakeLists.txt,
# CMakePresets.json, cmake/ when present, scripts/, src/, deploy/docker/.
COPY . .
# ccache: a plain `docker build` starts with an empty cache, where ccache only adds work, so
# it is disabled unless the builder mounts a cache at /ccache (tests/packaging does, with
# `buildah bud --volume`). GIT_SHA: .git is not in the context, so /version gets it here.
ARG GIT_SHA=unknown
RUN if [ -d /ccache ]; then export CCACHE_DIR=/ccache; else export CCACHE_DISABLE=1; fi \
 && cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DQUIVER_GIT_SHA="${GIT_SHA}" \
        -DQUIVER_BUILD_TESTS=OFF -DQUIVER_BUILD_BENCH=OFF -DQUIVER_WERROR=OFF \
 && cmake --build build -j "${JOBS}" --target quiverd \
 && strip --strip-unneeded build/src/server/quiverd \
 && build/src/server/quiverd --version \
 && deploy/docker/runtime-packages.sh build/src/server/quiverd

# ---------------------------------------------------------------------------------------
FROM debian:bookworm-slim AS runtime
ARG VERSION
ARG SOURCE_URL
ARG LICENSES
# Shared libraries quiverd links, as `ldd` shows them (the build log prints the owning
# package of each NEEDED entry): RocksDB is linked statically from Debian's librocksdb-dev,
# which brings in its compressors; libcurl4 is for the embedding providers. The ldd check
# below fails the build if this list ever misses one. Plus:
#  - tini: PID 1 that forwards SIGTERM to quiverd and reaps zombies;
#  - curl: for HEALTHCHECK. quiverd already needs libcurl4, so the curl binary adds only a
#    few hundred KB; a hand-written probe would save nothing;
#  - ca-certificates: TLS to embedding providers.
ARG RUNTIME_PACKAGES="libspdlog1.10 libfmt9 libsimdjson14 libcurl4 libsnappy1v5 zlib1g \
libbz2-1.0 liblz4-1 libzstd1 ca-certificates tini curl"
ARG DEBIAN_FRONTEND=noninteractive
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends ${RUNTIME_PACKAGES} \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/log/apt /var/log/dpkg.log \
 && groupadd --system --gid 10001 quiver \
 && useradd --system --uid 10001 --gid 10001 --home-dir /data --no-create-home \
            --shell /usr/sbin/nologin quiver \
 && mkdir -p /data \
 && chown 10001:10001 /data \
 && chmod 0750 /data

COPY --from=build /src/build/src/server/quiverd /usr/local/bin/quiverd
RUN if ldd /usr/local/bin/quiverd | grep 'not found'; then \
      echo "RUNTIME_PACKAGES misses a library quiverd needs" >&2; exit 1; \
    fi \
 && /usr/local/bin/quiverd --version

LABEL org.opencontainers.image.title="quiver" \
      org.opencontainers.image.description="Quiver: a vector database server (REST API, HNSW/IVF/KD-tree/flat indexes, RocksDB storage)" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.source="${SOURCE_URL}" \
      org.opencontainers.image.licenses="${LICENSES}"

# Listen on every interface inside the container; keep data on the volume.
ENV QUIVER_ADDRESS=0.0.0.0 \
    QUIVER_PORT=8080 \
    QUIVER_DATA_DIR=/data
VOLUME /data
EXPOSE 8080
USER 10001:10001
WORKDIR /data
# Kept in the image only with the Docker image format (`buildah bud --format docker`);
# Kubernetes ignores it and uses the chart's probes.
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s --retries=3 \
  CMD curl -fsS -o /dev/null "http://127.0.0.1:${QUIVER_PORT}/healthz" || exit 1
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/bin/tini", "--", "/usr/local/bin/quiverd"]
