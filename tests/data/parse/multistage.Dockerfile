# syntax=docker/dockerfile:1
ARG GO_VERSION=1.22
ARG BASE=debian:bookworm-slim
FROM golang:${GO_VERSION} AS Build
ARG GO_VERSION
ENV CGO_ENABLED=0 GOFLAGS=-mod=vendor
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/root/.cache/go-build \
    --mount=type=cache,id=gomod,target=/go/pkg/mod,sharing=locked \
    go build -o /out/app ./cmd/app

FROM build AS test
RUN --mount=type=bind,from=build,source=/out,target=/in go test ./...

FROM ${BASE} AS runtime-base
ONBUILD COPY --from=build /out/app /usr/local/bin/app
USER 65532:65532

FROM runtime-base AS final
COPY --from=0 /src/LICENSE /LICENSE
COPY --from=nginx:1.25 /etc/nginx/mime.types /etc/mime.types
ENTRYPOINT ["/usr/local/bin/app"]

FROM alpine AS docs
RUN echo unreachable unless targeted
