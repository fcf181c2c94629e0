#!/usr/bin/env bash
# bale audit end to end: the `audit` and `not-audit` lines of the engine-built fixtures'
# expected.txt (tests/data/images; with BALE_FULL_ONLY=1 the full set that
# tests/fixtures/images/build.sh builds, and nothing else: see lib.sh), two images written
# here (one with planted defects in every layer, one clean control), secrets masked in every
# format, the ignore mechanisms, thresholds and the exit codes of docs/cli.md.
. "$(dirname "$0")/lib.sh" "$@"

RUN_TIMEOUT=60
command -v python3 >/dev/null || fail "python3 is needed by this test" "install python3"

# check_expected EXPECTED_TXT VARIANT_PATH TAGS: every audit line holds, no not-audit line does.
check_expected() {
	local expected=$1 img=$2 tag="$3" name
	name=${img#"$DATA"/}
	run "$BALE" audit --format json --no-fail "$img"
	assert_exit "audit $name exits 0 with --no-fail" 0
	if python3 - "$expected" "$OUT" "$tag" >"$TEST_TMP/cmp.txt" 2>&1 <<'PY'; then
import json, sys
expected, found, tags = sys.argv[1], json.load(open(sys.argv[2])), sys.argv[3].split()
bad = []
for raw in open(expected):
    line = raw.split('#', 1)[0].split()
    if not line or line[0].split('@')[0] not in ('audit', 'not-audit', 'clean'):
        continue
    kind, _, ltag = line[0].partition('@')
    if ltag and ltag not in tags:
        continue
    if kind == 'clean':
        order = ['none', 'note', 'info', 'warning', 'error']
        worst = order.index(line[1])
        above = [f for f in found if f['level'] not in order or order.index(f['level']) > worst]
        bad += ['above %s: %s %s %s' % (line[1], f['level'], f['name'], f['path']) for f in above]
    elif kind == 'audit':
        rule, sev, layer, where = line[1], line[2], line[3], ' '.join(line[4:])
        want_layer = None if layer == '-' else int(layer)
        def ok(f):
            if f['name'] != rule or f['level'] != sev or f.get('layer') != want_layer:
                return False
            if where.startswith('history:'):
                return f['path'].startswith('history:')
            return f['path'] == where
        if not any(ok(f) for f in found):
            bad.append('missing: ' + raw.strip())
    else:
        rule, where = line[1], line[2]
        if any(f['name'] == rule and f['path'] == where for f in found):
            bad.append('reported: ' + raw.strip())
print('\n'.join(bad))
sys.exit(1 if bad else 0)
PY
		pass "audit $name: every expected finding, no unwanted one"
	else
		fail "audit $name: every expected finding, no unwanted one" "$(cat "$TEST_TMP/cmp.txt")"
	fi
}

# tag_of VARIANT: the expected.txt tags the variant answers to.
tag_of() {
	case $1 in
	docker-archive.tar) echo docker ;;
	oci-umoci) echo oci umoci ;;
	*) echo oci ;;
	esac
}

check_fixture_dir() { # DIR [EXPECTED_TXT]
	local v
	# oci-index needs --platform and is checked below.
	for v in docker-archive.tar oci-archive.tar oci-gzip oci-plain oci-zstd oci-umoci; do
		if [ -e "$1/$v" ]; then
			check_expected "${2:-$1/expected.txt}" "$1/$v" "$(tag_of "$v")"
		fi
	done
}

# The full set (lib.sh): every variant of leaky, clean and scratch-busybox, against the
# expected.txt of the source tree (the built set's copy may be older).
if [ "$FULL_ONLY" = 1 ]; then
	require_full_set
	for f in $FULL_FIXTURES; do
		check_fixture_dir "$FULL/$f" "$SRC/tests/fixtures/images/$f/expected.txt"
	done
	finish
fi

for f in whiteouts whiteouts-overlay multiarch; do
	check_fixture_dir "$DATA/images/$f"
done

# ---- images written here ---------------------------------------------------------------
mkimage() { # DIR KIND
	python3 - "$1" "$2" <<'PY'
import hashlib, io, json, os, sys, tarfile
out, kind = sys.argv[1], sys.argv[2]
os.makedirs(out + '/blobs/sha256', exist_ok=True)
def blob(data):
    d = hashlib.sha256(data).hexdigest()
    open(f'{out}/blobs/sha256/{d}', 'wb').write(data)
    return 'sha256:' + d, len(data)
def layer(entries):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode='w', format=tarfile.PAX_FORMAT) as t:
        for name, content, mode in entries:
            ti = tarfile.TarInfo(name)
            ti.mode = mode
            if content is None:
                ti.type = tarfile.DIRTYPE
                t.addfile(ti)
            else:
                ti.size = len(content)
                t.addfile(ti, io.BytesIO(content))
    return buf.getvalue()
KEY = b'-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAplantedplantedplanted\n-----END RSA PRIVATE KEY-----\n'
if kind == 'leaky':
    layers = [
        layer([('etc/', None, 0o755),
               ('etc/passwd', b'root:x:0:0:root:/root:/bin/sh\ntoor:x:0:0::/root:/bin/sh\n', 0o644),
               ('etc/shadow', b'root:*:19000::::::\nguest::19000::::::\n', 0o640),
               ('root/.ssh/id_rsa', KEY, 0o600),
               ('app/.env', b'DB_HOST=db\n', 0o644),
               ('home/u/.npmrc', b'//registry.npmjs.org/:_authToken=npm_PLANTEDnpmTOKEN0123456789abcdefghijk\n', 0o600),
               ('root/.docker/config.json', b'{"auths":{"registry.example.com":{"auth":"cGxhbnRlZDpwbGFudGVkLXB3"}}}\n', 0o600),
               ('app/token.txt', b'jwt=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJwbGFudGVkIn0.c2lnbmF0dXJlcGxhbnRlZA\n', 0o644),
               ('app/slack.txt', b'hook xoxb-1234567890-PLANTEDslack\n', 0o644),
               ('app/sa.json', b'{"type": "service_account", "project_id": "p", "private_key_id": "k",\n "private_key": "-----BEGIN PRIVATE KEY-----\\nMIIEvgIBADANplanted\\n-----END PRIVATE KEY-----\\n"}\n', 0o600),
               ('app/stripe.yaml', b'stripe:\n  secret: sk_live_PLANTEDstripe0123456789\n', 0o644),
               ('usr/bin/make', b'\x7fELF', 0o755),
               ('usr/bin/bash', b'\x7fELF', 0o4755)]),
        layer([('root/.ssh/.wh.id_rsa', b'', 0o644),
               ('app/.env', b'DB_HOST=db\n', 0o644)]),
    ]
    cfg = {'Env': ['PATH=/usr/bin', 'API_KEY=PLANTEDapikey0123456789'],
           'ExposedPorts': {'22/tcp': {}}, 'Volumes': {'/proc': {}}}
    history = [{'created_by': '/bin/sh -c #(nop) ADD file:x in /'},
               {'created_by': '/bin/sh -c sudo rm -f /root/.ssh/id_rsa'}]
else:  # clean, and foreign: the clean image with a foreign layer on top
    layers = [layer([('etc/', None, 0o755),
                     ('etc/passwd', b'root:x:0:0:root:/root:/sbin/nologin\napp:x:1000:1000::/app:/sbin/nologin\n', 0o644),
                     ('etc/shadow', b'root:*:19000::::::\napp:!:19000::::::\n', 0o640),
                     ('tmp/', None, 0o1777),
                     ('app/config.yaml', b'password_file: /run/secrets/db\nworkers: 4\n', 0o644),
                     ('root/.docker/config.json', b'{"credsStore": "pass"}\n', 0o600),
                     ('etc/nsswitch.conf', b'passwd:         files\ngroup:          files\n', 0o644),
                     ('app/server', b'\x7fELF\x00\x00', 0o755)])]
    cfg = {'User': '1000:1000', 'Env': ['PATH=/usr/bin'],
           'Healthcheck': {'Test': ['CMD', '/app/server', '--check']}}
    history = [{'created_by': '/bin/sh -c #(nop) COPY dir:x in /'}]
descs = []
diff_ids = []
for l in layers:
    d, n = blob(l)
    descs.append({'mediaType': 'application/vnd.oci.image.layer.v1.tar', 'digest': d, 'size': n})
    diff_ids.append(d)
if kind == 'foreign':
    # a non-distributable layer whose blob is not in the layout
    gone = hashlib.sha256(b'not here').hexdigest()
    descs.append({'mediaType': 'application/vnd.oci.image.layer.nondistributable.v1.tar',
                  'digest': 'sha256:' + gone, 'size': 8, 'urls': ['https://example.com/layer']})
    diff_ids.append('sha256:' + gone)
config = {'architecture': 'amd64', 'os': 'linux', 'config': cfg,
          'rootfs': {'type': 'layers', 'diff_ids': diff_ids}, 'history': history}
cd, cn = blob(json.dumps(config).encode())
manifest = {'schemaVersion': 2, 'mediaType': 'application/vnd.oci.image.manifest.v1+json',
            'config': {'mediaType': 'application/vnd.oci.image.config.v1+json', 'digest': cd, 'size': cn},
            'layers': descs}
md, mn = blob(json.dumps(manifest).encode())
json.dump({'schemaVersion': 2, 'manifests': [{'mediaType': 'application/vnd.oci.image.manifest.v1+json',
           'digest': md, 'size': mn, 'platform': {'architecture': 'amd64', 'os': 'linux'}}]},
          open(out + '/index.json', 'w'))
json.dump({'imageLayoutVersion': '1.0.0'}, open(out + '/oci-layout', 'w'))
PY
}

LEAKY=$TEST_TMP/leaky
CLEAN=$TEST_TMP/clean
mkimage "$LEAKY" leaky || fail "python3 writes the leaky image" ""
mkimage "$CLEAN" clean || fail "python3 writes the clean image" ""

run "$BALE" audit --format json "$LEAKY"
assert_exit "audit of the planted image exits 1" 1
cp "$OUT" "$TEST_TMP/leaky.json"
# RULE LAYER PATH: each planted defect, where it is
while read -r rule layer path; do
	if python3 -c '
import json, sys
f = json.load(open(sys.argv[1]))
layer = None if sys.argv[3] == "-" else int(sys.argv[3])
sys.exit(0 if any(x["name"] == sys.argv[2] and x.get("layer") == layer and x["path"] == sys.argv[4] for x in f) else 1)
' "$TEST_TMP/leaky.json" "$rule" "$layer" "$path"; then
		pass "planted $rule at layer $layer $path is found"
	else
		fail "planted $rule at layer $layer $path is found" "$(head -c 3000 "$TEST_TMP/leaky.json")"
	fi
done <<'EOF2'
user-root - config:User
healthcheck-missing - config:Healthcheck
exposed-ssh-port - config:ExposedPorts.22/tcp
sensitive-volume - config:Volumes./proc
secret-env - config:Env.API_KEY
sudo 1 history:1
private-key 0 /root/.ssh/id_rsa
secret-file 0 /app/.env
secret-file 1 /app/.env
npm-token 0 /home/u/.npmrc
registry-auth 0 /root/.docker/config.json
jwt 0 /app/token.txt
slack-token 0 /app/slack.txt
google-service-account 0 /app/sa.json
stripe-key 0 /app/stripe.yaml
empty-password 0 /etc/shadow
duplicate-uid 0 /etc/passwd
build-toolchain 0 /usr/bin/make
shell-present 0 /usr/bin/bash
setuid-file 0 /usr/bin/bash
EOF2
if grep -q 'deleted by layer 1, still shipped in layer 0' "$TEST_TMP/leaky.json"; then
	pass "the key deleted by layer 1 is reported with the layer that ships it"
else
	fail "the key deleted by layer 1 is reported with the layer that ships it" "$(grep id_rsa "$TEST_TMP/leaky.json")"
fi

# secrets are masked in every format
for fmt in tty json sarif checkstyle gitlab github; do
	run "$BALE" audit --format "$fmt" --no-color "$LEAKY"
	assert_exit "audit --format $fmt exits 1" 1
	if grep -Eq 'plantedplanted|PLANTEDnpmTOKEN|cGxhbnRlZDpwbGFudGVkLXB3|c2lnbmF0dXJlcGxhbnRlZA|PLANTEDslack|PLANTEDapikey|PLANTEDstripe|MIIEvgIBADANplanted' "$OUT"; then
		fail "no secret in the $fmt output" "$(grep -E 'planted|PLANTED|cGxh' "$OUT" | head -n 5)"
	else
		pass "no secret in the $fmt output"
	fi
done

# the clean control stays clean, at every severity
run "$BALE" audit --format json -t style "$CLEAN"
assert_exit "audit of the clean image exits 0" 0
if [ "$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))))' "$OUT")" = 0 ]; then
	pass "the clean image has no finding"
else
	fail "the clean image has no finding" "$(cat "$OUT")"
fi

# a foreign layer that is not in the image: not audited, and said so
mkimage "$TEST_TMP/foreign" foreign || fail "python3 writes the foreign-layer image" ""
run "$BALE" audit -f json "$TEST_TMP/foreign"
assert_exit "a layer that was not audited fails the audit" 1
if python3 -c '
import json, sys
f = json.load(open(sys.argv[1]))
sys.exit(0 if [x["name"] for x in f] == ["layer-not-audited"] and f[0]["layer"] == 1 else 1)
' "$OUT"; then
	pass "the foreign layer is reported as not audited, and nothing else"
else
	fail "the foreign layer is reported as not audited, and nothing else" "$(_seen)"
fi
digest=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[0]["path"])' "$OUT" 2>/dev/null)
run "$BALE" audit --ignore "AU4015=$digest" "$TEST_TMP/foreign"
assert_exit "--ignore AU4015=DIGEST accepts that layer" 0

# ---- options ---------------------------------------------------------------------------
count_rule() { # RULE: findings of RULE in $OUT (json)
	python3 -c 'import json,sys; print(sum(1 for x in json.load(open(sys.argv[1])) if x["name"] == sys.argv[2]))' "$OUT" "$1"
}

run "$BALE" audit -f json --ignore private-key --ignore AU4001=/app/.env "$LEAKY"
if [ "$(count_rule private-key)" = 0 ] && [ "$(count_rule secret-file)" = 0 ] &&
	[ "$(count_rule npm-token)" = 1 ]; then
	pass "--ignore CODE and --ignore CODE=PATH drop those findings only"
else
	fail "--ignore CODE and --ignore CODE=PATH drop those findings only" "$(_seen)"
fi

printf '# accepted\nAU1002\nsetuid-file /usr/bin\n\nshell-present /usr/bin/bash # base image\n' >"$TEST_TMP/ignore"
run "$BALE" audit -f json --ignore-file "$TEST_TMP/ignore" "$LEAKY"
if [ "$(count_rule healthcheck-missing)" = 0 ] && [ "$(count_rule setuid-file)" = 0 ] &&
	[ "$(count_rule shell-present)" = 0 ] && [ "$(count_rule user-root)" = 1 ]; then
	pass "--ignore-file drops the listed codes and paths"
else
	fail "--ignore-file drops the listed codes and paths" "$(_seen)"
fi

printf 'AU1002\nnot-a-rule /x\n' >"$TEST_TMP/ignore-typo"
run "$BALE" audit --ignore-file "$TEST_TMP/ignore-typo" "$LEAKY"
assert_exit "an unknown rule in the ignore file is a usage error" 2
assert_stderr_matches "the error names the file and line" "ignore-typo:2"

run "$BALE" audit --ignore AU9999 "$LEAKY"
assert_exit "an unknown --ignore code is a usage error" 2

# thresholds: the clean image's... and the planted one with everything but infos ignored
run "$BALE" audit -t error --ignore-file /dev/null "$CLEAN"
assert_exit "-t error on the clean image exits 0" 0
run "$BALE" audit -t none "$LEAKY"
assert_exit "-t none exits 0" 0
run "$BALE" audit --no-fail "$LEAKY"
assert_exit "--no-fail exits 0" 0
ONLY_INFO="--ignore user-root --ignore exposed-ssh-port --ignore sensitive-volume --ignore secret-env
 --ignore sudo --ignore private-key --ignore secret-file --ignore npm-token --ignore registry-auth
 --ignore jwt --ignore slack-token --ignore empty-password --ignore duplicate-uid
 --ignore build-toolchain --ignore setuid-file --ignore password-in-file
 --ignore google-service-account --ignore stripe-key"
# shellcheck disable=SC2086
run "$BALE" audit -t warning $ONLY_INFO "$LEAKY"
assert_exit "-t warning with only info findings left exits 0" 0
assert_stdout_matches "the info findings are still printed" "healthcheck-missing"
# shellcheck disable=SC2086
run "$BALE" audit -t warning --warning healthcheck-missing $ONLY_INFO "$LEAKY"
assert_exit "--warning CODE raises a finding over the threshold" 1

# outputs: -f/-o pairs, written whole
run "$BALE" audit -f json -o "$TEST_TMP/a.json" -f sarif -o "$TEST_TMP/a.sarif" --no-fail "$LEAKY"
assert_exit "two -f/-o pairs exit 0 with --no-fail" 0
assert_file_nonempty "the json output is written" "$TEST_TMP/a.json"
assert_file_nonempty "the sarif output is written" "$TEST_TMP/a.sarif"

# an unreadable image: exit 3, one clear line, no output file
run "$BALE" audit -f json -o "$TEST_TMP/none.json" "$TEST_TMP/no-such-image"
assert_exit "a missing image exits 3" 3
assert_stderr_one_line "a missing image gives one line"
assert_file_absent "no report for a missing image" "$TEST_TMP/none.json"
cp -r "$LEAKY" "$TEST_TMP/corrupt"
for b in "$TEST_TMP"/corrupt/blobs/sha256/*; do
	if [ "$(head -c 5 "$b")" != '{"sch' ] && [ "$(head -c 5 "$b")" != '{"arc' ]; then
		printf 'X' | dd of="$b" bs=1 seek=600 conv=notrunc 2>/dev/null
		break
	fi
done
run "$BALE" audit -f json -o "$TEST_TMP/corrupt.json" "$TEST_TMP/corrupt"
assert_exit "a layer with a wrong digest exits 3" 3
assert_stderr_matches "the error names the blob" "sha256:"
assert_file_absent "no report for a corrupt image" "$TEST_TMP/corrupt.json"

run "$BALE" audit --list-rules
assert_exit "--list-rules exits 0" 0
assert_stdout_matches "--list-rules lists the rules" "^AU4002 +error +private-key"
missing=
unlisted=
while read -r id _; do
	[ -f "$SRC/docs/rules/$id.md" ] || missing="$missing $id"
	grep -q "^| \[$id\](rules/$id.md)" "$SRC/docs/audit.md" || unlisted="$unlisted $id"
done <"$OUT"
if [ -z "$missing" ]; then pass "every audit rule has its page"; else fail "audit rules without a page:$missing"; fi
if [ -z "$unlisted" ]; then pass "docs/audit.md lists every audit rule"; else fail "docs/audit.md does not list:$unlisted"; fi
run "$BALE" audit
assert_exit "no IMAGE is a usage error" 2

finish
