# Run by the RUN steps of leaky/Containerfile and fixed/Containerfile with the static busybox
# that build.sh puts in the build context (`/ctx/busybox sh /ctx/steps.sh STEP`); busybox runs
# its own applets, no PATH needed. No real package manager runs here: what a step writes stands
# in for what one would leave, and every file is small, so the images stay a few kilobytes.
set -eu

# The application, the same in both images.
app() {
	mkdir -p /app
	cat >/app/package.json <<'JSON'
{ "name": "bale-demo", "version": "1.0.0", "private": true,
  "dependencies": { "left-pad": "1.3.0" } }
JSON
	cat >/app/server.js <<'JS'
// the demo service: answers every request with its name
require('http').createServer((req, res) => res.end('bale demo\n')).listen(8080);
JS
	cat >/app/healthcheck.js <<'JS'
require('http').get('http://127.0.0.1:8080/', (res) => process.exit(res.statusCode === 200 ? 0 : 1))
	.on('error', () => process.exit(1));
JS
}

# What `npm ci` would install.
node_modules() {
	mkdir -p /app/node_modules/left-pad
	printf '{ "name": "left-pad", "version": "1.3.0", "main": "index.js" }\n' \
		>/app/node_modules/left-pad/package.json
	printf 'module.exports = (s, n, c) => String(s).padStart(n, c === undefined ? " " : c);\n' \
		>/app/node_modules/left-pad/index.js
}

case "$1" in
leaky-base)
	app
	mkdir -p /etc
	printf 'root:x:0:0:root:/root:/bin/sh\n' >/etc/passwd
	printf 'root:x:0:\n' >/etc/group
	;;
leaky-deps)
	# the token comes from ARG NPM_TOKEN (the engine puts build arguments in the environment)
	[ -n "${NPM_TOKEN:-}" ] || {
		echo "steps.sh: NPM_TOKEN is not set (build with --build-arg NPM_TOKEN=...)" >&2
		exit 1
	}
	# npm reads the token from ~/.npmrc; the file is gone before the step ends, so no layer
	# holds it: the history does
	mkdir -p /root
	printf '//registry.example.invalid/:_authToken=%s\n' "$NPM_TOKEN" >/root/.npmrc
	node_modules
	rm /root/.npmrc
	# planted: the index `apk add nodejs npm` keeps without --no-cache
	mkdir -p /var/cache/apk
	printf 'BALEDEMO: planted, stands in for an APKINDEX archive\n' >/var/cache/apk/APKINDEX.4f8a2c1d.tar.gz
	# planted: npm's content cache, left because nothing ran `npm cache clean --force`
	mkdir -p /root/.npm/_cacache/index-v5/5c/1a /root/.npm/_cacache/content-v2/sha512/9d/2e
	printf 'BALEDEMO: planted, stands in for an npm cache index entry (left-pad@1.3.0)\n' \
		>/root/.npm/_cacache/index-v5/5c/1a/b7e1c0d4
	cp /app/node_modules/left-pad/index.js /root/.npm/_cacache/content-v2/sha512/9d/2e/f0a7b3c5
	;;
leaky-cleanup)
	rm /root/.ssh/id_ed25519
	sed -i 's/^log_level = debug$/log_level = info/' /etc/app/app.conf
	;;
fixed-base)
	app
	mkdir -p /etc
	printf 'root:x:0:0:root:/root:/sbin/nologin\napp:x:10001:10001::/nonexistent:/sbin/nologin\n' >/etc/passwd
	printf 'root:x:0:\napp:x:10001:\n' >/etc/group
	;;
fixed-deps)
	# the token is a secret mount: readable by this step only, recorded nowhere
	[ -s /run/secrets/npm_token ] || {
		echo "steps.sh: the npm_token secret is not mounted (build with --secret id=npm_token,src=FILE)" >&2
		exit 1
	}
	node_modules
	;;
*)
	echo "steps.sh: unknown step '$1'" >&2
	exit 2
	;;
esac
