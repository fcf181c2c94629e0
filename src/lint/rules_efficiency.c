/*
 * bale's rules for small images that build fast (BL1xxx). They know the stages: what the final
 * image carries is judged in the stage that ships (the target) and the stages it is built FROM,
 * whose layers it inherits; builder stages are judged for build speed only. Commands are read
 * through the shell model, so a package named by a known ARG or ENV value is seen as that
 * package, and an install undone in the same RUN (apt-get purge, apk del of a --virtual group)
 * leaves nothing behind.
 */
#include "lint/internal.h"
#include "image/reference.h"

#include <stdio.h>
#include <string.h>

/* --- helpers shared by the rules of this file --------------------------------------------- */

/* True when the RUN mounts a cache at a target holding `needle` ("/var/lib/apt", ".npm"). */
static bool has_cache_mount(const bale_command *run, const char *needle)
{
	for (size_t m = 0; run && m < run->run.nmounts; m++) {
		const bale_mount *mt = &run->run.mounts[m];

		if (mt->type == BALE_MOUNT_CACHE && mt->target && strstr(mt->target, needle))
			return true;
	}
	return false;
}

static bool subcommand_is(const bale_cmd *cmd, const char *sub)
{
	return cmd->subcommand && lint_str_eq(cmd->subcommand, sub);
}

/* The package managers these rules know; the first byte of the tool's name picks the compares. */
enum pkg_tool { PT_NONE, PT_APT, PT_APK, PT_RPM, PT_ZYPPER };

static enum pkg_tool pkg_tool(const bale_cmd *cmd)
{
	switch (cmd->name[0]) {
	case 'a':
		if (lint_cmd_is_any(cmd, "apt-get", "apt", "aptitude"))
			return PT_APT;
		return lint_cmd_is(cmd, "apk") ? PT_APK : PT_NONE;
	case 'd':
	case 'm':
	case 't':
	case 'y':
		return lint_cmd_is_any(cmd, "dnf", "yum", "microdnf", "tdnf") ? PT_RPM : PT_NONE;
	case 'z':
		return lint_cmd_is(cmd, "zypper") ? PT_ZYPPER : PT_NONE;
	default:
		return PT_NONE;
	}
}

static bool is_apt(const bale_cmd *cmd)
{
	return pkg_tool(cmd) == PT_APT;
}

static bool eqn(const char *a, size_t alen, const char *b)
{
	return alen && a[0] == b[0] && strlen(b) == alen && memcmp(a, b, alen) == 0;
}

static bool ends_with(const char *s, size_t len, const char *suffix)
{
	size_t n = strlen(suffix);

	return len > n && memcmp(s + len - n, suffix, n) == 0;
}

static bool starts_with(const char *s, size_t len, const char *prefix)
{
	size_t n = strlen(prefix);

	return len >= n && memcmp(s, prefix, n) == 0;
}

/* ===========================================================================================
 * BL1001 build-tools-in-final-stage
 * =========================================================================================== */

/*
 * Compilers, build systems, SDKs and headers: what a build needs and a service does not. By
 * first letter, so a package name is compared with the few that share it (each list ends with
 * a NULL entry), not with all of them: every package a shipping stage installs is asked.
 */
static const struct lstr *const build_tools[26] = {
    ['a' - 'a'] = LSTR_LIST(LSTR("alpine-sdk"), LSTR("autoconf"), LSTR("automake"), LSTR("ant")),
    ['b' - 'a'] =
	LSTR_LIST(LSTR("build-essential"), LSTR("build-base"), LSTR("bison"), LSTR("binutils")),
    ['c' - 'a'] = LSTR_LIST(LSTR("cpp"), LSTR("clang"), LSTR("cmake"), LSTR("cargo")),
    ['d' - 'a'] = LSTR_LIST(LSTR("default-jdk"), LSTR("default-jdk-headless"), LSTR("devtoolset")),
    ['f' - 'a'] = LSTR_LIST(LSTR("flex")),
    ['g' - 'a'] = LSTR_LIST(LSTR("gcc"), LSTR("g++"), LSTR("gcc-c++"), LSTR("golang"),
			    LSTR("golang-go"), LSTR("go"), LSTR("gradle"), LSTR("gfortran")),
    ['l' - 'a'] = LSTR_LIST(LSTR("llvm"), LSTR("libtool"), LSTR("linux-headers"), LSTR("libc-dev")),
    ['m' - 'a'] = LSTR_LIST(LSTR("make"), LSTR("maven"), LSTR("musl-dev"), LSTR("meson")),
    ['n' - 'a'] = LSTR_LIST(LSTR("ninja-build"), LSTR("nasm")),
    ['p' - 'a'] = LSTR_LIST(LSTR("pkg-config"), LSTR("pkgconf")),
    ['r' - 'a'] = LSTR_LIST(LSTR("rust"), LSTR("rustc")),
    ['s' - 'a'] = LSTR_LIST(LSTR("scons")),
    ['y' - 'a'] = LSTR_LIST(LSTR("yasm")),
};

static bool is_build_tool(const char *name, size_t len)
{
	/* gcc-12, g++-12, clang-16, llvm-16, golang-1.21, golang-1.21-go */
	static const struct lstr versioned[] = {LSTR("gcc-"),  LSTR("g++-"),	LSTR("clang-"),
						LSTR("llvm-"), LSTR("golang-"), LSTR("rust-")};
	const char *colon = len ? memchr(name, ':', len) : NULL;

	/* apt's name:arch */
	if (colon)
		len = (size_t)(colon - name);
	if (!len)
		return false;
	for (const struct lstr *e = lstr_list_of(build_tools, name[0]); e && e->s; e++)
		if (e->len == len && memcmp(e->s, name, len) == 0)
			return true;
	if (ends_with(name, len, "-dev") || ends_with(name, len, "-devel") ||
	    ends_with(name, len, "-headers") || starts_with(name, len, "linux-headers-"))
		return true;
	for (size_t p = 0; p < BALE_ARRAY_SIZE(versioned); p++) {
		size_t n = versioned[p].len;

		if (len > n && memcmp(name, versioned[p].s, n) == 0 && name[n] >= '0' &&
		    name[n] <= '9')
			return true;
	}
	/* openjdk-17-jdk, openjdk-17-jdk-headless, openjdk17-jdk (apk), java-17-openjdk-devel */
	if (starts_with(name, len, "openjdk") &&
	    (ends_with(name, len, "-jdk") || ends_with(name, len, "-jdk-headless")))
		return true;
	return false;
}

static bool is_install(const bale_cmd *cmd)
{
	/* Each case asks for a subcommand: most commands have none to read the tool for. */
	if (!cmd->subcommand)
		return false;
	switch (pkg_tool(cmd)) {
	case PT_APT:
		return subcommand_is(cmd, "install") || subcommand_is(cmd, "build-dep");
	case PT_APK:
		return subcommand_is(cmd, "add");
	case PT_RPM:
	case PT_ZYPPER:
		return subcommand_is(cmd, "install");
	default:
		return false;
	}
}

static bool is_removal(const bale_cmd *cmd)
{
	if (!cmd->subcommand)
		return false;
	switch (pkg_tool(cmd)) {
	case PT_APT:
		return subcommand_is(cmd, "remove") || subcommand_is(cmd, "purge");
	case PT_APK:
		return subcommand_is(cmd, "del");
	case PT_RPM:
	case PT_ZYPPER:
		return subcommand_is(cmd, "remove") || subcommand_is(cmd, "erase");
	default:
		return false;
	}
}

/*
 * True when the RUN removes everything it installed: `apt-mark auto` then `apt-get purge
 * --auto-remove` or `autoremove` (the official images' pattern), or a removal whose operands
 * bale cannot read (a variable it does not know is most likely the list just installed).
 */
static bool removes_all(const bale_cmd *cmds, size_t n)
{
	bool marked_auto = false;

	for (size_t c = 0; c < n; c++) {
		const bale_cmd *cmd = &cmds[c];

		if (lint_cmd_is(cmd, "apt-mark") && cmd->nwords > cmd->arg0 + 1 &&
		    strcmp(cmd->words[cmd->arg0 + 1].value, "auto") == 0)
			marked_auto = true;
		if (marked_auto && is_apt(cmd) &&
		    (subcommand_is(cmd, "autoremove") ||
		     (is_removal(cmd) && lint_has_flag(cmd, "--auto-remove", "--autoremove"))))
			return true;
		if (is_removal(cmd))
			for (size_t o = 0; o < cmd->noperands; o++)
				if (cmd->operands[o]->flags & BALE_WORD_DYNAMIC)
					return true;
	}
	return false;
}

/* True when a command after `from` removes package `name` (or apk's virtual group `virt`). */
static bool removed_later(const bale_cmd *cmds, size_t n, size_t from, const char *name, size_t len,
			  const char *virt)
{
	for (size_t c = from + 1; c < n; c++) {
		if (!is_removal(&cmds[c]))
			continue;
		for (size_t o = 0; o < cmds[c].noperands; o++) {
			const char *v = cmds[c].operands[o]->value;

			if (eqn(name, len, v) || (virt && strcmp(virt, v) == 0))
				return true;
		}
	}
	return false;
}

/* The package managers is_install() knows. */
static const char *const pkg_tools[] = {"apt-get", "apt",      "aptitude", "apk",    "dnf",
					"yum",	   "microdnf", "tdnf",	   "zypper", NULL};

static void check_build_tools(struct lint_ctx *ctx, const bale_rule *rule)
{
	struct lint_walk installs;
	/* One buffer for all the lists of names: a malloc at most per file, not per command. */
	bale_buf names = BALE_BUF_INIT;

	lint_walk_init(ctx, &installs, pkg_tools);
	for (size_t i = lint_first_of(ctx, BALE_INSTR_RUN); i < ctx->ninstrs;
	     i = lint_next_of(ctx, i)) {
		const bale_cmd *cmds;
		size_t n;

		/* Only a RUN that runs a package manager can install a build tool. */
		if (!lint_ships(ctx, i) || !lint_walk_reaches(ctx, &installs, i))
			continue;
		cmds = lint_run_commands(ctx, i, false, &n);
		if (!n || removes_all(cmds, n))
			continue;
		for (size_t c = 0; c < n; c++) {
			const bale_cmd *cmd = &cmds[c];
			const char *virt = NULL;
			const bale_cmd_word *at = NULL;
			size_t count = 0;

			if (!is_install(cmd))
				continue;
			/* A failed buffer starts again, as a command's own would. */
			if (names.err)
				bale_buf_release(&names);
			bale_buf_reset(&names);
			if (lint_cmd_is(cmd, "apk"))
				virt = bale_cmd_flag_value(cmd, "--virtual", "-t", NULL);
			if (subcommand_is(cmd, "build-dep")) {
				at = &cmd->words[cmd->subcommand_word];
				bale_buf_adds(&names, "the build dependencies of ");
				for (size_t o = 0; o < cmd->noperands; o++) {
					bale_buf_adds(&names, o ? ", '" : "'");
					bale_buf_adds(&names, cmd->operands[o]->value);
					bale_buf_adds(&names, "'");
				}
				count = 1;
			}
			for (size_t p = 0; p < cmd->npkgs; p++) {
				const bale_pkg *pkg = &cmd->pkgs[p];

				if ((pkg->word && (pkg->word->flags & BALE_WORD_DYNAMIC)) ||
				    pkg->source != BALE_PKG_REGISTRY ||
				    !is_build_tool(pkg->name, pkg->name_len) ||
				    removed_later(cmds, n, c, pkg->name, pkg->name_len, virt))
					continue;
				if (!at)
					at = pkg->word;
				/* Past the buffer's first growth these append inline. */
				if (count < 6) {
					if (count)
						bale_buf_add_fast(&names, ", ", 2);
					bale_buf_add_fast(&names, pkg->name, pkg->name_len);
				} else if (count == 6)
					bale_buf_add_fast(&names, ", ...", 5);
				count++;
			}
			if (count && !names.err)
				lint_report(
				    ctx, rule, i, at ? at->line : cmd->line,
				    at ? at->col : cmd->col,
				    "%s installs %s in a stage that ships: build tools and "
				    "-dev headers add size and hand an attacker a compiler; "
				    "build in a separate stage and COPY --from it only the "
				    "result, or remove them in this same RUN (a later RUN "
				    "cannot shrink this layer)",
				    cmd->name, names.ptr);
		}
	}
	bale_buf_release(&names);
}

const struct lint_rule lint_rule_BL1001 = {
    .meta = {.id = "BL1001",
	     .name = "build-tools-in-final-stage",
	     .severity = BALE_SEV_WARNING,
	     .summary = "Build toolchains or -dev packages are installed in the stage that ships",
	     .fix = "install them in a build stage and COPY --from it only what the build "
		    "produces, or remove them in the same RUN that installs them",
	     .category = "efficiency"},
    .check = check_build_tools,
    .needs_stages = true,
};

/* ===========================================================================================
 * BL1002 full-size-base-image
 * =========================================================================================== */

enum family_style {
	SLIM_INFIX,  /* python:3.12-bookworm -> 3.12-slim-bookworm */
	SLIM_APPEND, /* node:20-bookworm -> 20-bookworm-slim, debian:12 -> 12-slim */
	ALPINE,	     /* php:8.3-fpm -> 8.3-fpm-alpine */
	MINIMAL,     /* rockylinux:9 -> 9-minimal */
	JRE,	     /* eclipse-temurin:21-jdk -> 21-jre */
	TOOLCHAIN,   /* golang, rust, gcc, maven: build in it, ship elsewhere */
};

struct family {
	const char *domain; /* NULL: Docker Hub */
	const char *path;   /* "python" (Docker Hub's library/ implied) */
	enum family_style style;
	const char *note; /* why, or (TOOLCHAIN) what to ship on instead */
};

#define UBI_NOTE "ubi-minimal has microdnf and no Python; ubi-micro is smaller still"

static const struct family families[] = {
    {NULL, "python", SLIM_INFIX,
     "the full image carries compilers and -dev headers (about 1 GB against 150 MB)"},
    {NULL, "ruby", SLIM_INFIX,
     "the full image carries compilers and -dev headers (about 1 GB against 200 MB)"},
    {NULL, "perl", SLIM_INFIX, "the full image carries compilers and -dev headers"},
    {NULL, "node", SLIM_APPEND,
     "the full image carries compilers and -dev headers (about 1 GB against 200 MB)"},
    {NULL, "debian", SLIM_APPEND,
     "the slim variant drops documentation, locales and man pages (about 40 MB)"},
    {NULL, "erlang", SLIM_APPEND, "the full image carries compilers and -dev headers"},
    {NULL, "elixir", SLIM_APPEND, "the full image carries compilers and -dev headers"},
    {NULL, "php", ALPINE, "the Debian image is several times the size of the Alpine one"},
    {NULL, "rockylinux", MINIMAL, "the minimal variant has microdnf and no Python or docs"},
    {NULL, "rockylinux/rockylinux", MINIMAL,
     "the minimal variant has microdnf and no Python or docs"},
    {NULL, "almalinux", MINIMAL, "the minimal variant has microdnf and no Python or docs"},
    {NULL, "eclipse-temurin", JRE, "a JDK carries the compiler and tools a service never runs"},
    {NULL, "openjdk", JRE,
     "the openjdk images are deprecated and this one is a JDK; eclipse-temurin has JREs"},
    {NULL, "golang", TOOLCHAIN,
     "build the binary in a golang stage (CGO_ENABLED=0) and ship it on "
     "gcr.io/distroless/static-debian12 or scratch"},
    {NULL, "rust", TOOLCHAIN,
     "build in a rust stage and ship the binary on gcr.io/distroless/cc-debian12 (or "
     "debian:12-slim)"},
    {NULL, "gcc", TOOLCHAIN,
     "build in a gcc stage and ship the result on gcr.io/distroless/cc-debian12 (or "
     "debian:12-slim)"},
    {NULL, "maven", TOOLCHAIN,
     "build the jar in a maven stage and ship it on eclipse-temurin:<version>-jre (or "
     "gcr.io/distroless/java21-debian12)"},
    {NULL, "gradle", TOOLCHAIN,
     "build the jar in a gradle stage and ship it on eclipse-temurin:<version>-jre (or "
     "gcr.io/distroless/java21-debian12)"},
    {NULL, "buildpack-deps", TOOLCHAIN,
     "buildpack-deps is made for building (compilers, -dev headers, VCS tools); ship on "
     "debian:12-slim"},
    {"mcr.microsoft.com", "dotnet/sdk", TOOLCHAIN,
     "publish in an sdk stage and ship on mcr.microsoft.com/dotnet/aspnet or "
     "dotnet/runtime (alpine and chiseled variants are smaller still)"},
    {"registry.access.redhat.com", "ubi8", MINIMAL, UBI_NOTE},
    {"registry.access.redhat.com", "ubi9", MINIMAL, UBI_NOTE},
    {"registry.access.redhat.com", "ubi8/ubi", MINIMAL, UBI_NOTE},
    {"registry.access.redhat.com", "ubi9/ubi", MINIMAL, UBI_NOTE},
    {"registry.redhat.io", "ubi8/ubi", MINIMAL, UBI_NOTE},
    {"registry.redhat.io", "ubi9/ubi", MINIMAL, UBI_NOTE},
};

static const struct family *find_family(const bale_image_ref *ref)
{
	const char *path = ref->path;
	size_t plen = ref->path_len;
	bool hub = bale_image_ref_is_docker_hub(ref);

	if (hub && starts_with(path, plen, "library/")) {
		path += 8;
		plen -= 8;
	}
	for (size_t f = 0; f < BALE_ARRAY_SIZE(families); f++) {
		const struct family *fam = &families[f];

		if (fam->domain ? (!ref->domain || !eqn(ref->domain, ref->domain_len, fam->domain))
				: !hub)
			continue;
		if (eqn(path, plen, fam->path))
			return fam;
	}
	return NULL;
}

static bool tag_has(const char *tag, size_t len, const char *word)
{
	size_t n = strlen(word);

	for (size_t i = 0; i + n <= len; i++)
		if (memcmp(tag + i, word, n) == 0)
			return true;
	return false;
}

/* Debian codenames that end a tag ("3.12-bookworm"); `*codename` points at the '-'. */
static bool split_codename(const char *tag, size_t len, size_t *head)
{
	static const char *const names[] = {"bookworm", "bullseye", "buster",
					    "trixie",	"stretch",  NULL};

	for (const char *const *c = names; *c; c++) {
		size_t n = strlen(*c);

		if (len == n && memcmp(tag, *c, n) == 0) {
			*head = 0;
			return true;
		}
		if (len > n + 1 && tag[len - n - 1] == '-' && memcmp(tag + len - n, *c, n) == 0) {
			*head = len - n - 1;
			return true;
		}
	}
	return false;
}

/*
 * Writes the smaller variant of `ref` (a full-size image of `fam`, parsed from `full`) to out
 * as "name:tag", or returns false when the image already is one (slim, alpine, minimal, a JRE).
 */
static bool smaller_variant(char *out, size_t size, const char *full, const bale_image_ref *ref,
			    const struct family *fam)
{
	const char *tag = ref->tag ? ref->tag : "latest";
	size_t tlen = ref->tag ? ref->tag_len : 6, head;
	bool latest = tlen == 6 && memcmp(tag, "latest", 6) == 0;
	int nlen = (int)(ref->tag      ? (size_t)(ref->tag - 1 - full)
			 : ref->digest ? (size_t)(ref->digest - 1 - full)
				       : strlen(full));

	/* A digest alone says nothing about the variant it is. */
	if ((!ref->tag && ref->digest) || tag_has(tag, tlen, "windowsservercore") ||
	    tag_has(tag, tlen, "nanoserver"))
		return false;
	switch (fam->style) {
	case SLIM_INFIX:
	case SLIM_APPEND:
		if (tag_has(tag, tlen, "slim") || tag_has(tag, tlen, "alpine"))
			return false;
		if (latest)
			snprintf(out, size, "%.*s:%s", nlen, full,
				 strcmp(fam->path, "debian") == 0 ? "stable-slim" : "slim");
		else if (fam->style == SLIM_INFIX && split_codename(tag, tlen, &head))
			snprintf(out, size, "%.*s:%.*s%sslim-%.*s", nlen, full, (int)head, tag,
				 head ? "-" : "", (int)(tlen - head - (head ? 1 : 0)),
				 tag + head + (head ? 1 : 0));
		else
			snprintf(out, size, "%.*s:%.*s-slim", nlen, full, (int)tlen, tag);
		return true;
	case ALPINE:
		/* php's apache variants have no Alpine build. */
		if (tag_has(tag, tlen, "alpine") || tag_has(tag, tlen, "apache"))
			return false;
		if (latest)
			snprintf(out, size, "%.*s:alpine", nlen, full);
		else if (split_codename(tag, tlen, &head))
			snprintf(out, size, "%.*s:%.*s%salpine", nlen, full, (int)head, tag,
				 head ? "-" : "");
		else
			snprintf(out, size, "%.*s:%.*s-alpine", nlen, full, (int)tlen, tag);
		return true;
	case MINIMAL:
		if (tag_has(tag, tlen, "minimal") || tag_has(tag, tlen, "micro"))
			return false;
		if (strncmp(fam->path, "ubi", 3) == 0) {
			snprintf(out, size, "%.*s/ubi%c/ubi-minimal:%.*s", (int)ref->domain_len,
				 ref->domain, fam->path[3], (int)tlen, tag);
		} else {
			snprintf(out, size, "%.*s:%.*s-minimal", nlen, full, latest ? 9 : (int)tlen,
				 latest ? "<version>" : tag);
		}
		return true;
	case JRE: {
		const char *dash = memchr(tag, '-', tlen);
		size_t jdk = tlen;

		if (tag_has(tag, tlen, "jre"))
			return false;
		for (size_t i = 0; i + 3 <= tlen && jdk == tlen; i++)
			if (memcmp(tag + i, "jdk", 3) == 0)
				jdk = i;
		if (strcmp(fam->path, "openjdk") == 0) {
			size_t digits = 0;

			while (digits < tlen && tag[digits] >= '0' && tag[digits] <= '9')
				digits++;
			snprintf(out, size, "eclipse-temurin:%.*s-jre", digits ? (int)digits : 9,
				 digits ? tag : "<version>");
		} else if (latest) {
			snprintf(out, size, "%.*s:<version>-jre", nlen, full);
		} else if (jdk < tlen) {
			snprintf(out, size, "%.*s:%.*sjre%.*s", nlen, full, (int)jdk, tag,
				 (int)(tlen - jdk - 3), tag + jdk + 3);
		} else if (dash) {
			snprintf(out, size, "%.*s:%.*s-jre%.*s", nlen, full, (int)(dash - tag), tag,
				 (int)(tlen - (size_t)(dash - tag)), dash);
		} else {
			snprintf(out, size, "%.*s:%.*s-jre", nlen, full, (int)tlen, tag);
		}
		return true;
	}
	case TOOLCHAIN:
		out[0] = '\0';
		return true;
	}
	return false;
}

/* The stage whose FROM names the image the target ends up on, or BALE_NO_STAGE. */
static size_t shipped_base_stage(const struct lint_ctx *ctx)
{
	size_t s = ctx->target;

	for (int hops = 0; s != BALE_NO_STAGE && s < ctx->nstages && hops < 1000; hops++) {
		const bale_stage *st = &ctx->stage_list[s];

		if (st->base.kind == BALE_REF_IMAGE)
			return s;
		if (st->base.kind != BALE_REF_STAGE)
			return BALE_NO_STAGE;
		s = st->base.stage;
	}
	return BALE_NO_STAGE;
}

static void check_full_size_base(struct lint_ctx *ctx, const bale_rule *rule)
{
	size_t s = shipped_base_stage(ctx);
	const struct family *fam;
	const bale_image_ref *ref;
	char variant[256];

	if (s == BALE_NO_STAGE || !(ref = lint_base_ref(ctx, s)) || !(fam = find_family(ref)) ||
	    !smaller_variant(variant, sizeof(variant), ctx->stage_list[s].base.name, ref, fam))
		return;
	if (fam->style == TOOLCHAIN)
		lint_report(ctx, rule, ctx->stage_list[s].instruction, 0, 0,
			    "the final image is built on '%s', a toolchain image: the compiler and "
			    "SDK ship with the program; %s",
			    ctx->stage_list[s].base.name, fam->note);
	else
		lint_report(
		    ctx, rule, ctx->stage_list[s].instruction, 0, 0,
		    "the final image is built on '%s', the full-size variant: use '%s'%s%s%s",
		    ctx->stage_list[s].base.name, variant,
		    fam->style == SLIM_INFIX || fam->style == SLIM_APPEND
			? strcmp(fam->path, "debian") == 0 ? "" : " (or an -alpine tag)"
			: "",
		    fam->note ? "; " : "", fam->note ? fam->note : "");
}

const struct lint_rule lint_rule_BL1002 = {
    .meta = {.id = "BL1002",
	     .name = "full-size-base-image",
	     .severity = BALE_SEV_WARNING,
	     .summary = "The final stage is built on a full-size image where a slim, alpine, "
			"distroless or scratch variant of the same family exists",
	     .fix = "use the variant the message names (python:3.12-slim, node:20-slim, "
		    "debian:12-slim), or build in a toolchain stage and ship on distroless or "
		    "scratch",
	     .category = "efficiency"},
    .check = check_full_size_base,
    .needs_stages = true,
};

/* ===========================================================================================
 * BL1003 cache-hostile-copy-order
 * =========================================================================================== */

/* What a dependency install is called when `cmd` is one that reads a manifest, else NULL. */
static const char *dependency_install(const bale_cmd *cmd)
{
	const char *sub = cmd->subcommand, *w1;

	/* Every command of every RUN is asked: most run none of the tools below, as the first
	 * byte of the name shows. */
	switch (cmd->name[0]) {
	case 'b': /* bundle */
	case 'c': /* cargo, composer */
	case 'd': /* dotnet */
	case 'g': /* go */
	case 'm': /* mvn, mix */
	case 'n': /* npm */
	case 'p': /* pip, pnpm, poetry, pipenv */
	case 'u': /* uv */
	case 'y': /* yarn */
		break;
	default:
		return NULL;
	}
	w1 = cmd->nwords > cmd->arg0 + 1 ? cmd->words[cmd->arg0 + 1].value : "";
	if (lint_cmd_is(cmd, "pip") && sub && strcmp(sub, "install") == 0 &&
	    bale_cmd_flag_value(cmd, "-r", "--requirement", NULL))
		return "pip install -r";
	if (lint_cmd_is(cmd, "npm") && sub &&
	    (strcmp(sub, "ci") == 0 || (strcmp(sub, "install") == 0 && cmd->noperands == 0)))
		return strcmp(sub, "ci") == 0 ? "npm ci" : "npm install";
	if (lint_cmd_is(cmd, "yarn") && sub && strcmp(sub, "install") == 0 && cmd->noperands == 0)
		return "yarn install";
	if (lint_cmd_is(cmd, "pnpm") && sub &&
	    ((strcmp(sub, "install") == 0 && cmd->noperands == 0) || strcmp(sub, "fetch") == 0))
		return "pnpm install";
	if (lint_cmd_is(cmd, "go") && sub && strcmp(sub, "mod") == 0 && cmd->noperands > 0 &&
	    strcmp(cmd->operands[0]->value, "download") == 0)
		return "go mod download";
	if (lint_cmd_is(cmd, "mvn"))
		for (size_t o = 0; o < cmd->noperands; o++)
			if (strcmp(cmd->operands[o]->value, "dependency:go-offline") == 0 ||
			    strcmp(cmd->operands[o]->value, "dependency:resolve") == 0)
				return "mvn dependency:go-offline";
	if (lint_cmd_is(cmd, "bundle") && sub && strcmp(sub, "install") == 0)
		return "bundle install";
	if (lint_cmd_is(cmd, "cargo") && sub && strcmp(sub, "fetch") == 0)
		return "cargo fetch";
	if (lint_cmd_is(cmd, "composer") && sub && strcmp(sub, "install") == 0)
		return "composer install";
	if ((lint_cmd_is(cmd, "poetry") && strcmp(w1, "install") == 0) ||
	    (lint_cmd_is(cmd, "pipenv") && (strcmp(w1, "install") == 0 || strcmp(w1, "sync") == 0)))
		return lint_cmd_is(cmd, "poetry") ? "poetry install" : "pipenv install";
	if (lint_cmd_is(cmd, "uv") && strcmp(w1, "sync") == 0)
		return "uv sync";
	if (lint_cmd_is(cmd, "dotnet") && strcmp(w1, "restore") == 0)
		return "dotnet restore";
	if (lint_cmd_is(cmd, "mix") && strcmp(w1, "deps.get") == 0)
		return "mix deps.get";
	return NULL;
}

/* Dependency manifests, lock files and package-manager settings: copying them first is right. */
static bool is_manifest(const char *base, size_t len)
{
	static const char *const names[] = {"Pipfile",
					    "Pipfile.lock",
					    "pyproject.toml",
					    "poetry.lock",
					    "setup.py",
					    "setup.cfg",
					    "uv.lock",
					    "package.json",
					    "package-lock.json",
					    "npm-shrinkwrap.json",
					    "yarn.lock",
					    ".yarnrc",
					    ".yarnrc.yml",
					    ".yarn",
					    "pnpm-lock.yaml",
					    "pnpm-workspace.yaml",
					    ".npmrc",
					    "go.mod",
					    "go.sum",
					    "go.work",
					    "go.work.sum",
					    "pom.xml",
					    "build.gradle",
					    "build.gradle.kts",
					    "settings.gradle",
					    "settings.gradle.kts",
					    "gradle.properties",
					    "gradle",
					    "gradlew",
					    ".mvn",
					    "mvnw",
					    "Gemfile",
					    "Gemfile.lock",
					    "Cargo.toml",
					    "Cargo.lock",
					    "composer.json",
					    "composer.lock",
					    "NuGet.config",
					    "nuget.config",
					    "mix.exs",
					    "mix.lock",
					    "Makefile",
					    "Dockerfile",
					    "LICENSE",
					    "README",
					    "VERSION",
					    "Procfile",
					    NULL};

	for (const char *const *n = names; *n; n++)
		if (eqn(base, len, *n))
			return true;
	/* requirements*.txt, and the requirements/ directory of split files (base.txt, prod.txt) */
	if (starts_with(base, len, "requirements") || starts_with(base, len, "constraints"))
		return true;
	/* What an install reads besides the manifest: vendored modules, patch-package patches,
	 * the Prisma schema that npm's postinstall generates a client from. */
	if (eqn(base, len, "vendor") || eqn(base, len, "patches") || eqn(base, len, "prisma"))
		return true;
	return ends_with(base, len, ".gemspec") || ends_with(base, len, ".csproj") ||
	       ends_with(base, len, ".fsproj") || ends_with(base, len, ".sln") ||
	       ends_with(base, len, ".lock");
}

/* Source files whose edits must not re-run the dependency install. */
static bool is_source_file(const char *base, size_t len)
{
	static const char *const exts[] = {".go",  ".py",  ".js",   ".mjs", ".cjs", ".ts",  ".tsx",
					   ".jsx", ".rb",  ".java", ".kt",  ".rs",  ".php", ".cs",
					   ".ex",  ".exs", ".c",    ".cc",  ".cpp", ".h",   NULL};

	for (const char *const *e = exts; *e; e++)
		if (ends_with(base, len, *e))
			return true;
	return false;
}

/*
 * True when COPY/ADD source `src` brings in the source tree rather than a manifest: the whole
 * context (".", "./", "*"), a directory ("src", "app/"), or source files ("*.go", "main.py").
 */
static bool copies_source(const char *src)
{
	size_t len = strlen(src);
	const char *base;
	size_t blen;

	while (len > 2 && src[0] == '.' && src[1] == '/') {
		src += 2;
		len -= 2;
	}
	if (len == 0 || eqn(src, len, ".") || eqn(src, len, "./") || eqn(src, len, "*") ||
	    eqn(src, len, "/") || eqn(src, len, "**"))
		return true;
	if (src[len - 1] == '/') {
		while (len > 0 && src[len - 1] == '/')
			len--;
		base = src + len;
		while (base > src && base[-1] != '/')
			base--;
		return !is_manifest(base, (size_t)(src + len - base));
	}
	base = src + len;
	while (base > src && base[-1] != '/')
		base--;
	blen = (size_t)(src + len - base);
	if (is_manifest(base, blen))
		return false;
	if (is_source_file(base, blen))
		return true;
	/* No extension and not a known file: a directory such as src, app, cmd, lib. */
	return memchr(base, '.', blen) == NULL && memchr(base, '*', blen) == NULL;
}

/* The first COPY/ADD from the context in [start, end) that brings in source, or SIZE_MAX. */
static size_t first_source_copy(const struct lint_ctx *ctx, size_t start, size_t end,
				const char **what)
{
	for (size_t i = start; i < end && i < ctx->ninstrs; i++) {
		const bale_command *c = lint_command(ctx, i);

		if (!c || (c->kind != BALE_INSTR_COPY && c->kind != BALE_INSTR_ADD) || c->copy.from)
			continue;
		for (size_t s = 0; s < c->copy.nsources; s++) {
			const char *src = c->copy.sources[s];

			if (lint_has_url(src) || strncmp(src, "git@", 4) == 0)
				continue;
			if (copies_source(src)) {
				*what = src;
				return i;
			}
		}
	}
	return SIZE_MAX;
}

static void check_copy_order(struct lint_ctx *ctx, const bale_rule *rule)
{
	for (size_t i = lint_first_of(ctx, BALE_INSTR_RUN); i < ctx->ninstrs;
	     i = lint_next_of(ctx, i)) {
		size_t stage = lint_stage_of(ctx, i), n, copy = SIZE_MAX;
		const char *what = NULL;
		const bale_cmd *cmds;

		if (stage == BALE_NO_STAGE)
			continue;
		cmds = lint_run_commands(ctx, i, false, &n);
		for (size_t c = 0; c < n; c++) {
			const char *install = dependency_install(&cmds[c]);

			if (!install)
				continue;
			/* This stage up to the RUN, then the stages it is built FROM. */
			copy = first_source_copy(ctx, ctx->stage_list[stage].instruction, i, &what);
			for (size_t s = stage, hops = 0; copy == SIZE_MAX && hops < 1000; hops++) {
				if (ctx->stage_list[s].base.kind != BALE_REF_STAGE)
					break;
				s = ctx->stage_list[s].base.stage;
				copy = first_source_copy(ctx, ctx->stage_list[s].instruction,
							 ctx->stage_list[s].end, &what);
			}
			if (copy == SIZE_MAX)
				break;
			lint_report(ctx, rule, i, cmds[c].line, cmds[c].col,
				    "'%s' runs after '%s %s' (line %u) copied the source: every "
				    "change to the code re-runs the install; copy only the "
				    "dependency manifests before it and the rest after",
				    install, bale_instr_kind_name(ctx->instrs[copy].kind), what,
				    ctx->instrs[copy].start_line);
			break;
		}
	}
}

const struct lint_rule lint_rule_BL1003 = {
    .meta = {.id = "BL1003",
	     .name = "cache-hostile-copy-order",
	     .severity = BALE_SEV_INFO,
	     .summary = "The source is copied before the dependency install, so every code change "
			"re-runs it",
	     .fix = "COPY the manifest and lock file (requirements.txt, package*.json, go.mod "
		    "go.sum, ...) first, install, then COPY the rest",
	     .category = "efficiency"},
    .check = check_copy_order,
    .needs_stages = true,
};

/* ===========================================================================================
 * BL1004 package-cache-in-final-stage
 * =========================================================================================== */

/* True when a command of the RUN removes a path that holds one of `needles`. */
static bool removes_path(const bale_cmd *cmds, size_t n, const char *const *needles)
{
	for (size_t c = 0; c < n; c++) {
		if (!lint_cmd_is(&cmds[c], "rm"))
			continue;
		for (size_t o = 0; o < cmds[c].noperands; o++)
			for (const char *const *nd = needles; *nd; nd++)
				if (strstr(cmds[c].operands[o]->value, *nd))
					return true;
	}
	return false;
}

struct cache_kind {
	const char *what;	     /* "npm's cache" */
	const char *where;	     /* the default directory */
	const char *mount;	     /* a cache mount target holding this is a fix */
	const char *const *rm;	     /* rm of a path holding one of these is a fix */
	const char *clean_tool;	     /* the tool whose command cleans it: */
	const char *clean1, *clean2; /* its subcommand and first operand (npm cache clean) */
	const char *clean_alt;	     /* or another subcommand (composer clearcache) */
	const char *env;	     /* a variable pointing the cache elsewhere */
};

static const struct cache_kind npm_cache = {"npm's download cache",
					    "/root/.npm",
					    ".npm",
					    (const char *const[]){".npm", "_cacache", NULL},
					    "npm",
					    "cache",
					    "clean",
					    NULL,
					    "npm_config_cache"};
static const struct cache_kind gem_cache = {"the downloaded .gem files",
					    "$GEM_HOME/cache",
					    "bundle",
					    (const char *const[]){"/cache", ".gem", NULL},
					    NULL,
					    NULL,
					    NULL,
					    NULL,
					    NULL};
static const struct cache_kind composer_cache = {
    "Composer's cache",
    "/root/.composer/cache",
    "composer",
    (const char *const[]){"composer/cache", ".composer", ".cache/composer", NULL},
    "composer",
    "clear-cache",
    NULL,
    "clearcache",
    "COMPOSER_CACHE_DIR"};

static const struct cache_kind *cache_of(const bale_cmd *cmd)
{
	const char *sub = cmd->subcommand;

	if (!sub)
		return NULL;
	if (lint_cmd_is(cmd, "npm") && (strcmp(sub, "install") == 0 || strcmp(sub, "ci") == 0))
		return bale_cmd_flag_value(cmd, "--cache", NULL) ? NULL : &npm_cache;
	if ((lint_cmd_is(cmd, "gem") || lint_cmd_is(cmd, "bundle")) && strcmp(sub, "install") == 0)
		return &gem_cache;
	if (lint_cmd_is(cmd, "composer") &&
	    (strcmp(sub, "install") == 0 || strcmp(sub, "require") == 0 ||
	     strcmp(sub, "update") == 0))
		return lint_has_flag(cmd, "--no-cache") ? NULL : &composer_cache;
	return NULL;
}

static bool cleans_cache(const bale_cmd *cmds, size_t n, const struct cache_kind *k)
{
	if (removes_path(cmds, n, k->rm))
		return true;
	for (size_t c = 0; k->clean_tool && c < n; c++) {
		const bale_cmd *cmd = &cmds[c];
		const char *first = cmd->noperands ? cmd->operands[0]->value : "";

		if (!lint_cmd_is(cmd, k->clean_tool) || !cmd->subcommand)
			continue;
		/* `npm cache clean --force`; `composer clear-cache` (or clearcache) */
		if (k->clean2
			? strcmp(cmd->subcommand, k->clean1) == 0 && strcmp(first, k->clean2) == 0
			: strcmp(cmd->subcommand, k->clean1) == 0)
			return true;
		if (k->clean_alt && strcmp(cmd->subcommand, k->clean_alt) == 0)
			return true;
	}
	return false;
}

static void check_package_cache(struct lint_ctx *ctx, const bale_rule *rule)
{
	for (size_t i = lint_first_of(ctx, BALE_INSTR_RUN); i < ctx->ninstrs;
	     i = lint_next_of(ctx, i)) {
		const bale_command *run;
		const bale_cmd *cmds;
		size_t n;

		if (!lint_ships(ctx, i) || !(run = lint_run_view(ctx, i, false)))
			continue;
		cmds = lint_run_commands(ctx, i, false, &n);
		for (size_t c = 0; c < n; c++) {
			const struct cache_kind *k = cache_of(&cmds[c]);

			if (!k || has_cache_mount(run, k->mount) || cleans_cache(cmds, n, k) ||
			    (k->env && (lint_var(ctx, i, k->env, strlen(k->env)) ||
					bale_cmd_assignment(&cmds[c], k->env))))
				continue;
			lint_report(
			    ctx, rule, i, cmds[c].line, cmds[c].col,
			    "'%s %s' leaves %s (%s) in a layer that ships: mount it with "
			    "RUN --mount=type=cache,target=%s, or clean it in this same RUN",
			    cmds[c].name, cmds[c].subcommand, k->what, k->where,
			    k == &gem_cache ? "/usr/local/bundle/cache" : k->where);
			break;
		}
	}
}

const struct lint_rule lint_rule_BL1004 = {
    .meta = {.id = "BL1004",
	     .name = "package-cache-in-final-stage",
	     .severity = BALE_SEV_INFO,
	     .summary = "npm, gem/bundler or Composer leave their download cache in a layer that "
			"ships",
	     .fix = "use RUN --mount=type=cache on the cache directory (the cache then speeds up "
		    "the next build too), or clean it in the same RUN",
	     .category = "efficiency"},
    .check = check_package_cache,
    .needs_stages = true,
};

/* ===========================================================================================
 * BL1005 apt-upgrade-in-image
 * =========================================================================================== */

static void apt_upgrade(struct lint_ctx *ctx, const bale_rule *rule, size_t i, const bale_cmd *cmd,
			void *arg)
{
	(void)arg;
	/* The RUNs of the stages that ship (an ONBUILD RUN runs in some other image). */
	if (ctx->instr_info[i].onbuild || !lint_ships(ctx, i) || !cmd->subcommand)
		return;
	/* apt-get dist-upgrade is hadolint's DL3005. */
	if (!(subcommand_is(cmd, "upgrade") || subcommand_is(cmd, "full-upgrade") ||
	      subcommand_is(cmd, "safe-upgrade") ||
	      (subcommand_is(cmd, "dist-upgrade") && !lint_cmd_is(cmd, "apt-get"))))
		return;
	lint_report(ctx, rule, i, cmd->line, cmd->col,
		    "'%s %s' in a stage that ships: the upgraded packages are stored again in "
		    "this layer on top of the base image's copies, and the result depends on "
		    "the day of the build; rebuild on a fresh base instead (docker build "
		    "--pull, or a newer tag or digest)",
		    cmd->name, cmd->subcommand);
}

static void check_apt_upgrade(struct lint_ctx *ctx, const bale_rule *rule)
{
	/* The tools is_apt() knows. */
	static const char *const apt[] = {"apt-get", "apt", "aptitude", NULL};

	lint_each_command(ctx, rule, apt, apt_upgrade, NULL);
}

const struct lint_rule lint_rule_BL1005 = {
    .meta = {.id = "BL1005",
	     .name = "apt-upgrade-in-image",
	     .severity = BALE_SEV_INFO,
	     .summary = "apt-get upgrade in a stage that ships",
	     .fix = "rebuild on a fresh base image (docker build --pull, or a newer tag or digest) "
		    "instead of upgrading in a layer",
	     .category = "efficiency"},
    .check = check_apt_upgrade,
    .needs_stages = true,
};

/* ===========================================================================================
 * BL1006 apt-update-alone
 * =========================================================================================== */

static bool is_update(const bale_cmd *cmd)
{
	enum pkg_tool t;

	/* The subcommand first: most commands are no update, whatever their tool. */
	if (!subcommand_is(cmd, "update"))
		return false;
	t = pkg_tool(cmd);
	return t == PT_APT || t == PT_APK;
}

/* Commands that do nothing to the system: they may sit beside a lone update. */
static bool is_inert(const bale_cmd *cmd)
{
	return cmd->nwords == 0 || lint_cmd_is_any(cmd, "set", "true", ":", "echo", "printf");
}

static void check_update_alone(struct lint_ctx *ctx, const bale_rule *rule)
{
	for (size_t i = lint_first_run(ctx); i < ctx->ninstrs; i = lint_next_run(ctx, i)) {
		const bale_cmd *cmds, *update = NULL;
		bool alone = true;
		size_t n;

		cmds = lint_run_commands(ctx, i, true, &n);
		for (size_t c = 0; c < n && alone; c++) {
			if (is_update(&cmds[c]))
				update = update ? update : &cmds[c];
			else if (!is_inert(&cmds[c]))
				alone = false;
		}
		if (!update || !alone)
			continue;
		lint_report(ctx, rule, i, update->line, update->col,
			    "'%s update' runs alone in its RUN: the build cache keeps this layer, "
			    "so a later install reads stale package lists (and fails when the "
			    "mirror has moved on); update and install in the same RUN",
			    update->name);
	}
}

const struct lint_rule lint_rule_BL1006 = {
    .meta = {.id = "BL1006",
	     .name = "apt-update-alone",
	     .severity = BALE_SEV_WARNING,
	     .summary = "apt-get update alone in its RUN",
	     .fix = "write `RUN apt-get update && apt-get install -y ...` in one RUN",
	     .category = "efficiency"},
    .check = check_update_alone,
};
