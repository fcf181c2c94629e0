#!/usr/bin/env bash
# The demo images of `make demo` (examples/image, built by buildah with examples/image/build.sh):
# they are up to date with their sources; bale audit finds each planted mistake of leaky.tar
# with its layer and path, and nothing else, and nothing above info in fixed.tar; bale inspect
# shows leaky's waste and none in fixed.
. "$(dirname "$0")/lib.sh" "$@"

RUN_TIMEOUT=30
IMG=$SRC/examples/image
LEAKY=$IMG/leaky.tar
FIXED=$IMG/fixed.tar

# ---- the archives were built from the sources in the tree ------------------------------
# build.sh writes sources.sha256 when it builds; a source edited since (or a new one) without a
# rebuild leaves the committed images describing other Containerfiles.
(cd "$IMG" && find build.sh steps.sh leaky fixed -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum) \
	>"$TEST_TMP/sources.sha256"
if cmp -s "$TEST_TMP/sources.sha256" "$IMG/sources.sha256"; then
	pass "leaky.tar and fixed.tar were built from the sources in examples/image"
else
	fail "leaky.tar and fixed.tar were built from the sources in examples/image" \
		"rebuild them: sudo examples/image/build.sh" "$(diff "$IMG/sources.sha256" "$TEST_TMP/sources.sha256")"
fi
for f in "$LEAKY" "$FIXED"; do
	size=$(stat -c %s "$f")
	if [ "$size" -le 102400 ]; then
		pass "${f##*/} is small enough to commit ($size bytes)"
	else
		fail "${f##*/} is small enough to commit" "$size bytes, over 100 KiB"
	fi
done

# ---- audit: leaky -------------------------------------------------------------------------
run "$BALE" audit --format json "$LEAKY"
assert_exit "audit of leaky.tar exits 1 (findings)" 1
cp "$OUT" "$TEST_TMP/leaky.json"

# RULE LEVEL LAYER PATH [MESSAGE TEXT]: each planted mistake, where it is (LAYER - for the config)
planted() {
	local rule=$1 level=$2 layer=$3 path=$4 text=${5:-}
	if jq -e --arg r "$rule" --arg s "$level" --arg l "$layer" --arg p "$path" --arg t "$text" '
		any(.[]; .name == $r and .level == $s and .path == $p
			and (if $l == "-" then .layer == null else .layer == ($l | tonumber) end)
			and (.message | contains($t)))' "$TEST_TMP/leaky.json" >/dev/null; then
		pass "leaky: $rule ($level) at layer $layer $path"
	else
		fail "leaky: $rule ($level) at layer $layer $path" "the message must contain: $text" \
			"$(jq -c '.[] | {name, level, layer, path, message}' "$TEST_TMP/leaky.json")"
	fi
}
planted secret-build-arg error 2 history:3 'build argument NPM_TOKEN holds an npm token'
planted private-key error 3 /root/.ssh/id_ed25519 'deleted by layer 4, still shipped in layer 3'
planted user-root warning - config:User
planted package-cache warning 2 /var/cache/apk
planted package-cache warning 2 /root/.npm/_cacache
planted healthcheck-missing info - config:Healthcheck
n=$(jq length "$TEST_TMP/leaky.json")
if [ "$n" = 6 ]; then
	pass "leaky: the six planted findings and no other"
else
	fail "leaky: the six planted findings and no other" "$n findings:" \
		"$(jq -c '.[] | {name, layer, path}' "$TEST_TMP/leaky.json")"
fi

# The planted values are really there, so the findings above are not about something else:
# the token in the history of the RUN after the ARG, the key's header in layer 3.
config=$(tar -xOf "$LEAKY" manifest.json | jq -r '.[0].Config')
if tar -xOf "$LEAKY" "$config" | jq -e '.history[3].created_by | startswith("|1 NPM_TOKEN=npm_BALEDEMO")' >/dev/null; then
	pass "leaky: history entry 3 records |1 NPM_TOKEN=npm_BALEDEMO..."
else
	fail "leaky: history entry 3 records |1 NPM_TOKEN=npm_BALEDEMO..." "$(tar -xOf "$LEAKY" "$config" | jq -c '.history')"
fi
token=$(tar -xOf "$LEAKY" "$config" | jq -r '.history[3].created_by' | sed -n 's/^|1 NPM_TOKEN=\([^ ]*\) .*/\1/p')
for fmt in json tty sarif; do
	run "$BALE" audit --format "$fmt" --no-color "$LEAKY"
	if [ -n "$token" ] && ! grep -qF -- "$token" "$OUT" && ! grep -qF -- "$token" "$ERR"; then
		pass "leaky: the token is masked in the $fmt output"
	else
		fail "leaky: the token is masked in the $fmt output" "token '${token:0:12}...'" "$(_seen)"
	fi
done

# ---- audit: fixed -------------------------------------------------------------------------
run "$BALE" audit --format json "$FIXED"
cp "$OUT" "$TEST_TMP/fixed.json"
if jq -e 'all(.[]; .level == "info" or .level == "style")' "$TEST_TMP/fixed.json" >/dev/null; then
	pass "fixed: no finding above info"
else
	fail "fixed: no finding above info" "$(jq -c '.[] | {name, level, layer, path}' "$TEST_TMP/fixed.json")"
fi
run "$BALE" audit --failure-threshold warning "$FIXED"
assert_exit "audit of fixed.tar with --failure-threshold warning exits 0" 0
# what makes it fixed: a numeric non-root user, the HEALTHCHECK kept (docker format), and the
# token and key in no layer and no history
config=$(tar -xOf "$FIXED" manifest.json | jq -r '.[0].Config')
if tar -xOf "$FIXED" "$config" | jq -e '.config.User == "10001:10001" and (.config.Healthcheck.Test | length) > 1' >/dev/null; then
	pass "fixed: USER 10001:10001 and a HEALTHCHECK in the config"
else
	fail "fixed: USER 10001:10001 and a HEALTHCHECK in the config" "$(tar -xOf "$FIXED" "$config" | jq -c '.config')"
fi
if ! grep -aqE 'BALEDEMO|PRIVATE KEY|/var/cache/apk|_cacache' "$FIXED"; then
	pass "fixed: no token, key or cache anywhere in the archive"
else
	fail "fixed: no token, key or cache anywhere in the archive" "$(grep -aoE 'BALEDEMO|PRIVATE KEY|/var/cache/apk|_cacache' "$FIXED" | sort | uniq -c)"
fi

# ---- inspect: the waste -------------------------------------------------------------------
run "$BALE" inspect --format json "$LEAKY"
assert_exit "inspect of leaky.tar exits 0" 0
# /etc/app/app.conf: 252 bytes in layer 1, rewritten by sed in layer 4 (253 bytes shipped for
# nothing); the key: 429 bytes in layer 3, deleted in layer 4
if jq -e '.dive.wasted_bytes > 0 and .final.shipped_not_in_final_bytes == 682
	and any(.wasteful_paths[]; .path == "/etc/app/app.conf" and .count == 2 and .not_in_final_bytes == 253)
	and any(.wasteful_paths[]; .path == "/root/.ssh/id_ed25519" and .count == 2 and .not_in_final_bytes == 429)' \
	"$OUT" >/dev/null; then
	pass "inspect leaky: the overwritten app.conf and the deleted key are waste (682 bytes not in the final tree)"
else
	fail "inspect leaky: the overwritten app.conf and the deleted key are waste" \
		"$(jq -c '{dive, final, wasteful_paths}' "$OUT")"
fi
run "$BALE" inspect --no-color "$LEAKY"
assert_stdout_matches "inspect leaky (tty) lists /root/.ssh/id_ed25519 among the paths in several layers" \
	'^ +2 +429 B +429 B +/root/\.ssh/id_ed25519$'
run "$BALE" inspect --format json "$FIXED"
if jq -e '.dive.wasted_bytes == 0 and .dive.efficiency == 1 and .final.shipped_not_in_final_bytes == 0
	and (.wasteful_paths | length) == 0' "$OUT" >/dev/null; then
	pass "inspect fixed: no waste (efficiency 1, nothing shipped outside the final tree)"
else
	fail "inspect fixed: no waste" "$(jq -c '{dive, final, wasteful_paths}' "$OUT")"
fi

finish
