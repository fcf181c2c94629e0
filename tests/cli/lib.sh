# shellcheck shell=bash
# tests/cli/lib.sh: what the CLI tests share. A test sources it with its own arguments:
#
#   . "$(dirname "$0")/lib.sh" "$@"      # BALE DATA CONFORMANCE SRC, as tests/CMakeLists.txt passes
#
# `run CMD...` runs a command under a 10 s limit and records its exit status ($RC), standard
# output ($OUT, a file) and standard error ($ERR, a file). Each assertion prints "ok - NAME" or
# "not ok - NAME" with what was seen; `finish` prints the count and exits non-zero when any
# assertion failed, so CTest reports the test as failed.

set -u

BALE=${1:?usage: $0 BALE DATA CONFORMANCE SRC}
# shellcheck disable=SC2034 # for the tests that source this file
DATA=${2:-}
# shellcheck disable=SC2034
CONFORMANCE=${3:-}
# shellcheck disable=SC2034
SRC=${4:-}

TEST_TMP=$(mktemp -d "${TMPDIR:-/tmp}/bale-cli.XXXXXX")
trap 'rm -rf "$TEST_TMP"' EXIT
OUT=$TEST_TMP/.stdout
ERR=$TEST_TMP/.stderr
RC=0
RUN_TIMEOUT=${RUN_TIMEOUT:-10}
_passed=0
_failed=0

[ -x "$BALE" ] || {
	echo "not ok - the bale binary '$BALE' is missing"
	exit 1
}

# run [CMD...]: standard input is /dev/null unless RUN_STDIN names a file.
run() {
	timeout "$RUN_TIMEOUT" "$@" <"${RUN_STDIN:-/dev/null}" >"$OUT" 2>"$ERR"
	RC=$?
}

pass() {
	_passed=$((_passed + 1))
	echo "ok - $1"
}

# fail NAME DETAIL...: each detail line is printed as a "#" comment under the failure.
fail() {
	local name=$1
	shift
	_failed=$((_failed + 1))
	echo "not ok - $name"
	for line in "$@"; do
		printf '%s\n' "$line" | sed 's/^/#   /'
	done
}

# What a failure report shows of the last run.
_seen() {
	printf 'exit %s\n' "$RC"
	printf 'stdout (%s bytes): %s\n' "$(wc -c <"$OUT")" "$(head -c 300 "$OUT" | head -n 5)"
	printf 'stderr (%s lines): %s\n' "$(wc -l <"$ERR")" "$(head -c 600 "$ERR" | head -n 8)"
}

assert_exit() { # NAME EXPECTED
	if [ "$RC" = "$2" ]; then
		pass "$1"
	elif [ "$RC" = 124 ]; then
		fail "$1" "timed out after ${RUN_TIMEOUT}s (expected exit $2)" "$(_seen)"
	else
		fail "$1" "expected exit $2" "$(_seen)"
	fi
}

assert_stdout_empty() { # NAME
	if [ ! -s "$OUT" ]; then pass "$1"; else fail "$1" "expected no output on stdout" "$(_seen)"; fi
}

assert_stderr_empty() { # NAME
	if [ ! -s "$ERR" ]; then pass "$1"; else fail "$1" "expected nothing on stderr" "$(_seen)"; fi
}

assert_stdout_matches() { # NAME ERE
	if grep -Eq -- "$2" "$OUT"; then pass "$1"; else fail "$1" "stdout does not match /$2/" "$(_seen)"; fi
}

assert_stderr_matches() { # NAME ERE
	if grep -Eq -- "$2" "$ERR"; then pass "$1"; else fail "$1" "stderr does not match /$2/" "$(_seen)"; fi
}

# Exactly one line, ending in a newline: one clear message, not a dump or a partial line.
assert_stderr_one_line() { # NAME
	local lines bytes
	lines=$(wc -l <"$ERR")
	bytes=$(wc -c <"$ERR")
	if [ "$lines" = 1 ] && [ "$bytes" -gt 1 ] && [ "$(tail -c 1 "$ERR" | od -An -c | tr -d ' ')" = '\n' ]; then
		pass "$1"
	else
		fail "$1" "expected exactly one line on stderr" "$(_seen)"
	fi
}

assert_file_absent() { # NAME PATH
	if [ ! -e "$2" ]; then pass "$1"; else fail "$1" "'$2' exists ($(wc -c <"$2") bytes)"; fi
}

assert_file_nonempty() { # NAME PATH
	if [ -s "$2" ]; then pass "$1"; else fail "$1" "'$2' is missing or empty" "$(_seen)"; fi
}

assert_same_file() { # NAME FILE1 FILE2
	if cmp -s "$2" "$3"; then
		pass "$1"
	else
		fail "$1" "'$2' and '$3' differ" "$(diff "$2" "$3" 2>&1 | head -n 10)"
	fi
}

# ---- the full fixture set ------------------------------------------------------------------
# tests/fixtures/images/build.sh (as root, with a Debian mirror) builds leaky, clean and
# scratch-busybox into build/fixtures/images (BALE_FULL_FIXTURES overrides the place). The
# tests that read them are CTest tests of their own (cli_audit_full, cli_inspect_full: the
# same script with BALE_FULL_ONLY=1). Under CI (CI=true; .ci/run builds the set first) a
# missing set fails them; elsewhere they print "not checked" and exit 77, which CTest reports
# as a skipped test, never as a passed one.
FULL=${BALE_FULL_FIXTURES:-$SRC/build/fixtures/images}
FULL_ONLY=${BALE_FULL_ONLY:-0}
FULL_FIXTURES="leaky clean scratch-busybox"
FULL_VARIANTS="docker-archive.tar oci-archive.tar oci-gzip oci-zstd oci-plain oci-umoci"

require_full_set() {
	local f v missing=
	for f in $FULL_FIXTURES; do
		for v in $FULL_VARIANTS; do
			[ -e "$FULL/$f/$v" ] || missing="$missing $f/$v"
		done
	done
	[ -z "$missing" ] && return 0
	if [ "${CI:-}" = true ]; then
		fail "the full fixture set is built in $FULL" "missing:$missing" \
			"tests/fixtures/images/build.sh builds it as root (.ci/run runs it before make check)"
		finish
	fi
	echo "not checked - the full fixture set: missing in $FULL:$missing"
	echo "# build it with: sudo tests/fixtures/images/build.sh"
	exit 77
}

finish() {
	echo "1..$((_passed + _failed))"
	echo "# $_passed passed, $_failed failed"
	[ "$_failed" = 0 ]
	exit $?
}
