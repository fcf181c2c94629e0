/*
 * The image config, read from untrusted JSON: every field's type is checked and a wrong one is
 * an error that names the document and the field. Strings and arrays are copied into the
 * image's arena, so the JSON document can be freed right after.
 */
#include "image/internal.h"

#include <string.h>

char *image_strdup(bale_image *img, const char *s)
{
	return s ? bale_arena_strdup(&img->arena, s) : NULL;
}

int json_get_string(json_t *obj, const char *key, bool required, const char *where,
		    const char **out)
{
	json_t *v = json_object_get(obj, key);

	*out = NULL;
	if (!v || json_is_null(v)) {
		if (required)
			return bale_error_set(BALE_EPARSE, "%s: missing '%s'", where, key);
		return 0;
	}
	if (!json_is_string(v))
		return bale_error_set(BALE_EPARSE, "%s: '%s' must be a string", where, key);
	*out = json_string_value(v);
	return 0;
}

/* A string field copied into the arena; NULL when absent. */
static int get_str(bale_image *img, json_t *obj, const char *key, bool required, const char *where,
		   const char *prefix, const char **out)
{
	json_t *v = json_object_get(obj, key);

	*out = NULL;
	if (!v || json_is_null(v)) {
		if (required)
			return bale_error_set(BALE_EPARSE, "%s: missing '%s%s'", where, prefix,
					      key);
		return 0;
	}
	if (!json_is_string(v))
		return bale_error_set(BALE_EPARSE, "%s: '%s%s' must be a string", where, prefix,
				      key);
	if (!(*out = image_strdup(img, json_string_value(v))))
		return bale_error_oom();
	return 0;
}

/* An array of strings (or null, or absent: NULL with 0 items). */
static int get_str_array(bale_image *img, json_t *obj, const char *key, const char *where,
			 const char *prefix, const char *const **out, size_t *n)
{
	json_t *v = json_object_get(obj, key), *item;
	const char **arr;
	size_t i;

	*out = NULL;
	*n = 0;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_array(v))
		return bale_error_set(BALE_EPARSE, "%s: '%s%s' must be an array of strings", where,
				      prefix, key);
	arr = bale_arena_calloc(&img->arena, json_array_size(v) + 1, sizeof(*arr));
	if (!arr)
		return bale_error_oom();
	json_array_foreach(v, i, item)
	{
		if (!json_is_string(item))
			return bale_error_set(BALE_EPARSE,
					      "%s: '%s%s' must be an array of strings (item %zu "
					      "is not)",
					      where, prefix, key, i);
		if (!(arr[i] = image_strdup(img, json_string_value(item))))
			return bale_error_oom();
	}
	*out = arr;
	*n = json_array_size(v);
	return 0;
}

/* The keys of an object such as ExposedPorts or Volumes ({"80/tcp": {}}). */
static int get_key_set(bale_image *img, json_t *obj, const char *key, const char *where,
		       const char *const **out, size_t *n)
{
	json_t *v = json_object_get(obj, key), *item;
	const char **arr, *name;
	size_t i = 0;

	*out = NULL;
	*n = 0;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_object(v))
		return bale_error_set(BALE_EPARSE, "%s: 'config.%s' must be an object", where, key);
	arr = bale_arena_calloc(&img->arena, json_object_size(v) + 1, sizeof(*arr));
	if (!arr)
		return bale_error_oom();
	json_object_foreach(v, name, item)
	{
		(void)item;
		if (!(arr[i++] = image_strdup(img, name)))
			return bale_error_oom();
	}
	*out = arr;
	*n = i;
	return 0;
}

static int get_labels(bale_image *img, json_t *obj, const char *where)
{
	json_t *v = json_object_get(obj, "Labels"), *item;
	bale_image_label *arr;
	const char *name;
	size_t i = 0;

	if (!v || json_is_null(v))
		return 0;
	if (!json_is_object(v))
		return bale_error_set(BALE_EPARSE, "%s: 'config.Labels' must be an object", where);
	arr = bale_arena_calloc(&img->arena, json_object_size(v) + 1, sizeof(*arr));
	if (!arr)
		return bale_error_oom();
	json_object_foreach(v, name, item)
	{
		if (!json_is_string(item))
			return bale_error_set(BALE_EPARSE, "%s: label '%s' must be a string", where,
					      name);
		arr[i].name = image_strdup(img, name);
		arr[i].value = image_strdup(img, json_string_value(item));
		if (!arr[i].name || !arr[i].value)
			return bale_error_oom();
		i++;
	}
	img->config.labels = arr;
	img->config.nlabels = i;
	return 0;
}

static int get_int(json_t *obj, const char *key, const char *where, const char *prefix,
		   int64_t *out)
{
	json_t *v = json_object_get(obj, key);

	*out = 0;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_integer(v))
		return bale_error_set(BALE_EPARSE, "%s: '%s%s' must be an integer", where, prefix,
				      key);
	*out = (int64_t)json_integer_value(v);
	return 0;
}

static int get_healthcheck(bale_image *img, json_t *obj, const char *where)
{
	json_t *v = json_object_get(obj, "Healthcheck");
	bale_image_healthcheck *hc;
	const char *p = "config.Healthcheck.";
	int rc;

	if (!v || json_is_null(v))
		return 0;
	if (!json_is_object(v))
		return bale_error_set(BALE_EPARSE, "%s: 'config.Healthcheck' must be an object",
				      where);
	hc = bale_arena_calloc(&img->arena, 1, sizeof(*hc));
	if (!hc)
		return bale_error_oom();
	if ((rc = get_str_array(img, v, "Test", where, p, &hc->test, &hc->ntest)) != 0 ||
	    (rc = get_int(v, "Interval", where, p, &hc->interval)) != 0 ||
	    (rc = get_int(v, "Timeout", where, p, &hc->timeout)) != 0 ||
	    (rc = get_int(v, "StartPeriod", where, p, &hc->start_period)) != 0 ||
	    (rc = get_int(v, "StartInterval", where, p, &hc->start_interval)) != 0 ||
	    (rc = get_int(v, "Retries", where, p, &hc->retries)) != 0)
		return rc;
	img->config.healthcheck = hc;
	return 0;
}

static int get_history(bale_image *img, json_t *doc, const char *where)
{
	json_t *v = json_object_get(doc, "history"), *item;
	bale_image_history *arr;
	size_t i;
	int rc;

	if (!v || json_is_null(v))
		return 0;
	if (!json_is_array(v))
		return bale_error_set(BALE_EPARSE, "%s: 'history' must be an array", where);
	arr = bale_arena_calloc(&img->arena, json_array_size(v) + 1, sizeof(*arr));
	if (!arr)
		return bale_error_oom();
	json_array_foreach(v, i, item)
	{
		bale_image_history *h = &arr[i];
		json_t *empty;
		char p[48];

		snprintf(p, sizeof(p), "history[%zu].", i);
		if (!json_is_object(item))
			return bale_error_set(BALE_EPARSE, "%s: 'history[%zu]' must be an object",
					      where, i);
		if ((rc = get_str(img, item, "created", false, where, p, &h->created)) != 0 ||
		    (rc = get_str(img, item, "created_by", false, where, p, &h->created_by)) != 0 ||
		    (rc = get_str(img, item, "author", false, where, p, &h->author)) != 0 ||
		    (rc = get_str(img, item, "comment", false, where, p, &h->comment)) != 0)
			return rc;
		empty = json_object_get(item, "empty_layer");
		if (empty && !json_is_null(empty) && !json_is_boolean(empty))
			return bale_error_set(BALE_EPARSE, "%s: '%sempty_layer' must be a boolean",
					      where, p);
		h->empty_layer = empty && json_is_true(empty);
		h->layer = BALE_IMAGE_NONE;
	}
	img->config.history = arr;
	img->config.nhistory = json_array_size(v);
	return 0;
}

int json_parse_config(bale_image *img, json_t *doc, const char *where)
{
	bale_image_config *c = &img->config;
	json_t *cfg, *rootfs;
	const char *type;
	const char *p = "config.";
	int rc;

	if (!json_is_object(doc))
		return bale_error_set(BALE_EPARSE, "%s: not a JSON object", where);
	if ((rc = get_str(img, doc, "architecture", true, where, "", &c->architecture)) != 0 ||
	    (rc = get_str(img, doc, "os", true, where, "", &c->os)) != 0 ||
	    (rc = get_str(img, doc, "variant", false, where, "", &c->variant)) != 0 ||
	    (rc = get_str(img, doc, "os.version", false, where, "", &c->os_version)) != 0 ||
	    (rc = get_str(img, doc, "created", false, where, "", &c->created)) != 0 ||
	    (rc = get_str(img, doc, "author", false, where, "", &c->author)) != 0)
		return rc;
	cfg = json_object_get(doc, "config");
	if (cfg && !json_is_null(cfg)) {
		if (!json_is_object(cfg))
			return bale_error_set(BALE_EPARSE, "%s: 'config' must be an object", where);
		if ((rc = get_str(img, cfg, "User", false, where, p, &c->user)) != 0 ||
		    (rc = get_str(img, cfg, "WorkingDir", false, where, p, &c->working_dir)) != 0 ||
		    (rc = get_str(img, cfg, "StopSignal", false, where, p, &c->stop_signal)) != 0 ||
		    (rc = get_str_array(img, cfg, "Env", where, p, &c->env, &c->nenv)) != 0 ||
		    (rc = get_str_array(img, cfg, "Entrypoint", where, p, &c->entrypoint,
					&c->nentrypoint)) != 0 ||
		    (rc = get_str_array(img, cfg, "Cmd", where, p, &c->cmd, &c->ncmd)) != 0 ||
		    (rc = get_str_array(img, cfg, "Shell", where, p, &c->shell, &c->nshell)) != 0 ||
		    (rc = get_str_array(img, cfg, "OnBuild", where, p, &c->onbuild,
					&c->nonbuild)) != 0 ||
		    (rc = get_key_set(img, cfg, "ExposedPorts", where, &c->exposed_ports,
				      &c->nexposed_ports)) != 0 ||
		    (rc = get_key_set(img, cfg, "Volumes", where, &c->volumes, &c->nvolumes)) !=
			0 ||
		    (rc = get_labels(img, cfg, where)) != 0 ||
		    (rc = get_healthcheck(img, cfg, where)) != 0)
			return rc;
	}
	rootfs = json_object_get(doc, "rootfs");
	if (!rootfs || json_is_null(rootfs))
		return bale_error_set(BALE_EPARSE, "%s: missing 'rootfs'", where);
	if (!json_is_object(rootfs))
		return bale_error_set(BALE_EPARSE, "%s: 'rootfs' must be an object", where);
	if ((rc = get_str(img, rootfs, "type", true, where, "rootfs.", &type)) != 0)
		return rc;
	if (strcmp(type, "layers") != 0)
		return bale_error_set(BALE_EPARSE, "%s: 'rootfs.type' is '%s', not 'layers'", where,
				      type);
	if (!json_object_get(rootfs, "diff_ids"))
		return bale_error_set(BALE_EPARSE, "%s: missing 'rootfs.diff_ids'", where);
	if ((rc = get_str_array(img, rootfs, "diff_ids", where, "rootfs.", &c->diff_ids,
				&c->ndiff_ids)) != 0)
		return rc;
	for (size_t i = 0; i < c->ndiff_ids; i++) {
		enum digest_alg alg;
		const char *hex;

		if (!digest_parse(c->diff_ids[i], &alg, &hex))
			return bale_error_set(BALE_EPARSE,
					      "%s: 'rootfs.diff_ids[%zu]' is not a digest: '%s'",
					      where, i, c->diff_ids[i]);
	}
	return get_history(img, doc, where);
}
