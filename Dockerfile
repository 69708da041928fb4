# inferd: one image for every cloud (docs/deploy/container.md).
#
#   podman build --pull=never -t inferd .        (docker build -t inferd . works the same)
#   podman run --rm -p 8080:8080 inferd          (auth on; see the doc for keys and --read-only)
#
# deps: every dependency installed (compilers for better-sqlite3). build: TypeScript → dist/src.
# prod: production dependencies trimmed to linux/x64. Last: the base image plus /app, and nothing
# that builds. Source changes rebuild only `build` and the small dist/ layer; the dependency layers
# stay cached until package.json or package-lock.json change.
# glibc (bookworm), not Alpine: onnxruntime-node ships no musl build.
ARG NODE_IMAGE=docker.io/library/node:22-bookworm-slim

FROM ${NODE_IMAGE} AS deps
# better-sqlite3 falls back to compiling SQLite when its prebuilt binary cannot be fetched
# (GitHub is unreachable in some build sandboxes); these are the tools node-gyp needs for that.
RUN apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3 make g++ >/dev/null \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
# onnxruntime-node's install script would download CUDA/TensorRT parts; its npm package already
# holds the CPU binaries for every platform.
ENV ONNXRUNTIME_NODE_INSTALL=skip \
    npm_config_fund=false \
    npm_config_audit=false \
    npm_config_update_notifier=false
COPY package.json package-lock.json .npmrc ./
RUN npm ci --no-audit --no-fund

FROM deps AS build
COPY tsconfig.json ./
COPY src src
COPY portal portal
# Only src/ and portal/ are in the context (.dockerignore): `npm run build` compiles the server and
# builds the portal (Vite) into dist/portal.
# No source maps: the TypeScript sources are not in the image.
RUN npm run build && find dist -name '*.map' -delete && rm -f dist/.tsbuildinfo

FROM deps AS prod
COPY scripts/image-prune.sh scripts/image-prune.sh
RUN npm prune --omit=dev --no-audit --no-fund \
 && sh scripts/image-prune.sh node_modules \
 && rm -rf /root/.npm /tmp/*

FROM ${NODE_IMAGE}
# First in the stage: podman 4.3 (buildah) reused a cached LABEL layer holding the previous
# revision when these came last (the image test caught it).
ARG VERSION=0.0.0-dev
ARG REVISION=unknown
# The repository URL, e.g. --build-arg SOURCE="$(git remote get-url origin)".
ARG SOURCE=""
LABEL org.opencontainers.image.title="inferd" \
      org.opencontainers.image.description="ONNX models behind Open Inference Protocol v2 (REST and gRPC) and a customer API" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}"
WORKDIR /app
# Owned by root and not writable by the server's user: the code and the models are immutable.
# package.json: the version the server reports; proto/: loaded by the gRPC server at start.
COPY --from=prod /app/node_modules node_modules
COPY package.json ./
COPY bin bin
COPY proto proto
COPY models models
COPY --from=build /app/dist/src dist/src
COPY --from=build /app/dist/portal dist/portal
# inferd writes only to INFERD_DATA_DIR (the SQLite key/usage store, with auth on) and TMPDIR
# (models downloaded from s3:// or gs://; libvips spilling a very large decoded image). Both must
# be writable under --read-only (docs/deploy/container.md).
RUN mkdir -p /var/lib/inferd && chown 1000:1000 /var/lib/inferd
# INFERD_HOST: a container must listen on every interface to be reachable (the CLI's loopback
# default for --auth off is for a developer's machine). No INFERD_MODEL_REPOSITORY: unset, inferd
# serves SageMaker's /opt/ml/model when that holds a model, else ./models = /app/models. INFERD_SHUTDOWN_TIMEOUT_MS: drain within
# 8 s of SIGTERM, inside Cloud Run's and `docker stop`'s 10 s before SIGKILL.
# ORT_DISABLE_TELEMETRY: onnxruntime 1.30 otherwise records a telemetry device ID under
# ~/.cache/Microsoft (a write the read-only root refuses, with a non-JSON warning on the log).
ENV NODE_ENV=production \
    ORT_DISABLE_TELEMETRY=1 \
    INFERD_HOST=0.0.0.0 \
    INFERD_DATA_DIR=/var/lib/inferd \
    INFERD_SHUTDOWN_TIMEOUT_MS=8000 \
    TMPDIR=/tmp
# Numeric, so Kubernetes' runAsNonRoot can verify it; 1000 is the base image's `node` user.
USER 1000:1000
EXPOSE 8080 8081
# Node is PID 1 and handles SIGTERM itself (drain, then exit 0). `serve` is also the CLI's default
# command, so `docker run IMAGE --http-port 9000` works as well as `docker run IMAGE serve …`.
# A 32 MiB young generation (V8's default is 16): fewer scavenges per request, +8–19% spam req/s at
# concurrency 64 for ~32 MiB more RSS (bench/results/spam-defaults.md); the same as `npm start`.
ENTRYPOINT ["node", "--max-semi-space-size=32", "/app/bin/inferd.js"]
CMD ["serve"]
