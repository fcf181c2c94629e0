#!/usr/bin/env bash
# BuildKit's build checks (BK0001-BK0019) as a user meets them: the ignore file BuildKit reads
# for CopyIgnoredFile (<Dockerfile>.dockerignore before .dockerignore, none for stdin), and the
# check names working in BuildKit's `# check=` directive, in configuration files and on the
# command line.
. "$(dirname "$0")/lib.sh" "$@"

W=$TEST_TMP/work
mkdir -p "$W/repo/.git" "$W/repo/app"
export HOME=$W XDG_CONFIG_HOME=$W/xdg
unset BALE_IGNORE HADOLINT_IGNORE BALE_FAILURE_THRESHOLD HADOLINT_FAILURE_THRESHOLD NO_COLOR

cd "$W/repo/app" || exit 1
printf 'FROM alpine:3.20\nCOPY tmp/data.txt /data.txt\n' >Dockerfile
printf 'node_modules\n' >.dockerignore
run "$BALE" lint -f json --no-fail Dockerfile
if [ "$(jq '[.[] | select(.code == "BK0017")] | length' "$OUT")" = 0 ]; then
	pass "CopyIgnoredFile: a .dockerignore that keeps the source in says nothing"
else fail "CopyIgnoredFile with a harmless .dockerignore" "$(cat "$OUT")"; fi

printf 'tmp\n' >Dockerfile.dockerignore
run "$BALE" lint -f json --no-fail Dockerfile
if jq -e '[.[] | select(.code == "BK0017" and .line == 2 and
	(.message | test("\"tmp/data.txt\" that is excluded by .dockerignore: the Dockerfile.s")))]
	| length == 1' "$OUT" >/dev/null; then
	pass "CopyIgnoredFile: <Dockerfile>.dockerignore is read before .dockerignore"
else fail "CopyIgnoredFile with Dockerfile.dockerignore" "$(cat "$OUT")"; fi

# From another directory: the ignore file is found beside the Dockerfile, not in the cwd.
cd "$W" || exit 1
run "$BALE" lint -f json --no-fail repo/app/Dockerfile
if [ "$(jq '[.[] | select(.code == "BK0017")] | length' "$OUT")" = 1 ]; then
	pass "CopyIgnoredFile: the ignore file beside a Dockerfile named by a relative path"
else fail "CopyIgnoredFile from another directory" "$(cat "$OUT")"; fi

rm "$W/repo/app/Dockerfile.dockerignore"
printf 'tmp\n' >"$W/repo/app/.dockerignore"
run "$BALE" lint -f json --no-fail "$W/repo/app/Dockerfile"
if [ "$(jq '[.[] | select(.code == "BK0017")] | length' "$OUT")" = 1 ]; then
	pass "CopyIgnoredFile: .dockerignore at the root of the context"
else fail "CopyIgnoredFile with .dockerignore" "$(cat "$OUT")"; fi

RUN_STDIN=$W/repo/app/Dockerfile run "$BALE" lint -f json --no-fail -
if [ "$(jq '[.[] | select(.code == "BK0017")] | length' "$OUT")" = 0 ]; then
	pass "CopyIgnoredFile: standard input has no build context, so no finding"
else fail "CopyIgnoredFile on stdin" "$(cat "$OUT")"; fi

# Every BuildKit check of one file, then the ways to silence them.
cat >"$W/repo/app/checks.Dockerfile" <<'DF'
FROM alpine:3.20 as Build
WORKDIR app
ENV DB_PASSWORD changeme
COPY $SRC /src
CMD run-app
DF
run "$BALE" lint -f json --no-fail "$W/repo/app/checks.Dockerfile"
got=$(jq -r '[.[].code | select(startswith("BK"))] | sort | join(" ")' "$OUT")
if [ "$got" = "BK0001 BK0002 BK0007 BK0009 BK0010 BK0012 BK0014" ]; then
	pass "one file, seven BuildKit checks"
else fail "BuildKit checks of checks.Dockerfile" "got: $got" "$(cat "$OUT")"; fi

{
	printf '# check=skip=StageNameCasing,UndefinedVar\n'
	cat "$W/repo/app/checks.Dockerfile"
} >"$W/repo/app/skip.Dockerfile"
run "$BALE" lint -f json --no-fail "$W/repo/app/skip.Dockerfile"
got=$(jq -r '[.[].code | select(startswith("BK"))] | sort | join(" ")' "$OUT")
if [ "$got" = "BK0002 BK0007 BK0009 BK0012 BK0014" ]; then
	pass "# check=skip= names BuildKit's checks"
else fail "# check=skip=" "got: $got" "$(cat "$OUT")"; fi

{
	printf '# check=skip=all\n'
	cat "$W/repo/app/checks.Dockerfile"
} >"$W/repo/app/all.Dockerfile"
run "$BALE" lint -f json --no-fail "$W/repo/app/all.Dockerfile"
if [ "$(jq '[.[] | select(.code | startswith("BK"))] | length' "$OUT")" = 0 ] &&
	[ "$(jq '[.[] | select(.code == "DL3000")] | length' "$OUT")" = 1 ]; then
	pass "# check=skip=all silences BuildKit's checks only"
else fail "# check=skip=all" "$(cat "$OUT")"; fi

{
	printf '# check=error=true\n'
	cat "$W/repo/app/checks.Dockerfile"
} >"$W/repo/app/error.Dockerfile"
run "$BALE" lint -f json --no-fail "$W/repo/app/error.Dockerfile"
if jq -e '[.[] | select(.code | startswith("BK")) | .level] | unique == ["error"]' "$OUT" >/dev/null; then
	pass "# check=error=true makes BuildKit's checks errors"
else fail "# check=error=true" "$(cat "$OUT")"; fi

printf 'ignored:\n  - WorkdirRelativePath\n  - secrets-used-in-arg-or-env\n  - BK0007\n' >"$W/repo/.hadolint.yaml"
run "$BALE" lint -f json --no-fail --ignore FromAsCasing "$W/repo/app/checks.Dockerfile"
got=$(jq -r '[.[].code | select(startswith("BK"))] | sort | join(" ")' "$OUT")
if [ "$got" = "BK0001 BK0010 BK0012" ]; then
	pass "check names, rule names and ids in .hadolint.yaml and --ignore"
else fail "ignoring by check name" "got: $got" "$(cat "$OUT")"; fi
rm "$W/repo/.hadolint.yaml"

run "$BALE" lint --list-rules
if [ "$(grep -c '^BK00' "$OUT")" = 19 ]; then
	pass "--list-rules lists the 19 BuildKit checks"
else fail "--list-rules" "$(grep '^BK' "$OUT")"; fi

finish
