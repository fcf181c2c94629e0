#!/usr/bin/env bash
# `bale parse` JSON (docs/parse-json.md) on the fixtures of tests/data/parse/, checked with jq:
# instructions with positions, flags, heredocs and typed views; the stage model with its graph,
# --target and --build-arg; errors of the typed layer with their position; the options of the
# command (-o, --compact, stdin, options after the file, buildkit format skipping the typed
# layer).
# shellcheck source=tests/cli/lib.sh
. "$(dirname "$0")/lib.sh" "$@"

P=$DATA/parse
command -v jq >/dev/null || {
	fail "jq is installed (tools/debian-packages lists it)"
	finish
}

# assert_jq NAME FILTER: the filter, run on the last stdout, must yield true.
assert_jq() {
	local got
	got=$(jq -e "$2" "$OUT" 2>&1)
	if [ $? = 0 ] && [ "$got" = true ]; then
		pass "$1"
	else
		fail "$1" "jq '$2' gave: $(printf '%s' "$got" | head -c 300)"
	fi
}

# --- multi-stage file: stages, graph, scope ---------------------------------------------------
run "$BALE" parse "$P/multistage.Dockerfile"
assert_exit "multistage: exits 0" 0
assert_stderr_empty "multistage: nothing on stderr"
assert_jq "multistage: document version 1" '.version == 1'
assert_jq "multistage: the file is named" '.file | endswith("multistage.Dockerfile")'
assert_jq "multistage: the syntax directive" \
	'.directives == [{"name":"syntax","value":"docker/dockerfile:1","line":1}]'
assert_jq "multistage: global ARGs with their values" \
	'[.global_args[] | [.name, .value]] == [["GO_VERSION","1.22"],["BASE","debian:bookworm-slim"]]'
assert_jq "multistage: five stages" '.stages | length == 5'
assert_jq "multistage: stage names are lower case, as written kept" \
	'.stages[0].name == "build" and .stages[0].name_as_written == "Build"'
assert_jq "multistage: FROM expanded with the global ARGs" \
	'.stages[0].base == {"kind":"image","name":"golang:1.22","stage":null,"instruction":2}'
assert_jq "multistage: a stage based on an earlier stage" \
	'.stages[1].base.kind == "stage" and .stages[1].base.stage == 0'
assert_jq "multistage: RUN --mount=from is an edge" \
	'.stages[1].refs[0] | .via == "mount" and .kind == "stage" and .stage == 0 and .mount == 0'
assert_jq "multistage: ONBUILD COPY --from runs in the child stage" \
	'.stages[3].refs as $r | $r | map(select(.onbuild)) | .[0].stage == 0 and .[0].instruction == 11 and (.[0] == $r[0])'
assert_jq "multistage: COPY --from=0 is an edge, an image reference is not" \
	'[.stages[3].refs[] | select(.onbuild|not) | .kind] == ["stage","image"]'
assert_jq "multistage: depends_on" '.stages[3].depends_on == [0,2]'
assert_jq "multistage: default target is the last stage" '.target.stage == 4 and .target.name == "docs"'
assert_jq "multistage: only the target is reachable by default" '.target.reachable == [4]'
assert_jq "multistage: stage ARG without default takes the global value" \
	'.stages[0].vars[0] | .name == "GO_VERSION" and .value == "1.22" and .from_global'
assert_jq "multistage: ENV pairs in order" \
	'[.stages[0].vars[1,2] | [.kind, .name, .value]] == [["env","CGO_ENABLED","0"],["env","GOFLAGS","-mod=vendor"]]'
assert_jq "multistage: each instruction knows its stage" \
	'[.instructions[] | .stage] == [null,null,0,0,0,0,0,0,1,1,2,2,2,3,3,3,3,4,4]'
assert_jq "multistage: positions" \
	'.instructions[7] | .kind == "run" and .start_line == 9 and .start_col == 1 and .end_line == 11'
assert_jq "multistage: typed cache mount with defaults" \
	'.instructions[7].typed.mounts[0] | .type == "cache" and .id == "/root/.cache/go-build" and .id_defaulted and .readonly == false and .sharing == "shared"'

run "$BALE" parse --target FINAL "$P/multistage.Dockerfile"
assert_exit "--target FINAL: exits 0" 0
assert_jq "--target FINAL: the target (any case)" '.target.stage == 3 and .target.name == "final"'
assert_jq "--target FINAL: reaches its base chain and COPY sources" '.target.reachable == [0,2,3]'
assert_jq "--target FINAL: is_target on the stage" '[.stages[] | .is_target] == [false,false,false,true,false]'

run "$BALE" parse "$P/multistage.Dockerfile" --target test --build-arg GO_VERSION=1.21 \
	--build-arg BASE=gcr.io/distroless/static
assert_exit "options after the file: exits 0" 0
assert_jq "--build-arg overrides the global default" '.stages[0].base.name == "golang:1.21"'
assert_jq "--build-arg value is flagged" '.global_args[0].from_build_arg'
assert_jq "--build-arg reaches the stage ARG" '.stages[0].vars[0].value == "1.21"'
assert_jq "--build-arg changes the base image" '.stages[2].base.name == "gcr.io/distroless/static"'
assert_jq "--target test: reaches build" '.target.reachable == [0,1]'

GO_VERSION=1.20 run "$BALE" parse --build-arg GO_VERSION "$P/multistage.Dockerfile"
assert_jq "--build-arg NAME takes the value from the environment" '.stages[0].base.name == "golang:1.20"'

run "$BALE" parse --target nope "$P/multistage.Dockerfile"
assert_exit "unknown --target: exits 2" 2
assert_stderr_matches "unknown --target: BuildKit's message" 'target stage "nope" could not be found'
assert_stdout_empty "unknown --target: nothing on stdout"

run "$BALE" parse --build-arg =x "$P/multistage.Dockerfile"
assert_exit "--build-arg without a name: exits 2" 2

# --- mounts and RUN flags ---------------------------------------------------------------------
run "$BALE" parse "$P/mounts.Dockerfile"
assert_exit "mounts: exits 0" 0
assert_jq "mounts: six mounts in order" \
	'[.instructions[1].typed.mounts[].type] == ["bind","cache","tmpfs","secret","secret","ssh"]'
assert_jq "mounts: bind is read-only by default" '.instructions[1].typed.mounts[0] | .readonly and .source == "go.mod"'
assert_jq "mounts: cache options" \
	'.instructions[1].typed.mounts[1] | .sharing == "private" and .mode == 509 and .uid == 100 and .gid == 101'
assert_jq "mounts: tmpfs size in bytes" '.instructions[1].typed.mounts[2].size == 67108864'
assert_jq "mounts: secret default target" \
	'.instructions[1].typed.mounts[3] | .target == "/run/secrets/npmrc" and .target_defaulted and .required'
assert_jq "mounts: secret as an environment variable has no target" \
	'.instructions[1].typed.mounts[4] | .env == "API_TOKEN" and .target == null'
assert_jq "mounts: ssh id" '.instructions[1].typed.mounts[5].id == "github"'
assert_jq "mounts: network and security" \
	'.instructions[1].typed | .network == "none" and .security == "sandbox" and .prepend_shell'
assert_jq "mounts: raw flags kept as written" \
	'.instructions[1].flags | length == 8 and (.[6] == "--network=none")'

# --- heredocs and comments --------------------------------------------------------------------
run "$BALE" parse "$P/heredoc.Dockerfile"
assert_exit "heredoc: exits 0" 0
assert_jq "heredoc: comments before the instruction" \
	'.instructions[1].comments == ["Write the motd.","It is two lines."]'
assert_jq "heredoc: two heredocs with their attributes" \
	'[.instructions[1].heredocs[] | [.name, .expand, .chomp]] == [["EOF",true,false],["RAW",false,true]]'
assert_jq "heredoc: body and lines" \
	'.instructions[1].heredocs[0] | .content == "motd for $HOSTNAME\n" and .start_line == 5 and .end_line == 6'
assert_jq "heredoc: COPY sources from heredocs, tabs chomped" \
	'.instructions[1].typed.source_contents[1] | .name == "RAW" and .data == "tabbed $NOT_EXPANDED\n" and (.expand|not)'
assert_jq "heredoc: the file descriptor" '.instructions[2].heredocs[0].fd == 3'
assert_jq "heredoc: end_line covers the body" '.instructions[2].end_line == 11'

# --- escape directive, strings that need escaping ------------------------------------------------
run "$BALE" parse "$P/escape.Dockerfile"
assert_exit "escape: exits 0" 0
assert_jq "escape: the backtick escape" '.escape == "`"'
assert_jq "escape: a tab survives the round trip" '.instructions[2].args[1] == "\"tab\there\""'
assert_jq "escape: UTF-8 text survives the round trip" '.instructions[2].args[4] == "\"h\u00e9llo \u2713\""'
assert_jq "escape: a control character survives the round trip" '.instructions[2].args[7] == "\"esc\u001b[0m\""'
if grep -q "$(printf '\033')" "$OUT"; then
	fail "escape: no raw control character in the JSON"
else
	pass "escape: no raw control character in the JSON"
fi

# --- every flag of COPY, ADD, HEALTHCHECK ---------------------------------------------------------
run "$BALE" parse "$P/flags.Dockerfile"
assert_exit "flags: exits 0" 0
assert_jq "flags: FROM --platform" '.instructions[0].typed.platform == "linux/arm64" and .stages[0].platform_value == "linux/arm64"'
assert_jq "flags: COPY typed" \
	'.instructions[1].typed | .chown == "app:app" and .chmod == "0644" and .link and .parents and .exclude == ["*.md","tmp/"] and .sources == ["src/","docs/"] and .dest == "/app/"'
assert_jq "flags: ADD typed" \
	'.instructions[2].typed | .keep_git_dir and .unpack == false and (.checksum | startswith("sha256:"))'
assert_jq "flags: HEALTHCHECK durations in nanoseconds" \
	'.instructions[3].typed | .interval_ns == 90000000000 and .timeout_ns == 500000000 and .start_period_ns == 10000000000 and .start_interval_ns == 2000000000 and .retries == 5 and .type == "CMD-SHELL"'
assert_jq "flags: typed flags list" '[.instructions[3].typed.flags[].name] == ["interval","timeout","start-period","start-interval","retries"]'
assert_jq "flags: EXPOSE, VOLUME, STOPSIGNAL, SHELL" \
	'.instructions[4].typed.ports == ["80/tcp","443"] and .instructions[5].typed.paths == ["/data"] and .instructions[6].typed.signal == "SIGTERM" and .instructions[7].typed.command == ["/bin/sh","-eu","-c"]'

# --- errors of the typed layer and the stage model ---------------------------------------------
run "$BALE" parse "$P/bad-flag.Dockerfile"
assert_exit "bad flag: exits 3" 3
assert_stderr_one_line "bad flag: one line on stderr"
assert_stderr_matches "bad flag: file, line, column and BuildKit's message with a suggestion" \
	'^bale: .*bad-flag\.Dockerfile:4:1: unknown flag: --chmown \(did you mean chown\?\)$'
assert_stdout_empty "bad flag: nothing on stdout"

run "$BALE" parse -o "$TEST_TMP/bad.json" "$P/bad-flag.Dockerfile"
assert_exit "bad flag with -o: exits 3" 3
assert_file_absent "bad flag with -o: no output file" "$TEST_TMP/bad.json"
if ls -A "$TEST_TMP" | grep -q '^\.bad\.json\.'; then
	fail "bad flag with -o: no temporary file left"
else
	pass "bad flag with -o: no temporary file left"
fi

run "$BALE" parse "$P/cycle.Dockerfile"
assert_exit "cycle: exits 3" 3
assert_stderr_matches "cycle: BuildKit's message with the position" \
	'cycle\.Dockerfile:4:1: circular dependency detected on stage: a$'

# The buildkit format is the reference's AST dump, which does not check flags.
run "$BALE" parse --format buildkit "$P/bad-flag.Dockerfile"
assert_exit "buildkit format does not run the typed layer" 0
assert_stdout_matches "buildkit format prints the flag as written" '^\(copy \["--chmown=root:root"\] "a" "/b"\)$'

# --- output options ---------------------------------------------------------------------------
run "$BALE" parse "$P/flags.Dockerfile"
cp "$OUT" "$TEST_TMP/stdout.json"
run "$BALE" parse "$P/flags.Dockerfile" -o "$TEST_TMP/written.json"
assert_exit "-o: exits 0" 0
assert_stdout_empty "-o: nothing on stdout"
assert_same_file "-o writes what stdout shows" "$TEST_TMP/written.json" "$TEST_TMP/stdout.json"
printf 'stale' >"$TEST_TMP/written.json"
run "$BALE" parse --output="$TEST_TMP/written.json" "$P/flags.Dockerfile"
assert_same_file "--output replaces an existing file" "$TEST_TMP/written.json" "$TEST_TMP/stdout.json"

run "$BALE" parse --compact "$P/flags.Dockerfile"
assert_exit "--compact: exits 0" 0
if [ "$(wc -l <"$OUT")" = 1 ]; then pass "--compact: one line"; else fail "--compact: one line" "$(_seen)"; fi
jq -S . "$OUT" >"$TEST_TMP/compact.json"
jq -S . "$TEST_TMP/stdout.json" >"$TEST_TMP/pretty.json"
assert_same_file "--compact: the same document as the indented one" "$TEST_TMP/compact.json" "$TEST_TMP/pretty.json"

RUN_STDIN=$P/flags.Dockerfile run "$BALE" parse -
assert_exit "stdin: exits 0" 0
assert_jq "stdin: named <stdin>" '.file == "<stdin>" and (.instructions | length == 8)'

run "$BALE" parse --platform linux/arm/v7 "$P/multistage.Dockerfile"
assert_exit "--platform: exits 0" 0
run "$BALE" parse --platform nonsense "$P/multistage.Dockerfile"
assert_exit "--platform without an arch: exits 2" 2

finish
