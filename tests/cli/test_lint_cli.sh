#!/usr/bin/env bash
# bale lint as a user runs it: files, directories, stdin, formats and outputs, configuration
# files found up to the repository root, exit statuses, and bad input.
. "$(dirname "$0")/lib.sh" "$@"

W=$TEST_TMP/work
mkdir -p "$W/repo/.git" "$W/repo/app/sub" "$W/repo/.git/hooks"
printf 'FROM debian\nMAINTAINER me\n' >"$W/repo/app/Dockerfile"
# A Dockerfile clean under every rule: pinned distroless base, numeric non-root user, exec form.
cat >"$W/repo/app/sub/api.Dockerfile" <<'CLEAN'
FROM gcr.io/distroless/static-debian12:nonroot@sha256:6ec5aa99dc335666e79dc64e4a6c8b89c33a543a1967f20d360922a80dd21f02
COPY --chown=65532:65532 app /app
USER 65532:65532
ENTRYPOINT ["/app"]
CLEAN
printf 'FROM debian\n' >"$W/repo/app/sub/Dockerfile.dockerignore"
printf 'FROM debian\n' >"$W/repo/.git/hooks/Dockerfile"
printf 'FROM alpine\n' >"$W/repo/app/Containerfile"
export HOME=$W XDG_CONFIG_HOME=$W/xdg
unset BALE_IGNORE HADOLINT_IGNORE BALE_FAILURE_THRESHOLD HADOLINT_FAILURE_THRESHOLD NO_COLOR

run "$BALE" lint --no-color "$W/repo/app/Dockerfile"
assert_exit "findings at the default threshold exit 1" 1
assert_stdout_matches "tty line: file:line:col severity id name: message" \
	"^$W/repo/app/Dockerfile:1:1 warning DL3006 tag-base-image: 'debian' has no tag"
assert_stdout_matches "tty hint line" "^  hint: "
assert_stderr_empty "nothing on stderr for findings"

run "$BALE" lint "$W/repo/app/sub/api.Dockerfile"
assert_exit "a clean file exits 0" 0
assert_stdout_empty "a clean file prints nothing"

run "$BALE" lint --no-color "$W/repo"
assert_exit "a directory with findings exits 1" 1
files=$(grep -o '^/[^:]*' "$OUT" | sort -u | tr '\n' ' ')
if [ "$files" = "$W/repo/app/Containerfile $W/repo/app/Dockerfile " ]; then
	pass "directory: Dockerfile and Containerfile reported; not .dockerignore or .git"
else fail "directory search" "files: $files" "$(cat "$OUT")"; fi
run "$BALE" lint -f json "$W/repo"
if jq -e '[.[].file] | index("'"$W"'/repo/app/sub/api.Dockerfile") == null' "$OUT" >/dev/null && ! grep -q dockerignore "$OUT"; then
	pass "directory: *.Dockerfile linted (clean), Dockerfile.dockerignore not"
else fail "directory search (json)" "$(head -c 800 "$OUT")"; fi

RUN_STDIN=$W/repo/app/Dockerfile run "$BALE" lint -f json -
assert_exit "stdin exits 1 with findings" 1
if jq -e 'all(.[]; .file == "<stdin>") and any(.[]; .code == "DL3006" and .line == 1) and any(.[]; .code == "DL4000" and .line == 2 and .level == "error")' "$OUT" >/dev/null; then
	pass "json from stdin: hadolint keys, <stdin> as the file"
else fail "json from stdin" "$(cat "$OUT")"; fi

run "$BALE" lint -f sarif -o "$W/out.sarif" -f checkstyle -o "$W/out.xml" -f json "$W/repo/app/Dockerfile"
assert_exit "several formats exit 1" 1
if jq -e '.version == "2.1.0" and (.runs[0].tool.driver.rules | map(.id) | index("DL4000")) != null and any(.runs[0].results[]; .ruleId == "DL4000" and .level == "error" and .locations[0].physicalLocation.region.startLine == 2)' "$W/out.sarif" >/dev/null; then
	pass "sarif output file"
else fail "sarif output file" "$(head -c 600 "$W/out.sarif")"; fi
if grep -q '<error line="2" column="1" severity="error" message="MAINTAINER is deprecated' "$W/out.xml"; then
	pass "checkstyle output file"
else fail "checkstyle output file" "$(cat "$W/out.xml")"; fi
if jq -e 'length >= 2 and any(.[]; .code == "DL4000")' "$OUT" >/dev/null; then pass "the format without --output goes to stdout"; else fail "json to stdout" "$(cat "$OUT")"; fi

run "$BALE" lint -f github "$W/repo/app/Dockerfile"
assert_stdout_matches "github annotations" "^::error file=$W/repo/app/Dockerfile,line=2,col=1,title=DL4000 maintainer-deprecated::"
run "$BALE" lint -f gitlab "$W/repo/app/Dockerfile"
if jq -e 'any(.[]; .check_name == "DL3006" and .severity == "major" and (.fingerprint | length) == 32 and .location.lines.begin == 1)' "$OUT" >/dev/null; then
	pass "gitlab code quality"
else fail "gitlab code quality" "$(cat "$OUT")"; fi

# Configuration: .hadolint.yaml at the repo root is found from app/, .bale.yaml wins over it.
printf 'ignored: [DL3006]\n' >"$W/repo/.hadolint.yaml"
run "$BALE" lint --no-color "$W/repo/app/Dockerfile"
assert_stdout_matches ".hadolint.yaml up to the repo root applies" "DL4000"
if grep -q DL3006 "$OUT"; then fail ".hadolint.yaml ignore" "$(cat "$OUT")"; else pass ".hadolint.yaml ignore"; fi
printf 'ignored: [DL4000]\nfailure-threshold: error\n' >"$W/repo/.bale.yaml"
run "$BALE" lint --no-color "$W/repo/app/Dockerfile"
assert_exit ".bale.yaml wins: DL3006 is a warning under threshold error" 0
assert_stdout_matches ".bale.yaml: DL3006 reported again" "DL3006"
run "$BALE" lint --no-color -t warning "$W/repo/app/Dockerfile"
assert_exit "--failure-threshold on the command line beats the file" 1
HADOLINT_FAILURE_THRESHOLD=none run "$BALE" lint "$W/repo/app/Dockerfile"
assert_exit "HADOLINT_FAILURE_THRESHOLD=none beats the file" 0
run "$BALE" lint --no-fail --error DL3006 "$W/repo/app/Dockerfile"
assert_exit "--no-fail exits 0" 0
assert_stdout_matches "--error raises a rule" "error DL3006"
printf 'ignord: [x]\n' >"$W/repo/.bale.yaml"
run "$BALE" lint "$W/repo/app/Dockerfile"
assert_exit "a config typo is a usage error" 2
assert_stderr_matches "the typo is named with its place" "\.bale\.yaml:1:1: unknown key 'ignord'"
rm "$W/repo/.bale.yaml" "$W/repo/.hadolint.yaml"

# Bad input and usage.
printf 'FROM a\nRUN <<EOF\n' >"$W/bad.Dockerfile"
run "$BALE" lint "$W/bad.Dockerfile" "$W/repo/app/sub/api.Dockerfile"
assert_exit "a file that does not parse exits 3" 3
assert_stderr_matches "with its position" "bad.Dockerfile:2:1: unterminated heredoc"
run "$BALE" lint "$W/missing"
assert_exit "a missing file exits 3" 3
run "$BALE" lint -f xml "$W/repo/app/Dockerfile"
assert_exit "an unknown format is a usage error" 2
run "$BALE" lint --target nope "$W/repo/app/Dockerfile"
assert_exit "an unknown target is a usage error" 2
run "$BALE" lint -f json -o "$W/nodir/out.json" "$W/repo/app/Dockerfile"
assert_exit "an output that cannot be created exits 3" 3
run "$BALE" lint -f json -o "$W/partial.json" "$W/bad.Dockerfile"
assert_file_absent "no output file is left when the input is bad" "$W/partial.json"
run "$BALE" lint --list-rules
assert_exit "--list-rules" 0
assert_stdout_matches "--list-rules lists DL3008" "^DL3008 +warning +pin-apt-versions"
run "$BALE" help lint
assert_stdout_matches "help lint" "^usage: bale lint"

# --diff and --fix: the diff applies with patch(1) to what --fix writes; comments stay.
printf 'FROM debian:12\n# keep this comment\nMAINTAINER Jane <j@x>\nRUN true\n' >"$W/fix.Dockerfile"
cp "$W/fix.Dockerfile" "$W/fix.orig"
run "$BALE" lint --diff "$W/fix.Dockerfile"
assert_exit "--diff exits 1 when there is something to fix" 1
assert_stdout_matches "--diff prints a unified diff" '^\+LABEL org.opencontainers.image.authors="Jane <j@x>"$'
cp "$OUT" "$W/fix.diff"
assert_same_file "--diff leaves the file alone" "$W/fix.Dockerfile" "$W/fix.orig"
run "$BALE" lint --no-color --fix "$W/fix.Dockerfile"
assert_stderr_matches "--fix says how many fixes it applied" "1 fix applied"
if grep -q '^# keep this comment$' "$W/fix.Dockerfile" && ! grep -q MAINTAINER "$W/fix.Dockerfile"; then
	pass "--fix rewrites in place and keeps comments"
else fail "--fix in place" "$(cat "$W/fix.Dockerfile")"; fi
cp "$W/fix.orig" "$W/patched"
if patch -s "$W/patched" <"$W/fix.diff" && cmp -s "$W/patched" "$W/fix.Dockerfile"; then
	pass "the --diff output applies with patch to exactly what --fix wrote"
else fail "diff applies" "$(cat "$W/fix.diff")"; fi
run "$BALE" lint --diff "$W/fix.Dockerfile"
assert_exit "nothing left to fix: --diff exits 0" 0
assert_stdout_empty "nothing left to fix: no diff"
RUN_STDIN=$W/fix.orig run "$BALE" lint --fix -
assert_exit "--fix on stdin" 0
if cmp -s "$OUT" "$W/fix.Dockerfile"; then pass "--fix - prints the fixed file"; else fail "--fix -" "$(cat "$OUT")"; fi

# ---- --context: the build context, when it is not the Dockerfile's directory ----------------
C=$TEST_TMP/ctx
mkdir -p "$C/docker" "$TEST_TMP/bare"
printf '.git\n.env\n' >"$C/.dockerignore"
printf 'FROM python:3.12-slim\nCOPY . /app\nUSER 10001\n' >"$C/docker/Dockerfile"
run "$BALE" lint --no-color "$C/docker/Dockerfile"
assert_stdout_matches "without --context the Dockerfile's directory is the context (no .dockerignore)" "BL2005"
run "$BALE" lint --no-color --context "$C" "$C/docker/Dockerfile"
if grep -q BL2005 "$OUT"; then
	fail "--context DIR: its .dockerignore keeps out .git and .env" "$(cat "$OUT")"
else
	pass "--context DIR: its .dockerignore keeps out .git and .env"
fi
RUN_STDIN=$C/docker/Dockerfile run "$BALE" lint --no-color --context "$TEST_TMP/bare" -
assert_stdout_matches "--context with standard input: that context is read" "<stdin>:2:1 .*BL2005"
run "$BALE" lint --context "$TEST_TMP/no-such-dir" "$C/docker/Dockerfile"
assert_exit "--context on a missing directory: usage error" 2
assert_stderr_matches "--context: the message names it" "--context '.*no-such-dir': not a directory"

# ---- shellcheck-timeout: a shellcheck that does not finish is stopped ------------------------
# A stand-in for shellcheck that never prints and never ends: bale must stop it and say so.
mkdir -p "$TEST_TMP/hang-bin"
printf '#!/bin/sh\nexec sleep 600\n' >"$TEST_TMP/hang-bin/shellcheck"
chmod +x "$TEST_TMP/hang-bin/shellcheck"
printf 'FROM alpine:3.20\nRUN echo $HOME\nUSER 10001\n' >"$TEST_TMP/sc.Dockerfile"
start=$(date +%s)
PATH=$TEST_TMP/hang-bin:$PATH BALE_SHELLCHECK_TIMEOUT=1 run "$BALE" lint --no-color "$TEST_TMP/sc.Dockerfile"
took=$(($(date +%s) - start))
assert_exit "a shellcheck past shellcheck-timeout: the file could not be linted" 3
assert_stderr_matches "a shellcheck past shellcheck-timeout: the message names the file and the limit" \
	"sc.Dockerfile.*shellcheck did not finish within 1 s"
if [ "$took" -le 4 ]; then
	pass "a shellcheck past shellcheck-timeout is stopped at the limit (${took} s)"
else
	fail "a shellcheck past shellcheck-timeout is stopped at the limit" "took ${took} s"
fi
if pgrep -f "$TEST_TMP/hang-bin" >/dev/null || pgrep -x sleep -a 2>/dev/null | grep -q "sleep 600"; then
	fail "the stopped shellcheck is not left running" "$(pgrep -a sleep)"
else
	pass "the stopped shellcheck is not left running"
fi
BALE_SHELLCHECK_TIMEOUT=0 run "$BALE" lint --no-color "$TEST_TMP/sc.Dockerfile"
assert_exit "BALE_SHELLCHECK_TIMEOUT=0: usage error" 2
assert_stderr_matches "BALE_SHELLCHECK_TIMEOUT=0: the message says what is wanted" \
	"BALE_SHELLCHECK_TIMEOUT: '0' is not whole seconds"
printf 'shellcheck-timeout: soon\n' >"$TEST_TMP/sc.yaml"
run "$BALE" lint --no-color --config "$TEST_TMP/sc.yaml" "$TEST_TMP/sc.Dockerfile"
assert_exit "shellcheck-timeout: soon in the configuration: an error" 2
assert_stderr_matches "shellcheck-timeout: soon: the message names the file, line and column" \
	"sc.yaml:1:21: 'shellcheck-timeout' must be whole seconds"

finish
