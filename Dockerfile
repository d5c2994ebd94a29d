# The otelcol-rust image: the collector binary and only what it needs at
# run time, in the style of the Collector's release images (FROM scratch,
# binary at the root, default configuration under /etc, a non-root user).
#
# The binary links glibc (the Rust staticlib and cgo need it), so beside
# it go the libraries it names, copied from the machine that built it
# (glibc >= 2.34, libgcc_s for Rust's unwinding), with CA certificates and
# an /etc holding the nonroot user (uid/gid 65532).
#
# Build it with `make image`, which builds the binary, lays out
# _build/image/rootfs (scripts/image-rootfs.sh) and runs podman, buildah or
# docker on this file. No base image is pulled: it builds offline.
FROM scratch

ARG VERSION=0.0.0-dev
ARG REVISION=unknown
ARG SOURCE=https://github.com/otelcol-rust/otelcol-rust

LABEL org.opencontainers.image.title="otelcol-rust" \
      org.opencontainers.image.description="OpenTelemetry Collector with processors written in Rust" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.licenses="Apache-2.0"

# The dynamic loader and libraries, CA certificates, /etc/passwd and group:
# they change with the build machine, not with every commit.
COPY _build/image/rootfs/ /
COPY image/config.yaml /etc/otelcol-rust/config.yaml
COPY _build/image/otelcol-rust /otelcol-rust

USER 65532:65532

# OTLP gRPC and HTTP, health_check, zpages.
EXPOSE 4317 4318 13133 55679

ENTRYPOINT ["/otelcol-rust"]
CMD ["--config", "/etc/otelcol-rust/config.yaml"]
