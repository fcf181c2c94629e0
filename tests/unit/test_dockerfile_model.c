/*
 * The typed instruction layer, the stage model and the JSON writer: every flag of every
 * instruction, every --mount option, BuildKit's error messages, ARG/ENV scope, the stage graph
 * and reachability, and JSON string escaping.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bale/dockerfile.h"
#include "util/util.h"

struct model {
	bale_dockerfile *df;
	bale_stages *st;
};

static void open_model(struct model *m, const char *src, const bale_stage_opts *opts)
{
	bale_parse_opts popts = {.filename = "Dockerfile"};
	int rc;

	m->df = NULL;
	m->st = NULL;
	rc = bale_dockerfile_parse(&m->df, src, strlen(src), &popts);
	if (rc)
		fail_msg("parse failed: %s", bale_error_last()->message);
	rc = bale_dockerfile_stages(&m->st, m->df, opts);
	if (rc)
		fail_msg("stages failed: %s", bale_error_last()->message);
}

static void close_model(struct model *m)
{
	bale_stages_free(m->st);
	bale_dockerfile_free(m->df);
}

/* Parsing succeeds; the typed layer or the stage model fails with exactly `message`. */
static void expect_error_opts(const char *src, const bale_stage_opts *opts, int code,
			      const char *message)
{
	bale_parse_opts popts = {.filename = "Dockerfile"};
	bale_dockerfile *df = NULL;
	bale_stages *st = NULL;
	int rc;

	rc = bale_dockerfile_parse(&df, src, strlen(src), &popts);
	if (rc)
		fail_msg("parse failed: %s", bale_error_last()->message);
	rc = bale_dockerfile_stages(&st, df, opts);
	assert_null(st);
	assert_int_equal(rc, code);
	assert_string_equal(bale_error_last()->message, message);
	bale_dockerfile_free(df);
}

static void expect_error(const char *src, const char *message)
{
	expect_error_opts(src, NULL, BALE_EPARSE, message);
}

static const bale_command *command(const struct model *m, size_t i)
{
	size_t n;
	const bale_command *c = bale_stages_commands(m->st, &n);

	assert_true(i < n);
	return &c[i];
}

static const bale_stage *stage(const struct model *m, size_t i)
{
	size_t n;
	const bale_stage *s = bale_stages_list(m->st, &n);

	assert_true(i < n);
	return &s[i];
}

static size_t nstages(const struct model *m)
{
	size_t n;

	bale_stages_list(m->st, &n);
	return n;
}

/* The value of variable `name` as instruction `i` sees it ("<unset>" when it is not set). */
static char *value_at(const struct model *m, size_t i, const char *name)
{
	char word[128], *out = NULL;

	snprintf(word, sizeof(word), "${%s-<unset>}", name);
	assert_int_equal(bale_stages_expand_word(&out, m->st, i, word, NULL), 0);
	return out;
}

static void assert_value_at(const struct model *m, size_t i, const char *name, const char *want)
{
	char *got = value_at(m, i, name);

	assert_string_equal(got, want);
	free(got);
}

/* --- BFlags ------------------------------------------------------------------------------- */

static void test_bool_flag_forms(void **state)
{
	struct model m;

	(void)state;
	open_model(&m,
		   "FROM a\n"
		   "COPY --link x /y\n"
		   "COPY --link=true x /y\n"
		   "COPY --link=FALSE x /y\n"
		   "COPY --link=True x /y\n",
		   NULL);
	assert_true(command(&m, 1)->copy.link);
	assert_true(command(&m, 2)->copy.link);
	assert_false(command(&m, 3)->copy.link);
	assert_true(command(&m, 4)->copy.link);
	assert_string_equal(command(&m, 1)->flags[0].name, "link");
	assert_null(command(&m, 1)->flags[0].value);
	assert_string_equal(command(&m, 3)->flags[0].value, "FALSE");
	close_model(&m);

	expect_error("FROM a\nCOPY --link= x /y\n",
		     "Dockerfile:2:1: missing a value on flag: --link");
	expect_error("FROM a\nCOPY --link=yes x /y\n",
		     "Dockerfile:2:1: expecting boolean value for flag --link, not: yes");
}

static void test_unknown_flag_and_suggestion(void **state)
{
	(void)state;
	expect_error("FROM a\nCOPY --lnk x /y\n",
		     "Dockerfile:2:1: unknown flag: --lnk (did you mean link?)");
	expect_error("FROM a\nCOPY --frobnicate x /y\n",
		     "Dockerfile:2:1: unknown flag: --frobnicate");
	expect_error("FROM a\nADD --from=b x /y\n", "Dockerfile:2:1: unknown flag: --from");
	expect_error("FROM a\nCOPY --keep-git-dir x /y\n",
		     "Dockerfile:2:1: unknown flag: --keep-git-dir");
	expect_error("FROM a\nENV --x=1 a=b\n", "Dockerfile:2:1: unknown flag: --x");
	expect_error("FROM a\nWORKDIR --x=1 /a\n", "Dockerfile:2:1: unknown flag: --x");
	expect_error("FROM --platfrom=linux/amd64 a\n",
		     "Dockerfile:1:1: unknown flag: --platfrom (did you mean platform?)");
}

static void test_flag_repeats_and_missing_values(void **state)
{
	struct model m;

	(void)state;
	expect_error("FROM a\nCOPY --from=a --from=b x /y\n",
		     "Dockerfile:2:1: duplicate flag specified: --from");
	expect_error("FROM a\nCOPY --link --link x /y\n",
		     "Dockerfile:2:1: duplicate flag specified: --link");
	/* "--chown root" is a flag without value followed by an argument. */
	expect_error("FROM a\nCOPY --chown root a b\n",
		     "Dockerfile:2:1: missing a value on flag: --chown");
	expect_error("FROM a\nRUN --mount echo\n",
		     "Dockerfile:2:1: missing a value on flag: --mount");

	open_model(&m, "FROM a\nCOPY --exclude=*.md --exclude=tmp/ --chown= . /y\n", NULL);
	assert_int_equal(command(&m, 1)->copy.nexcludes, 2);
	assert_string_equal(command(&m, 1)->copy.excludes[0], "*.md");
	assert_string_equal(command(&m, 1)->copy.excludes[1], "tmp/");
	assert_string_equal(command(&m, 1)->copy.chown, "");
	close_model(&m);
}

/* STOPSIGNAL and ARG do not read flags, nor does HEALTHCHECK NONE: BuildKit ignores them. */
static void test_instructions_that_ignore_flags(void **state)
{
	struct model m;

	(void)state;
	open_model(&m, "ARG --x=1 A\nFROM a\nSTOPSIGNAL --y SIGTERM\nHEALTHCHECK --z NONE\n", NULL);
	assert_string_equal(command(&m, 2)->value, "SIGTERM");
	assert_int_equal(command(&m, 3)->health.type, BALE_HEALTH_NONE);
	assert_int_equal(command(&m, 0)->nflags, 1);
	close_model(&m);
}

/* --- FROM --------------------------------------------------------------------------------- */

static void test_from(void **state)
{
	struct model m;

	(void)state;
	open_model(&m, "FROM --platform=linux/arm64 golang:1.22 As Build_1.x\n", NULL);
	assert_string_equal(command(&m, 0)->from.image, "golang:1.22");
	assert_string_equal(command(&m, 0)->from.name, "build_1.x");
	assert_string_equal(command(&m, 0)->from.name_as_written, "Build_1.x");
	assert_string_equal(command(&m, 0)->from.platform, "linux/arm64");
	close_model(&m);

	expect_error("FROM a b\n", "Dockerfile:1:1: FROM requires either one or three arguments");
	expect_error("FROM a AS b c\n",
		     "Dockerfile:1:1: FROM requires either one or three arguments");
	expect_error("FROM a IS b\n",
		     "Dockerfile:1:1: FROM requires either one or three arguments");
	expect_error("FROM a AS 1st\n",
		     "Dockerfile:1:1: invalid name for build stage: \"1st\", name can't start with "
		     "a number or contain symbols");
	expect_error("FROM a AS b$c\n",
		     "Dockerfile:1:1: invalid name for build stage: \"b$c\", name can't start with "
		     "a number or contain symbols");
	/* The argument count is checked before the flags. */
	expect_error("FROM --bad a b\n",
		     "Dockerfile:1:1: FROM requires either one or three arguments");
}

/* --- RUN ---------------------------------------------------------------------------------- */

static void test_run_network_security(void **state)
{
	struct model m;

	(void)state;
	open_model(&m,
		   "FROM a\n"
		   "RUN echo default\n"
		   "RUN --network=none --security=insecure echo\n"
		   "RUN --network=host [\"echo\", \"x\"]\n",
		   NULL);
	assert_string_equal(command(&m, 1)->run.network, "default");
	assert_string_equal(command(&m, 1)->run.security, "sandbox");
	assert_true(command(&m, 1)->cmdline.prepend_shell);
	assert_string_equal(command(&m, 1)->cmdline.args[0], "echo default");
	assert_string_equal(command(&m, 2)->run.network, "none");
	assert_string_equal(command(&m, 2)->run.security, "insecure");
	assert_string_equal(command(&m, 3)->run.network, "host");
	assert_false(command(&m, 3)->cmdline.prepend_shell);
	assert_int_equal(command(&m, 3)->cmdline.nargs, 2);
	close_model(&m);

	expect_error("FROM a\nRUN --network=bridge x\n",
		     "Dockerfile:2:1: invalid network mode \"bridge\"");
	expect_error("FROM a\nRUN --security=privileged x\n",
		     "Dockerfile:2:1: security \"privileged\" is not valid");
}

static const bale_mount *mount_of(const struct model *m, size_t i, size_t k)
{
	const bale_command *c = command(m, i);

	assert_true(k < c->run.nmounts);
	return &c->run.mounts[k];
}

static void test_mount_bind(void **state)
{
	struct model m;
	const bale_mount *b;

	(void)state;
	open_model(&m,
		   "FROM a\n"
		   "RUN --mount=target=/src x\n"
		   "RUN --mount=type=bind,from=build,source=/out,dst=/in,rw x\n"
		   "RUN --mount=type=BIND,src=a,destination=/b,readonly=false x\n"
		   "RUN --mount=TYPE=bind,Target=/c,ro=true x\n",
		   NULL);
	b = mount_of(&m, 1, 0);
	assert_int_equal(b->type, BALE_MOUNT_BIND);
	assert_string_equal(b->target, "/src");
	assert_true(b->readonly); /* bind defaults to read-only */
	assert_null(b->from);
	b = mount_of(&m, 2, 0);
	assert_string_equal(b->from, "build");
	assert_string_equal(b->source, "/out");
	assert_string_equal(b->target, "/in");
	assert_false(b->readonly);
	b = mount_of(&m, 3, 0);
	assert_string_equal(b->source, "a");
	assert_string_equal(b->target, "/b");
	assert_false(b->readonly);
	b = mount_of(&m, 4, 0);
	assert_string_equal(b->target, "/c");
	assert_true(b->readonly);
	assert_string_equal(b->fields[1].key, "target");
	assert_string_equal(b->fields[1].value, "/c");
	close_model(&m);
}

static void test_mount_cache(void **state)
{
	struct model m;
	const bale_mount *c;

	(void)state;
	open_model(&m,
		   "FROM a\n"
		   "RUN --mount=type=cache,target=/var/cache/apt/ \\\n"
		   "    --mount=type=cache,id=gomod,target=/go,sharing=locked,mode=0755,uid=1000,"
		   "gid=100,ro x\n"
		   "RUN --mount=type=cache,target=/x,sharing=Private,from=base,source=/s x\n",
		   NULL);
	c = mount_of(&m, 1, 0);
	assert_int_equal(c->type, BALE_MOUNT_CACHE);
	assert_string_equal(c->id, "/var/cache/apt"); /* the cleaned target */
	assert_true(c->id_defaulted);
	assert_false(c->readonly); /* cache defaults to writable */
	assert_int_equal(c->sharing, BALE_SHARING_SHARED);
	c = mount_of(&m, 1, 1);
	assert_string_equal(c->id, "gomod");
	assert_false(c->id_defaulted);
	assert_int_equal(c->sharing, BALE_SHARING_LOCKED);
	assert_true(c->has_mode);
	assert_int_equal(c->mode, 0755);
	assert_int_equal(c->uid, 1000);
	assert_int_equal(c->gid, 100);
	assert_true(c->readonly);
	c = mount_of(&m, 2, 0);
	assert_int_equal(c->sharing, BALE_SHARING_PRIVATE);
	assert_string_equal(c->from, "base");
	assert_string_equal(c->source, "/s");
	close_model(&m);

	expect_error("FROM a\nRUN --mount=type=cache,target=/x,sharing=sometimes x\n",
		     "Dockerfile:2:1: unsupported sharing value \"sometimes\"");
	expect_error("FROM a\nRUN --mount=type=cache,target=/x,sharing=lockd x\n",
		     "Dockerfile:2:1: unsupported sharing value \"lockd\" (did you mean locked?)");
	expect_error("FROM a\nRUN --mount=type=cache,target=/x,mode=0789 x\n",
		     "Dockerfile:2:1: invalid value 0789 for mode");
	expect_error("FROM a\nRUN --mount=type=cache,target=/x,uid=-1 x\n",
		     "Dockerfile:2:1: invalid value -1 for uid");
	expect_error("FROM a\nRUN --mount=type=cache,target=/x,gid=root x\n",
		     "Dockerfile:2:1: invalid value root for gid");
	expect_error("FROM a\nRUN --mount=type=cache,target=/x,required x\n",
		     "Dockerfile:2:1: unexpected key 'required' for mount type 'cache'");
}

static void test_mount_tmpfs(void **state)
{
	struct model m;
	const bale_mount *t;

	(void)state;
	open_model(&m,
		   "FROM a\n"
		   "RUN --mount=type=tmpfs,target=/tmp,size=64m x\n"
		   "RUN --mount=type=tmpfs,target=/t,size=1.5GiB x\n"
		   "RUN --mount=type=tmpfs,target=/u,size=512 x\n",
		   NULL);
	t = mount_of(&m, 1, 0);
	assert_int_equal(t->type, BALE_MOUNT_TMPFS);
	assert_true(t->has_size);
	assert_int_equal(t->size, 64 * 1024 * 1024);
	assert_false(t->readonly);
	assert_int_equal(mount_of(&m, 2, 0)->size, 3 * 512 * 1024 * 1024LL);
	assert_int_equal(mount_of(&m, 3, 0)->size, 512);
	close_model(&m);

	expect_error("FROM a\nRUN --mount=type=tmpfs,target=/t,size=lots x\n",
		     "Dockerfile:2:1: invalid value for size: lots");
	expect_error("FROM a\nRUN --mount=target=/t,size=1m x\n",
		     "Dockerfile:2:1: unexpected key 'size' for mount type 'bind'");
	expect_error("FROM a\nRUN --mount=type=tmpfs,target=/t,mode=700 x\n",
		     "Dockerfile:2:1: mode not allowed for \"tmpfs\" type mounts");
	expect_error("FROM a\nRUN --mount=type=bind,target=/t,uid=1 x\n",
		     "Dockerfile:2:1: uid not allowed for \"bind\" type mounts");
	expect_error("FROM a\nRUN --mount=type=bind,target=/t,gid=1 x\n",
		     "Dockerfile:2:1: gid not allowed for \"bind\" type mounts");
	expect_error("FROM a\nRUN --mount=type=tmpfs,target=/t,sharing=shared x\n",
		     "Dockerfile:2:1: invalid cache sharing set for tmpfs mount");
}

static void test_mount_secret(void **state)
{
	struct model m;
	const bale_mount *s;

	(void)state;
	open_model(&m,
		   "FROM a\n"
		   "RUN --mount=type=secret,id=npmrc x\n"
		   "RUN --mount=type=secret,id=aws,target=/root/.aws/credentials,required,"
		   "mode=0440,uid=1,gid=2 x\n"
		   "RUN --mount=type=secret,source=token x\n"
		   "RUN --mount=type=secret,target=/etc/key.pem x\n"
		   "RUN --mount=type=secret,id=tok,env=TOKEN,required=false x\n",
		   NULL);
	s = mount_of(&m, 1, 0);
	assert_int_equal(s->type, BALE_MOUNT_SECRET);
	assert_string_equal(s->id, "npmrc");
	assert_string_equal(s->target, "/run/secrets/npmrc");
	assert_true(s->target_defaulted);
	assert_true(s->readonly);
	assert_false(s->required);
	s = mount_of(&m, 2, 0);
	assert_string_equal(s->target, "/root/.aws/credentials");
	assert_false(s->target_defaulted);
	assert_true(s->required);
	assert_int_equal(s->mode, 0440);
	assert_int_equal(s->uid, 1);
	assert_int_equal(s->gid, 2);
	s = mount_of(&m, 3, 0);
	assert_string_equal(s->id, "token");
	assert_true(s->id_defaulted);
	assert_string_equal(s->target, "/run/secrets/token");
	s = mount_of(&m, 4, 0);
	assert_string_equal(s->id, "key.pem");
	assert_true(s->id_defaulted);
	s = mount_of(&m, 5, 0);
	assert_string_equal(s->env, "TOKEN");
	assert_null(s->target); /* exposed as a variable only */
	assert_false(s->required);
	close_model(&m);

	expect_error("FROM a\nRUN --mount=type=secret x\n",
		     "Dockerfile:2:1: invalid secret mount. one of source, target required");
	expect_error("FROM a\nRUN --mount=type=secret,id=a,source=b x\n",
		     "Dockerfile:2:1: both source and id can't be set");
	expect_error("FROM a\nRUN --mount=type=secret,id=a,from=b x\n",
		     "Dockerfile:2:1: secret mount should not have a from");
	expect_error("FROM a\nRUN --mount=type=secret,id=a,sharing=shared x\n",
		     "Dockerfile:2:1: secret mount should not define sharing");
	expect_error("FROM a\nRUN --mount=type=secret,id=a,required=maybe x\n",
		     "Dockerfile:2:1: invalid value for required: maybe");
	/* "required" is read with the type known so far, as BuildKit does. */
	expect_error("FROM a\nRUN --mount=required,type=secret,id=a x\n",
		     "Dockerfile:2:1: unexpected key 'required' for mount type 'bind'");
}

static void test_mount_ssh(void **state)
{
	struct model m;
	const bale_mount *s;

	(void)state;
	open_model(&m,
		   "FROM a\n"
		   "RUN --mount=type=ssh git clone x\n"
		   "RUN --mount=type=ssh,id=github,target=/agent.sock,required=true,mode=0600 x\n",
		   NULL);
	s = mount_of(&m, 1, 0);
	assert_int_equal(s->type, BALE_MOUNT_SSH);
	assert_string_equal(s->id, "default");
	assert_true(s->id_defaulted);
	assert_true(s->readonly);
	s = mount_of(&m, 2, 0);
	assert_string_equal(s->id, "github");
	assert_string_equal(s->target, "/agent.sock");
	assert_true(s->required);
	assert_int_equal(s->mode, 0600);
	close_model(&m);
}

static void test_mount_syntax_errors(void **state)
{
	struct model m;

	(void)state;
	expect_error("FROM a\nRUN --mount=type=volume,target=/x x\n",
		     "Dockerfile:2:1: unsupported mount type \"volume\"");
	expect_error("FROM a\nRUN --mount=type=cahce,target=/x x\n",
		     "Dockerfile:2:1: unsupported mount type \"cahce\" (did you mean cache?)");
	expect_error("FROM a\nRUN --mount=type=cache,target x\n",
		     "Dockerfile:2:1: invalid field 'target' must be a key=value pair");
	expect_error("FROM a\nRUN --mount=type=cache,targt=/x x\n",
		     "Dockerfile:2:1: unexpected key 'targt' in 'targt=/x' (did you mean target?)");
	expect_error("FROM a\nRUN --mount=type=bind,target=/x,ro=yes x\n",
		     "Dockerfile:2:1: invalid value for ro: yes");
	expect_error(
	    "FROM a\nRUN --mount=from=$STAGE,target=/x x\n",
	    "Dockerfile:2:1: 'from' doesn't support variable expansion, define alias stage "
	    "instead");
	expect_error(
	    "FROM a\nRUN --mount=target=/a\\\"b x\n",
	    "Dockerfile:2:1: failed to parse csv mounts: parse error on line 1, column 10: "
	    "bare \" in non-quoted-field");

	/* A quoted CSV field may hold a comma; a variable leaves a number unresolved. */
	open_model(&m,
		   "FROM a\n"
		   "RUN --mount=type=cache,\\\"target=/a,b\\\" x\n"
		   "RUN --mount=type=cache,target=/c,uid=$UID x\n",
		   NULL);
	assert_string_equal(mount_of(&m, 1, 0)->target, "/a,b");
	assert_true(mount_of(&m, 2, 0)->unresolved);
	assert_false(mount_of(&m, 2, 0)->has_uid);
	close_model(&m);
}

static void test_run_device(void **state)
{
	struct model m;

	(void)state;
	open_model(&m, "FROM a\nRUN --device=vendor.com/gpu=all,required x\n", NULL);
	assert_int_equal(command(&m, 1)->run.ndevices, 1);
	assert_string_equal(command(&m, 1)->run.devices[0].name, "vendor.com/gpu=all");
	assert_true(command(&m, 1)->run.devices[0].required);
	close_model(&m);
}

/* --- COPY and ADD ------------------------------------------------------------------------- */

static void test_copy_flags(void **state)
{
	struct model m;
	const bale_command *c;

	(void)state;
	open_model(&m,
		   "FROM a AS build\nFROM b\n"
		   "COPY --from=build --chown=app:app --chmod=0644 --link --parents "
		   "--exclude=*.tmp src/ lib/ /app/\n"
		   "COPY [\"a b\", \"/c d/\"]\n",
		   NULL);
	c = command(&m, 2);
	assert_string_equal(c->copy.from, "build");
	assert_string_equal(c->copy.chown, "app:app");
	assert_string_equal(c->copy.chmod, "0644");
	assert_true(c->copy.link);
	assert_true(c->copy.parents);
	assert_int_equal(c->copy.nexcludes, 1);
	assert_int_equal(c->copy.nsources, 2);
	assert_string_equal(c->copy.sources[0], "src/");
	assert_string_equal(c->copy.sources[1], "lib/");
	assert_string_equal(c->copy.dest, "/app/");
	assert_int_equal(c->copy.unpack, -1);
	c = command(&m, 3);
	assert_string_equal(c->copy.sources[0], "a b");
	assert_string_equal(c->copy.dest, "/c d/");
	assert_null(c->copy.from);
	assert_false(c->copy.link);
	close_model(&m);

	expect_error("FROM a\nCOPY onlyone\n",
		     "Dockerfile:2:1: COPY requires at least two arguments, but only one was "
		     "provided. Destination could not be determined");
	expect_error("FROM a\nADD onlyone\n",
		     "Dockerfile:2:1: ADD requires at least two arguments, but only one was "
		     "provided. Destination could not be determined");
}

static void test_add_flags(void **state)
{
	struct model m;
	const bale_command *c;

	(void)state;
	open_model(
	    &m,
	    "FROM a\n"
	    "ADD "
	    "--checksum=sha256:24454f830cdb571e2c4ad15481119c43b3cafd48dd869a9b2945d1036d1dc68d "
	    "--chown=1 --chmod=755 --link=false https://x/y.tgz /y\n"
	    "ADD --keep-git-dir --unpack=false git@github.com:a/b.git /src\n"
	    "ADD --unpack --parents --exclude=a --exclude=b x.tar /z\n",
	    NULL);
	c = command(&m, 1);
	assert_string_equal(
	    c->copy.checksum,
	    "sha256:24454f830cdb571e2c4ad15481119c43b3cafd48dd869a9b2945d1036d1dc68d");
	assert_string_equal(c->copy.chown, "1");
	assert_string_equal(c->copy.chmod, "755");
	assert_false(c->copy.link);
	assert_int_equal(c->copy.unpack, -1);
	c = command(&m, 2);
	assert_true(c->copy.keep_git_dir);
	assert_int_equal(c->copy.unpack, 0);
	c = command(&m, 3);
	assert_int_equal(c->copy.unpack, 1);
	assert_true(c->copy.parents);
	assert_int_equal(c->copy.nexcludes, 2);
	close_model(&m);
}

static void test_copy_heredoc_sources(void **state)
{
	struct model m;
	const bale_command *c;

	(void)state;
	open_model(&m,
		   "FROM a\n"
		   "COPY <<EOF <<-'RAW' plain /etc/\n"
		   "x=$HOME\n"
		   "EOF\n"
		   "\tindented $X\n"
		   "\t\tline2\n"
		   "RAW\n",
		   NULL);
	c = command(&m, 1);
	assert_int_equal(c->copy.nsources, 1);
	assert_string_equal(c->copy.sources[0], "plain");
	assert_int_equal(c->copy.ncontents, 2);
	assert_string_equal(c->copy.contents[0].name, "EOF");
	assert_string_equal(c->copy.contents[0].data, "x=$HOME\n");
	assert_true(c->copy.contents[0].expand);
	assert_string_equal(c->copy.contents[1].name, "RAW");
	assert_string_equal(c->copy.contents[1].data, "indented $X\nline2\n");
	assert_false(c->copy.contents[1].expand);
	close_model(&m);

	expect_error("FROM a\nCOPY x <<EOF\nbody\nEOF\n",
		     "Dockerfile:2:1: COPY cannot accept a heredoc as a destination");
}

/* --- HEALTHCHECK -------------------------------------------------------------------------- */

static void test_healthcheck(void **state)
{
	struct model m;
	const bale_command *c;

	(void)state;
	open_model(&m,
		   "FROM a\n"
		   "HEALTHCHECK --interval=30s --timeout=1m30s --start-period=500ms "
		   "--start-interval=1.5s --retries=3 CMD curl -f http://localhost/\n"
		   "HEALTHCHECK CMD [\"/bin/check\", \"-q\"]\n"
		   "HEALTHCHECK --interval=0 --retries= CMD x\n"
		   "HEALTHCHECK NONE\n",
		   NULL);
	c = command(&m, 1);
	assert_int_equal(c->health.type, BALE_HEALTH_CMD_SHELL);
	assert_int_equal(c->health.interval, 30000000000LL);
	assert_int_equal(c->health.timeout, 90000000000LL);
	assert_int_equal(c->health.start_period, 500000000LL);
	assert_int_equal(c->health.start_interval, 1500000000LL);
	assert_int_equal(c->health.retries, 3);
	assert_int_equal(c->health.ntest, 1);
	assert_string_equal(c->health.test[0], "curl -f http://localhost/");
	c = command(&m, 2);
	assert_int_equal(c->health.type, BALE_HEALTH_CMD);
	assert_int_equal(c->health.ntest, 2);
	c = command(&m, 3);
	assert_int_equal(c->health.interval, 0);
	assert_int_equal(c->health.retries, 0);
	assert_int_equal(command(&m, 4)->health.type, BALE_HEALTH_NONE);
	close_model(&m);

	expect_error("FROM a\nHEALTHCHECK --interval=10 CMD x\n",
		     "Dockerfile:2:1: time: missing unit in duration \"10\"");
	expect_error("FROM a\nHEALTHCHECK --timeout=abc CMD x\n",
		     "Dockerfile:2:1: time: invalid duration \"abc\"");
	expect_error("FROM a\nHEALTHCHECK --timeout=5y CMD x\n",
		     "Dockerfile:2:1: time: unknown unit \"y\" in duration \"5y\"");
	expect_error("FROM a\nHEALTHCHECK --interval=500us CMD x\n",
		     "Dockerfile:2:1: Interval \"interval\" cannot be less than 1ms");
	expect_error("FROM a\nHEALTHCHECK --start-period=-1s CMD x\n",
		     "Dockerfile:2:1: Interval \"start-period\" cannot be less than 1ms");
	expect_error("FROM a\nHEALTHCHECK --retries=-1 CMD x\n",
		     "Dockerfile:2:1: --retries cannot be negative (-1)");
	expect_error("FROM a\nHEALTHCHECK --retries=three CMD x\n",
		     "Dockerfile:2:1: strconv.ParseInt: parsing \"three\": invalid syntax");
	expect_error("FROM a\nHEALTHCHECK --retries=99999999999 CMD x\n",
		     "Dockerfile:2:1: strconv.ParseInt: parsing \"99999999999\": value out of "
		     "range");
	expect_error("FROM a\nHEALTHCHECK NONE x\n",
		     "Dockerfile:2:1: HEALTHCHECK NONE takes no arguments");
	expect_error("FROM a\nHEALTHCHECK CMD\n",
		     "Dockerfile:2:1: Missing command after HEALTHCHECK CMD");
	expect_error("FROM a\nHEALTHCHECK --retries=1 NONE x\n",
		     "Dockerfile:2:1: HEALTHCHECK NONE takes no arguments");
	expect_error("FROM a\nHEALTHCHECK --bogus=1 CMD x\n",
		     "Dockerfile:2:1: unknown flag: --bogus");
}

/* --- the other instructions --------------------------------------------------------------- */

static void test_argument_counts(void **state)
{
	(void)state;
	expect_error("FROM a\nEXPOSE\n", "Dockerfile:2:1: EXPOSE requires at least one argument");
	expect_error("FROM a\nVOLUME\n", "Dockerfile:2:1: VOLUME requires at least one argument");
	expect_error("FROM a\nUSER\n", "Dockerfile:2:1: USER requires exactly one argument");
	expect_error("FROM a\nWORKDIR\n", "Dockerfile:2:1: WORKDIR requires exactly one argument");
	expect_error("FROM a\nSTOPSIGNAL\n",
		     "Dockerfile:2:1: STOPSIGNAL requires exactly one argument");
	expect_error("FROM a\nMAINTAINER\n",
		     "Dockerfile:2:1: MAINTAINER requires exactly one argument");
	expect_error("FROM a\nHEALTHCHECK\n",
		     "Dockerfile:2:1: HEALTHCHECK requires at least one argument");
	expect_error("FROM a\nARG\n", "Dockerfile:2:1: ARG requires at least one argument");
	expect_error("FROM a\nONBUILD\n", "Dockerfile:2:1: ONBUILD requires at least one argument");
	expect_error("FROM a\nVOLUME [\"\"]\n",
		     "Dockerfile:2:1: VOLUME specified can not be an empty string");
}

static void test_names_and_shell(void **state)
{
	struct model m;
	const bale_command *c;

	(void)state;
	expect_error("FROM a\nENV =x\n", "Dockerfile:2:1: ENV names can not be blank");
	expect_error("FROM a\nLABEL =x\n", "Dockerfile:2:1: LABEL names can not be blank");
	expect_error("FROM a\nARG =x\n", "Dockerfile:2:1: ARG names can not be blank");
	expect_error("FROM a\nSHELL /bin/bash -c\n",
		     "Dockerfile:2:1: SHELL requires the arguments to be in JSON form");
	expect_error("FROM a\nSHELL []\n", "Dockerfile:2:1: SHELL requires at least one argument");

	open_model(&m,
		   "FROM a\n"
		   "ENV A=1 B=\"two words\"\n"
		   "ENV LEGACY value with spaces\n"
		   "LABEL org.opencontainers.image.title=x\n"
		   "ARG X Y=2\n"
		   "SHELL [\"/bin/bash\", \"-o\", \"pipefail\", \"-c\"]\n"
		   "EXPOSE 80/tcp 443\n"
		   "VOLUME [\" /data \", \"/logs\"]\n"
		   "CMD [\"run\"]\n"
		   "ENTRYPOINT exec app\n"
		   "MAINTAINER me\n",
		   NULL);
	c = command(&m, 1);
	assert_int_equal(c->pairs.n, 2);
	assert_string_equal(c->pairs.v[1].key, "B");
	assert_string_equal(c->pairs.v[1].value, "\"two words\"");
	assert_false(c->pairs.v[0].legacy);
	assert_true(command(&m, 2)->pairs.v[0].legacy);
	assert_string_equal(command(&m, 3)->pairs.v[0].key, "org.opencontainers.image.title");
	c = command(&m, 4);
	assert_string_equal(c->pairs.v[0].key, "X");
	assert_null(c->pairs.v[0].value);
	assert_string_equal(c->pairs.v[1].value, "2");
	assert_int_equal(command(&m, 5)->cmdline.nargs, 4);
	assert_int_equal(command(&m, 6)->list.n, 2);
	assert_string_equal(command(&m, 7)->list.v[0], "/data");
	assert_false(command(&m, 8)->cmdline.prepend_shell);
	assert_true(command(&m, 9)->cmdline.prepend_shell);
	assert_string_equal(command(&m, 10)->value, "me");
	close_model(&m);
}

static void test_onbuild(void **state)
{
	struct model m;
	const bale_command *c;

	(void)state;
	expect_error("FROM a\nONBUILD ONBUILD RUN x\n",
		     "Dockerfile:2:1: Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed");
	expect_error("FROM a\nONBUILD FROM b\n",
		     "Dockerfile:2:1: FROM isn't allowed as an ONBUILD trigger");
	expect_error("FROM a\nONBUILD MAINTAINER me\n",
		     "Dockerfile:2:1: MAINTAINER isn't allowed as an ONBUILD trigger");

	/* A trigger that does not parse fails only where it runs. */
	open_model(&m,
		   "FROM a AS base\n  onbuild   COPY --bad=1 x /y\nONBUILD RUN "
		   "--mount=type=cache,target=/c make\n",
		   NULL);
	c = command(&m, 1);
	assert_string_equal(c->onbuild.expression, "COPY --bad=1 x /y");
	assert_null(c->onbuild.trigger);
	assert_string_equal(c->onbuild.error, "Dockerfile:2:3: unknown flag: --bad");
	c = command(&m, 2);
	assert_non_null(c->onbuild.trigger);
	assert_int_equal(c->onbuild.trigger->run.nmounts, 1);
	close_model(&m);
	expect_error("FROM a AS base\nONBUILD COPY --bad=1 x /y\nFROM base\n",
		     "Dockerfile:2:1: unknown flag: --bad (ONBUILD trigger run in stage stage-1)");
}

static void test_unknown_instruction_and_order(void **state)
{
	(void)state;
	expect_error("FROM a\nRUNN echo\n",
		     "Dockerfile:2:1: unknown instruction: RUNN (did you mean RUN?)");
	expect_error("FROM a\ncopyy a b\n",
		     "Dockerfile:2:1: unknown instruction: copyy (did you mean copy?)");
	expect_error("FROM a\nFROBNICATE x\n", "Dockerfile:2:1: unknown instruction: FROBNICATE");
	expect_error("ARG A\nRUN echo\nFROM a\n",
		     "Dockerfile:2:1: no build stage in current context");
	expect_error("ARG A=1\n", "Dockerfile:1:1: dockerfile contains no stages to build");
	/* The first problem in source order is the one reported. */
	expect_error("FROM a\nUSER\nCOPY --x=1 a b\n",
		     "Dockerfile:2:1: USER requires exactly one argument");
}

/* --- stages: ARG and ENV scope ------------------------------------------------------------ */

static void test_global_args_and_build_args(void **state)
{
	struct model m;
	size_t n;
	const bale_var *g;
	bale_build_arg args[] = {{"REGISTRY", "mirror.example"}, {"UNUSED", "x"}};
	bale_stage_opts opts = {args, 2, NULL, NULL};

	(void)state;
	const char *src = "ARG REGISTRY=docker.io\n"
			  "ARG IMAGE=${REGISTRY}/library/alpine\n"
			  "ARG TAG\n"
			  "FROM ${IMAGE}:${TAG:-3.19}\n";
	open_model(&m, src, NULL);
	g = bale_stages_global_args(m.st, &n);
	assert_int_equal(n, 3);
	assert_string_equal(g[1].name, "IMAGE");
	assert_string_equal(g[1].value, "docker.io/library/alpine");
	assert_string_equal(g[1].word, "${REGISTRY}/library/alpine");
	assert_null(g[2].value);
	assert_string_equal(stage(&m, 0)->base.name, "docker.io/library/alpine:3.19");
	assert_int_equal(stage(&m, 0)->base.kind, BALE_REF_IMAGE);
	close_model(&m);

	open_model(&m, src, &opts);
	g = bale_stages_global_args(m.st, &n);
	assert_true(g[0].from_build_arg);
	assert_string_equal(g[0].value, "mirror.example");
	assert_string_equal(g[1].value, "mirror.example/library/alpine");
	assert_string_equal(stage(&m, 0)->base.name, "mirror.example/library/alpine:3.19");
	close_model(&m);

	expect_error("ARG EMPTY=\nFROM ${EMPTY}\n",
		     "Dockerfile:2:1: base name (${EMPTY}) should not be blank");
}

static void test_stage_arg_redeclared(void **state)
{
	struct model m;
	bale_build_arg args[] = {{"B", "from-cli"}};
	bale_stage_opts opts = {args, 1, NULL, NULL};
	const char *src = "ARG A=global-a\n"
			  "ARG B=global-b\n"
			  "FROM x\n"
			  "RUN use\n"
			  "ARG A\n"
			  "ARG B=own-b\n"
			  "RUN use\n"
			  "FROM y\n"
			  "RUN use\n";

	(void)state;
	open_model(&m, src, NULL);
	/* Global ARGs are not visible in a stage until it declares them. */
	assert_value_at(&m, 3, "A", "<unset>");
	assert_value_at(&m, 6, "A", "global-a");
	assert_value_at(&m, 6, "B", "own-b");
	assert_true(stage(&m, 0)->vars[0].from_global);
	assert_false(stage(&m, 0)->vars[1].from_global);
	/* Nor in another stage. */
	assert_value_at(&m, 8, "A", "<unset>");
	close_model(&m);

	open_model(&m, src, &opts);
	assert_value_at(&m, 6, "B", "from-cli");
	assert_true(stage(&m, 0)->vars[1].from_build_arg);
	close_model(&m);
}

static void test_env_scope_order(void **state)
{
	struct model m;

	(void)state;
	open_model(&m,
		   "FROM x\n"
		   "ENV A=1 B=${A}b\n"
		   "ENV C=${A}c\n"
		   "ARG D=1 E=${D}e\n"
		   "ENV A=2\n"
		   "RUN use\n",
		   NULL);
	/* ENV pairs are expanded before any is set; ARGs one after the other. */
	assert_string_equal(stage(&m, 0)->vars[1].value, "b");
	assert_string_equal(stage(&m, 0)->vars[2].value, "1c");
	assert_string_equal(stage(&m, 0)->vars[4].value, "1e");
	assert_value_at(&m, 1, "A", "<unset>");
	assert_value_at(&m, 2, "A", "1");
	assert_value_at(&m, 5, "A", "2");
	assert_value_at(&m, 5, "PATH",
			"/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
	close_model(&m);
}

static void test_scope_inherited_from_base_stage(void **state)
{
	struct model m;

	(void)state;
	open_model(&m,
		   "FROM alpine AS base\n"
		   "ENV HOME_DIR=/srv\n"
		   "ARG LEVEL=1\n"
		   "ONBUILD ENV TRIGGERED=yes\n"
		   "FROM base AS child\n"
		   "RUN use\n"
		   "FROM child\n"
		   "RUN use\n"
		   "FROM scratch\n"
		   "RUN use\n",
		   NULL);
	assert_value_at(&m, 5, "HOME_DIR", "/srv");
	assert_value_at(&m, 5, "LEVEL", "1");
	assert_value_at(&m, 5, "TRIGGERED", "yes");
	assert_value_at(&m, 7, "HOME_DIR", "/srv");
	/* Only the direct base's triggers run. */
	assert_value_at(&m, 7, "TRIGGERED", "yes");
	assert_value_at(&m, 9, "HOME_DIR", "<unset>");
	assert_true(stage(&m, 1)->base_env_unknown);
	assert_false(stage(&m, 3)->base_env_unknown);
	assert_true(stage(&m, 1)->vars[0].onbuild);
	close_model(&m);
}

/*
 * A stage inherits from its own FROM chain only, never from another stage that defines the
 * same name: with few defining stages (tested one by one) and with many (the chain is walked).
 */
static void test_scope_lookup_picks_nearest_ancestor(void **state)
{
	bale_buf src = BALE_BUF_INIT;
	struct model m;
	size_t i, n;

	(void)state;
	bale_buf_adds(&src, "FROM alpine AS root\nENV X=root\n"
			    "FROM alpine AS other\nENV X=other\n"
			    "FROM root AS mid\nRUN use\n"
			    "FROM mid AS leaf\nRUN use\n");
	open_model(&m, src.ptr, NULL);
	assert_value_at(&m, 5, "X", "root");
	assert_value_at(&m, 7, "X", "root");
	close_model(&m);

	/* Thirty unrelated stages define X too, and the chain is forty stages deep. */
	for (i = 0; i < 30; i++)
		bale_buf_addf(&src, "FROM alpine AS side%zu\nENV X=side%zu\n", i, i);
	bale_buf_adds(&src, "FROM leaf AS c0\n");
	for (i = 1; i < 40; i++)
		bale_buf_addf(&src, "FROM c%zu AS c%zu\n", i - 1, i);
	bale_buf_adds(&src, "RUN use\n");
	open_model(&m, src.ptr, NULL);
	bale_dockerfile_instructions(m.df, &n);
	assert_value_at(&m, n - 1, "X", "root");
	assert_value_at(&m, 7, "X", "root");
	close_model(&m);
	bale_buf_release(&src);
}

static void test_builtin_platform_args(void **state)
{
	struct model m;
	bale_stage_opts opts = {NULL, 0, "final", "linux/arm/v7"};

	(void)state;
	open_model(&m,
		   "FROM --platform=$BUILDPLATFORM golang AS build\n"
		   "ARG TARGETARCH TARGETVARIANT\n"
		   "RUN use\n"
		   "FROM scratch AS final\n",
		   &opts);
	assert_string_equal(stage(&m, 0)->platform_value, "linux/arm/v7");
	assert_value_at(&m, 2, "TARGETARCH", "arm");
	assert_value_at(&m, 2, "TARGETVARIANT", "v7");
	assert_value_at(&m, 0, "TARGETSTAGE", "final");
	/* Not declared in the stage: not visible. */
	assert_value_at(&m, 2, "TARGETOS", "<unset>");
	close_model(&m);
}

static void test_builtin_args_reach_the_first_instruction(void **state)
{
	struct model m;
	bale_stage_opts opts = {NULL, 0, "final", "linux/arm/v7"};

	(void)state;
	/* BuildKit gives the automatic ARGs to every global ARG, the first line's too. */
	open_model(&m,
		   "ARG P=$TARGETPLATFORM\n"
		   "FROM scratch AS final\n"
		   "ARG P\n"
		   "RUN use\n",
		   &opts);
	assert_value_at(&m, 3, "P", "linux/arm/v7");
	close_model(&m);
	open_model(&m,
		   "ARG FIRST=1\n"
		   "ARG P=$TARGETPLATFORM\n"
		   "FROM scratch AS final\n"
		   "ARG P\n"
		   "RUN use\n",
		   &opts);
	assert_value_at(&m, 4, "P", "linux/arm/v7");
	close_model(&m);
}

static void test_expansion_records_used_and_undefined(void **state)
{
	struct model m;
	bale_expansion exp = BALE_EXPANSION_INIT;

	(void)state;
	open_model(&m,
		   "ARG VERSION=1\n"
		   "FROM img:${VERSION}${MISSING}\n"
		   "ARG DECLARED\n"
		   "ENV APP=/app PORTS=\"81 82\"\n"
		   "WORKDIR $APP/$DECLARED/$NOWHERE\n"
		   "COPY --chown=$USERID a $PATH /dst/$APP\n"
		   "EXPOSE 80 $PORTS\n"
		   "RUN --mount=type=cache,target=$APP/cache echo $NOT_EXPANDED\n",
		   NULL);
	assert_int_equal(bale_stages_expand_instruction(&exp, m.st, 1), 0);
	assert_int_equal(exp.nwords, 1);
	assert_string_equal(exp.words[0].field, "base");
	assert_string_equal(exp.words[0].value, "img:1");
	assert_int_equal(exp.used.n, 2);
	assert_int_equal(exp.undefined.n, 1);
	assert_string_equal(exp.undefined.v[0], "MISSING");
	bale_expansion_release(&exp);

	assert_int_equal(bale_stages_expand_instruction(&exp, m.st, 4), 0);
	assert_string_equal(exp.words[0].field, "path");
	assert_string_equal(exp.words[0].value, "/app//");
	assert_int_equal(exp.used.n, 3);
	assert_int_equal(exp.undefined.n, 1); /* DECLARED is declared, so defined */
	assert_string_equal(exp.undefined.v[0], "NOWHERE");
	bale_expansion_release(&exp);

	assert_int_equal(bale_stages_expand_instruction(&exp, m.st, 5), 0);
	assert_int_equal(exp.nwords, 4);
	assert_string_equal(exp.words[0].field, "chown");
	assert_string_equal(exp.words[2].field, "source");
	assert_int_equal(exp.words[2].item, 1);
	assert_string_equal(exp.words[3].field, "dest");
	assert_string_equal(exp.words[3].value, "/dst//app");
	assert_int_equal(exp.undefined.n, 1);
	assert_string_equal(exp.undefined.v[0], "USERID"); /* PATH is always defined */
	bale_expansion_release(&exp);

	assert_int_equal(bale_stages_expand_instruction(&exp, m.st, 6), 0);
	assert_int_equal(exp.nwords, 3); /* EXPOSE splits words */
	assert_string_equal(exp.words[2].value, "82");
	assert_int_equal(exp.words[2].item, 1);
	bale_expansion_release(&exp);

	assert_int_equal(bale_stages_expand_instruction(&exp, m.st, 7), 0);
	assert_int_equal(exp.nwords, 2); /* the mount's values, never the command */
	assert_string_equal(exp.words[1].field, "mount.target");
	assert_string_equal(exp.words[1].value, "/app/cache");
	assert_int_equal(exp.undefined.n, 0);
	bale_expansion_release(&exp);
	close_model(&m);
}

/* --- stages: graph ------------------------------------------------------------------------ */

static void test_stage_names_and_bases(void **state)
{
	struct model m;

	(void)state;
	open_model(&m,
		   "FROM golang AS Build\n"
		   "FROM build AS test\n"
		   "FROM Build\n"
		   "FROM scratch\n"
		   "FROM later AS self\n"
		   "FROM self AS later\n",
		   NULL);
	assert_string_equal(stage(&m, 0)->name, "build");
	assert_string_equal(stage(&m, 0)->name_as_written, "Build");
	assert_int_equal(stage(&m, 1)->base.kind, BALE_REF_STAGE);
	assert_int_equal(stage(&m, 1)->base.stage, 0);
	/* FROM matches stage names exactly (they are lower case): "Build" is an image. */
	assert_int_equal(stage(&m, 2)->base.kind, BALE_REF_IMAGE);
	assert_int_equal(stage(&m, 3)->base.kind, BALE_REF_SCRATCH);
	/* A later stage is not a base: an image of that name. */
	assert_int_equal(stage(&m, 4)->base.kind, BALE_REF_IMAGE);
	assert_int_equal(stage(&m, 5)->base.kind, BALE_REF_STAGE);
	assert_int_equal(stage(&m, 5)->base.stage, 4);
	assert_int_equal(bale_stages_find(m.st, "BUILD"), 0);
	assert_int_equal(bale_stages_find(m.st, "nope"), BALE_NO_STAGE);
	assert_int_equal(bale_stages_stage_of(m.st, 3), 3);
	assert_int_equal(nstages(&m), 6);
	close_model(&m);

	/* A stage naming itself in FROM builds on the image. */
	open_model(&m, "FROM app AS app\n", NULL);
	assert_int_equal(stage(&m, 0)->base.kind, BALE_REF_IMAGE);
	close_model(&m);
}

static void test_graph_edges_of_three_kinds(void **state)
{
	struct model m;
	const bale_stage *s;

	(void)state;
	open_model(&m,
		   "FROM alpine AS deps\n"
		   "FROM deps AS build\n"
		   "RUN --mount=type=bind,from=deps,target=/d \\\n"
		   "    --mount=type=cache,target=/c \\\n"
		   "    --mount=type=bind,from=busybox,target=/b make\n"
		   "FROM scratch\n"
		   "COPY --from=0 /a /a\n"
		   "COPY --from=BUILD /b /b\n"
		   "COPY --from=nginx:1.25 /c /c\n"
		   "COPY --from=scratch /d /d\n",
		   NULL);
	s = stage(&m, 1);
	assert_int_equal(s->ndeps, 1);
	assert_int_equal(s->deps[0], 0);
	assert_int_equal(s->nrefs, 2);
	assert_int_equal(s->refs[0].via, BALE_VIA_MOUNT);
	assert_int_equal(s->refs[0].kind, BALE_REF_STAGE);
	assert_int_equal(s->refs[0].mount, 0);
	assert_int_equal(s->refs[1].kind, BALE_REF_IMAGE);
	assert_int_equal(s->refs[1].mount, 2);
	s = stage(&m, 2);
	assert_int_equal(s->nrefs, 4);
	assert_int_equal(s->refs[0].kind, BALE_REF_STAGE);
	assert_int_equal(s->refs[0].stage, 0);
	assert_int_equal(s->refs[1].kind, BALE_REF_STAGE);
	assert_int_equal(s->refs[1].stage, 1);
	assert_int_equal(s->refs[2].kind, BALE_REF_IMAGE);
	assert_int_equal(s->refs[3].kind, BALE_REF_SCRATCH);
	assert_int_equal(s->ndeps, 2);
	assert_int_equal(s->deps[0], 0);
	assert_int_equal(s->deps[1], 1);
	close_model(&m);

	expect_error("FROM a\nFROM b\nCOPY --from=2 /x /x\n",
		     "Dockerfile:3:1: invalid stage index 2");
	expect_error("FROM a\nCOPY --from=-1 /x /x\n", "Dockerfile:2:1: invalid stage index -1");
}

static void test_self_and_later_stage_refs(void **state)
{
	struct model m;
	bale_stage_opts first = {NULL, 0, "first", NULL};

	(void)state;
	expect_error("FROM a AS app\nCOPY --from=app /x /x\n",
		     "Dockerfile:2:1: circular dependency detected on stage: app");
	expect_error("FROM a\nCOPY --from=0 /x /x\n",
		     "Dockerfile:2:1: circular dependency detected on stage: stage-0");
	expect_error("FROM a AS one\nCOPY --from=two /x /x\nFROM b AS two\nCOPY --from=one /y /y\n",
		     "Dockerfile:4:1: circular dependency detected on stage: one");
	/* A later stage is no edge; BuildKit fails when it builds the stage that names it. */
	open_model(&m, "FROM a AS first\nCOPY --from=second /x /x\nFROM b AS second\n", NULL);
	assert_false(stage(&m, 0)->reachable);
	assert_int_equal(stage(&m, 0)->refs[0].kind, BALE_REF_LATER_STAGE);
	assert_int_equal(stage(&m, 0)->refs[0].stage, 1);
	close_model(&m);
	expect_error_opts(
	    "FROM a AS first\nCOPY --from=second /x /x\nFROM b AS second\n"
	    "FROM c AS last\nCOPY --from=first /y /y\n",
	    NULL, BALE_EPARSE,
	    "Dockerfile:2:1: cannot copy from stage \"second\", it needs to be defined "
	    "before current stage \"first\"");

	open_model(&m,
		   "FROM a AS first\nRUN x\nFROM b AS second\nCOPY --from=first /y /y\n"
		   "FROM c AS third\nRUN --mount=from=fourth,target=/t x\nFROM d AS fourth\n",
		   &first);
	assert_int_equal(stage(&m, 2)->refs[0].kind, BALE_REF_LATER_STAGE);
	assert_int_equal(stage(&m, 2)->refs[0].stage, 3);
	assert_int_equal(stage(&m, 2)->ndeps, 0);
	close_model(&m);
}

static void test_reachability_and_target(void **state)
{
	struct model m;
	bale_stage_opts test = {NULL, 0, "TEST", NULL};
	bale_stage_opts unknown = {NULL, 0, "prod", NULL};
	const char *src = "FROM golang AS build\n"
			  "FROM build AS test\n"
			  "FROM alpine AS tools\n"
			  "FROM scratch AS final\n"
			  "COPY --from=build /app /app\n"
			  "FROM alpine AS docs\n";

	(void)state;
	open_model(&m, src, NULL);
	assert_int_equal(bale_stages_target(m.st), 4);
	assert_true(stage(&m, 4)->reachable);
	assert_false(stage(&m, 0)->reachable);
	assert_false(stage(&m, 3)->reachable);
	close_model(&m);

	open_model(&m, src, &test);
	assert_int_equal(bale_stages_target(m.st), 1);
	assert_true(stage(&m, 0)->reachable);
	assert_true(stage(&m, 1)->reachable);
	assert_false(stage(&m, 2)->reachable);
	assert_false(stage(&m, 3)->reachable);
	assert_false(stage(&m, 4)->reachable);
	close_model(&m);

	expect_error_opts(src, &unknown, BALE_EINVAL,
			  "Dockerfile: target stage \"prod\" could not be found");
}

static void test_onbuild_copy_is_an_edge_of_the_child(void **state)
{
	struct model m;
	const bale_stage *s;

	(void)state;
	open_model(&m,
		   "FROM alpine AS assets\n"
		   "FROM alpine AS base\n"
		   "ONBUILD COPY --from=assets /a /a\n"
		   "FROM base\n",
		   NULL);
	assert_int_equal(stage(&m, 1)->nrefs, 0);
	s = stage(&m, 2);
	assert_int_equal(s->nrefs, 1);
	assert_true(s->refs[0].onbuild);
	assert_int_equal(s->refs[0].instruction, 2);
	assert_int_equal(s->ndeps, 2);
	assert_true(stage(&m, 0)->reachable);
	close_model(&m);
}

static void test_unreachable_stage_keeps_unexpandable_word(void **state)
{
	struct model m;
	bale_stage_opts first = {NULL, 0, "first", NULL};
	const char *src = "FROM a AS first\nFROM b AS second\nENV X=\"${UNSET:?must be set}\"\n";

	(void)state;
	open_model(&m, src, &first);
	assert_string_equal(stage(&m, 1)->vars[0].value, "\"${UNSET:?must be set}\"");
	close_model(&m);
	expect_error(src, "Dockerfile:3:1: failed to process \"\\\"${UNSET:?must be set}\\\"\": "
			  "UNSET: must be set");
}

/* --- JSON writer -------------------------------------------------------------------------- */

static char *escaped(const char *s, size_t len)
{
	bale_buf b = BALE_BUF_INIT;

	assert_int_equal(bale_json_escape(&b, s, len), 0);
	return bale_buf_detach(&b, NULL);
}

static void assert_escape(const char *in, size_t len, const char *want)
{
	char *got = escaped(in, len);

	assert_string_equal(got, want);
	free(got);
}

static void test_json_escaping(void **state)
{
	(void)state;
	assert_escape("plain text", 10, "plain text");
	assert_escape("q\"b\\s/", 6, "q\\\"b\\\\s/");
	assert_escape("\b\f\n\r\t", 5, "\\b\\f\\n\\r\\t");
	assert_escape("\x01\x1f\x7f", 3, "\\u0001\\u001f\\u007f");
	assert_escape("a\0b", 3, "a\\u0000b");
	assert_escape("h\xc3\xa9 \xe2\x82\xac \xf0\x9f\x90\xb3", 12,
		      "h\xc3\xa9 \xe2\x82\xac \xf0\x9f\x90\xb3");
	assert_escape("\xe2\x80\xa8|\xe2\x80\xa9", 7, "\\u2028|\\u2029");
	/* Invalid UTF-8 never reaches the output: one U+FFFD per bad byte. */
	assert_escape("\xff", 1, "\xef\xbf\xbd");
	assert_escape("\xc0\x80", 2, "\xef\xbf\xbd\xef\xbf\xbd");		  /* overlong */
	assert_escape("\xed\xa0\x80", 3, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"); /* surrogate */
	assert_escape("x\xe2\x82", 3, "x\xef\xbf\xbd\xef\xbf\xbd");		  /* truncated */
	assert_escape("\xf4\x90\x80\x80", 4,
		      "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"); /* > U+10FFFF */
}

/* Every special byte at every offset of a longer string: the 8-byte fast path must stop. */
static void test_json_escaping_every_position(void **state)
{
	static const struct {
		const char *in, *out;
	} specials[] = {
	    {"\"", "\\\""},	      {"\\", "\\\\"},		{"\x01", "\\u0001"},
	    {"\x1f", "\\u001f"},      {"\x7f", "\\u007f"},	{"\n", "\\n"},
	    {"\xc3\xa9", "\xc3\xa9"}, {"\xff", "\xef\xbf\xbd"}, {"\xe2\x80\xa8", "\\u2028"}};

	(void)state;
	for (size_t k = 0; k < BALE_ARRAY_SIZE(specials); k++) {
		for (size_t pos = 0; pos < 24; pos++) {
			char in[64], want[64];
			size_t n = 0, w = 0;

			for (size_t i = 0; i < 24; i++) {
				if (i == pos) {
					size_t l = strlen(specials[k].in),
					       m = strlen(specials[k].out);

					memcpy(in + n, specials[k].in, l);
					memcpy(want + w, specials[k].out, m);
					n += l;
					w += m;
				}
				in[n++] = (char)('a' + i % 26);
				want[w++] = (char)('a' + i % 26);
			}
			want[w] = '\0';
			assert_escape(in, n, want);
		}
	}
}

static void test_json_writer_layout(void **state)
{
	bale_buf b = BALE_BUF_INIT;
	bale_json j;

	(void)state;
	bale_json_init(&j, &b, false);
	bale_json_object_begin(&j);
	bale_json_key(&j, "a");
	bale_json_int(&j, -5);
	bale_json_key(&j, "list");
	bale_json_array_begin(&j);
	bale_json_string(&j, "x");
	bale_json_null(&j);
	bale_json_bool(&j, true);
	bale_json_uint(&j, 18446744073709551615ull);
	bale_json_array_end(&j);
	bale_json_key(&j, "empty");
	bale_json_object_begin(&j);
	bale_json_object_end(&j);
	bale_json_key(&j, "none");
	bale_json_array_begin(&j);
	bale_json_array_end(&j);
	bale_json_key(&j, "s");
	bale_json_string(&j, NULL);
	bale_json_object_end(&j);
	assert_int_equal(bale_json_finish(&j), 0);
	assert_string_equal(b.ptr, "{\"a\":-5,\"list\":[\"x\",null,true,18446744073709551615],"
				   "\"empty\":{},\"none\":[],\"s\":null}");
	bale_buf_reset(&b);

	bale_json_init(&j, &b, true);
	bale_json_object_begin(&j);
	bale_json_key(&j, "k");
	bale_json_array_begin(&j);
	bale_json_int(&j, 1);
	bale_json_object_begin(&j);
	bale_json_key(&j, "x");
	bale_json_bool(&j, false);
	bale_json_object_end(&j);
	bale_json_array_end(&j);
	bale_json_key(&j, "e");
	bale_json_array_begin(&j);
	bale_json_array_end(&j);
	bale_json_object_end(&j);
	assert_int_equal(bale_json_finish(&j), 0);
	assert_string_equal(b.ptr, "{\n  \"k\": [\n    1,\n    {\n      \"x\": false\n    }\n  ],\n"
				   "  \"e\": []\n}\n");
	bale_buf_release(&b);
}

struct collect {
	bale_buf buf;
	size_t calls;
	size_t fail_after; /* 0: never */
};

static int collect(void *ctx, const char *data, size_t len)
{
	struct collect *c = ctx;

	c->calls++;
	if (c->fail_after && c->calls >= c->fail_after)
		return bale_error_set(BALE_EIO, "sink refused");
	assert_true(len > 0);
	return bale_buf_add(&c->buf, data, len);
}

/* The streamed document is the buffered one, handed over in pieces; a sink error stops it. */
static void test_json_document_streams_in_pieces(void **state)
{
	struct model m;
	bale_buf whole = BALE_BUF_INIT;
	struct collect c = {BALE_BUF_INIT, 0, 0};
	bale_buf src = BALE_BUF_INIT;

	(void)state;
	for (int i = 0; i < 400; i++)
		bale_buf_addf(&src,
			      "FROM alpine AS s%d\nRUN --mount=type=cache,target=/c%d echo %d\n", i,
			      i, i);
	open_model(&m, src.ptr, NULL);
	assert_int_equal(bale_dockerfile_to_json(&whole, m.df, m.st, BALE_JSON_PRETTY), 0);
	assert_int_equal(bale_dockerfile_write_json(collect, &c, m.df, m.st, BALE_JSON_PRETTY), 0);
	assert_true(c.calls > 2);
	assert_int_equal(c.buf.len, whole.len);
	assert_memory_equal(c.buf.ptr, whole.ptr, whole.len);
	bale_buf_release(&c.buf);

	c.calls = 0;
	c.fail_after = 2;
	assert_int_equal(bale_dockerfile_write_json(collect, &c, m.df, m.st, 0), BALE_EIO);
	assert_string_equal(bale_error_last()->message, "sink refused");
	assert_int_equal(c.calls, 2);
	bale_buf_release(&c.buf);
	bale_buf_release(&whole);
	bale_buf_release(&src);
	close_model(&m);
}

static void test_json_writer_misuse(void **state)
{
	bale_buf b = BALE_BUF_INIT;
	bale_json j;

	(void)state;
	bale_json_init(&j, &b, false);
	bale_json_array_begin(&j);
	bale_json_key(&j, "k");
	assert_int_equal(bale_json_finish(&j), BALE_ERROR);
	bale_buf_reset(&b);

	bale_json_init(&j, &b, false);
	bale_json_object_begin(&j);
	bale_json_string(&j, "value without key");
	assert_int_equal(bale_json_finish(&j), BALE_ERROR);
	bale_buf_reset(&b);

	bale_json_init(&j, &b, false);
	bale_json_object_begin(&j);
	assert_int_equal(bale_json_finish(&j), BALE_ERROR); /* unclosed */
	bale_buf_reset(&b);

	/* A capped buffer's failure surfaces at the end, and nothing partial past the cap. */
	bale_buf_release(&b);
	bale_buf_init(&b, 8);
	bale_json_init(&j, &b, false);
	bale_json_string(&j, "this is longer than eight bytes");
	assert_int_equal(bale_json_finish(&j), BALE_ELIMIT);
	assert_true(b.len <= 8);
	bale_buf_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_bool_flag_forms),
	    cmocka_unit_test(test_unknown_flag_and_suggestion),
	    cmocka_unit_test(test_flag_repeats_and_missing_values),
	    cmocka_unit_test(test_instructions_that_ignore_flags),
	    cmocka_unit_test(test_from),
	    cmocka_unit_test(test_run_network_security),
	    cmocka_unit_test(test_mount_bind),
	    cmocka_unit_test(test_mount_cache),
	    cmocka_unit_test(test_mount_tmpfs),
	    cmocka_unit_test(test_mount_secret),
	    cmocka_unit_test(test_mount_ssh),
	    cmocka_unit_test(test_mount_syntax_errors),
	    cmocka_unit_test(test_run_device),
	    cmocka_unit_test(test_copy_flags),
	    cmocka_unit_test(test_add_flags),
	    cmocka_unit_test(test_copy_heredoc_sources),
	    cmocka_unit_test(test_healthcheck),
	    cmocka_unit_test(test_argument_counts),
	    cmocka_unit_test(test_names_and_shell),
	    cmocka_unit_test(test_onbuild),
	    cmocka_unit_test(test_unknown_instruction_and_order),
	    cmocka_unit_test(test_global_args_and_build_args),
	    cmocka_unit_test(test_stage_arg_redeclared),
	    cmocka_unit_test(test_env_scope_order),
	    cmocka_unit_test(test_scope_inherited_from_base_stage),
	    cmocka_unit_test(test_scope_lookup_picks_nearest_ancestor),
	    cmocka_unit_test(test_builtin_platform_args),
	    cmocka_unit_test(test_builtin_args_reach_the_first_instruction),
	    cmocka_unit_test(test_expansion_records_used_and_undefined),
	    cmocka_unit_test(test_stage_names_and_bases),
	    cmocka_unit_test(test_graph_edges_of_three_kinds),
	    cmocka_unit_test(test_self_and_later_stage_refs),
	    cmocka_unit_test(test_reachability_and_target),
	    cmocka_unit_test(test_onbuild_copy_is_an_edge_of_the_child),
	    cmocka_unit_test(test_unreachable_stage_keeps_unexpandable_word),
	    cmocka_unit_test(test_json_escaping),
	    cmocka_unit_test(test_json_escaping_every_position),
	    cmocka_unit_test(test_json_writer_layout),
	    cmocka_unit_test(test_json_document_streams_in_pieces),
	    cmocka_unit_test(test_json_writer_misuse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
