# sfmc-relay's container image: the daemon built from this tree in a Debian 12
# builder, packaged as the .deb that `cpack` makes, and installed with its
# runtime libraries (and nothing else of the builder) into debian:bookworm-slim.
#
#   docker build -t sfmc-relay:0.1.0 .      (or: buildah bud / podman build)
#
# The builder compiles librdkafka 2.15.0 from its upstream release: from the
# archive at LIBRDKAFKA_ARCHIVE when the build mounts one there (offline:
# `buildah bud -v DIR-WITH-THE-ARCHIVE:/vendor:ro ...`), else downloaded from
# GitHub and checked against its SHA-256, as any build of this tree does.
#
# The image runs as uid/gid 65532 and writes nothing: it works with a
# read-only root filesystem. Mount the configuration at
# /etc/sfmc-relay/config.json and pass secrets as environment variables.

FROM debian:bookworm AS builder
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      build-essential cmake ninja-build pkg-config dpkg-dev file ca-certificates \
      libssl-dev zlib1g-dev libzstd-dev liblz4-dev libsasl2-dev libcurl4-openssl-dev \
      rapidjson-dev libvalijson-dev prometheus-cpp-dev libcpp-httplib-dev libsystemd-dev \
 && rm -rf /var/lib/apt/lists/*
COPY . /src
ARG LIBRDKAFKA_ARCHIVE=/vendor/librdkafka-2.15.0.tar.gz
RUN cmake -S /src -B /build -G Ninja -DCMAKE_BUILD_TYPE=Release -DSFMC_RELAY_WERROR=ON \
      -DSFMC_RELAY_TESTS=OFF -DCMAKE_INSTALL_PREFIX=/usr \
      -DSFMC_RELAY_LIBRDKAFKA_ARCHIVE="$LIBRDKAFKA_ARCHIVE" \
 && cmake --build /build \
 && cd /build && cpack -G DEB \
 && mv /build/sfmc-relay_*.deb /sfmc-relay.deb

FROM debian:bookworm-slim
COPY --from=builder /sfmc-relay.deb /tmp/sfmc-relay.deb
# The package's systemd files (the unit, /etc/sfmc-relay/credentials) have no use here.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends /tmp/sfmc-relay.deb \
 && rm -rf /var/lib/apt/lists/* /tmp/sfmc-relay.deb /etc/sfmc-relay/credentials /lib/systemd/system/sfmc-relay.service \
 && sfmc-relay --version
ARG VERSION=0.1.0
ARG SOURCE_URL=""
ARG REVISION=""
LABEL org.opencontainers.image.title="sfmc-relay" \
      org.opencontainers.image.description="Relays Kafka send requests to Salesforce Marketing Cloud, one outcome per event" \
      org.opencontainers.image.version="$VERSION" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.source="$SOURCE_URL" \
      org.opencontainers.image.revision="$REVISION" \
      org.opencontainers.image.base.name="docker.io/library/debian:bookworm-slim"
USER 65532:65532
ENTRYPOINT ["sfmc-relay"]
CMD ["run", "--config", "/etc/sfmc-relay/config.json"]
