#!/usr/bin/env bash
# bale inspect on images written by real engines (tests/data/images, made by buildah, skopeo
# and umoci; tests/data/image, the reader's fixtures): dive's numbers and export checked
# against dive_oracle.py (an independent model of dive's Go code over the tar listings: dive
# itself is not packaged for Debian), the `inspect` lines of each expected.txt, dive's CI
# mode, the tree, the JSON, and the exit codes of docs/cli.md. With BALE_FULL_ONLY=1: the
# full set that tests/fixtures/images/build.sh builds, and nothing else (see lib.sh).
. "$(dirname "$0")/lib.sh" "$@"

IMAGES=$DATA/images
ORACLE=$(dirname "$0")/dive_oracle.py
RUN_TIMEOUT=60

command -v python3 >/dev/null || fail "python3 is needed by dive_oracle.py" "install python3"
command -v jq >/dev/null || fail "jq is needed by this test" "install jq"

# Every variant the engines wrote, umoci's (layers without end-of-archive blocks) included.
VARIANTS="
$IMAGES/whiteouts/oci-gzip
$IMAGES/whiteouts/oci-umoci
$IMAGES/whiteouts/oci-plain
$IMAGES/whiteouts/oci-zstd
$IMAGES/whiteouts/docker-archive.tar
$IMAGES/whiteouts/oci-archive.tar
$IMAGES/whiteouts-overlay/oci-gzip
$IMAGES/whiteouts-overlay/docker-archive.tar
$IMAGES/multiarch/oci-archive.tar
$DATA/image/oci-gzip
$DATA/image/oci-zstd
$DATA/image/oci-plain
$DATA/image/oci-v2s2
$DATA/image/demo.docker.tar
$DATA/image/demo.oci.tar
$DATA/image/docker25.tar
"

# dive's export, field for field. One known difference is normalized: Go keeps the link
# field of a tar header whatever its type (buildah's overlay whiteouts carry one on plain
# files); bale's reader gives link targets of links only.
normalize() {
	jq -S '(.layer[].fileList[] | select(.typeFlag != 49 and .typeFlag != 50) | .linkName) = ""' "$1"
}

# ---- the inspect lines of expected.txt ----------------------------------------------------

# A line `inspect@TAG KEY ...` applies to the variants with TAG (`umoci` for oci-umoci) and
# there replaces the untagged lines of the same KEY, as `layers@umoci` does for verify.sh.
check_expected() { # FIXTURE VARIANT_PATH [TAG]
	local fixture=$1 img=$2 tag=${3:-} key op value got rest kind ltag overridden=" "
	run "$BALE" inspect --format json --top 100000 "$img"
	cp "$OUT" "$TEST_TMP/expect.json"
	if [ -n "$tag" ]; then
		while read -r kind key rest; do
			[ "$kind" = "inspect@$tag" ] && overridden="$overridden$key "
		done <"${EXPECTED:-$IMAGES}/$fixture/expected.txt"
	fi
	while read -r kind rest; do
		ltag=
		case $kind in
		inspect) ;;
		inspect@*) ltag=${kind#inspect@} ;;
		*) continue ;;
		esac
		[ -z "$ltag" ] || [ "$ltag" = "$tag" ] || continue
		rest=${rest%%#*}
		set -- $rest
		key=$1
		[ -n "$ltag" ] || case $overridden in *" $key "*) continue ;; esac
		if [ $# -ge 3 ]; then op=$2 value=$3; else op="=" value=$2; fi
		case $key in
		layers) got=$(jq '.layers | length' "$TEST_TMP/expect.json") ;;
		wasted-bytes) got=$(jq '.dive.wasted_bytes' "$TEST_TMP/expect.json") ;;
		shipped-not-in-final) got=$(jq '.final.shipped_not_in_final_bytes' "$TEST_TMP/expect.json") ;;
		empty-history-entries) got=$(jq '[.history[] | select(.layer == null)] | length' "$TEST_TMP/expect.json") ;;
		efficiency) got=$(jq '.dive.efficiency' "$TEST_TMP/expect.json") ;;
		ci)
			run "$BALE" inspect --ci "$img"
			if [ "$2" = pass ]; then
				assert_exit "$fixture: --ci passes with dive's default rules" 0
			elif [ "$3" = fail ]; then
				assert_exit "$fixture: --ci fails" 1
				assert_stdout_matches "$fixture: rule $2 fails" "FAIL  $(echo "$2" | sed -E 's/-(.)/\U\1/g') "
			fi
			continue
			;;
		*)
			fail "$fixture: unknown inspect key '$key' in expected.txt"
			continue
			;;
		esac
		case $op in
		"=") [ "$got" = "$value" ] ;;
		">=") [ "$got" -ge "$value" ] ;;
		"<=") [ "$got" -le "$value" ] ;;
		*) false ;;
		esac && pass "$fixture${tag:+ ($tag)}: inspect $key $op $value (got $got)" ||
			fail "$fixture${tag:+ ($tag)}: inspect $key $op $value" "got $got"
	done <"${EXPECTED:-$IMAGES}/$fixture/expected.txt"
}
# dive's export and expected.txt on an image: the oracle's export must be bale's
check_image() { # FIXTURE IMAGE
	local img=$2 name=${2#"$DATA"/}
	python3 "$ORACLE" "$img" >"$TEST_TMP/oracle.json" 2>"$TEST_TMP/oracle.err" ||
		fail "oracle reads $name" "$(cat "$TEST_TMP/oracle.err")"
	run "$BALE" inspect --format dive "$img"
	if cmp -s <(normalize "$TEST_TMP/oracle.json") <(normalize "$OUT"); then
		pass "dive export of $name is the oracle's"
	else
		fail "dive export of $name is the oracle's" \
			"$(diff <(normalize "$TEST_TMP/oracle.json") <(normalize "$OUT") | head -n 20)"
	fi
	case $img in
	*/oci-umoci) check_expected "$1" "$img" umoci ;;
	*) check_expected "$1" "$img" ;;
	esac
}

# The full set (lib.sh): leaky (12 layers on a debootstrap base), clean, scratch-busybox, each
# as skopeo's docker-archive, its zstd OCI layout and umoci's, against the expected.txt of the
# source tree (the built set's copy may be older).
if [ "$FULL_ONLY" = 1 ]; then
	require_full_set
	IMAGES=$FULL
	EXPECTED=$SRC/tests/fixtures/images
	for f in $FULL_FIXTURES; do
		for v in docker-archive.tar oci-zstd oci-umoci; do
			check_image "$f" "$FULL/$f/$v"
		done
	done
	finish
fi

for img in $VARIANTS; do
	name=${img#"$DATA"/}
	python3 "$ORACLE" "$img" >"$TEST_TMP/oracle.json" 2>"$TEST_TMP/oracle.err" ||
		fail "oracle reads $name" "$(cat "$TEST_TMP/oracle.err")"
	run "$BALE" inspect --format dive "$img"
	assert_exit "inspect --format dive $name exits 0" 0
	cp "$OUT" "$TEST_TMP/bale.json"
	if cmp -s "$TEST_TMP/oracle.json" "$TEST_TMP/bale.json"; then
		pass "dive export of $name is byte for byte the oracle's"
	elif cmp -s <(normalize "$TEST_TMP/oracle.json") <(normalize "$TEST_TMP/bale.json"); then
		pass "dive export of $name is the oracle's (non-link linkName fields aside)"
	else
		fail "dive export of $name is the oracle's" \
			"$(diff <(normalize "$TEST_TMP/oracle.json") <(normalize "$TEST_TMP/bale.json") | head -n 20)"
	fi
	# bale's JSON carries the same dive measures
	run "$BALE" inspect --format json --top 1000 "$img"
	assert_exit "inspect --format json $name exits 0" 0
	a=$(jq -c '[.dive.wasted_bytes, .dive.size_bytes, .dive.efficiency, (.wasteful_paths | map([.path, .count, .cumulative_bytes]))]' "$OUT")
	b=$(jq -c '[.image.inefficientBytes, .image.sizeBytes, .image.efficiencyScore, (.image.fileReference | map([.file, .count, .sizeBytes]))]' "$TEST_TMP/oracle.json")
	if [ "$a" = "$b" ]; then
		pass "bale's JSON has the oracle's dive measures for $name"
	else
		fail "bale's JSON has the oracle's dive measures for $name" "bale:   $a" "oracle: $b"
	fi
done

# multi-platform: each platform's own layer
for p in linux/amd64 linux/arm64 linux/arm/v7; do
	run "$BALE" inspect --platform "$p" --format json "$IMAGES/multiarch/oci-index"
	assert_exit "multiarch --platform $p exits 0" 0
	assert_stdout_matches "multiarch --platform $p reports that platform" "\"platform\": \"$p\""
done
run "$BALE" inspect --platform linux/s390x "$IMAGES/multiarch/oci-index"
assert_exit "an absent platform is an error" 3
assert_stderr_matches "the error lists the platforms" 'linux/arm64.*linux/arm/v7|linux/arm/v7.*linux/arm64'
assert_stdout_empty "nothing on stdout for an absent platform"

check_expected whiteouts "$IMAGES/whiteouts/oci-gzip"
check_expected whiteouts "$IMAGES/whiteouts/docker-archive.tar"
check_expected whiteouts-overlay "$IMAGES/whiteouts-overlay/oci-gzip"
check_expected whiteouts "$IMAGES/whiteouts/oci-umoci" umoci

# ---- numbers derived by hand on the whiteouts image ---------------------------------------
# Layer 3 deletes gone.txt (14 B), blob.bin (65536 B) and dir/ (a.txt 2 B... as the fixture
# steps write them); the dive waste is blob.bin 65536 + overwritten.txt (43+10) + chmod.txt
# (24+24) + to-symlink (30+0) + gone.txt (14+0) + old1.txt, old2.txt (4+0 each) = 65697.
W=$IMAGES/whiteouts/oci-plain
run "$BALE" inspect --format json --top 100 "$W"
cp "$OUT" "$TEST_TMP/w.json"
j() { jq -c "$1" "$TEST_TMP/w.json"; }
[ "$(j '.dive.wasted_bytes')" = 65697 ] && pass "whiteouts: dive's wasted bytes are 65697" ||
	fail "whiteouts: dive's wasted bytes are 65697" "got $(j '.dive.wasted_bytes')"
[ "$(j '[.wasteful_paths[] | select(.path == "/data/blob.bin")][0] | [.count, .cumulative_bytes, .minimum_bytes, .not_in_final_bytes]')" = "[2,65536,0,65536]" ] &&
	pass "whiteouts: /data/blob.bin: 2 layers, 65536 + 0 bytes, all of it shipped in vain" ||
	fail "whiteouts: /data/blob.bin counts" "$(j '.wasteful_paths[0]')"
[ "$(j '[.wasteful_paths[] | select(.path == "/data/chmod.txt")][0] | [.cumulative_bytes, .not_in_final_bytes]')" = "[48,24]" ] &&
	pass "whiteouts: a mode-only change ships the file twice (48 B), one copy not in the final fs" ||
	fail "whiteouts: chmod.txt" "$(j '[.wasteful_paths[] | select(.path == "/data/chmod.txt")]')"
[ "$(j '.layers[3] | [.removed.files, .added.files, .changed.files]')" = "[6,1,0]" ] &&
	pass "whiteouts: layer 3 removes 6 files (gone, blob, dir's 2, old1, old2) and adds new.txt" ||
	fail "whiteouts: layer 3 changes" "$(j '.layers[3]')"
[ "$(j '.layers[4] | [.added.files, .changed.files, .removed.files]')" = "[1,4,1]" ] &&
	pass "whiteouts: layer 4 changes 4 paths, adds inside.txt, hides swap-dir/inner.txt" ||
	fail "whiteouts: layer 4 changes" "$(j '.layers[4]')"
[ "$(j '.final.shipped_not_in_final_bytes')" = "$(j '[.layers[].not_in_final_bytes] | add')" ] &&
	pass "whiteouts: the per-layer bytes not in the final fs add up to the total" ||
	fail "whiteouts: not-in-final total" "$(j '.final')"
[ "$(j '.config.env_names')" = '["PATH"]' ] && pass "env: names only" ||
	fail "env: names only" "$(j '.config.env_names')"
if grep -q 'usr/local/sbin' "$TEST_TMP/w.json"; then
	fail "no env value in the JSON" "$(grep -n usr/local/sbin "$TEST_TMP/w.json" | head -n 3)"
else
	pass "no env value in the JSON"
fi

# ---- the terminal report and the tree -----------------------------------------------------
run "$BALE" inspect "$W"
assert_exit "tty report exits 0" 0
assert_stdout_matches "tty: the summary names the platform" '^  platform +linux/amd64$'
assert_stdout_matches "tty: the user" '^  user +1000:1000$'
assert_stdout_matches "tty: the layer table" '^ +3 +[0-9a-f]{12} .*steps\.sh", "delete"\]$'
assert_stdout_matches "tty: empty-layer history entries are shown as such" '^ +- +\(empty\) +USER 1000:1000$'
assert_stdout_matches "tty: dive's efficiency" '^  efficiency +0\.51 %$'
assert_stdout_matches "tty: the top wasteful path" '^ +2 +66 kB +66 kB +/data/blob\.bin$'
if grep -q usr/local/sbin "$OUT"; then fail "no env value in the tty report"; else pass "no env value in the tty report"; fi
run "$BALE" inspect --top 0 "$W"
if grep -q 'paths in several layers' "$OUT"; then fail "--top 0 lists no path"; else pass "--top 0 lists no path"; fi

run "$BALE" inspect --top 0 --tree "$W"
assert_exit "--tree exits 0" 0
assert_stdout_matches "merged tree: swap-dir is a file now" '^-rw-r--r-- .*swap-dir$'
assert_stdout_matches "merged tree: swap-file is a directory" '^drwxr-xr-x .*swap-file$'
assert_stdout_matches "merged tree: symlinks show their target" 'links/?.*escape -> \.\./\.\./\.\./\.\./\.\./\.\./\.\./etc/shadow$|escape -> \.\./\.\./\.\./\.\./\.\./\.\./\.\./etc/shadow$'
if grep -Eq 'blob\.bin|gone\.txt|old1\.txt' "$OUT"; then
	fail "merged tree: deleted files are gone" "$(grep -E 'blob\.bin|gone\.txt|old1' "$OUT")"
else
	pass "merged tree: deleted files are gone"
fi
run "$BALE" inspect "$W" --tree 3
assert_exit "IMAGE --tree 3 exits 0" 0
assert_stdout_matches "layer tree: a whiteout is shown as such" '\.wh\.blob\.bin  \(whiteout: deletes it\)$'
assert_stdout_matches "layer tree: the layer's own file" 'new\.txt$'
run "$BALE" inspect --tree=3 "$IMAGES/whiteouts-overlay/oci-gzip"
assert_stdout_matches "layer tree: an opaque directory is shown as such" 'opq  \(opaque: lower contents hidden\)$'
run "$BALE" inspect --format json --tree=1 "$W"
assert_stdout_matches "JSON tree of a layer flags the escaping symlink" '"link_escapes_root": true'
run "$BALE" inspect --tree 9 "$W"
assert_exit "--tree past the last layer is a usage error" 2
assert_stderr_matches "--tree 9 names the layer count" 'the image has 5 layers'

# ---- CI mode -------------------------------------------------------------------------------
cd "$TEST_TMP" || exit 1
run "$BALE" inspect --ci "$W"
assert_exit "--ci: the default rules fail on the whiteouts image" 1
assert_stdout_matches "--ci: dive's analysis section" '^  efficiency:        0\.51 %$'
assert_stdout_matches "--ci: wasted bytes as dive prints them" '^  wastedBytes:       65697 bytes \(66 kB\)$'
assert_stdout_matches "--ci: inefficient files as dive lists them" '^  2      66 kB         /data/blob\.bin$'
assert_stdout_matches "--ci: lowestEfficiency fails with dive's message" '^  FAIL  lowestEfficiency \(image efficiency is too low \(efficiency=0\.01 < threshold=0\.9\)\)$'
assert_stdout_matches "--ci: highestWastedBytes is off by default" '^  SKIP  highestWastedBytes \(disabled\)$'
assert_stdout_matches "--ci: the summary line" '^FAIL \[fail:2 skip:1\]$'
printf 'rules:\n  lowestEfficiency: 0.001\n  highestWastedBytes: 70KB\n  highestUserWastedPercent: disabled\n' >.dive-ci
run "$BALE" inspect --ci "$W"
assert_exit "--ci: .dive-ci in the current directory is read" 0
assert_stdout_matches "--ci: a passing rule shows its configuration" '^  PASS  highestWastedBytes \(70KB\)$'
assert_stdout_matches "--ci: PASS summary" '^PASS \[pass:2 skip:1\]$'
run "$BALE" inspect --ci --highest-wasted-bytes 1KB "$W"
assert_exit "--ci: the command line wins over .dive-ci" 1
assert_stdout_matches "--ci: highestWastedBytes message" 'too many bytes wasted \(wasted-bytes=65697 > threshold=1000\)'
printf 'lowest-efficiency-threshold: 0.99\n' >other.yaml
run "$BALE" inspect --ci --ci-config other.yaml "$W"
assert_exit "--ci-config: dive 0.13's key at the top level" 1
assert_stdout_matches "--ci-config: the other rules keep their defaults" 'FAIL  highestUserWastedPercent'
run "$BALE" inspect --ci --lowestEfficiency 1.5 "$W"
assert_exit "--ci: a ratio outside 0-1 is a usage error" 2
assert_stderr_matches "--ci: the range error names the rule" 'lowestEfficiency config value is outside allowed range \(0-1\)'
printf 'rules:\n  lowestEfficiency: [1\n' >bad.yaml
run "$BALE" inspect --ci --ci-config bad.yaml "$W"
assert_exit "--ci-config: bad YAML is a usage error" 2
assert_stderr_matches "--ci-config: the error names file and line" 'bad\.yaml:[0-9]+'
rm -f .dive-ci
run "$BALE" inspect --ci --format json "$W"
assert_exit "--ci --format json exits 1 on failure" 1
assert_stdout_matches "--ci --format json: the result is in the JSON" '"pass": false'
run "$BALE" inspect --lowest-efficiency 0.5 "$W"
assert_exit "rule options without --ci are a usage error" 2

# ---- usage and input errors --------------------------------------------------------------
run "$BALE" inspect
assert_exit "no IMAGE is a usage error" 2
run "$BALE" inspect --format yaml "$W"
assert_exit "an unknown format is a usage error" 2
assert_stderr_matches "the format error lists the formats" "unknown format 'yaml' \(tty, json or dive\)"
run "$BALE" inspect "$W" "$W"
assert_exit "two IMAGEs are a usage error" 2
run "$BALE" inspect "$TEST_TMP/nothing-here"
assert_exit "a missing image exits 3" 3
assert_stderr_one_line "a missing image: one line"

# a corrupt layer: the reader's message names the blob and the entry, no output is written
cp -r "$IMAGES/whiteouts/oci-plain" "$TEST_TMP/corrupt"
blob=$(jq -r '.layers[1].digest' "$TEST_TMP/corrupt/blobs/sha256/$(jq -r '.manifests[0].digest' "$TEST_TMP/corrupt/index.json" | cut -d: -f2)" | cut -d: -f2)
chmod u+w "$TEST_TMP/corrupt/blobs/sha256/$blob"
printf 'X' | dd of="$TEST_TMP/corrupt/blobs/sha256/$blob" bs=1 seek=700 conv=notrunc status=none
run "$BALE" inspect -o "$TEST_TMP/report.txt" "$TEST_TMP/corrupt"
assert_exit "a corrupt layer exits 3" 3
assert_stderr_matches "the error names the blob" "sha256:$blob"
assert_stderr_one_line "a corrupt layer: one line"
assert_file_absent "no partial output file" "$TEST_TMP/report.txt"
run "$BALE" inspect -o "$TEST_TMP/report.json" --format json "$W"
assert_exit "-o writes the report" 0
assert_stdout_empty "-o: nothing on stdout"
assert_file_nonempty "-o: the file is there" "$TEST_TMP/report.json"

# ---- the bounds against bombs, from the command line -----------------------------------------
G=$IMAGES/whiteouts/oci-gzip
run "$BALE" inspect --max-layer-size 1K -o "$TEST_TMP/bomb.txt" "$G"
assert_exit "--max-layer-size 1K: layer 0 (86 kB) is refused, exit 3" 3
assert_stderr_matches "--max-layer-size: the message names the layer and the limit" \
	"layer 0 'sha256:[0-9a-f]{64}': uncompressed size is over the limit of 1024 bytes"
assert_stderr_one_line "--max-layer-size: one line"
assert_file_absent "--max-layer-size: no partial output file" "$TEST_TMP/bomb.txt"
run "$BALE" audit --max-entries 3 "$G"
assert_exit "audit --max-entries 3: exit 3" 3
assert_stderr_matches "--max-entries: the message names the limit" "more than 3 entries"
run "$BALE" inspect --max-layer-size 1M --max-entries 100 --max-ratio 0 --format json "$G"
assert_exit "bounds the image fits in: read as usual" 0
for bad in "--max-ratio x" "--max-ratio -1" "--max-layer-size 0" "--max-entries 0" "--max-layer-size 1T"; do
	# shellcheck disable=SC2086
	run "$BALE" inspect $bad "$G"
	assert_exit "inspect $bad: usage error" 2
done

finish
