/*
 * The JSON document of `bale parse` (the contract is docs/parse-json.md): the file, its
 * directives, every instruction with its typed view, the global ARGs and the stages with their
 * graph. Written in one pass into a bale_buf with the util JSON writer; field names are
 * snake_case and stable: add fields, never rename or remove them without raising "version".
 */
#include "dockerfile/instructions.h"

#include <string.h>

#define DOCUMENT_VERSION 1

struct doc {
	bale_json j;
	const bale_dockerfile *df;
	const bale_stages *st;
	const bale_command *cmds;
	size_t ncmds;
	const bale_instruction *instrs;
};

static const char *kind_name(bale_instr_kind kind)
{
	static const char *const names[] = {
	    "unknown", "add",	     "arg",	    "cmd",    "copy",	    "entrypoint", "env",
	    "expose",  "from",	     "healthcheck", "label",  "maintainer", "onbuild",	  "run",
	    "shell",   "stopsignal", "user",	    "volume", "workdir"};

	return (size_t)kind < BALE_ARRAY_SIZE(names) ? names[kind] : "unknown";
}

static void key_str(struct doc *d, const char *key, const char *value)
{
	bale_json_key(&d->j, key);
	bale_json_string(&d->j, value);
}

static void key_uint(struct doc *d, const char *key, uint64_t value)
{
	bale_json_key(&d->j, key);
	bale_json_uint(&d->j, value);
}

static void key_bool(struct doc *d, const char *key, bool value)
{
	bale_json_key(&d->j, key);
	bale_json_bool(&d->j, value);
}

/* An index, or null for BALE_NO_STAGE. */
static void key_index(struct doc *d, const char *key, size_t value)
{
	bale_json_key(&d->j, key);
	if (value == BALE_NO_STAGE)
		bale_json_null(&d->j);
	else
		bale_json_uint(&d->j, value);
}

static void key_strings(struct doc *d, const char *key, const char *const *v, size_t n)
{
	bale_json_key(&d->j, key);
	bale_json_array_begin(&d->j);
	for (size_t i = 0; i < n; i++)
		bale_json_string(&d->j, v[i]);
	bale_json_array_end(&d->j);
}

static void write_mount(struct doc *d, const bale_mount *m)
{
	bale_json *j = &d->j;

	bale_json_object_begin(j);
	key_str(d, "type", df_mount_type_name(m->type));
	key_str(d, "raw", m->raw);
	key_str(d, "from", m->from);
	key_str(d, "source", m->source);
	key_str(d, "target", m->target);
	key_bool(d, "target_defaulted", m->target_defaulted);
	key_str(d, "id", m->id);
	key_bool(d, "id_defaulted", m->id_defaulted);
	key_str(d, "env", m->env);
	key_bool(d, "readonly", m->readonly);
	key_bool(d, "required", m->required);
	key_str(d, "sharing",
		m->type == BALE_MOUNT_CACHE ? df_mount_sharing_name(m->sharing) : NULL);
	bale_json_key(j, "mode");
	if (m->has_mode)
		bale_json_uint(j, m->mode);
	else
		bale_json_null(j);
	bale_json_key(j, "uid");
	if (m->has_uid)
		bale_json_uint(j, m->uid);
	else
		bale_json_null(j);
	bale_json_key(j, "gid");
	if (m->has_gid)
		bale_json_uint(j, m->gid);
	else
		bale_json_null(j);
	bale_json_key(j, "size");
	if (m->has_size)
		bale_json_int(j, m->size);
	else
		bale_json_null(j);
	key_bool(d, "unresolved", m->unresolved);
	bale_json_key(j, "fields");
	bale_json_array_begin(j);
	for (size_t i = 0; i < m->nfields; i++) {
		bale_json_object_begin(j);
		key_str(d, "key", m->fields[i].key);
		key_str(d, "value", m->fields[i].value);
		bale_json_object_end(j);
	}
	bale_json_array_end(j);
	bale_json_object_end(j);
}

static void write_typed(struct doc *d, const bale_command *c);

static void write_typed_body(struct doc *d, const bale_command *c)
{
	bale_json *j = &d->j;

	bale_json_key(j, "flags");
	bale_json_array_begin(j);
	for (size_t i = 0; i < c->nflags; i++) {
		bale_json_object_begin(j);
		key_str(d, "name", c->flags[i].name);
		key_str(d, "value", c->flags[i].value);
		bale_json_object_end(j);
	}
	bale_json_array_end(j);

	switch (c->kind) {
	case BALE_INSTR_FROM:
		key_str(d, "image", c->from.image);
		key_str(d, "stage_name", c->from.name);
		key_str(d, "stage_name_as_written", c->from.name_as_written);
		key_str(d, "platform", c->from.platform);
		break;
	case BALE_INSTR_RUN:
		bale_json_key(j, "mounts");
		bale_json_array_begin(j);
		for (size_t i = 0; i < c->run.nmounts; i++)
			write_mount(d, &c->run.mounts[i]);
		bale_json_array_end(j);
		bale_json_key(j, "devices");
		bale_json_array_begin(j);
		for (size_t i = 0; i < c->run.ndevices; i++) {
			bale_json_object_begin(j);
			key_str(d, "name", c->run.devices[i].name);
			key_bool(d, "required", c->run.devices[i].required);
			bale_json_object_end(j);
		}
		bale_json_array_end(j);
		key_str(d, "network", c->run.network);
		key_str(d, "security", c->run.security);
		/* fall through */
	case BALE_INSTR_CMD:
	case BALE_INSTR_ENTRYPOINT:
	case BALE_INSTR_SHELL:
		key_strings(d, "command", c->cmdline.args, c->cmdline.nargs);
		key_bool(d, "prepend_shell", c->cmdline.prepend_shell);
		break;
	case BALE_INSTR_COPY:
	case BALE_INSTR_ADD:
		key_strings(d, "sources", c->copy.sources, c->copy.nsources);
		bale_json_key(j, "source_contents");
		bale_json_array_begin(j);
		for (size_t i = 0; i < c->copy.ncontents; i++) {
			bale_json_object_begin(j);
			key_str(d, "name", c->copy.contents[i].name);
			key_str(d, "data", c->copy.contents[i].data);
			key_bool(d, "expand", c->copy.contents[i].expand);
			bale_json_object_end(j);
		}
		bale_json_array_end(j);
		key_str(d, "dest", c->copy.dest);
		if (c->kind == BALE_INSTR_COPY)
			key_str(d, "from", c->copy.from);
		key_str(d, "chown", c->copy.chown);
		key_str(d, "chmod", c->copy.chmod);
		key_bool(d, "link", c->copy.link);
		key_bool(d, "parents", c->copy.parents);
		key_strings(d, "exclude", c->copy.excludes, c->copy.nexcludes);
		if (c->kind == BALE_INSTR_ADD) {
			key_bool(d, "keep_git_dir", c->copy.keep_git_dir);
			key_str(d, "checksum", c->copy.checksum);
			bale_json_key(j, "unpack");
			if (c->copy.unpack < 0)
				bale_json_null(j);
			else
				bale_json_bool(j, c->copy.unpack);
		}
		break;
	case BALE_INSTR_ENV:
	case BALE_INSTR_LABEL:
		bale_json_key(j, "pairs");
		bale_json_array_begin(j);
		for (size_t i = 0; i < c->pairs.n; i++) {
			bale_json_object_begin(j);
			key_str(d, "key", c->pairs.v[i].key);
			key_str(d, "value", c->pairs.v[i].value);
			key_bool(d, "legacy", c->pairs.v[i].legacy);
			bale_json_object_end(j);
		}
		bale_json_array_end(j);
		break;
	case BALE_INSTR_ARG:
		bale_json_key(j, "args");
		bale_json_array_begin(j);
		for (size_t i = 0; i < c->pairs.n; i++) {
			bale_json_object_begin(j);
			key_str(d, "name", c->pairs.v[i].key);
			key_str(d, "default", c->pairs.v[i].value);
			bale_json_object_end(j);
		}
		bale_json_array_end(j);
		break;
	case BALE_INSTR_HEALTHCHECK: {
		static const char *const types[] = {"NONE", "CMD", "CMD-SHELL"};

		key_str(d, "type", types[c->health.type]);
		key_strings(d, "test", c->health.test, c->health.ntest);
		bale_json_key(j, "interval_ns");
		bale_json_int(j, c->health.interval);
		bale_json_key(j, "timeout_ns");
		bale_json_int(j, c->health.timeout);
		bale_json_key(j, "start_period_ns");
		bale_json_int(j, c->health.start_period);
		bale_json_key(j, "start_interval_ns");
		bale_json_int(j, c->health.start_interval);
		bale_json_key(j, "retries");
		bale_json_int(j, c->health.retries);
		break;
	}
	case BALE_INSTR_EXPOSE:
		key_strings(d, "ports", c->list.v, c->list.n);
		break;
	case BALE_INSTR_VOLUME:
		key_strings(d, "paths", c->list.v, c->list.n);
		break;
	case BALE_INSTR_USER:
		key_str(d, "user", c->value);
		break;
	case BALE_INSTR_WORKDIR:
		key_str(d, "path", c->value);
		break;
	case BALE_INSTR_STOPSIGNAL:
		key_str(d, "signal", c->value);
		break;
	case BALE_INSTR_MAINTAINER:
		key_str(d, "maintainer", c->value);
		break;
	case BALE_INSTR_ONBUILD:
		key_str(d, "expression", c->onbuild.expression);
		/* The trigger's typed view is in the instruction's "trigger" object. */
		key_str(d, "trigger_error", c->onbuild.error);
		break;
	default:
		break;
	}
}

static void write_typed(struct doc *d, const bale_command *c)
{
	if (!c) {
		bale_json_null(&d->j);
		return;
	}
	bale_json_object_begin(&d->j);
	write_typed_body(d, c);
	bale_json_object_end(&d->j);
}

static void write_heredocs(struct doc *d, const bale_instruction *ins)
{
	bale_json *j = &d->j;

	bale_json_key(j, "heredocs");
	bale_json_array_begin(j);
	for (size_t i = 0; i < ins->nheredocs; i++) {
		const bale_heredoc *h = &ins->heredocs[i];

		bale_json_object_begin(j);
		key_str(d, "name", h->name);
		key_str(d, "content", h->content);
		key_bool(d, "expand", h->expand);
		key_bool(d, "chomp", h->chomp);
		key_uint(d, "fd", h->fd);
		key_uint(d, "start_line", h->start_line);
		key_uint(d, "end_line", h->end_line);
		bale_json_object_end(j);
	}
	bale_json_array_end(j);
}

/* One instruction; `index` is BALE_NO_STAGE for an ONBUILD trigger. */
static void write_instruction(struct doc *d, const bale_instruction *ins, size_t index,
			      const bale_command *typed)
{
	bale_json *j = &d->j;

	bale_json_object_begin(j);
	if (index != BALE_NO_STAGE)
		key_uint(d, "index", index);
	key_str(d, "kind", kind_name(ins->kind));
	key_str(d, "name", ins->name);
	key_str(d, "keyword", ins->keyword);
	key_uint(d, "start_line", ins->start_line);
	key_uint(d, "start_col", ins->start_col);
	key_uint(d, "end_line", ins->end_line);
	key_uint(d, "start_offset", ins->start_offset);
	key_uint(d, "end_offset", ins->end_offset);
	key_str(d, "original", ins->original);
	key_strings(d, "flags", ins->flags, ins->nflags);
	key_strings(d, "args", ins->args, ins->nargs);
	key_bool(d, "json", ins->json);
	write_heredocs(d, ins);
	key_strings(d, "comments", ins->comments, ins->ncomments);
	key_bool(d, "empty_continuation", ins->empty_continuation);
	if (index != BALE_NO_STAGE && d->st)
		key_index(d, "stage", bale_stages_stage_of(d->st, index));
	bale_json_key(j, "trigger");
	if (ins->sub)
		write_instruction(
		    d, ins->sub, BALE_NO_STAGE,
		    typed && typed->kind == BALE_INSTR_ONBUILD ? typed->onbuild.trigger : NULL);
	else
		bale_json_null(j);
	bale_json_key(j, "typed");
	write_typed(d, typed);
	bale_json_object_end(j);
}

static const char *ref_kind_name(bale_ref_kind kind)
{
	switch (kind) {
	case BALE_REF_IMAGE:
		return "image";
	case BALE_REF_SCRATCH:
		return "scratch";
	case BALE_REF_STAGE:
		return "stage";
	case BALE_REF_LATER_STAGE:
		return "later_stage";
	}
	return "image";
}

static void write_ref(struct doc *d, const bale_stage_ref *ref, bool with_via)
{
	static const char *const vias[] = {"from", "copy", "mount"};

	bale_json_object_begin(&d->j);
	key_str(d, "kind", ref_kind_name(ref->kind));
	if (with_via) {
		key_str(d, "via", vias[ref->via]);
		key_bool(d, "onbuild", ref->onbuild);
	}
	key_str(d, "name", ref->name);
	key_index(d, "stage", ref->stage);
	key_uint(d, "instruction", ref->instruction);
	if (with_via)
		key_index(d, "mount", ref->via == BALE_VIA_MOUNT ? ref->mount : BALE_NO_STAGE);
	bale_json_object_end(&d->j);
}

static void write_var(struct doc *d, const bale_var *v, bool global)
{
	bale_json_object_begin(&d->j);
	if (!global)
		key_str(d, "kind", v->is_env ? "env" : "arg");
	key_str(d, "name", v->name);
	key_str(d, "value", v->value);
	key_str(d, "word", v->word);
	key_uint(d, "instruction", v->instruction);
	key_bool(d, "from_build_arg", v->from_build_arg);
	if (!global) {
		key_bool(d, "from_global", v->from_global);
		key_bool(d, "onbuild", v->onbuild);
	}
	bale_json_object_end(&d->j);
}

static void write_stages(struct doc *d)
{
	bale_json *j = &d->j;
	const bale_stage *stages;
	const bale_var *globals;
	size_t n, nglobals, target = bale_stages_target(d->st);

	globals = bale_stages_global_args(d->st, &nglobals);
	bale_json_key(j, "global_args");
	bale_json_array_begin(j);
	for (size_t i = 0; i < nglobals; i++)
		write_var(d, &globals[i], true);
	bale_json_array_end(j);

	stages = bale_stages_list(d->st, &n);
	bale_json_key(j, "stages");
	bale_json_array_begin(j);
	for (size_t s = 0; s < n; s++) {
		const bale_stage *stage = &stages[s];

		bale_json_object_begin(j);
		key_uint(d, "index", stage->index);
		key_str(d, "name", stage->name);
		key_str(d, "name_as_written", stage->name_as_written);
		key_uint(d, "instruction", stage->instruction);
		key_uint(d, "end_instruction", stage->end);
		key_str(d, "base_word", stage->base_word);
		bale_json_key(j, "base");
		write_ref(d, &stage->base, false);
		key_str(d, "platform", stage->platform);
		key_str(d, "platform_value", stage->platform_value);
		bale_json_key(j, "refs");
		bale_json_array_begin(j);
		for (size_t r = 0; r < stage->nrefs; r++)
			write_ref(d, &stage->refs[r], true);
		bale_json_array_end(j);
		bale_json_key(j, "depends_on");
		bale_json_array_begin(j);
		for (size_t k = 0; k < stage->ndeps; k++)
			bale_json_uint(j, stage->deps[k]);
		bale_json_array_end(j);
		bale_json_key(j, "vars");
		bale_json_array_begin(j);
		for (size_t v = 0; v < stage->nvars; v++)
			write_var(d, &stage->vars[v], false);
		bale_json_array_end(j);
		key_bool(d, "reachable", stage->reachable);
		key_bool(d, "is_target", s == target);
		key_bool(d, "base_env_unknown", stage->base_env_unknown);
		bale_json_object_end(j);
	}
	bale_json_array_end(j);

	bale_json_key(j, "target");
	bale_json_object_begin(j);
	key_uint(d, "stage", target);
	key_str(d, "name", stages[target].name);
	bale_json_key(j, "reachable");
	bale_json_array_begin(j);
	for (size_t s = 0; s < n; s++)
		if (stages[s].reachable)
			bale_json_uint(j, s);
	bale_json_array_end(j);
	bale_json_object_end(j);
}

static int emit(struct doc *d, const bale_dockerfile *df, const bale_stages *stages)
{
	const bale_directive *dirs;
	size_t ndirs, ninstrs, len;
	char escape[2] = {(char)bale_dockerfile_escape(df), '\0'};

	d->df = df;
	d->st = stages;
	d->instrs = bale_dockerfile_instructions(df, &ninstrs);
	if (stages)
		d->cmds = bale_stages_commands(stages, &d->ncmds);
	bale_dockerfile_source(df, &len);

	bale_json_object_begin(&d->j);
	key_uint(d, "version", DOCUMENT_VERSION);
	key_str(d, "file", bale_dockerfile_filename(df));
	key_uint(d, "size", len);
	key_str(d, "escape", escape);
	dirs = bale_dockerfile_directives(df, &ndirs);
	bale_json_key(&d->j, "directives");
	bale_json_array_begin(&d->j);
	for (size_t i = 0; i < ndirs; i++) {
		bale_json_object_begin(&d->j);
		key_str(d, "name", dirs[i].name);
		key_str(d, "value", dirs[i].value);
		key_uint(d, "line", dirs[i].line);
		bale_json_object_end(&d->j);
	}
	bale_json_array_end(&d->j);
	bale_json_key(&d->j, "instructions");
	bale_json_array_begin(&d->j);
	for (size_t i = 0; i < ninstrs && !d->j.err; i++)
		write_instruction(d, &d->instrs[i], i, i < d->ncmds ? &d->cmds[i] : NULL);
	bale_json_array_end(&d->j);
	if (stages)
		write_stages(d);
	bale_json_object_end(&d->j);
	return bale_json_finish(&d->j);
}

int bale_dockerfile_to_json(bale_buf *out, const bale_dockerfile *df, const bale_stages *stages,
			    unsigned flags)
{
	struct doc d = {0};
	size_t len;

	bale_json_init(&d.j, out, flags & BALE_JSON_PRETTY);
	/* Saves the first regrowths of the buffer; the document is about ten times the source. */
	bale_dockerfile_source(df, &len);
	bale_buf_grow(out, len * 4 + 4096);
	return emit(&d, df, stages);
}

struct sink {
	bale_write_fn write;
	void *ctx;
};

static int to_sink(void *ctx, const char *data, size_t len)
{
	struct sink *s = ctx;

	return s->write(s->ctx, data, len);
}

int bale_dockerfile_write_json(bale_write_fn write, void *ctx, const bale_dockerfile *df,
			       const bale_stages *stages, unsigned flags)
{
	struct doc d = {0};
	struct sink sink = {write, ctx};
	bale_buf buf = BALE_BUF_INIT;
	int rc;

	bale_buf_grow(&buf, 80 << 10);
	bale_json_init(&d.j, &buf, flags & BALE_JSON_PRETTY);
	bale_json_set_sink(&d.j, to_sink, &sink, 64 << 10);
	rc = emit(&d, df, stages);
	bale_buf_release(&buf);
	return rc;
}
