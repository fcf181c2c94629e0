#!/usr/bin/env bash
# Build the demo images of examples/image with a real engine: buildah builds leaky/ and fixed/
# (FROM scratch, --format docker, --isolation=chroot, a private vfs store), skopeo exports each
# as a docker archive beside this script (leaky.tar, fixed.tar: committed, read by `make demo`
# and tests/cli/test_demo_images.sh), and sources.sha256 records what they were built from.
#
#   examples/image/build.sh [--check] [OUTDIR]
#
# OUTDIR defaults to this directory. --check builds into a temporary directory and compares
# the result with the archives here: the layers must be the same bytes (every time and mtime
# is --timestamp 1700000000, the fake secrets are derived from fixed labels), the configs the
# same but for what buildah 1.28 makes random in the docker format and has no option for (the
# build container's id and hostname, the parent image ids in "parent" and the history
# comments), and sources.sha256 the same.
# Run as root; needs buildah, skopeo, openssl and a static busybox (tools/debian-packages).
# Everything else (the store, the build contexts, logs) lives in a temporary directory that is
# removed at the end, in a private mount namespace (tools/buildah-store.sh).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SRC_ROOT=$(cd "$HERE/../.." && pwd)
# require_tools, remove_tree, store_setup, bah, vfs_ref, logged, fake_chars
. "$SRC_ROOT/tools/buildah-store.sh"
TS=1700000000
IMAGES=(leaky fixed)

die() {
	printf 'build.sh: error: %s\n' "$*" >&2
	exit 1
}

CHECK=0
OUT=
while (($#)); do
	case "$1" in
	--check) CHECK=1; shift ;;
	-h | --help) sed -n '2,17p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
	-*) die "unknown option '$1' (see --help)" ;;
	*) [[ -z $OUT ]] || die "more than one output directory given"; OUT=$1; shift ;;
	esac
done

[[ $(id -u) -eq 0 ]] || die "run as root: buildah --isolation=chroot and the containers store need it"
BUSYBOX=/bin/busybox
require_tools buildah:buildah skopeo:skopeo openssl:openssl unshare:util-linux mount:mount \
	sha256sum:coreutils jq:jq cmp:diffutils

# The sources the archives are built from, as `sha256sum` lists them (sources.sha256).
sources_sha256() {
	(cd "$HERE" && find build.sh steps.sh leaky fixed -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum)
}

# What --check compares of a docker archive: the layers' names (their digests) and the config
# without the fields that buildah fills with random ids.
comparable() {
	local config
	config=$(tar -xOf "$1" manifest.json | jq -r '.[0].Config')
	tar -xOf "$1" manifest.json | jq -r '.[0].Layers[]'
	tar -xOf "$1" "$config" | jq -S 'del(.container, .parent, .config.Hostname,
		.container_config.Hostname) | .history |= map(del(.comment))'
}

if [[ ${BALE_DEMO_IN_NS:-} != 1 ]]; then
	if ((CHECK)); then
		tmp=$(mktemp -d "${TMPDIR:-/tmp}/bale-demo-check.XXXXXX")
		trap 'rm -rf --one-file-system "$tmp"' EXIT
		BALE_DEMO_IN_NS=1 unshare --mount --propagation private -- bash "${BASH_SOURCE[0]}" "$tmp"
		rc=0
		for f in "${IMAGES[@]}"; do
			if cmp -s <(comparable "$tmp/$f.tar") <(comparable "$HERE/$f.tar"); then
				echo "build.sh --check: $f.tar: the same layers and config as a fresh build"
			else
				echo "build.sh --check: $f.tar differs from a fresh build:" >&2
				diff <(comparable "$HERE/$f.tar") <(comparable "$tmp/$f.tar") | head -n 20 >&2
				rc=1
			fi
		done
		if cmp -s "$tmp/sources.sha256" "$HERE/sources.sha256"; then
			echo "build.sh --check: sources.sha256: the same"
		else
			echo "build.sh --check: sources.sha256 differs from the sources" >&2
			rc=1
		fi
		exit "$rc"
	fi
	OUT=${OUT:-$HERE}
	mkdir -p "$OUT"
	BALE_DEMO_IN_NS=1 exec unshare --mount --propagation private -- bash "${BASH_SOURCE[0]}" "$(cd "$OUT" && pwd)"
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/bale-demo-build.XXXXXX")
trap 'remove_tree "$WORK"' EXIT
store_setup "$WORK"
mkdir -p "$WORK/out"

# A context per image: its directory, steps.sh and the busybox that runs it (bind-mounted by
# the RUN steps, never copied into a layer).
stage() {
	local ctx=$WORK/ctx/$1
	mkdir -p "$ctx"
	cp -a "$HERE/$1/." "$ctx/"
	cp "$HERE/steps.sh" "$ctx/"
	cp "$BUSYBOX" "$ctx/busybox"
	printf '%s' "$ctx"
}

# The fake secrets: the shapes scanners look for, BALEDEMO in each, the rest derived from a
# hash of a fixed label, so that a rebuild is byte for byte the same.
NPM_TOKEN=npm_BALEDEMO$(fake_chars 'bale demo npm token' 28)
fake_key() {
	local i
	printf -- '-----BEGIN OPENSSH PRIVATE KEY-----\n'
	printf 'BALEDEMOnotArealKEY%s\n' "$(fake_chars 'bale demo deploy key 0' 51)"
	for i in 1 2 3 4; do
		fake_chars "bale demo deploy key $i" 70
		printf '\n'
	done
	printf -- '-----END OPENSSH PRIVATE KEY-----\n'
}

bud() { # bud NAME CTX [buildah bud options]: build CTX, export it as WORK/out/NAME.tar
	local name=$1 ctx=$2
	shift 2
	logged "$name" bah bud --isolation chroot --layers --pull=never --timestamp "$TS" \
		--signature-policy "$POLICY" --format docker -f "$ctx/Containerfile" \
		-t "localhost/bale-demo-$name:latest" "$@" "$ctx"
	logged "$name" skopeo --policy "$POLICY" copy --quiet "$(vfs_ref "localhost/bale-demo-$name:latest")" \
		"docker-archive:$WORK/out/$name.tar:bale-demo/$name:latest"
}

# leaky: the token as a build argument, the key in the context
ctx=$(stage leaky)
fake_key >"$ctx/id_ed25519"
chmod 0600 "$ctx/id_ed25519"
bud leaky "$ctx" --build-arg "NPM_TOKEN=$NPM_TOKEN"

# fixed: the same token, as a secret mount
ctx=$(stage fixed)
printf '%s\n' "$NPM_TOKEN" >"$WORK/npm_token"
bud fixed "$ctx" --secret "id=npm_token,src=$WORK/npm_token"

for f in "${IMAGES[@]}"; do
	cp "$WORK/out/$f.tar" "$OUT/.$f.tar.part"
	mv "$OUT/.$f.tar.part" "$OUT/$f.tar"
	printf '%-10s %8s bytes\n' "$f.tar" "$(stat -c %s "$OUT/$f.tar")"
done
sources_sha256 >"$OUT/sources.sha256"
