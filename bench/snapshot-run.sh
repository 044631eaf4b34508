#!/bin/sh
# Runs the full bench on a snapshot of git HEAD (its own native build, dist/
# and fixtures), so that work going on in this tree (a rebuild of
# build/Release, half-edited sources) can neither break a run half-way nor
# leak into what is measured; then publishes the results into this tree
# (bench/publish.ts). Arguments go to bench/run.ts. Needs root, like the bench.
set -eu
repo=$(cd "$(dirname "$0")/.." && pwd)
# Not under /tmp: a zone has a /tmp of its own and would not see the fixtures.
snap=${LXZONE_BENCH_SNAPSHOT:-/var/tmp/lxzone-bench-snapshot}
commit=$(git -C "$repo" rev-parse --short=12 HEAD)
nodedir=$(dirname "$(dirname "$(command -v node)")")

echo "bench: snapshot of $commit in $snap" >&2
rm -rf "$snap"
mkdir -p "$snap"
chmod 755 "$snap"
git -C "$repo" archive HEAD | tar -x -C "$snap"
ln -s "$repo/node_modules" "$snap/node_modules"
cd "$snap"
node node_modules/node-gyp/bin/node-gyp.js rebuild --nodedir="$nodedir" --jobs=2 >"$snap/native-build.log" 2>&1 ||
  { echo "bench: native build failed, see $snap/native-build.log" >&2; exit 1; }
# The rest of the build as npm ci makes it: the precompiled policies and the
# bundled CLI (without them the CLI rows measure a slower CLI than users run).
npx tsc -p tsconfig.build.json
node scripts/precompile-policies.mjs
node scripts/build-cli.mjs
LXZONE_BENCH_COMMIT=$commit npx tsx bench/run.ts --no-docs --out "$snap/results" "$@" >"$snap/results.md"
cd "$repo"
npx tsx bench/publish.ts "$snap/results/latest.json"
cat "$snap/results.md"
