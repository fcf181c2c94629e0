/*
 * A generator of realistic Dockerfiles (see corpus.h). Each file is drawn from a splitmix64
 * stream seeded by the caller: stages get a role (builder or runtime), each role draws its
 * instructions from the patterns that real Dockerfiles of that kind use.
 */
#include "corpus.h"

#include "util/util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MAX_STAGES 5

typedef struct gen {
	bale_buf *out;
	uint64_t state;
	char esc;     /* the escape character: '\\' or '`' */
	int lower;    /* this file writes its keywords in lower case */
	size_t stage; /* the stage being written */
	char names[MAX_STAGES][32];
	size_t heredocs; /* heredocs written so far: gives unique delimiters */
	int base_arg;	 /* a global ARG BASE_IMAGE exists, so FROM ${BASE_IMAGE} works */
	int labs;	 /* the syntax directive names the labs channel (COPY --parents) */
} gen;

static uint64_t next(gen *g)
{
	uint64_t z = (g->state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static size_t pick(gen *g, size_t n)
{
	return (size_t)(next(g) % n);
}

static size_t range(gen *g, size_t lo, size_t hi)
{
	return lo + pick(g, hi - lo + 1);
}

static int chance(gen *g, unsigned percent)
{
	return next(g) % 100 < percent;
}

#define PICK(g, list) ((list)[pick((g), BALE_ARRAY_SIZE(list))])

static void addf(gen *g, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void addf(gen *g, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	bale_buf_vaddf(g->out, fmt, ap);
	va_end(ap);
}

static void adds(gen *g, const char *s)
{
	bale_buf_adds(g->out, s);
}

/* An instruction keyword, in the case this file uses. */
static void keyword(gen *g, const char *kw)
{
	if (g->lower) {
		for (const char *p = kw; *p; p++)
			bale_buf_addch(g->out, *p >= 'A' && *p <= 'Z' ? *p + ('a' - 'A') : *p);
	} else {
		adds(g, kw);
	}
	bale_buf_addch(g->out, ' ');
}

/* Ends a physical line inside a continued instruction and indents the next one. */
static void cont(gen *g, const char *indent)
{
	addf(g, " %c\n%s", g->esc, indent);
}

static const char *const comments[] = {
    "Keep this layer small: clean up in the same RUN.",
    "Pin versions so rebuilds are reproducible.",
    "Dependencies first, so code changes reuse the cache.",
    "Build as an unprivileged user.",
    "See https://docs.docker.com/build/building/best-practices/",
    "The health endpoint is served by the app itself.",
    "TODO(platform): move to the shared base image once it is published.",
    "Install only what the runtime needs.",
    "Certificates are needed for outgoing TLS.",
    "Do not run as root in production.",
    "This stage is only used in CI.",
    "Generated assets are copied from the build stage.",
};

static const char *const builder_images[] = {
    "golang:1.22-bookworm",
    "golang:1.21-alpine3.19",
    "node:20-bookworm-slim",
    "node:18-alpine",
    "python:3.12-slim-bookworm",
    "python:3.11-bookworm",
    "rust:1.77-slim-bookworm",
    "maven:3.9-eclipse-temurin-21",
    "gradle:8.7-jdk21",
    "gcc:13",
    "debian:bookworm",
    "ubuntu:22.04",
    "mcr.microsoft.com/dotnet/sdk:8.0",
    "ghcr.io/example/build-base:2024.04@sha256:"
    "3f1c6b2a9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a",
};

static const char *const runtime_images[] = {
    "debian:bookworm-slim",
    "ubuntu:24.04",
    "alpine:3.19",
    "gcr.io/distroless/static-debian12:nonroot",
    "gcr.io/distroless/base-debian12",
    "gcr.io/distroless/python3-debian12",
    "gcr.io/distroless/java21-debian12",
    "nginx:1.25-alpine",
    "eclipse-temurin:21-jre-jammy",
    "python:3.12-slim",
    "node:20-alpine",
    "scratch",
    "registry.example.com/platform/runtime:1.4.2",
    "${BASE_IMAGE}",
};

static const char *const apt_packages[] = {
    "ca-certificates",
    "curl",
    "git",
    "build-essential",
    "pkg-config",
    "libssl-dev",
    "zlib1g-dev",
    "libffi-dev",
    "libpq-dev",
    "gnupg",
    "unzip",
    "xz-utils",
    "wget",
    "tzdata",
    "locales",
    "openssh-client",
    "jq",
    "make",
    "cmake",
    "ninja-build",
    "python3-dev",
    "libxml2-dev",
    "libxslt1-dev",
    "libjpeg62-turbo-dev",
    "libpng-dev",
    "libsqlite3-dev",
    "libcurl4-openssl-dev",
    "tini",
    "dumb-init",
    "procps",
    "netcat-openbsd",
    "iproute2",
    "less",
    "gettext-base",
    "file",
    "patch",
};

static const char *const apk_packages[] = {
    "ca-certificates", "curl",		"git",	   "build-base", "openssl-dev",
    "musl-dev",	       "linux-headers", "tzdata",  "bash",	 "libffi-dev",
    "postgresql-dev",  "tini",		"su-exec", "jq",	 "zstd",
};

static const char *const build_commands[] = {
    "./configure --prefix=/usr/local --enable-shared --disable-static",
    "make -j\"$(nproc)\"",
    "make install",
    "go build -trimpath -ldflags=\"-s -w -X main.version=${VERSION}\" -o /out/app ./cmd/app",
    "go test ./...",
    "npm ci --omit=dev",
    "npm run build",
    "npm cache clean --force",
    "pip install --no-cache-dir -r requirements.txt",
    "python -m compileall -q /app",
    "cargo build --release --locked",
    "strip --strip-unneeded target/release/app",
    "mvn -B -q -DskipTests package",
    "./gradlew --no-daemon bootJar",
    "mkdir -p /app/data /app/logs",
    "chown -R 10001:10001 /app",
    "chmod 0755 /usr/local/bin/entrypoint.sh",
    "ln -sf /dev/stdout /var/log/app/access.log",
    "sed -i 's/^#\\s*\\(en_US.UTF-8\\)/\\1/' /etc/locale.gen",
    "locale-gen",
    "useradd --system --uid 10001 --create-home --shell /usr/sbin/nologin app",
    "echo \"${VERSION}\" > /etc/app-version",
    "find /usr/local -name '*.pyc' -delete",
    "rm -rf /tmp/* /var/tmp/*",
    "tar -xzf /tmp/src.tar.gz -C /usr/src --strip-components=1",
    "cd /usr/src/app",
    "test -x /usr/local/bin/app",
    "git config --global advice.detachedHead false",
    "update-ca-certificates",
    "curl -fsSLo /tmp/src.tar.gz \"https://example.com/releases/app-${VERSION}.tar.gz\"",
    "echo \"${SHA256}  /tmp/src.tar.gz\" | sha256sum -c -",
    "groupadd --system --gid 10001 app",
    "export PATH=\"/opt/venv/bin:$PATH\"",
    "[ -f /app/package.json ] || exit 1",
    "printf '%s\\n' \"listen ${PORT:-8080}\" >> /etc/app.conf",
};

static const char *const env_pairs[] = {
    "APP_HOME=/app",
    "APP_ENV=production",
    "LANG=C.UTF-8",
    "LC_ALL=en_US.UTF-8",
    "TZ=Etc/UTC",
    "NODE_ENV=production",
    "PYTHONDONTWRITEBYTECODE=1",
    "PYTHONUNBUFFERED=1",
    "PIP_NO_CACHE_DIR=off",
    "GOFLAGS=-mod=readonly",
    "CGO_ENABLED=0",
    "JAVA_OPTS=\"-XX:MaxRAMPercentage=75 -XX:+UseG1GC\"",
    "RUST_LOG=info",
    "PORT=${PORT:-8080}",
    "PATH=\"${APP_HOME}/bin:$PATH\"",
    "GREETING='hello world'",
    "DESCRIPTION=two\\ words",
};

static const char *const arg_names[] = {
    "VERSION",	    "BUILD_DATE",     "VCS_REF", "TARGETOS", "TARGETARCH", "GO_VERSION",
    "NODE_VERSION", "PYTHON_VERSION", "UID",	 "GID",	     "APP_USER",   "SHA256",
};

static const char *const arg_defaults[] = {
    "1.4.2", "unknown", "main", "linux",
    "amd64", "1.22",	"20",	"3.12",
    "10001", "10001",	"app",	"3f1c6b2a9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a",
};

static const char *const copy_sources[] = {
    "package.json",
    "package-lock.json",
    "go.mod",
    "go.sum",
    "requirements.txt",
    "pyproject.toml",
    "Cargo.toml",
    "Cargo.lock",
    "pom.xml",
    "src/",
    "cmd/",
    "internal/",
    "config/app.yaml",
    "docker/entrypoint.sh",
    "static/",
    "migrations/",
    "*.conf",
};

static const char *const copy_dests[] = {
    "/app/", "./", "/usr/src/app/", "/etc/app/", "/usr/local/bin/", "${APP_HOME}/",
};

static const char *const built_paths[] = {
    "/out/app", "/usr/local/bin/app",  "/app/dist",	      "/opt/venv",
    "/go/bin/", "/app/target/app.jar", "/usr/src/app/build/", "/etc/ssl/certs/ca-certificates.crt",
};

static void emit_comments(gen *g)
{
	size_t n = range(g, 1, 3);

	for (size_t i = 0; i < n; i++)
		addf(g, "# %s\n", PICK(g, comments));
}

static void emit_global_args(gen *g)
{
	size_t n = range(g, 1, 4);

	for (size_t i = 0; i < n; i++) {
		keyword(g, "ARG");
		if (i == 0 && chance(g, 40)) {
			adds(g, "BASE_IMAGE=debian:bookworm-slim\n");
			g->base_arg = 1;
		} else {
			addf(g, "%s=%s\n", PICK(g, arg_names), PICK(g, arg_defaults));
		}
	}
}

static void emit_from(gen *g, int last)
{
	const char *image;

	keyword(g, "FROM");
	if (!last && chance(g, 25))
		adds(g, "--platform=$BUILDPLATFORM ");
	if (g->stage > 0 && chance(g, 15))
		image = g->names[pick(g, g->stage)];
	else
		image = last ? PICK(g, runtime_images) : PICK(g, builder_images);
	if (image[0] == '$' && !g->base_arg)
		image = "debian:bookworm-slim";
	adds(g, image);
	if (!last || chance(g, 30))
		addf(g, " %s %s", g->lower ? "as" : (chance(g, 90) ? "AS" : "as"),
		     g->names[g->stage]);
	adds(g, "\n");
}

static void emit_env(gen *g)
{
	size_t n = range(g, 1, 4);

	keyword(g, "ENV");
	if (chance(g, 15)) {
		/* The legacy form: one name, the rest of the line is the value. */
		adds(g, chance(g, 50) ? "PATH /usr/local/bin:$PATH\n" : "MOTD value with spaces\n");
		return;
	}
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			cont(g, "    ");
		adds(g, PICK(g, env_pairs));
	}
	adds(g, "\n");
}

static void emit_label(gen *g)
{
	keyword(g, "LABEL");
	adds(g, "org.opencontainers.image.source=\"https://github.com/example/service\"");
	cont(g, "      ");
	adds(g, "org.opencontainers.image.version=\"${VERSION}\"");
	if (chance(g, 50)) {
		cont(g, "      ");
		adds(g,
		     "org.opencontainers.image.description=\"An example service; it does things\"");
	}
	if (chance(g, 30)) {
		cont(g, "      ");
		adds(g, "maintainer=\"Platform Team <platform@example.com>\"");
	}
	adds(g, "\n");
}

static void emit_arg(gen *g)
{
	keyword(g, "ARG");
	if (chance(g, 50))
		addf(g, "%s\n", PICK(g, arg_names));
	else
		addf(g, "%s=%s\n", PICK(g, arg_names), PICK(g, arg_defaults));
}

static void emit_workdir(gen *g)
{
	static const char *const dirs[] = {"/app",	"/src",	      "/usr/src/app", "/go/src/app",
					   "$APP_HOME", "/workspace", "/opt/service"};

	keyword(g, "WORKDIR");
	addf(g, "%s\n", PICK(g, dirs));
}

/* Package installation: apt or apk, with the cache cleaned in the same layer. */
static void emit_run_packages(gen *g)
{
	int apk = chance(g, 30);
	size_t n = range(g, 3, 16);

	keyword(g, "RUN");
	if (chance(g, 30)) {
		/* The cache-mount form: nothing to clean up afterwards. */
		adds(g, apk ? "--mount=type=cache,target=/var/cache/apk"
			    : "--mount=type=cache,target=/var/cache/apt,sharing=locked");
		cont(g, "    ");
		if (!apk) {
			adds(g, "--mount=type=cache,target=/var/lib/apt,sharing=locked");
			cont(g, "    ");
		}
	}
	if (apk) {
		adds(g, "apk add --no-cache");
	} else {
		adds(g, "apt-get update");
		cont(g, "    ");
		adds(g, "&& apt-get install -y --no-install-recommends");
	}
	for (size_t i = 0; i < n; i++) {
		cont(g, "        ");
		if (chance(g, 5)) {
			/* A comment line inside the continuation: BuildKit drops it. */
			addf(g, "# %s\n        ", PICK(g, comments));
		}
		adds(g, apk ? PICK(g, apk_packages) : PICK(g, apt_packages));
	}
	if (!apk) {
		cont(g, "    ");
		adds(g, "&& rm -rf /var/lib/apt/lists/*");
	}
	adds(g, "\n");
}

/* A long `&& \` chain, the most common shape of a RUN. */
static void emit_run_chain(gen *g, size_t lo, size_t hi)
{
	size_t n = range(g, lo, hi);

	keyword(g, "RUN");
	adds(g, chance(g, 50) ? "set -eux" : "set -e");
	for (size_t i = 0; i < n; i++) {
		cont(g, "    ");
		if (chance(g, 4))
			addf(g, "# %s\n    ", PICK(g, comments));
		addf(g, "&& %s", PICK(g, build_commands));
	}
	adds(g, "\n");
}

static void emit_run_mounts(gen *g)
{
	static const char *const mounts[] = {
	    "--mount=type=cache,target=/root/.cache/go-build",
	    "--mount=type=cache,target=/go/pkg/mod,sharing=shared",
	    "--mount=type=cache,id=npm,target=/root/.npm",
	    "--mount=type=cache,target=/root/.cache/pip,uid=0,gid=0,mode=0755",
	    "--mount=type=secret,id=npmrc,target=/root/.npmrc",
	    "--mount=type=secret,id=github_token,env=GITHUB_TOKEN,required=true",
	    "--mount=type=ssh,id=default,required",
	    "--mount=type=bind,source=go.sum,target=go.sum",
	    "--mount=type=bind,target=.,rw",
	    "--mount=type=tmpfs,target=/tmp,size=67108864",
	    "--mount=type=cache,target=/usr/local/cargo/registry,sharing=locked",
	};
	size_t n = range(g, 1, 3);

	keyword(g, "RUN");
	for (size_t i = 0; i < n; i++) {
		adds(g, PICK(g, mounts));
		cont(g, "    ");
	}
	if (g->stage > 0 && chance(g, 30)) {
		addf(g, "--mount=from=%s,source=/out,target=/mnt/out", g->names[pick(g, g->stage)]);
		cont(g, "    ");
	}
	if (chance(g, 10)) {
		adds(g, "--network=none ");
	}
	addf(g, "%s", PICK(g, build_commands));
	cont(g, "    ");
	addf(g, "&& %s\n", PICK(g, build_commands));
}

static void emit_heredoc_body(gen *g, size_t lines, int tabs)
{
	for (size_t i = 0; i < lines; i++)
		addf(g, "%s%s\n", tabs ? "\t" : "", PICK(g, build_commands));
}

static void emit_run_heredoc(gen *g)
{
	size_t id = g->heredocs++;

	keyword(g, "RUN");
	switch (pick(g, 5)) {
	case 0:
		addf(g, "<<EOF%zu\nset -eux\n", id);
		emit_heredoc_body(g, range(g, 2, 12), 0);
		addf(g, "EOF%zu\n", id);
		break;
	case 1: /* tab stripping, and a quoted delimiter that turns expansion off */
		addf(g, "<<-'SCRIPT%zu'\n", id);
		emit_heredoc_body(g, range(g, 2, 8), 1);
		addf(g, "\tSCRIPT%zu\n", id);
		break;
	case 2: /* a heredoc fed to an interpreter */
		addf(g, "python3 <<PY%zu\nimport json, os\n", id);
		adds(g, "with open('/etc/app.json', 'w') as f:\n"
			"    json.dump({'version': os.environ.get('VERSION', 'dev')}, f)\n");
		addf(g, "PY%zu\n", id);
		break;
	case 3: /* two heredocs on one line */
		addf(g, "<<A%zu cat > /etc/a.conf && <<\"B%zu\" cat > /etc/b.conf\n", id, id);
		adds(g, "listen 8080\nworkers 4\n");
		addf(g, "A%zu\nlog_level ${LOG_LEVEL}\n", id);
		addf(g, "B%zu\n", id);
		break;
	default: /* a heredoc with a mount in front */
		addf(g, "--mount=type=cache,target=/var/cache/apt <<EOT%zu\n", id);
		adds(g, "apt-get update\napt-get install -y --no-install-recommends curl\n");
		addf(g, "EOT%zu\n", id);
		break;
	}
}

static void emit_copy(gen *g)
{
	const char *kw = chance(g, 85) ? "COPY" : "ADD";

	keyword(g, kw);
	switch (pick(g, 7)) {
	case 0: /* JSON form */
		addf(g, "[\"%s\", \"%s\", \"./\"]\n", PICK(g, copy_sources), PICK(g, copy_sources));
		break;
	case 1:
		addf(g, "--chown=10001:10001 --chmod=0644 %s %s\n", PICK(g, copy_sources),
		     PICK(g, copy_dests));
		break;
	case 2:
		if (g->stage > 0 && kw[0] == 'C') {
			addf(g, "--from=%s --link %s %s\n", g->names[pick(g, g->stage)],
			     PICK(g, built_paths), PICK(g, copy_dests));
			break;
		}
		addf(g, "%s %s %s\n", PICK(g, copy_sources), PICK(g, copy_sources),
		     PICK(g, copy_dests));
		break;
	case 3:
		if (kw[0] == 'A') {
			adds(g, "--checksum=sha256:"
				"24454f830cdb571e2c4ad15481119c43b3cafd48dd869a9b2945d1036d1dc68d");
			addf(g, " https://example.com/releases/tool-1.2.3.tar.gz /tmp/\n");
			break;
		}
		if (g->labs)
			adds(g,
			     "--parents --exclude=*.md --exclude=**/testdata ./services/*/config "
			     "/etc/\n");
		else
			adds(g, "--link ./config/ /etc/app/\n");
		break;
	case 4:
		if (kw[0] == 'A') {
			adds(g, "--keep-git-dir=true https://github.com/example/lib.git#v1.2.3 "
				"/src/lib\n");
			break;
		}
		addf(g, "--chmod=0755 %s /usr/local/bin/\n", "docker/entrypoint.sh");
		break;
	case 5: /* a heredoc as the content of the destination file */
		if (kw[0] == 'C') {
			size_t id = g->heredocs++;

			addf(g, "<<CONF%zu /etc/app/app.conf\n", id);
			adds(g, "[server]\nport = ${PORT}\nworkers = 4\n");
			addf(g, "CONF%zu\n", id);
			break;
		}
		adds(g, "vendor.tar.gz /opt/vendor/\n");
		break;
	default:
		addf(g, ". %s\n", PICK(g, copy_dests));
		break;
	}
}

static void emit_misc(gen *g)
{
	switch (pick(g, 8)) {
	case 0:
		keyword(g, "EXPOSE");
		adds(g, chance(g, 50) ? "8080\n" : "8080/tcp 9090/udp\n");
		break;
	case 1:
		keyword(g, "VOLUME");
		adds(g, chance(g, 50) ? "[\"/data\"]\n" : "/var/lib/app /var/log/app\n");
		break;
	case 2:
		keyword(g, "SHELL");
		adds(g, "[\"/bin/bash\", \"-euo\", \"pipefail\", \"-c\"]\n");
		break;
	case 3:
		keyword(g, "STOPSIGNAL");
		adds(g, "SIGTERM\n");
		break;
	case 4:
		keyword(g, "ONBUILD");
		adds(g, chance(g, 50) ? "COPY . /app/src\n" : "RUN make -C /app/src build\n");
		break;
	case 5:
		keyword(g, "MAINTAINER");
		adds(g, "Platform Team <platform@example.com>\n");
		break;
	case 6:
		emit_comments(g);
		break;
	default:
		adds(g, "\n");
		break;
	}
}

static void emit_tail(gen *g)
{
	static const char *const users[] = {"10001:10001", "65532", "app", "1000:1000", "nobody"};

	keyword(g, "USER");
	addf(g, "%s\n", PICK(g, users));
	if (chance(g, 60)) {
		keyword(g, "EXPOSE");
		adds(g, "8080\n");
	}
	if (chance(g, 40)) {
		keyword(g, "HEALTHCHECK");
		if (chance(g, 10)) {
			adds(g, "NONE\n");
		} else {
			adds(g,
			     "--interval=30s --timeout=5s --start-period=10s --start-interval=2s "
			     "--retries=3");
			cont(g, "    ");
			adds(g, chance(g, 50)
				    ? "CMD curl -fsS http://localhost:8080/healthz || exit 1\n"
				    : "CMD [\"/usr/local/bin/app\", \"healthcheck\"]\n");
		}
	}
	if (chance(g, 50)) {
		keyword(g, "ENTRYPOINT");
		adds(g, chance(g, 80) ? "[\"/usr/bin/tini\", \"--\", \"/usr/local/bin/app\"]\n"
				      : "/usr/local/bin/entrypoint.sh\n");
	}
	keyword(g, "CMD");
	switch (pick(g, 4)) {
	case 0:
		adds(g, "[\"serve\", \"--port\", \"8080\"]\n");
		break;
	case 1:
		adds(g, "node server.js\n");
		break;
	case 2: /* not valid JSON: BuildKit runs it as a shell command */
		adds(g, "[\"gunicorn\", \"-b\", \"0.0.0.0:8080\", 'app:wsgi']\n");
		break;
	default:
		adds(g, "[\"python\", \"-m\", \"app\"]\n");
		break;
	}
}

static void emit_stage(gen *g, int last)
{
	size_t n = range(g, 3, 14);

	if (chance(g, 50))
		emit_comments(g);
	emit_from(g, last);
	for (size_t i = 0; i < n; i++) {
		size_t what = pick(g, 100);

		if (what < 8)
			emit_env(g);
		else if (what < 12)
			emit_label(g);
		else if (what < 18)
			emit_arg(g);
		else if (what < 26)
			emit_workdir(g);
		else if (what < 38)
			emit_run_packages(g);
		else if (what < 52)
			emit_run_chain(g, 3, 14);
		else if (what < 60)
			emit_run_mounts(g);
		else if (what < 67)
			emit_run_heredoc(g);
		else if (what < 87)
			emit_copy(g);
		else if (what < 88)
			emit_run_chain(g, 40, 120); /* the occasional huge chain */
		else
			emit_misc(g);
	}
	if (last)
		emit_tail(g);
	adds(g, "\n");
}

/* A Windows Dockerfile: the backtick escape, so backslashes in paths are literal. */
static void emit_windows(gen *g)
{
	g->esc = '`';
	adds(g, "# escape=`\n\n");
	keyword(g, "FROM");
	adds(g, "mcr.microsoft.com/windows/servercore:ltsc2022\n");
	keyword(g, "SHELL");
	adds(g, "[\"powershell\", \"-Command\", \"$ErrorActionPreference = 'Stop';\"]\n");
	keyword(g, "ENV");
	adds(g, "APP_HOME=C:\\app `\n    PATH=\"C:\\app\\bin;C:\\Windows\\system32\"\n");
	keyword(g, "RUN");
	adds(g, "Invoke-WebRequest -Uri https://example.com/tool.zip -OutFile C:\\tool.zip ; `\n"
		"    Expand-Archive C:\\tool.zip -DestinationPath C:\\tool ; `\n"
		"    Remove-Item C:\\tool.zip -Force\n");
	keyword(g, "WORKDIR");
	adds(g, "C:\\app\n");
	keyword(g, "COPY");
	adds(g, ". C:\\app\n");
	keyword(g, "CMD");
	adds(g, "[\"C:\\\\app\\\\server.exe\", \"--port\", \"8080\"]\n");
}

int bench_corpus_generate_one(bale_buf *out, const bench_gen_opts *opts)
{
	static const char *const roles[] = {"base", "deps", "build", "test", "assets", "tools"};
	gen g = {.out = out, .state = opts->seed, .esc = '\\'};
	size_t nstages;

	g.lower = chance(&g, 3);
	if (opts->allow_escape_directive && chance(&g, 3)) {
		emit_windows(&g);
		return out->err;
	}
	if (chance(&g, 60)) {
		g.labs = chance(&g, 30);
		adds(&g, g.labs ? "# syntax=docker/dockerfile:1.7-labs\n"
				: "# syntax=docker/dockerfile:1\n");
	}
	if (chance(&g, 10))
		adds(&g, "# check=skip=JSONArgsRecommended\n");
	if (chance(&g, 70))
		emit_comments(&g);
	if (chance(&g, 60))
		emit_global_args(&g);
	adds(&g, "\n");
	nstages = range(&g, 1, 4);
	for (g.stage = 0; g.stage < nstages; g.stage++) {
		snprintf(g.names[g.stage], sizeof(g.names[g.stage]), "%s%zu", PICK(&g, roles),
			 g.stage);
		emit_stage(&g, g.stage + 1 == nstages);
	}
	return out->err;
}

int bench_corpus_generate(bench_corpus *out, size_t count, uint64_t seed)
{
	bale_buf buf = BALE_BUF_INIT;
	int rc = 0;

	out->files = calloc(count ? count : 1, sizeof(*out->files));
	out->lens = calloc(count ? count : 1, sizeof(*out->lens));
	if (!out->files || !out->lens) {
		rc = BALE_ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < count; i++) {
		bench_gen_opts opts = {seed * 1000003u + i, 1};

		bale_buf_reset(&buf);
		if ((rc = bench_corpus_generate_one(&buf, &opts)) != 0)
			goto out;
		out->files[i] = bale_buf_detach(&buf, &out->lens[i]);
		if (!out->files[i]) {
			rc = BALE_ENOMEM;
			goto out;
		}
		out->count++;
		out->total += out->lens[i];
	}
out:
	bale_buf_release(&buf);
	return rc;
}

int bench_corpus_repeat(bale_buf *out, const char *body, size_t body_len, size_t size)
{
	size_t copies = body_len ? (size + body_len - 1) / body_len : 0;

	if (bale_buf_grow(out, copies * body_len) != 0)
		return out->err;
	for (size_t i = 0; i < copies; i++)
		bale_buf_add(out, body, body_len);
	return out->err;
}

int bench_corpus_write(const bench_corpus *corpus, const char *dir)
{
	char path[4096];

	if (mkdir(dir, 0777) != 0 && errno != EEXIST)
		return BALE_EIO;
	for (size_t i = 0; i < corpus->count; i++) {
		FILE *f;
		int ok;

		snprintf(path, sizeof(path), "%s/%04zu", dir, i);
		if (mkdir(path, 0777) != 0 && errno != EEXIST)
			return BALE_EIO;
		snprintf(path, sizeof(path), "%s/%04zu/Dockerfile", dir, i);
		f = fopen(path, "wb");
		if (!f)
			return BALE_EIO;
		ok = fwrite(corpus->files[i], 1, corpus->lens[i], f) == corpus->lens[i];
		if (fclose(f) != 0 || !ok)
			return BALE_EIO;
	}
	return 0;
}

void bench_corpus_release(bench_corpus *corpus)
{
	for (size_t i = 0; i < corpus->count; i++)
		free(corpus->files[i]);
	free(corpus->files);
	free(corpus->lens);
	memset(corpus, 0, sizeof(*corpus));
}
