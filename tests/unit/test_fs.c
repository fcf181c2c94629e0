/*
 * The layered file tree: OCI whiteouts and opaque directories, type changes, hardlinks,
 * symlinks that escape, per-layer change counts, undo of a failed layer, replay of a duplicate
 * layer, and the three walks. Entries are fed directly, as the image reader would deliver them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bale/fs.h"
#include "util/util.h"

static bale_fs *fs;
static uint64_t entry_index;

static void new_tree(size_t nlayers)
{
	bale_fs_free(fs);
	assert_int_equal(bale_fs_new(&fs, nlayers), 0);
}

static void begin(size_t layer)
{
	assert_int_equal(bale_fs_layer_begin(fs, layer), 0);
	entry_index = 0;
}

static void commit(void)
{
	assert_int_equal(bale_fs_layer_commit(fs), 0);
}

/* type: f file, d dir, l symlink, h hardlink, c char; `size` for files. */
static bale_fs_id add_full(const char *path, char type, uint64_t size, const char *link,
			   uint32_t mode, uint64_t uid)
{
	bale_image_entry e = {0};
	bale_fs_entry out;

	e.path = path;
	e.name_raw = path;
	e.link = link;
	e.type = type == 'd'   ? BALE_IMAGE_ENTRY_DIR
		 : type == 'l' ? BALE_IMAGE_ENTRY_SYMLINK
		 : type == 'h' ? BALE_IMAGE_ENTRY_HARDLINK
		 : type == 'c' ? BALE_IMAGE_ENTRY_CHAR
			       : BALE_IMAGE_ENTRY_FILE;
	e.size = type == 'f' ? size : 0;
	e.mode = mode;
	e.uid = e.gid = uid;
	e.index = entry_index++;
	assert_int_equal(bale_fs_add(fs, &e, &out), 0);
	if (out.id != BALE_FS_NONE)
		assert_string_equal(out.path, path[0] ? out.path : "");
	return out.id;
}

static bale_fs_id add(const char *path, char type, uint64_t size)
{
	return add_full(path, type, size, NULL, type == 'd' ? 0755 : 0644, 0);
}

/* The present version of `path`, or NONE (also when the path is unknown). */
static bale_fs_id present(const char *path)
{
	bale_fs_id node;

	if (bale_fs_lookup(fs, &node, path) != 0)
		return BALE_FS_NONE;
	return bale_fs_node_present(fs, node);
}

static bale_fs_entry get(bale_fs_id id)
{
	bale_fs_entry e;

	assert_int_not_equal(id, BALE_FS_NONE);
	bale_fs_get(fs, id, &e);
	return e;
}

struct collected {
	char text[4096];
	size_t len;
};

static int collect(void *ctx, const bale_fs_entry *e)
{
	struct collected *c = ctx;
	int n = snprintf(c->text + c->len, sizeof(c->text) - c->len, "%s%s:%s", c->len ? " " : "",
			 e->path[0] ? e->path : "/", bale_fs_type_name(e->type));

	c->len += (size_t)n;
	if (e->flags & BALE_FS_IMPLICIT)
		c->len +=
		    (size_t)snprintf(c->text + c->len, sizeof(c->text) - c->len, "(implicit)");
	return 0;
}

static const char *merged(void)
{
	static struct collected c;

	memset(&c, 0, sizeof(c));
	assert_int_equal(bale_fs_walk_merged(fs, BALE_FS_WALK_SORTED, collect, &c), 0);
	return c.text;
}

static int teardown(void **state)
{
	(void)state;
	bale_fs_free(fs);
	fs = NULL;
	return 0;
}

static void test_whiteout_hides_lower_file(void **state)
{
	bale_fs_id old, wh;
	bale_fs_entry e;

	(void)state;
	new_tree(2);
	begin(0);
	add("etc", 'd', 0);
	old = add("etc/secret", 'f', 100);
	add("etc/keep", 'f', 5);
	commit();
	begin(1);
	add("etc", 'd', 0);
	wh = add("etc/.wh.secret", 'f', 0);
	commit();
	assert_int_equal(present("etc/secret"), BALE_FS_NONE);
	assert_int_not_equal(present("etc/keep"), BALE_FS_NONE);
	e = get(old);
	assert_int_equal(e.fate, BALE_FS_DELETED);
	assert_int_equal(e.until, 1);
	assert_int_equal(e.layer, 0);
	assert_int_equal(e.size, 100);
	e = get(wh);
	assert_int_equal(e.type, BALE_FS_WHITEOUT);
	assert_int_equal(e.node, get(old).node); /* the marker sits on the deleted path */
	assert_int_equal(bale_fs_layer(fs, 1)->removed, 1);
	assert_int_equal(bale_fs_layer(fs, 1)->removed_bytes, 100);
	assert_int_equal(bale_fs_layer(fs, 1)->whiteouts, 1);
	assert_string_equal(merged(), "/:dir(implicit) etc:dir etc/keep:file");
}

static void test_whiteout_keeps_entries_of_its_own_layer(void **state)
{
	(void)state;
	new_tree(2);
	begin(0);
	add("a", 'f', 1);
	commit();
	begin(1);
	add("a", 'f', 2); /* before the whiteout in the tar: stays (whiteouts hide lower ones) */
	add(".wh.a", 'f', 0);
	commit();
	assert_int_equal(get(present("a")).size, 2);
	assert_int_equal(get(present("a")).layer, 1);
}

static void test_whiteout_of_directory_hides_subtree(void **state)
{
	bale_fs_id f1, f2, d;

	(void)state;
	new_tree(3);
	begin(0);
	d = add("data/dir", 'd', 0);
	f1 = add("data/dir/a", 'f', 10);
	add("data/dir/sub", 'd', 0);
	f2 = add("data/dir/sub/b", 'f', 20);
	commit();
	begin(1);
	add("data/.wh.dir", 'f', 0);
	commit();
	assert_int_equal(present("data/dir"), BALE_FS_NONE);
	assert_int_equal(present("data/dir/sub/b"), BALE_FS_NONE);
	assert_int_equal(get(d).fate, BALE_FS_DELETED);
	assert_int_equal(get(f1).fate, BALE_FS_DELETED_WITH_PARENT);
	assert_int_equal(get(f2).fate, BALE_FS_DELETED_WITH_PARENT);
	assert_int_equal(get(f2).until, 1);
	assert_int_equal(bale_fs_layer(fs, 1)->removed, 2); /* non-directories only */
	assert_int_equal(bale_fs_layer(fs, 1)->removed_bytes, 30);
	/* recreated later: the old copies stay deleted */
	begin(2);
	add("data/dir/a", 'f', 1);
	commit();
	assert_int_equal(get(present("data/dir/a")).layer, 2);
	assert_int_equal(bale_fs_layer(fs, 2)->added, 1);
	assert_string_equal(
	    merged(), "/:dir(implicit) data:dir(implicit) data/dir:dir(implicit) data/dir/a:file");
}

static void test_opaque_hides_only_lower_children(void **state)
{
	bale_fs_id old1, old2, deep;

	(void)state;
	new_tree(2);
	begin(0);
	add("opq", 'd', 0);
	old1 = add("opq/old1", 'f', 3);
	old2 = add("opq/old2", 'f', 4);
	deep = add("opq/sub/deep", 'f', 5);
	add("other", 'f', 6);
	commit();
	begin(1);
	add("opq/before", 'f', 7); /* umoci writes entries on either side of the marker */
	add("opq/.wh..wh..opq", 'f', 0);
	add("opq", 'd', 0);
	add("opq/after", 'f', 8);
	commit();
	assert_int_equal(get(old1).fate, BALE_FS_HIDDEN_BY_OPAQUE);
	assert_int_equal(get(old2).fate, BALE_FS_HIDDEN_BY_OPAQUE);
	assert_int_equal(get(deep).fate, BALE_FS_HIDDEN_BY_OPAQUE);
	assert_int_not_equal(present("opq/before"), BALE_FS_NONE);
	assert_int_not_equal(present("opq/after"), BALE_FS_NONE);
	assert_int_not_equal(present("other"), BALE_FS_NONE);
	assert_int_equal(bale_fs_layer(fs, 1)->opaques, 1);
	assert_int_equal(bale_fs_layer(fs, 1)->removed, 3);
	assert_int_equal(bale_fs_layer(fs, 1)->removed_bytes, 12);
	assert_int_equal(bale_fs_layer(fs, 1)->added, 2);
	assert_string_equal(merged(),
			    "/:dir(implicit) opq:dir opq/after:file opq/before:file other:file");
}

static void test_directory_replaced_by_file_hides_subtree(void **state)
{
	bale_fs_id inner, swapfile;

	(void)state;
	new_tree(2);
	begin(0);
	add("swap-dir", 'd', 0);
	inner = add("swap-dir/inner.txt", 'f', 9);
	swapfile = add("swap-file", 'f', 11);
	commit();
	begin(1);
	add("swap-dir", 'f', 4); /* no whiteout: the file alone hides the directory's subtree */
	add("swap-file", 'd', 0);
	add("swap-file/inside.txt", 'f', 2);
	commit();
	assert_int_equal(get(inner).fate, BALE_FS_PARENT_REPLACED);
	assert_int_equal(get(inner).until, 1);
	assert_int_equal(get(swapfile).fate, BALE_FS_REPLACED);
	assert_int_equal(get(present("swap-dir")).type, BALE_FS_FILE);
	assert_int_equal(get(present("swap-file")).type, BALE_FS_DIR);
	/* swap-dir became a file (changed), swap-file a directory (its file removed? no: changed
	   paths are counted for non-directory entries only), inside.txt was added */
	assert_int_equal(bale_fs_layer(fs, 1)->changed, 1);
	assert_int_equal(bale_fs_layer(fs, 1)->changed_bytes, 4);
	assert_int_equal(bale_fs_layer(fs, 1)->added, 1);
	assert_int_equal(bale_fs_layer(fs, 1)->removed, 1); /* inner.txt */
	assert_string_equal(merged(), "/:dir(implicit) swap-dir:file swap-file:dir "
				      "swap-file/inside.txt:file");
}

static void test_hardlinks_share_content(void **state)
{
	bale_fs_id h1, h2, h3;

	(void)state;
	new_tree(2);
	begin(0);
	add("hard", 'd', 0);
	h1 = add("hard/h1", 'f', 50);
	h2 = add_full("hard/h2", 'h', 0, "hard/h1", 0644, 0);
	h3 = add_full("hard/h3", 'h', 0, "hard/h2", 0644, 0); /* a link to a link: the file */
	add_full("hard/dangling", 'h', 0, "hard/nothing", 0644, 0);
	commit();
	assert_int_equal(get(h2).target, h1);
	assert_int_equal(get(h3).target, h1);
	assert_string_equal(get(h2).link, "hard/h1");
	assert_int_equal(get(h2).size, 0);
	assert_true(get(present("hard/dangling")).flags & BALE_FS_LINK_DANGLING);
	assert_int_equal(bale_fs_layer(fs, 0)->added, 4);
	assert_int_equal(bale_fs_layer(fs, 0)->added_bytes, 50);
	assert_int_equal(bale_fs_layer(fs, 0)->tar_bytes, 50);
	begin(1);
	add("hard/.wh.h1", 'f', 0);
	commit();
	/* the name is gone, the link stays and still points at the copy it shares */
	assert_int_equal(present("hard/h1"), BALE_FS_NONE);
	assert_int_equal(present("hard/h2"), h2);
}

static void test_symlink_escaping_root_is_flagged(void **state)
{
	bale_fs_entry e;
	bale_buf where = BALE_BUF_INIT;

	(void)state;
	new_tree(1);
	begin(0);
	add("etc", 'd', 0);
	add("etc/shadow", 'f', 10);
	add("data/links", 'd', 0);
	add("data/keep.txt", 'f', 3);
	add_full("data/links/relative", 'l', 0, "../keep.txt", 0777, 0);
	add_full("data/links/absolute-outside", 'l', 0, "/etc/shadow", 0777, 0);
	add_full("data/links/escape", 'l', 0, "../../../../../../../etc/shadow", 0777, 0);
	add_full("data/links/loop", 'l', 0, "loop", 0777, 0);
	add_full("data/links/dir", 'l', 0, "..", 0777, 0);
	add_full("top", 'l', 0, "..", 0777, 0);
	commit();
	assert_false(get(present("data/links/relative")).flags & BALE_FS_LINK_ESCAPES);
	assert_false(get(present("data/links/absolute-outside")).flags & BALE_FS_LINK_ESCAPES);
	assert_true(get(present("data/links/escape")).flags & BALE_FS_LINK_ESCAPES);
	assert_false(get(present("data/links/dir")).flags & BALE_FS_LINK_ESCAPES);
	assert_true(get(present("top")).flags & BALE_FS_LINK_ESCAPES);
	/* resolving stays in the root, as a chroot does */
	assert_int_equal(bale_fs_resolve(fs, "data/links/escape", true, &e, &where), 0);
	assert_string_equal(where.ptr, "etc/shadow");
	assert_int_equal(e.size, 10);
	bale_buf_reset(&where);
	assert_int_equal(bale_fs_resolve(fs, "data/links/dir/keep.txt", true, &e, &where), 0);
	assert_string_equal(where.ptr, "data/keep.txt");
	bale_buf_reset(&where);
	assert_int_equal(bale_fs_resolve(fs, "/top/top/etc/shadow", true, &e, &where), 0);
	assert_string_equal(where.ptr, "etc/shadow");
	bale_buf_reset(&where);
	assert_int_equal(bale_fs_resolve(fs, "data/links/relative", false, &e, &where), 0);
	assert_int_equal(e.type, BALE_FS_SYMLINK);
	assert_int_equal(bale_fs_resolve(fs, "data/links/loop", true, &e, NULL), BALE_ELIMIT);
	assert_int_equal(bale_fs_resolve(fs, "data/nothing", true, &e, NULL), BALE_ENOTFOUND);
	assert_int_equal(bale_fs_resolve(fs, "data/keep.txt/x", true, &e, NULL), BALE_ENOTFOUND);
	bale_buf_release(&where);
}

static void test_counts_per_layer(void **state)
{
	const bale_fs_layer_stats *s;

	(void)state;
	new_tree(3);
	begin(0);
	add("", 'd', 0); /* the root's own entry */
	add("a", 'f', 10);
	add("b", 'f', 20);
	add("d", 'd', 0);
	add("d/c", 'f', 30);
	commit();
	s = bale_fs_layer(fs, 0);
	assert_true(s->applied);
	assert_int_equal(s->entries, 5);
	assert_int_equal(s->added, 3);
	assert_int_equal(s->added_bytes, 60);
	assert_int_equal(s->tar_bytes, 60);
	begin(1);
	add("a", 'f', 11);	/* changed */
	add("a", 'f', 12);	/* the same path again: the later one wins, counted once */
	add("e", 'f', 40);	/* added */
	add(".wh.b", 'f', 0);	/* removed */
	add("d/.wh.c", 'f', 0); /* removed */
	commit();
	s = bale_fs_layer(fs, 1);
	assert_int_equal(s->entries, 5);
	assert_int_equal(s->tar_bytes, 63);
	assert_int_equal(s->changed, 1);
	assert_int_equal(s->changed_bytes, 12);
	assert_int_equal(s->added, 1);
	assert_int_equal(s->added_bytes, 40);
	assert_int_equal(s->removed, 2);
	assert_int_equal(s->removed_bytes, 50);
	assert_int_equal(s->whiteouts, 2);
	/* the first copy of "a" in layer 1 is shadowed by the second */
	{
		bale_fs_id a = present("a"), prev = bale_fs_version_prev(fs, a);

		assert_int_equal(get(a).size, 12);
		assert_int_equal(get(prev).fate, BALE_FS_SHADOWED);
		assert_int_equal(get(prev).size, 11);
		assert_int_equal(get(bale_fs_version_prev(fs, prev)).fate, BALE_FS_REPLACED);
	}
	/* a layer never applied has zero stats */
	assert_false(bale_fs_layer(fs, 2)->applied);
	assert_int_equal(bale_fs_layer(fs, 2)->entries, 0);
	/* layers go in order */
	assert_int_equal(bale_fs_layer_begin(fs, 1), BALE_EINVAL);
}

static void test_failed_layer_is_undone(void **state)
{
	bale_fs_id a, dirfile;
	size_t nodes;

	(void)state;
	new_tree(3);
	begin(0);
	a = add("a", 'f', 1);
	add("d", 'd', 0);
	dirfile = add("d/x", 'f', 2);
	commit();
	nodes = bale_fs_node_count(fs);
	begin(1);
	add(".wh.a", 'f', 0);
	add("d", 'f', 5); /* a file over the directory */
	add("new", 'f', 9);
	assert_int_equal(present("a"), BALE_FS_NONE);
	bale_fs_layer_abort(fs);
	assert_int_equal(present("a"), a);
	assert_int_equal(get(a).fate, BALE_FS_PRESENT);
	assert_int_equal(get(a).until, BALE_FS_NO_LAYER);
	assert_int_equal(present("d/x"), dirfile);
	assert_int_equal(get(present("d")).type, BALE_FS_DIR);
	assert_int_equal(present("new"), BALE_FS_NONE);
	assert_false(bale_fs_layer(fs, 1)->applied);
	assert_int_equal(bale_fs_layer(fs, 1)->added, 0);
	assert_true(bale_fs_node_count(fs) > nodes); /* nodes stay, with no version */
	assert_string_equal(merged(), "/:dir(implicit) a:file d:dir d/x:file");
	/* the next layer applies on the undone state */
	begin(2);
	add("a", 'f', 3);
	commit();
	assert_int_equal(get(a).fate, BALE_FS_REPLACED);
	assert_int_equal(get(a).until, 2);
	assert_int_equal(bale_fs_layer(fs, 2)->changed, 1);
}

static void test_duplicate_layer_is_replayed(void **state)
{
	bale_fs_id first, end;

	(void)state;
	new_tree(3);
	begin(0);
	add("x", 'f', 7);
	add("dir/.wh..wh..opq", 'f', 0);
	add_full("l", 'l', 0, "x", 0777, 0);
	commit();
	begin(1);
	add("x", 'f', 8);
	commit();
	assert_int_equal(bale_fs_layer_replay(fs, 2, 0), 0);
	assert_int_equal(get(present("x")).size, 7);
	assert_int_equal(get(present("x")).layer, 2);
	assert_true(get(present("x")).flags & BALE_FS_REPLAYED);
	assert_int_equal(bale_fs_layer(fs, 2)->replayed_from, 0);
	assert_int_equal(bale_fs_layer(fs, 2)->entries, 3);
	assert_int_equal(bale_fs_layer(fs, 2)->tar_bytes, 7);
	assert_int_equal(bale_fs_layer(fs, 2)->changed, 2);
	assert_int_equal(bale_fs_layer(fs, 2)->opaques, 1);
	bale_fs_layer_range(fs, 2, &first, &end);
	assert_int_equal(end - first, 3);
	assert_string_equal(get(present("l")).link, "x");
}

struct history {
	char text[512];
	size_t len;
};

static int history_cb(void *ctx, const bale_fs_entry *e)
{
	struct history *h = ctx;

	h->len += (size_t)snprintf(h->text + h->len, sizeof(h->text) - h->len, "%s%zu:%s:%s",
				   h->len ? " " : "", e->layer, bale_fs_type_name(e->type),
				   bale_fs_fate_name(e->fate));
	return 0;
}

static void test_history_of_a_path_keeps_deleted_copies(void **state)
{
	struct history h = {{0}, 0};
	bale_fs_id node;

	(void)state;
	new_tree(4);
	begin(0);
	add("etc/key", 'f', 1679);
	commit();
	begin(1);
	add("etc/key", 'f', 0);
	commit();
	begin(2);
	add("etc/.wh.key", 'f', 0);
	commit();
	begin(3);
	add_full("etc/key", 'l', 0, "/dev/null", 0777, 0);
	commit();
	assert_int_equal(bale_fs_lookup(fs, &node, "/etc/key"), 0);
	assert_int_equal(bale_fs_walk_history(fs, node, history_cb, &h), 0);
	assert_string_equal(h.text,
			    "0:file:replaced 1:file:deleted 2:whiteout:present 3:symlink:present");
}

static int layer_cb(void *ctx, const bale_fs_entry *e)
{
	return collect(ctx, e);
}

static void test_walk_layer_is_in_tar_order_with_markers(void **state)
{
	struct collected c;

	(void)state;
	memset(&c, 0, sizeof(c));
	new_tree(2);
	begin(0);
	add("z", 'f', 1);
	add("a/b", 'f', 1);
	commit();
	begin(1);
	add("z", 'f', 2);
	add(".wh.z", 'f', 0);
	add("a/.wh..wh..opq", 'f', 0);
	add(".wh..wh.plnk", 'd', 0); /* aufs metadata: no version */
	commit();
	assert_int_equal(bale_fs_walk_layer(fs, 1, layer_cb, &c), 0);
	assert_string_equal(c.text, "z:file z:whiteout a:opaque");
	assert_int_equal(bale_fs_layer(fs, 1)->entries, 4);
}

static void test_big_directory_lookup(void **state)
{
	char name[32];
	bale_fs_stats st;

	(void)state;
	new_tree(2);
	begin(0);
	for (int i = 0; i < 3000; i++) {
		snprintf(name, sizeof(name), "usr/lib/f%d", i);
		add(name, 'f', (uint64_t)i);
	}
	commit();
	begin(1);
	for (int i = 0; i < 3000; i += 3) {
		snprintf(name, sizeof(name), "usr/lib/.wh.f%d", i);
		add(name, 'f', 0);
	}
	commit();
	for (int i = 0; i < 3000; i++) {
		snprintf(name, sizeof(name), "usr/lib/f%d", i);
		if (i % 3 == 0)
			assert_int_equal(present(name), BALE_FS_NONE);
		else
			assert_int_equal(get(present(name)).size, (uint64_t)i);
	}
	assert_int_equal(bale_fs_layer(fs, 1)->removed, 1000);
	bale_fs_stats_get(fs, &st);
	assert_int_equal(st.nodes, 3003);
	assert_int_equal(st.versions, 4000);
	assert_true(st.memory < 8 * 1024 * 1024);
}

static int stop_at_b(void *ctx, const bale_fs_entry *e)
{
	collect(ctx, e);
	return strcmp(e->path, "b") == 0 ? BALE_FS_SKIP : 0;
}

static void test_merged_walk_sorted_with_implicit_parents(void **state)
{
	struct collected c;

	(void)state;
	memset(&c, 0, sizeof(c));
	new_tree(1);
	begin(0);
	/* umoci: no parent directory entries */
	add("etc/bale-note.txt", 'f', 1);
	add("b", 'd', 0);
	add("b/inner", 'f', 1);
	add("a", 'f', 1);
	commit();
	assert_string_equal(merged(), "/:dir(implicit) a:file b:dir b/inner:file "
				      "etc:dir(implicit) etc/bale-note.txt:file");
	assert_int_equal(bale_fs_walk_merged(fs, BALE_FS_WALK_SORTED, stop_at_b, &c), 0);
	assert_string_equal(c.text, "/:dir(implicit) a:file b:dir etc:dir(implicit) "
				    "etc/bale-note.txt:file");
}

static void test_entry_fields_are_kept(void **state)
{
	bale_image_entry e = {0};
	bale_image_xattr x[2] = {{"user.a", "1", 1}, {"security.capability", "\1", 1}};
	bale_fs_entry out;

	(void)state;
	new_tree(1);
	begin(0);
	e.path = "bin/ping";
	e.type = BALE_IMAGE_ENTRY_FILE;
	e.mode = 04755;
	e.uid = 1000;
	e.gid = 5000000000ull;
	e.size = 1234;
	e.mtime = 1700000000;
	e.xattrs = x;
	e.nxattrs = 2;
	e.flags = BALE_IMAGE_ENTRY_ABSOLUTE;
	e.index = 7;
	assert_int_equal(bale_fs_add(fs, &e, &out), 0);
	commit();
	out = get(out.id);
	assert_int_equal(out.mode, 04755);
	assert_int_equal(out.uid, 1000);
	assert_int_equal(out.gid, UINT32_MAX);
	assert_true(out.flags & BALE_FS_ID_CLAMPED);
	assert_true(out.flags & BALE_FS_XATTRS);
	assert_true(out.flags & BALE_FS_CAPABILITY);
	assert_true(out.flags & BALE_FS_ABSOLUTE);
	assert_int_equal(out.size, 1234);
	assert_int_equal(out.mtime, 1700000000);
	assert_int_equal(out.entry_index, 7);
	assert_int_equal(out.layer, 0);
	assert_int_equal(out.until, BALE_FS_NO_LAYER);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_teardown(test_whiteout_hides_lower_file, teardown),
	    cmocka_unit_test_teardown(test_whiteout_keeps_entries_of_its_own_layer, teardown),
	    cmocka_unit_test_teardown(test_whiteout_of_directory_hides_subtree, teardown),
	    cmocka_unit_test_teardown(test_opaque_hides_only_lower_children, teardown),
	    cmocka_unit_test_teardown(test_directory_replaced_by_file_hides_subtree, teardown),
	    cmocka_unit_test_teardown(test_hardlinks_share_content, teardown),
	    cmocka_unit_test_teardown(test_symlink_escaping_root_is_flagged, teardown),
	    cmocka_unit_test_teardown(test_counts_per_layer, teardown),
	    cmocka_unit_test_teardown(test_failed_layer_is_undone, teardown),
	    cmocka_unit_test_teardown(test_duplicate_layer_is_replayed, teardown),
	    cmocka_unit_test_teardown(test_history_of_a_path_keeps_deleted_copies, teardown),
	    cmocka_unit_test_teardown(test_walk_layer_is_in_tar_order_with_markers, teardown),
	    cmocka_unit_test_teardown(test_big_directory_lookup, teardown),
	    cmocka_unit_test_teardown(test_merged_walk_sorted_with_implicit_parents, teardown),
	    cmocka_unit_test_teardown(test_entry_fields_are_kept, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
