#!/usr/bin/env bash
# Packs what the benchmark suites need on a machine that has a GPU but no npm registry (a lent
# cloud GPU): this machine's Node binary, the built packages' dist/ folders, the workspace links,
# and the few node_modules files the suites load (Dawn's linux-x64 binding, the Node bundles
# of tfjs-core and tfjs-backend-webgpu, and onnxruntime-node's JavaScript with its linux-x64
# binaries, whose CPU and WebGPU providers need nothing else). Output: .gpu/bundle.tar.xz
# (about 43 MB), unpacked over a checkout of the same commit by bench/gpu/run.sh, and .gl/ with
# Debian's Vulkan loader (libvulkan1), which those machines lack. Run `npm run build` first.
# A device call sends the working tree and its carried folders (.gpu, .gl) and refuses more than
# 64 MiB in all: the end of this script adds them up and fails above 62 MiB.
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
# The web page's bundle is not benchmarked there (and is the largest dist/).
for pkg in packages/*/ test-data/; do
  [[ $pkg == packages/web/ ]] && continue
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
# Source maps are for debuggers, not for a benchmark run.
find "$stage" -name '*.map' -delete
mkdir -p .gpu
# -9: about 43 MB instead of 51 at -1 (2-3 minutes on two cores), which is what keeps a device
# call under its 64 MiB.
tar -C "$stage" -cf - . | xz -T2 -9 > .gpu/bundle.tar.xz.tmp
mv .gpu/bundle.tar.xz.tmp .gpu/bundle.tar.xz
echo "wrote .gpu/bundle.tar.xz ($(du -h .gpu/bundle.tar.xz | cut -f1))"
if ! compgen -G ".gl/libvulkan1_*.deb" >/dev/null; then
  mkdir -p .gl
  (cd .gl && apt-get download libvulkan1:amd64 2>/dev/null) || echo "pack.sh: could not download libvulkan1 into .gl/ (the GPU machine may lack a Vulkan loader)" >&2
fi
# What a device call carries: tracked and untracked-but-not-ignored files, plus .gpu and .gl.
travel=$(
  { git ls-files -z --cached --others --exclude-standard | xargs -0 stat -c %s 2>/dev/null; find .gpu .gl -type f -printf '%s\n'; } |
    awk '{ s += $1 } END { print s }'
)
echo "a device call carrying .gpu and .gl sends $((travel / 1048576)) MiB (limit 64)"
if ((travel > 62 * 1048576)); then
  echo "pack.sh: that is over 62 MiB: the device call would be refused or leave no margin" >&2
  exit 1
fi
