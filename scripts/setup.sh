#!/usr/bin/env bash
# npm run setup: make this machine able to build, test and run spine-cli.
#   1. Node >= 20.
#   2. npm dependencies (npm ci), skipped when the lockfile has not changed since the last run.
#   3. A WebGPU adapter for Dawn. Without a GPU that is Mesa's lavapipe >= 24; on Debian bookworm it
#      comes from bookworm-backports (plain bookworm's Mesa 22 is not found by Dawn). Installed
#      only when no adapter is found, and only as root with apt; otherwise we say what to install.
#   4. Debian's chromium for the report test (root + apt), or what to install.
#   5. The build (turbo caches it, so a second run is fast).
# Idempotent: every step checks before it acts.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\033[1msetup:\033[0m %s\n' "$*"; }
die() { printf '\033[31msetup: %s\033[0m\n' "$*" >&2; exit 1; }

node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
[ "$node_major" -ge 20 ] || die "Node.js >= 20 is required (found $(node --version 2>/dev/null || echo none))."

stamp=node_modules/.spine-setup-lock-sha
lock_sha=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$lock_sha" ]; then
  say "npm dependencies up to date"
else
  say "installing npm dependencies (npm ci)"
  # onnxruntime-node (the benchmarks' ONNX Runtime peer) bundles its CPU and WebGPU providers; its
  # install script would only download CUDA files from outside the npm registry. package.json's
  # allowScripts denies it where npm honours that; the variable makes older npm skip it too.
  ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund
  echo "$lock_sha" > "$stamp"
fi

probe_adapter() { node scripts/probe-adapter.mjs 2>/dev/null; }

if probe_adapter; then
  say "WebGPU adapter: $(node scripts/probe-adapter.mjs --describe 2>/dev/null)"
else
  say "no WebGPU adapter found by Dawn"
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null && grep -q 'VERSION_CODENAME=bookworm' /etc/os-release 2>/dev/null; then
    src=/etc/apt/sources.list.d/bookworm-backports.sources
    if ! grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
      say "adding the bookworm-backports suite ($src)"
      cat > "$src" <<'SRC'
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
    fi
    say "installing Mesa lavapipe (software Vulkan) from bookworm-backports"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -t bookworm-backports mesa-vulkan-drivers libvulkan1 >/dev/null
  elif [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    say "installing Mesa Vulkan drivers with apt (needs Mesa >= 24 for Dawn to find lavapipe)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mesa-vulkan-drivers libvulkan1 >/dev/null
  fi
  if probe_adapter; then
    say "WebGPU adapter: $(node scripts/probe-adapter.mjs --describe 2>/dev/null)"
  else
    cat >&2 <<'MSG'
setup: Dawn still finds no WebGPU adapter. spine-cli needs one of:
  - a GPU with a Vulkan (Linux), Metal (macOS) or D3D12 (Windows) driver, or
  - Mesa's lavapipe software Vulkan, version 24 or newer. On Debian bookworm, as root:
      echo 'deb http://deb.debian.org/debian bookworm-backports main' > /etc/apt/sources.list.d/backports.list
      apt-get update && apt-get install -t bookworm-backports mesa-vulkan-drivers libvulkan1
    On Ubuntu 24.04 or newer: apt-get install mesa-vulkan-drivers libvulkan1
Then run 'npm run setup' again. 'node scripts/probe-adapter.mjs --verbose' shows what Dawn reports.
MSG
    exit 1
  fi
fi

# Debian's chromium: the report test opens report.html in it headless (the CLI itself never needs it).
if [ -x /usr/bin/chromium ]; then
  say "chromium for the report test: $(/usr/bin/chromium --version 2>/dev/null | head -n1)"
elif [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  say "installing Debian's chromium (the report test opens report.html in it, headless)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
else
  say "chromium is missing: the report test (packages/cli/test/report.test.ts) will fail until it is installed."
  say "  On Debian/Ubuntu, as root: apt-get install -y chromium   (or point CHROMIUM at a chromium binary)"
fi

say "building"
TURBO_TELEMETRY_DISABLED=1 npx turbo run build --output-logs=errors-only
say "done. Run the tests with: npm test"
