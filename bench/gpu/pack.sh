#!/usr/bin/env bash
# Packs what the benchmark suites need on a machine that has a GPU but no npm registry (a lent
# cloud GPU): this machine's Node binary, the built packages' dist/ folders, the workspace links,
# and the few node_modules files the suites load (Dawn's linux-x64 binding, the Node bundles
# of tfjs-core and tfjs-backend-webgpu, and onnxruntime-node's JavaScript with its linux-x64
# binaries, whose CPU and WebGPU providers need nothing else). Output: .gpu/bundle.tar.xz
# (about 50 MB), unpacked over a checkout of the same commit by bench/gpu/run.sh. Run
# `npm run build` first.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT

mkdir -p "$stage/.gpu/bin"
cp "$(command -v node)" "$stage/.gpu/bin/node"
files=(
  node_modules/webgpu/package.json node_modules/webgpu/index.js node_modules/webgpu/dist/linux-x64
  node_modules/@tensorflow/tfjs-core/package.json node_modules/@tensorflow/tfjs-core/dist/tf-core.node.js
  node_modules/@tensorflow/tfjs-backend-webgpu/package.json node_modules/@tensorflow/tfjs-backend-webgpu/dist/tf-backend-webgpu.node.js
  node_modules/onnxruntime-node/package.json node_modules/onnxruntime-node/dist node_modules/onnxruntime-node/bin/napi-v6/linux/x64
  node_modules/onnxruntime-common/package.json node_modules/onnxruntime-common/dist
)
# Runtime dependencies of the engine and model packages (small pure-JS libraries).
for dep in $(node -e "
  const deps = new Set();
  for (const p of ['tensor', 'nn', 'imaging', 'models']) for (const d of Object.keys(require('./packages/' + p + '/package.json').dependencies ?? {})) if (!d.startsWith('@spine/') && d !== 'webgpu') deps.add(d);
  console.log([...deps].join(' '));"); do
  files+=("node_modules/$dep")
done
for pkg in packages/*/ test-data/; do
  [ -d "$pkg/dist" ] && files+=("${pkg%/}/dist")
done
for link in node_modules/@spine/*; do files+=("$link"); done
[ -L node_modules/spine-cli ] && files+=(node_modules/spine-cli)
for f in "${files[@]}"; do
  [ -e "$f" ] || { echo "pack.sh: missing $f (run npm ci && npm run build)" >&2; exit 1; }
  mkdir -p "$stage/$(dirname "$f")"
  cp -a "$f" "$stage/$(dirname "$f")/"
done
# The commit the bundle was built from (a lent machine's checkout may report an older HEAD).
echo "$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- packages test-data || echo '+changes')" > "$stage/.gpu/commit"
mkdir -p .gpu
tar -C "$stage" -cf - . | xz -T2 -1 > .gpu/bundle.tar.xz.tmp
mv .gpu/bundle.tar.xz.tmp .gpu/bundle.tar.xz
echo "wrote .gpu/bundle.tar.xz ($(du -h .gpu/bundle.tar.xz | cut -f1))"
