# keyhold container image. Build:   docker build -t keyhold .
# Run (the base URL is required: the server listens on 0.0.0.0, which names no host):
#   docker run -d --name keyhold -p 8080:8080 -v keyhold-data:/var/lib/keyhold \
#     -e KEYHOLD_BASE_URL=https://iam.example.com keyhold
# The first start prints the bootstrap administrator's credential once on stdout
# (docker logs keyhold); see docs/operations.md ("Container image").

# Build stage: a static binary (pure-Go SQLite driver, so no cgo).
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY cmd ./cmd
COPY internal ./internal
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/keyhold ./cmd/keyhold \
 && mkdir -p -m 0700 /out/data

# Runtime stage: no shell, no package manager, CA certificates and tzdata only; runs as the
# image's non-root user (65532).
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/keyhold /usr/local/bin/keyhold
COPY --from=build --chown=65532:65532 /out/data /var/lib/keyhold
USER 65532:65532
ENV KEYHOLD_DATA_DIR=/var/lib/keyhold \
    KEYHOLD_LISTEN=0.0.0.0:8080
VOLUME ["/var/lib/keyhold"]
EXPOSE 8080
# Liveness: /healthz answers 200 while the process serves (also while it loads its views or
# its database is away; /readyz says when it should get traffic).
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
  CMD ["/usr/local/bin/keyhold", "healthcheck", "--url", "http://127.0.0.1:8080/healthz"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/keyhold"]
CMD ["serve"]
