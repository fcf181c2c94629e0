#!/usr/bin/env bash
# docs/rules/README.md lists exactly the rules the binary knows, each with its page.
. "$(dirname "$0")/lib.sh" "$@"

run "$BALE" lint --list-rules
assert_exit "--list-rules" 0
cut -d' ' -f1 "$OUT" | sort >"$TEST_TMP/ids"
grep -o '^| \[[A-Z0-9]*\]' "$SRC/docs/rules/README.md" | tr -d '|[] ' | sort >"$TEST_TMP/indexed"
if cmp -s "$TEST_TMP/ids" "$TEST_TMP/indexed"; then
	pass "docs/rules/README.md lists every rule (run tools/gen-rules-index.sh after adding one)"
else
	fail "docs/rules/README.md is out of date (run tools/gen-rules-index.sh)" "$(diff "$TEST_TMP/ids" "$TEST_TMP/indexed")"
fi
missing=
while read -r id; do [ -f "$SRC/docs/rules/$id.md" ] || missing="$missing $id"; done <"$TEST_TMP/ids"
if [ -z "$missing" ]; then pass "every rule has its page"; else fail "rules without a page:$missing"; fi
finish
