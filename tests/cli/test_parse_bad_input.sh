#!/usr/bin/env bash
# `bale parse` on input it must refuse: binary data, NUL bytes, invalid UTF-8, lines of several
# megabytes, unterminated heredocs, JSON and quotes, ONBUILD nested without end, an empty file,
# files over the size limit, a missing file, a directory. Each must end quickly with exit 3,
# exactly one line on stderr naming the file (and line:col where there is a position), nothing
# on stdout and, with -o, no output file. Large inputs are generated here, never committed.
# shellcheck source=tests/cli/lib.sh
. "$(dirname "$0")/lib.sh" "$@"

in=$TEST_TMP/in
mkdir -p "$in"
outfile=$TEST_TMP/out.json

# An ERE matching `s` literally.
re_quote() {
	printf '%s' "$1" | sed 's/[][\.*^$+?(){}|/]/\\&/g'
}

# check_bad NAME EXIT ERE ARGS...: `bale parse ARGS` must exit EXIT with one stderr line
# matching ERE and nothing on stdout; the same with `-o FILE` must leave no FILE behind.
check_bad() {
	local name=$1 code=$2 ere=$3
	shift 3
	run "$BALE" parse "$@"
	assert_exit "$name: exits $code" "$code"
	assert_stdout_empty "$name: prints nothing on stdout"
	assert_stderr_one_line "$name: prints one line on stderr"
	assert_stderr_matches "$name: the message names the file (and the position)" "$ere"
	rm -f "$outfile"
	run "$BALE" parse -o "$outfile" "$@"
	assert_exit "$name, with -o: exits $code" "$code"
	assert_stdout_empty "$name, with -o: prints nothing on stdout"
	assert_file_absent "$name, with -o: leaves no output file" "$outfile"
}

# at FILE LINE COL [MESSAGE]: the ERE of "bale: FILE:LINE:COL: MESSAGE" (LINE, COL and MESSAGE
# are patterns; MESSAGE defaults to any text).
at() {
	printf '^bale: %s:%s:%s: %s' "$(re_quote "$1")" "$2" "$3" "${4:-[^ ]}"
}

# --- controls: the same options on good input succeed, so the checks below can fail ---------
good=$in/good
printf 'FROM alpine:3.19\nRUN echo hello\n' >"$good"
run "$BALE" parse "$good"
assert_exit "control: a good file exits 0" 0
assert_stderr_empty "control: a good file prints nothing on stderr"
rm -f "$outfile"
run "$BALE" parse -o "$outfile" "$good"
assert_exit "control: a good file with -o exits 0" 0
assert_stdout_empty "control: a good file with -o prints nothing on stdout"
assert_file_nonempty "control: a good file with -o writes the output file" "$outfile"
# 12 + 1 + 986 + 1 = 1000 bytes: "FROM alpine", then a comment line.
printf 'FROM alpine\n#%0986d\n' 0 >"$in/exactly-1000"
if [ "$(wc -c <"$in/exactly-1000")" = 1000 ]; then
	run "$BALE" parse --max-size 1000 "$in/exactly-1000"
	assert_exit "control: a file of exactly --max-size bytes is read" 0
else
	fail "control: the 1000-byte fixture has $(wc -c <"$in/exactly-1000") bytes"
fi

# --- binary data, NUL bytes, invalid UTF-8 ----------------------------------------------------
f=$in/elf
printf '\177ELF\002\001\001\000\000\000\000\000\000\000\000\000\003\000>\000' >"$f"
check_bad "binary data (an ELF header)" 3 "$(at "$f" 1 8 '.*NUL')" "$f"

f=$in/random
LC_ALL=C awk 'BEGIN { srand(42); for (i = 0; i < 65536; i++) printf "%c", int(rand() * 256) }' >"$f"
check_bad "64 KiB of random bytes" 3 "$(at "$f" '[0-9]+' '[0-9]+')" "$f"

f=$in/nul
printf 'FROM alpine\nRUN echo a\000b\n' >"$f"
check_bad "a NUL byte inside a line" 3 "$(at "$f" 2 11 '.*NUL')" "$f"

f=$in/nul-first
printf '\000FROM alpine\n' >"$f"
check_bad "a NUL byte first" 3 "$(at "$f" 1 1 '.*NUL')" "$f"

f=$in/utf8-bad-byte
printf 'FROM alpine\nLABEL x=\377\n' >"$f"
check_bad "invalid UTF-8 (byte 0xff)" 3 "$(at "$f" 2 9 '.*UTF-8')" "$f"

f=$in/utf8-truncated
printf 'FROM alpine\nRUN echo \342\202' >"$f"
check_bad "invalid UTF-8 (a sequence cut by the end of file)" 3 "$(at "$f" 2 10 '.*UTF-8')" "$f"

f=$in/utf8-overlong
printf 'FROM alpine\n# \300\257\n' >"$f"
check_bad "invalid UTF-8 (an overlong '/' in a comment)" 3 "$(at "$f" 2 3 '.*UTF-8')" "$f"

f=$in/utf8-surrogate
printf 'FROM alpine\nENV A=\355\240\200\n' >"$f"
check_bad "invalid UTF-8 (an encoded surrogate)" 3 "$(at "$f" 2 7 '.*UTF-8')" "$f"

# --- lines of several megabytes ---------------------------------------------------------------
f=$in/long-line
{
	printf 'FROM alpine\nRUN echo '
	head -c 3000000 /dev/zero | tr '\0' x
	printf '\n'
} >"$f"
check_bad "a physical line of 3 MB" 3 "$(at "$f" 2 '[0-9]+' '.*line')" "$f"

# --- unterminated constructs ------------------------------------------------------------------
f=$in/heredoc-run
printf 'FROM alpine\nRUN <<EOF\necho hello\n' >"$f"
check_bad "an unterminated heredoc in RUN" 3 "$(at "$f" 2 '[0-9]+' '.*heredoc')" "$f"

f=$in/heredoc-copy
printf 'FROM alpine\nCOPY <<EOF /etc/motd\nhello\nEOF \n' >"$f"
check_bad "an unterminated heredoc in COPY (the terminator has a trailing space)" 3 \
	"$(at "$f" 2 '[0-9]+' '.*heredoc')" "$f"

f=$in/json-shell
printf 'FROM alpine\nSHELL ["/bin/sh", "-c"\n' >"$f"
check_bad "unterminated JSON where JSON is required (SHELL)" 3 "$(at "$f" 2 '[0-9]+' '.*JSON')" \
	"$f"

f=$in/quote-from
printf 'FROM "alpine:3.19\nRUN true\n' >"$f"
check_bad "an unterminated double quote in FROM" 3 "$(at "$f" 1 '[0-9]+' '.*quote')" "$f"

# --- ONBUILD nested deeply ----------------------------------------------------------------------
f=$in/onbuild-deep
{
	printf 'FROM alpine\n'
	yes 'ONBUILD' | head -n 5000 | tr '\n' ' '
	printf 'RUN echo deep\n'
} >"$f"
check_bad "ONBUILD nested 5000 deep (a 40 KB line)" 3 "$(at "$f" 2 '[0-9]+' '.*ONBUILD')" "$f"

f=$in/onbuild-twice
printf 'FROM alpine\nONBUILD ONBUILD RUN echo x\n' >"$f"
check_bad "ONBUILD ONBUILD (BuildKit refuses the chain)" 3 "$(at "$f" 2 '[0-9]+')" "$f"

# --- empty, too large, missing, not a file -------------------------------------------------------
f=$in/empty
: >"$f"
check_bad "an empty file" 3 "^bale: $(re_quote "$f")" "$f"

f=$in/2000-bytes
printf 'FROM alpine\n#%01986d\n' 0 >"$f"
check_bad "a 2000-byte file with --max-size 1000" 3 "^bale: .*$(re_quote "$f").*1000" --max-size 1000 "$f"

RUN_STDIN=$f check_bad "2000 bytes on stdin with --max-size 1000" 3 "^bale: .*stdin.*1000" \
	--max-size 1000 -

f=$in/17-MiB
truncate -s 17M "$f"
check_bad "a 17 MiB file (over the default 16 MiB limit)" 3 "^bale: .*$(re_quote "$f").*limit" "$f"

f=$in/does-not-exist
check_bad "a missing file" 3 "^bale: .*$(re_quote "$f").*[Nn]o such file" "$f"

f=$in/a-directory
mkdir -p "$f"
check_bad "a directory" 3 "^bale: .*$(re_quote "$f").*directory" "$f"

# --- large but valid: BuildKit limits physical lines only, so a long logical line is accepted --
f=$in/long-logical-line
{
	printf 'FROM alpine\nRUN true \\\n'
	# shellcheck disable=SC1003 # the backslash is the line continuation
	yes '    && echo 0123456789012345678901234567890123456789012345678901234567 \' | head -n 60000
	printf '    && true\n'
} >"$f"
run "$BALE" parse --format buildkit "$f"
assert_exit "a 4 MB logical line of 60000 continuation lines parses, within ${RUN_TIMEOUT}s" 0
assert_stdout_matches "the 4 MB logical line is one RUN" '^\(run "true     && echo 0123'

# --- usage errors exit 2 (the message may add a pointer to --help) ------------------------------
for value in lots -5 12x ''; do
	rm -f "$outfile"
	run "$BALE" parse -o "$outfile" --max-size "$value" "$good"
	assert_exit "--max-size '$value': exits 2" 2
	assert_stdout_empty "--max-size '$value': prints nothing on stdout"
	assert_stderr_matches "--max-size '$value': names the option" 'max-size'
	assert_file_absent "--max-size '$value': leaves no output file" "$outfile"
done

finish
