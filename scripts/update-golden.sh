#!/usr/bin/env bash
# Regenerates the golden estimate JSON files after a deliberate change of the cost model.
# Usage: bash scripts/update-golden.sh [build-dir]   (review the diff before committing it)
set -euo pipefail
cd "$(dirname "$0")/.."
bin="${1:-build}/cli/clustersim"
for f in examples/*.json; do
  name=$(basename "$f" .json)
  "$bin" estimate "$f" --json > "tests/data/golden/estimate-$name.json" || [ $? -eq 1 ]
done
