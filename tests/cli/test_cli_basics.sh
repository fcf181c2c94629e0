#!/usr/bin/env bash
# The command line as a user meets it first: help, version, and what happens on a mistake
# (exit 2 with a message on stderr and nothing on stdout). See docs/cli.md.
# shellcheck source=tests/cli/lib.sh
. "$(dirname "$0")/lib.sh" "$@"

good=$TEST_TMP/Dockerfile
printf 'FROM alpine:3.19\nRUN echo hello\nCMD ["sh"]\n' >"$good"

# --- help and version -----------------------------------------------------------------------
for opt in --help -h; do
	run "$BALE" "$opt"
	assert_exit "bale $opt exits 0" 0
	assert_stdout_matches "bale $opt prints the usage" '^usage: bale '
	assert_stdout_matches "bale $opt lists the parse command" '^ +parse +[A-Za-z]'
	assert_stdout_matches "bale $opt documents the exit codes" '2 usage error'
	assert_stderr_empty "bale $opt writes nothing to stderr"
done
cp "$OUT" "$TEST_TMP/help.txt"

run "$BALE" help
assert_exit "bale help exits 0" 0
assert_same_file "bale help prints what bale --help prints" "$OUT" "$TEST_TMP/help.txt"

for opt in --version version; do
	run "$BALE" "$opt"
	assert_exit "bale $opt exits 0" 0
	assert_stdout_matches "bale $opt prints 'bale version X.Y.Z'" '^bale version [0-9]+\.[0-9]+\.[0-9]+'
	assert_stderr_empty "bale $opt writes nothing to stderr"
done

run "$BALE" help parse
assert_exit "bale help parse exits 0" 0
assert_stdout_matches "bale help parse shows its usage" 'usage: bale parse'
assert_stdout_matches "bale help parse documents --format" '--format'
assert_stdout_matches "bale help parse documents --output" '--output'
assert_stdout_matches "bale help parse documents --max-size" '--max-size'
assert_stderr_empty "bale help parse writes nothing to stderr"
cp "$OUT" "$TEST_TMP/help-parse.txt"

for opt in --help -h; do
	run "$BALE" parse "$opt"
	assert_exit "bale parse $opt exits 0" 0
	assert_same_file "bale parse $opt prints what bale help parse prints" "$OUT" "$TEST_TMP/help-parse.txt"
done

# --- usage errors: exit 2, a message on stderr, nothing on stdout ---------------------------
run "$BALE"
assert_exit "bale without a command exits 2" 2
assert_stderr_matches "bale without a command prints the usage on stderr" 'usage: bale'
assert_stdout_empty "bale without a command prints nothing on stdout"

run "$BALE" frobnicate
assert_exit "an unknown command exits 2" 2
assert_stderr_matches "an unknown command is named on stderr" "'frobnicate'"
assert_stdout_empty "an unknown command prints nothing on stdout"

run "$BALE" --frobnicate
assert_exit "an unknown global option exits 2" 2
assert_stderr_matches "an unknown global option is named on stderr" '--frobnicate'
assert_stdout_empty "an unknown global option prints nothing on stdout"

run "$BALE" help frobnicate
assert_exit "help for an unknown command exits 2" 2
assert_stderr_matches "help for an unknown command names it" "'frobnicate'"
assert_stdout_empty "help for an unknown command prints nothing on stdout"

run "$BALE" parse --frobnicate "$good"
assert_exit "an unknown option of parse exits 2" 2
assert_stderr_matches "an unknown option of parse is named on stderr" '--frobnicate'
assert_stdout_empty "an unknown option of parse prints nothing on stdout"

run "$BALE" parse -Z "$good"
assert_exit "an unknown short option of parse exits 2" 2
assert_stderr_matches "an unknown short option of parse is named on stderr" '-Z'
assert_stdout_empty "an unknown short option of parse prints nothing on stdout"

run "$BALE" parse
assert_exit "parse without a file exits 2" 2
assert_stderr_matches "parse without a file says so on stderr" '.'
assert_stdout_empty "parse without a file prints nothing on stdout"

run "$BALE" parse --format yaml "$good"
assert_exit "parse with an unknown format exits 2" 2
assert_stderr_matches "parse with an unknown format names it" 'yaml'
assert_stdout_empty "parse with an unknown format prints nothing on stdout"

run "$BALE" parse --format
assert_exit "parse with --format missing its value exits 2" 2
assert_stdout_empty "parse with --format missing its value prints nothing on stdout"

run "$BALE" parse --max-size lots "$good"
assert_exit "parse with a malformed --max-size exits 2" 2
assert_stderr_matches "parse with a malformed --max-size names the value" 'lots'
assert_stdout_empty "parse with a malformed --max-size prints nothing on stdout"

# --- option spellings: long, long=value, short, short+value; '-' is standard input ----------
run "$BALE" parse --format buildkit "$good"
assert_exit "parse --format buildkit exits 0" 0
assert_stdout_matches "parse --format buildkit prints BuildKit's dump" '^\(from "alpine:3\.19"\)$'
cp "$OUT" "$TEST_TMP/dump.txt"
for spelling in "--format=buildkit" "-f buildkit" "-fbuildkit"; do
	# shellcheck disable=SC2086 # the spelling is split on purpose
	run "$BALE" parse $spelling "$good"
	assert_exit "parse $spelling exits 0" 0
	assert_same_file "parse $spelling prints the same dump" "$OUT" "$TEST_TMP/dump.txt"
done
run "$BALE" parse "$good" --format buildkit
assert_exit "options may follow the file, as in git" 0
assert_same_file "an option after the file has the same effect" "$OUT" "$TEST_TMP/dump.txt"
RUN_STDIN=$good run "$BALE" parse --format buildkit -
assert_exit "parse - reads standard input" 0
assert_same_file "parse - prints the same dump as the file" "$OUT" "$TEST_TMP/dump.txt"

run "$BALE" parse "$good"
assert_exit "parse without --format exits 0" 0
if jq -e . "$OUT" >/dev/null 2>&1; then
	pass "parse prints JSON by default"
else
	fail "parse prints JSON by default (checked with jq)" "$(_seen)"
fi

finish
