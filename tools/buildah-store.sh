# shellcheck shell=bash
# tools/buildah-store.sh: what the scripts that build images with a real engine share
# (tests/fixtures/images/build.sh, examples/image/build.sh). Sourced, never run. The sourcing
# script defines die MESSAGE and sets nothing else before calling:
#
#   require_tools CMD:PACKAGE...   stop naming the missing commands and their Debian packages;
#                                  with BUSYBOX set, that file must be a static busybox too
#   remove_tree DIR                unmount what is mounted below DIR, then remove it
#   store_setup DIR                a private containers store (vfs driver) and configuration
#                                  below DIR; defines bah, vfs_ref, POLICY, LOG_DIR (DIR/logs)
#   logged NAME CMD...             run CMD with its output in LOG_DIR/NAME.log; on failure
#                                  show the log's end and stop
#   fake_chars TEXT LENGTH         LENGTH deterministic base64-alphabet characters from TEXT
#
# store_setup bind-mounts a directory of its own on /var/lib/containers, where containers/image
# keeps its blob-info cache for root: call it in a private mount namespace (unshare --mount
# --propagation private), so the host's directory is not touched and any mount a failed step
# leaves behind disappears with the namespace.

require_tools() {
	local t missing=()
	for t in "$@"; do
		command -v "${t%%:*}" >/dev/null 2>&1 || missing+=("${t%%:*} (Debian package ${t#*:})")
	done
	if [[ -n ${BUSYBOX:-} ]]; then
		if [[ ! -x $BUSYBOX ]]; then
			missing+=("$BUSYBOX (Debian package busybox-static)")
		elif [[ $(LC_ALL=C ldd "$BUSYBOX" 2>&1 || true) != *'not a dynamic executable'* ]]; then
			missing+=("a static $BUSYBOX (Debian package busybox-static, not busybox)")
		fi
	fi
	if ((${#missing[@]})); then
		printf '%s: missing tools:\n' "${0##*/}" >&2
		printf '  %s\n' "${missing[@]}" >&2
		printf 'install them with apt-get install -y --no-install-recommends (see tools/debian-packages)\n' >&2
		exit 1
	fi
}

remove_tree() {
	local d=$1 m
	[[ -e $d ]] || return 0
	[[ -d $d ]] && d=$(cd "$d" && pwd)
	while read -r m; do
		umount -l "$m" 2>/dev/null || true
	done < <(awk -v d="$d" '{ gsub(/\\040/, " ", $5); if ($5 == d || index($5, d "/") == 1) print $5 }' /proc/self/mountinfo | sort -r)
	rm -rf --one-file-system -- "$d"
}

# DIR/storage/vfs{,-run} (the store), DIR/containers (policy, registries, storage and engine
# configuration), DIR/tmp (TMPDIR and skopeo's blob staging), DIR/logs,
# DIR/state/var-lib-containers (mounted on /var/lib/containers).
store_setup() {
	local dir=$1
	mkdir -p "$dir"/{tmp,logs,containers,state/var-lib-containers}
	mkdir -p /var/lib/containers
	mount --bind "$dir/state/var-lib-containers" /var/lib/containers
	LOG_DIR=$dir/logs
	export TMPDIR=$dir/tmp
	export BUILDAH_ISOLATION=chroot
	export BUILDAH_LAYERS=true
	POLICY=$dir/containers/policy.json
	printf '{ "default": [ { "type": "insecureAcceptAnything" } ] }\n' >"$POLICY"
	printf 'unqualified-search-registries = []\nshort-name-mode = "disabled"\n' >"$dir/containers/registries.conf"
	export CONTAINERS_REGISTRIES_CONF=$dir/containers/registries.conf
	VFS_ROOT=$dir/storage/vfs
	VFS_RUN=$dir/storage/vfs-run
	cat >"$dir/containers/storage.conf" <<EOF
[storage]
driver = "vfs"
graphroot = "$VFS_ROOT"
runroot = "$VFS_RUN"
EOF
	export CONTAINERS_STORAGE_CONF=$dir/containers/storage.conf
	# image copies stage blobs in image_copy_tmp_dir (/var/tmp by default): keep them here too
	printf '[engine]\nimage_copy_tmp_dir = "%s"\n' "$dir/tmp" >"$dir/containers/containers.conf"
	export CONTAINERS_CONF=$dir/containers/containers.conf
}

bah() { buildah --root "$VFS_ROOT" --runroot "$VFS_RUN" --storage-driver vfs "$@"; }
vfs_ref() { printf 'containers-storage:[vfs@%s+%s]%s' "$VFS_ROOT" "$VFS_RUN" "$1"; }

logged() {
	local name=$1
	shift
	if ! "$@" >>"$LOG_DIR/$name.log" 2>&1; then
		printf '%s: step failed: %s\n  (log: %s)\n' "${0##*/}" "$*" "$LOG_DIR/$name.log" >&2
		tail -n 25 "$LOG_DIR/$name.log" | sed 's/^/  | /' >&2
		exit 1
	fi
}

# Fake secrets are assembled at build time, never stored whole in the repository: they only
# need the shape scanners look for.
fake_chars() {
	printf '%s' "$1" | openssl dgst -sha512 -binary | openssl base64 -A | tr -d '+/=' | cut -c1-"$2"
}
