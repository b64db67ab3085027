# syntax=docker/dockerfile:1
# Build: a static binary with the Go toolchain.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 GOOS=linux go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/portal ./cmd/portal

# Run: distroless static, non-root, no shell.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/portal /portal
USER nonroot:nonroot
ENV PORTAL_LISTEN=:8080
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 CMD ["/portal", "healthcheck"]
ENTRYPOINT ["/portal"]
CMD ["serve"]
