#!/bin/bash
# Checks that a change meant only for speed leaves every lint finding as it was.
#
#   tools/lint-findings-compare.sh BUILD REF save     record the findings of BUILD in folder REF
#   tools/lint-findings-compare.sh BUILD REF          compare the findings of BUILD with REF
#
# BUILD is a build folder with bench/bench_lint and bale (any build type). What is compared:
# bench_lint --dump for seeds 1 to 4 (4,000 generated files), and `bale lint --format json` on
# every case section of tests/data/lint/*.cases (each split into a file of its own, with the
# default configuration) and on the Dockerfiles of examples/ and tests/data/. Paths are written
# relative to the checkout, so a reference saved in one checkout compares in another.
set -euo pipefail

[ $# -ge 2 ] || { sed -n '4,5s/^# *//p' "$0" >&2; exit 2; }
build=$(cd "$1" && pwd)
ref=$2
mode=${3:-compare}
src=$(cd "$(dirname "$0")/.." && pwd)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

for seed in 1 2 3 4; do
	"$build/bench/bench_lint" --files 1000 --seed "$seed" --runs 1 \
		--dump "$out/seed$seed.txt" >/dev/null
done
mkdir "$out/cases"
for f in "$src"/tests/data/lint/*.cases; do
	awk -v d="$out/cases" -v b="$(basename "$f" .cases)" \
		'/^--- /{n++; out=sprintf("%s/%s.%03d.Dockerfile", d, b, n); next} n{print > out}' "$f"
done
{
	ls "$out"/cases/*.Dockerfile
	find "$src/examples" "$src/tests/data" -type f \
		\( -name 'Dockerfile*' -o -name '*.Dockerfile' -o -name 'Containerfile*' \) | sort
} >"$out/list"
while read -r f; do
	name=${f#"$out/"}
	echo "== ${name#"$src/"}"
	"$build/bale" lint --no-color --format json "$f" 2>&1 |
		sed -e "s#$out/##g" -e "s#$src/##g" || true
done <"$out/list" >"$out/lint.txt"

if [ "$mode" = save ]; then
	mkdir -p "$ref"
	cp "$out"/seed*.txt "$out/lint.txt" "$ref/"
	echo "saved to $ref: $(cat "$out"/seed*.txt | wc -l) bench findings, $(grep -c '^==' "$out/lint.txt") files linted"
	exit 0
fi
rc=0
for x in seed1.txt seed2.txt seed3.txt seed4.txt lint.txt; do
	if ! cmp -s "$out/$x" "$ref/$x"; then
		echo "DIFFERENT: $x"
		diff "$ref/$x" "$out/$x" | head -20 || true
		rc=1
	fi
done
[ $rc != 0 ] || echo "findings identical (4 seeds x 1000 files, $(grep -c '^==' "$out/lint.txt") case and example files)"
exit $rc
