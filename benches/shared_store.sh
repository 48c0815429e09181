#!/usr/bin/env bash
# The shared store, measured side by side with the folder store it sits
# beside, on a throwaway PostgreSQL cluster (scripts/test-postgres.sh):
#  1. claims under contention: 64 concurrent claimers on dummy runs
#     (claimed and finished at once), PostgreSQL and SQLite;
#  2. sweep throughput: the same 32-run sweep trained by 1 and 2 workers on
#     the shared store, and by `mosaic sweep --workers 1|2` on a folder.
#
#   benches/shared_store.sh [path/to/mosaic]   (default: target/release/mosaic)
set -euo pipefail
cd "$(dirname "$0")/.."
MOSAIC=$(realpath "${1:-target/release/mosaic}")
export RUST_LOG=${RUST_LOG:-error}
eval "$(scripts/test-postgres.sh start)"
work=$(mktemp -d)
trap 'scripts/test-postgres.sh stop "$MOSAIC_TEST_PG_DIR"; rm -rf "$work"' EXIT
pg="$MOSAIC_TEST_PG"
password=${pg#postgres://mosaic:}
password=${password%@*}
newdb() { # a fresh database on the bench cluster, as a store URL
  PGPASSWORD=$password psql -q -h 127.0.0.1 -p "${pg##*:}" -U mosaic -d postgres \
    -c "DROP DATABASE IF EXISTS $1 WITH (FORCE)" -c "CREATE DATABASE $1"
  echo "$pg/$1?files=$work/files-$1"
}
echo "# $(date -u +%F) · $(lscpu | sed -n 's/^Model name: *//p') · $(nproc) cores · PostgreSQL $(psql --version | awk '{print $3}')"

echo "## claims under contention (dummy runs)"
"$MOSAIC" bench claims --store "$(newdb claims)" --claimers 64 --runs 6400
"$MOSAIC" bench claims --store "$work/claims-folder" --claimers 64 --runs 6400
"$MOSAIC" bench claims --store "$(newdb claims1)" --claimers 1 --runs 2000

echo "## sweep throughput: 32 networks of the demo space (1-3 layers of 8-64, 20-40 epochs) on moons (4,000 examples)"
space=$work/space.ron
sed -e 's/depth: (min: 1, max: 6)/depth: (min: 1, max: 3)/' -e 's/width: (min: 8, max: 256, log: true)/width: (min: 8, max: 64, log: true)/' \
  -e 's/epochs: (min: 5, max: 40)/epochs: (min: 20, max: 40)/' scenes/spaces/demo.ron >"$space"
sweep=(--dataset moons --examples 4000 --n 32 --seed 3 --space "$space" --sweep bench)
seconds() { local t0; t0=$(date +%s.%N); "$@" >/dev/null; echo "$(date +%s.%N) - $t0" | bc; }
for workers in 1 2; do
  folder=$(seconds "$MOSAIC" sweep "${sweep[@]}" --workers "$workers" --store "$work/folder-$workers")
  url=$(newdb shared$workers)
  "$MOSAIC" sweep "${sweep[@]}" --launcher none --store "$url" >/dev/null
  start=$(date +%s.%N)
  for _ in $(seq "$workers"); do "$MOSAIC" worker --store "$url" --idle-exit 5 >/dev/null 2>&1 & done
  wait
  shared=$(echo "$(date +%s.%N) - $start" | bc)
  printf '%d worker(s): folder store (mosaic sweep) %.2f s · shared store (mosaic worker) %.2f s · overhead %+.1f %%\n' \
    "$workers" "$folder" "$shared" "$(echo "100 * ($shared - $folder) / $folder" | bc -l)"
done
