#!/usr/bin/env bash
# The quick start (`spine-cli train` with no flags: film generation, 16 epochs, test evaluation)
# on a lent GPU machine, timed, from the bundle of bench/gpu/pack.sh. The end-of-training report
# needs vega and resvg, which the bundle leaves out, so it is skipped there with a warning.
# Copies the run's config, metrics and test evaluation to $OUT (or .gpu/quickstart).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
source bench/gpu/setup.sh
run=$(mktemp -d)/run
start=$(date +%s%N)
SPINE_CLI_CACHE_DIR=$(mktemp -d) node packages/cli/bin/spine-cli.js train --out "$run" "$@" 2>&1 | grep -v ' batches, ' || true
echo "quick start wall time: $(( ($(date +%s%N) - start) / 1000000 )) ms"
dest=${OUT:-.gpu/quickstart}
mkdir -p "$dest"
cp -r "$run/config.json" "$run/metrics.jsonl" "$run/eval" "$dest/"
