/*
 * bale inspect's numbers on small layered trees, each computed by hand in the comments:
 * dive's efficiency, wasted bytes, sizes and counts (with dive's own quirks: opaque markers
 * ignored, a whiteout of a directory weighed in dive's stack of the lower layers, a directory
 * that a layer only implies is no directory there), and bale's bytes not in the final file
 * system. Also Go's number and string formatting, go-humanize's sizes, and the CI rules.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "bale/inspect.h"
#include "inspect/internal.h"

#define MAXL 8

static bale_fs *fs;
static bale_inspect *ins;
static bale_image_layer layers[MAXL];
static bale_image_config config;
static bale_image_info info;
static size_t nlayers;

static void image(size_t n)
{
	bale_inspect_free(ins);
	ins = NULL;
	bale_fs_free(fs);
	assert_int_equal(bale_fs_new(&fs, n), 0);
	memset(layers, 0, sizeof(layers));
	memset(&config, 0, sizeof(config));
	memset(&info, 0, sizeof(info));
	for (size_t i = 0; i < n; i++) {
		layers[i].index = i;
		layers[i].duplicate_of = BALE_IMAGE_NONE;
		layers[i].history = BALE_IMAGE_NONE;
		layers[i].blob.digest = "sha256:00";
		layers[i].diff_id = "sha256:00";
	}
	info.config = &config;
	info.layers = layers;
	info.nlayers = n;
	nlayers = n;
}

static void layer(size_t i)
{
	assert_int_equal(bale_fs_layer_begin(fs, i), 0);
}

static void commit(void)
{
	assert_int_equal(bale_fs_layer_commit(fs), 0);
}

/* type: f file, d dir, h hardlink (link = target) */
static void add(const char *path, char type, uint64_t size, const char *link)
{
	bale_image_entry e = {0};

	e.path = path;
	e.name_raw = path;
	e.type = type == 'd'   ? BALE_IMAGE_ENTRY_DIR
		 : type == 'h' ? BALE_IMAGE_ENTRY_HARDLINK
			       : BALE_IMAGE_ENTRY_FILE;
	e.size = type == 'f' ? size : 0;
	e.mode = type == 'd' ? 0755 : 0644;
	e.link = link;
	assert_int_equal(bale_fs_add(fs, &e, NULL), 0);
}

static const bale_inspect_summary *analyze(void)
{
	assert_int_equal(bale_inspect_analyze(&ins, &info, fs), 0);
	return bale_inspect_summary_get(ins);
}

static const bale_inspect_path *path_of(const bale_inspect_summary *s, const char *p)
{
	for (size_t i = 0; i < s->npaths; i++)
		if (strcmp(s->paths[i].path, p) == 0)
			return &s->paths[i];
	return NULL;
}

static int teardown(void **state)
{
	(void)state;
	bale_inspect_free(ins);
	ins = NULL;
	bale_fs_free(fs);
	fs = NULL;
	return 0;
}

static void test_overwritten_file_is_waste(void **state)
{
	const bale_inspect_summary *s;
	const bale_inspect_path *p;

	(void)state;
	/* L0: a 100, b 50; L1: a 30.
	   /a: 100 + 30 = 130 (min 30); /b: 50.  efficiency = (30 + 50) / (130 + 50) = 4/9;
	   wasted = 130; size = 180; user size = 30; user wasted = 130 / 30.
	   Not in the final fs: the first a, 100. */
	image(2);
	layer(0);
	add("a", 'f', 100, NULL);
	add("b", 'f', 50, NULL);
	commit();
	layer(1);
	add("a", 'f', 30, NULL);
	commit();
	s = analyze();
	assert_true(fabs(s->efficiency - 80.0 / 180.0) < 1e-15);
	assert_int_equal(s->wasted_bytes, 130);
	assert_int_equal(s->size_bytes, 180);
	assert_int_equal(s->user_size_bytes, 30);
	assert_true(fabs(s->user_wasted_percent - 130.0 / 30.0) < 1e-12);
	assert_int_equal(s->npaths, 1);
	p = path_of(s, "/a");
	assert_non_null(p);
	assert_int_equal(p->count, 2);
	assert_int_equal(p->cumulative, 130);
	assert_int_equal(p->minimum, 30);
	assert_int_equal(p->dead_bytes, 100);
	assert_int_equal(s->dead_bytes, 100);
	assert_int_equal(s->layers[0].dead_bytes, 100);
	assert_int_equal(s->layers[1].dead_bytes, 0);
	assert_int_equal(s->final_bytes, 80);
	assert_int_equal(s->final_files, 2);
	assert_int_equal(s->layers[1].changed, 1);
	assert_int_equal(s->layers[1].changed_bytes, 30);
}

static void test_file_whiteout_weighs_nothing(void **state)
{
	const bale_inspect_summary *s;

	(void)state;
	/* L0: d/, d/f 40; L1: d/.wh.f.  /d/f: 40 + 0 (min 0): efficiency 0, wasted 40;
	   size 40, user size 0: user wasted percent is +Inf, as Go divides. */
	image(2);
	layer(0);
	add("d", 'd', 0, NULL);
	add("d/f", 'f', 40, NULL);
	commit();
	layer(1);
	add("d/.wh.f", 'f', 0, NULL);
	commit();
	s = analyze();
	assert_true(s->efficiency == 0);
	assert_int_equal(s->wasted_bytes, 40);
	assert_int_equal(s->user_size_bytes, 0);
	assert_true(isinf(s->user_wasted_percent));
	assert_int_equal(path_of(s, "/d/f")->minimum, 0);
	assert_int_equal(s->dead_bytes, 40);
	assert_int_equal(s->layers[1].removed, 1);
	assert_int_equal(s->layers[1].removed_bytes, 40);
}

static void test_directory_whiteout_weighs_its_lower_subtree(void **state)
{
	const bale_inspect_summary *s;

	(void)state;
	/* L0: x/, x/a 10, x/s/, x/s/b 20, y 5; L1: .wh.x; L2: x/ again (an empty dir: a leaf).
	   /x: 10 + 20 = 30 in L1, 0 in L2 -> cumulative 30, min 0, count 2.
	   Leaves: x/a 10, x/s/b 20, y 5, x 30+0.  efficiency = (10 + 20 + 5 + 0) / 65 = 35/65;
	   wasted = 30.  Not in the final fs: x/a and x/s/b, 30. */
	image(3);
	layer(0);
	add("x", 'd', 0, NULL);
	add("x/a", 'f', 10, NULL);
	add("x/s", 'd', 0, NULL);
	add("x/s/b", 'f', 20, NULL);
	add("y", 'f', 5, NULL);
	commit();
	layer(1);
	add(".wh.x", 'f', 0, NULL);
	commit();
	layer(2);
	add("x", 'd', 0, NULL);
	commit();
	s = analyze();
	assert_int_equal(s->wasted_bytes, 30);
	assert_true(fabs(s->efficiency - 35.0 / 65.0) < 1e-15);
	assert_int_equal(path_of(s, "/x")->cumulative, 30);
	assert_int_equal(path_of(s, "/x")->minimum, 0);
	assert_int_equal(s->dead_bytes, 30);
	assert_int_equal(s->layers[1].removed, 2);
}

static void test_dive_stack_ignores_opaque_markers(void **state)
{
	const bale_inspect_summary *s;

	(void)state;
	/* L0: o/, o/old 7; L1: o/ + opaque marker + o/new 3; L2: .wh.o; L3: o/ (empty leaf).
	   dive ignores the opaque marker: its stack under L2 still holds o/old, so the whiteout
	   of o weighs old 7 + new 3 = 10 (bale's file system knows old was hidden: 3 below).
	   /o: 10 + 0.  Leaves: o/old 7, o/new 3, o 10+0: efficiency = 10/20, wasted = 10.
	   Not in the final fs: old (hidden by the opaque dir) and new (deleted): 10. */
	image(4);
	layer(0);
	add("o", 'd', 0, NULL);
	add("o/old", 'f', 7, NULL);
	commit();
	layer(1);
	add("o", 'd', 0, NULL);
	add("o/.wh..wh..opq", 'f', 0, NULL);
	add("o/new", 'f', 3, NULL);
	commit();
	layer(2);
	add(".wh.o", 'f', 0, NULL);
	commit();
	layer(3);
	add("o", 'd', 0, NULL);
	commit();
	s = analyze();
	assert_int_equal(path_of(s, "/o")->cumulative, 10);
	assert_int_equal(s->wasted_bytes, 10);
	assert_true(fabs(s->efficiency - 0.5) < 1e-15);
	assert_int_equal(s->dead_bytes, 10);
	assert_int_equal(s->layers[0].dead_bytes, 7);
	assert_int_equal(s->layers[1].dead_bytes, 3);
	assert_int_equal(s->layers[1].removed, 1); /* old, hidden by the opaque directory */
}

static void test_implied_directory_is_not_a_directory_for_dive(void **state)
{
	const bale_inspect_summary *s;

	(void)state;
	/* As above, but L1 writes no entry for o/ (umoci does that): in dive's stack o then
	   carries an empty FileInfo, not a directory, and the whiteout of o weighs 0.
	   /o: 0 + 0, wasted 0; efficiency = (7 + 3 + 0) / 10 = 1. */
	image(4);
	layer(0);
	add("o", 'd', 0, NULL);
	add("o/old", 'f', 7, NULL);
	commit();
	layer(1);
	add("o/.wh..wh..opq", 'f', 0, NULL);
	add("o/new", 'f', 3, NULL);
	commit();
	layer(2);
	add(".wh.o", 'f', 0, NULL);
	commit();
	layer(3);
	add("o", 'd', 0, NULL);
	commit();
	s = analyze();
	assert_int_equal(path_of(s, "/o")->cumulative, 0);
	assert_int_equal(path_of(s, "/o")->count, 2);
	assert_int_equal(s->wasted_bytes, 0);
	assert_true(s->efficiency == 1.0);
	assert_int_equal(s->dead_bytes, 10);
}

static void test_hardlink_keeps_deleted_name_content(void **state)
{
	const bale_inspect_summary *s;

	(void)state;
	/* L0: h1 50, h2 -> h1; L1: .wh.h1.  dive: /h1 50 + 0 -> wasted 50.
	   The content stays reachable through h2: nothing is lost from the final fs. */
	image(2);
	layer(0);
	add("h1", 'f', 50, NULL);
	add("h2", 'h', 0, "h1");
	commit();
	layer(1);
	add(".wh.h1", 'f', 0, NULL);
	commit();
	s = analyze();
	assert_int_equal(s->wasted_bytes, 50);
	assert_int_equal(s->dead_bytes, 0);
	assert_int_equal(s->final_files, 1);
}

static void test_same_path_twice_in_a_layer(void **state)
{
	const bale_inspect_summary *s;

	(void)state;
	/* L0: a 10 then a 20.  dive's layer tree keeps one node (20) but its size counts both
	   headers: size 30, /a seen once, efficiency 1, nothing wasted by dive's measure; the
	   first copy is shipped but not in the final fs: 10. */
	image(1);
	layer(0);
	add("a", 'f', 10, NULL);
	add("a", 'f', 20, NULL);
	commit();
	s = analyze();
	assert_int_equal(s->size_bytes, 30);
	assert_int_equal(s->wasted_bytes, 0);
	assert_true(s->efficiency == 1.0);
	assert_int_equal(s->dead_bytes, 10);
	assert_int_equal(s->layers[0].added, 1);
	assert_int_equal(s->layers[0].added_bytes, 20);
}

static void test_duplicate_layer_counts_twice(void **state)
{
	const bale_inspect_summary *s;

	(void)state;
	/* L0: f 8; L1: g 1; L2: the blob of L0 again.  /f: 8 + 8 -> wasted 16,
	   efficiency = (8 + 1) / (16 + 1); size 17, user size 9. */
	image(3);
	layer(0);
	add("f", 'f', 8, NULL);
	commit();
	layer(1);
	add("g", 'f', 1, NULL);
	commit();
	assert_int_equal(bale_fs_layer_replay(fs, 2, 0), 0);
	layers[2].duplicate_of = 0;
	s = analyze();
	assert_int_equal(s->wasted_bytes, 16);
	assert_true(fabs(s->efficiency - 9.0 / 17.0) < 1e-15);
	assert_int_equal(s->size_bytes, 17);
	assert_int_equal(s->user_size_bytes, 9);
	assert_int_equal(s->layers[2].duplicate_of, 0);
	assert_int_equal(s->dead_bytes, 8);
}

static void test_missing_layer_and_empty_image(void **state)
{
	const bale_inspect_summary *s;

	(void)state;
	/* nothing at all: efficiency 1 (dive's rule), 0/0 user wasted percent is NaN */
	image(2);
	assert_int_equal(bale_fs_layer_missing(fs, 0), 0);
	layers[0].missing = true;
	layer(1);
	commit();
	s = analyze();
	assert_true(s->efficiency == 1.0);
	assert_int_equal(s->wasted_bytes, 0);
	assert_true(isnan(s->user_wasted_percent));
	assert_true(s->layers[0].missing);
}

static void test_go_formatting(void **state)
{
	static const struct {
		double f;
		const char *json, *v;
	} cases[] = {
	    {0.4444444444444444, "0.4444444444444444", "0.4444444444444444"},
	    {1, "1", "1"},
	    {0, "0", "0"},
	    {0.1, "0.1", "0.1"},
	    {0.9, "0.9", "0.9"},
	    {1e-7, "1e-7", "1e-07"},
	    {0.00001, "0.00001", "1e-05"},
	    {123456, "123456", "123456"},
	    {1234567, "1234567", "1.234567e+06"},
	    {1e21, "1e+21", "1e+21"},
	    {0.9843212134184309, "0.9843212134184309", "0.9843212134184309"},
	};
	bale_buf b = BALE_BUF_INIT;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		bale_buf_reset(&b);
		inspect_go_json_float(&b, cases[i].f);
		assert_string_equal(b.ptr, cases[i].json);
		bale_buf_reset(&b);
		inspect_go_v_float(&b, cases[i].f);
		assert_string_equal(b.ptr, cases[i].v);
	}
	bale_buf_reset(&b);
	inspect_go_json_string(&b, "a<b>&\"\\\x01\t\x7f\xff\xe2\x80\xa8\xc3\xa9", 16);
	assert_string_equal(b.ptr, "\"a\\u003cb\\u003e\\u0026\\\"\\\\\\u0001\\t\x7f\\ufffd\\u2028"
				   "\xc3\xa9\"");
	bale_buf_release(&b);
}

static void test_human_bytes_as_dive_prints_them(void **state)
{
	static const struct {
		uint64_t n;
		const char *s;
	} cases[] = {{0, "0 B"},	  {9, "9 B"},	       {10, "10 B"},	   {999, "999 B"},
		     {1000, "1.0 kB"},	  {9949, "9.9 kB"},    {9999, "10 kB"},	   {65697, "66 kB"},
		     {4196600, "4.2 MB"}, {97290930, "97 MB"}, {1000000, "1.0 MB"}};
	char buf[32];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		bale_inspect_human_bytes(buf, sizeof(buf), cases[i].n);
		assert_string_equal(buf, cases[i].s);
	}
}

static void test_ci_rules_parse_as_dive_does(void **state)
{
	bale_inspect_ci_rules r;
	char path[] = "/tmp/bale-dive-ci-XXXXXX";
	int fd;
	const char yaml[] = "# dive's documented format\n"
			    "rules:\n"
			    "  lowestEfficiency: 0.95\n"
			    "  highestWastedBytes: 20MB\n"
			    "  highestUserWastedPercent: disabled\n";

	(void)state;
	bale_inspect_ci_rules_init(&r);
	assert_true(r.lowest_efficiency.ratio == 0.9);
	assert_true(r.highest_wasted_bytes.disabled);
	assert_true(r.highest_user_wasted_percent.ratio == 0.1);
	assert_int_equal(bale_inspect_ci_rules_set(&r, "highest-wasted-bytes", "1.5 GiB"), 0);
	assert_int_equal(r.highest_wasted_bytes.bytes, 1610612736ull);
	assert_int_equal(bale_inspect_ci_rules_set(&r, "highestWastedBytes", "42"), 0);
	assert_int_equal(r.highest_wasted_bytes.bytes, 42);
	assert_int_equal(bale_inspect_ci_rules_set(&r, "highestWastedBytes", "Off"), 0);
	assert_true(r.highest_wasted_bytes.disabled);
	assert_int_equal(bale_inspect_ci_rules_set(&r, "highestWastedBytes", "12 parsecs"),
			 BALE_EINVAL);
	assert_int_equal(bale_inspect_ci_rules_set(&r, "lowest-efficiency", "2"), BALE_EINVAL);
	assert_non_null(strstr(bale_error_last()->message, "outside allowed range (0-1)"));
	assert_int_equal(bale_inspect_ci_rules_set(&r, "lowestEfficiency", "0.9x"), BALE_EINVAL);
	assert_int_equal(bale_inspect_ci_rules_set(&r, "fastest", "1"), BALE_EINVAL);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, yaml, sizeof(yaml) - 1), (ssize_t)(sizeof(yaml) - 1));
	close(fd);
	bale_inspect_ci_rules_init(&r);
	assert_int_equal(bale_inspect_ci_rules_load(&r, path), 0);
	assert_true(r.lowest_efficiency.ratio == 0.95);
	assert_int_equal(r.highest_wasted_bytes.bytes, 20000000);
	assert_false(r.highest_wasted_bytes.disabled);
	assert_true(r.highest_user_wasted_percent.disabled);
	assert_string_equal(r.highest_wasted_bytes.config, "20MB");
	unlink(path);
}

static void test_ci_report_as_dive_prints_it(void **state)
{
	bale_inspect_ci_rules r;
	bale_buf report = BALE_BUF_INIT;
	bool pass = true;

	(void)state;
	/* the overwrite image: efficiency 0.44, user wasted 4.33 */
	image(2);
	layer(0);
	add("a", 'f', 100, NULL);
	add("b", 'f', 50, NULL);
	commit();
	layer(1);
	add("a", 'f', 30, NULL);
	commit();
	analyze();
	bale_inspect_ci_rules_init(&r);
	assert_int_equal(bale_inspect_ci_evaluate(&report, &pass, ins, &r, false), 0);
	assert_false(pass);
	assert_string_equal(
	    report.ptr, "Analysis:\n"
			"  efficiency:        44.44 %\n"
			"  wastedBytes:       130 bytes (130 B)\n"
			"  userWastedPercent: 433.33 %\n"
			"\n"
			"Inefficient Files:\n"
			"  Count  Wasted Space  File Path\n"
			"  2      130 B         /a\n"
			"\n"
			"Evaluation:\n"
			"  FAIL  highestUserWastedPercent (too many bytes wasted, relative to the "
			"user bytes added (%-user-wasted-bytes=4.33 > threshold=0.1))\n"
			"  SKIP  highestWastedBytes (disabled)\n"
			"  FAIL  lowestEfficiency (image efficiency is too low (efficiency=0.44 < "
			"threshold=0.9))\n"
			"\n"
			"FAIL [fail:2 skip:1]\n");
	bale_inspect_ci_rules_init(&r);
	assert_int_equal(bale_inspect_ci_rules_set(&r, "lowestEfficiency", "0.4"), 0);
	assert_int_equal(bale_inspect_ci_rules_set(&r, "highestUserWastedPercent", "5"),
			 BALE_EINVAL);
	assert_int_equal(bale_inspect_ci_rules_set(&r, "highestUserWastedPercent", "off"), 0);
	assert_int_equal(bale_inspect_ci_rules_set(&r, "highestWastedBytes", "200"), 0);
	assert_int_equal(bale_inspect_ci_evaluate(NULL, &pass, ins, &r, false), 0);
	assert_true(pass);
	bale_buf_release(&report);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_teardown(test_overwritten_file_is_waste, teardown),
	    cmocka_unit_test_teardown(test_file_whiteout_weighs_nothing, teardown),
	    cmocka_unit_test_teardown(test_directory_whiteout_weighs_its_lower_subtree, teardown),
	    cmocka_unit_test_teardown(test_dive_stack_ignores_opaque_markers, teardown),
	    cmocka_unit_test_teardown(test_implied_directory_is_not_a_directory_for_dive, teardown),
	    cmocka_unit_test_teardown(test_hardlink_keeps_deleted_name_content, teardown),
	    cmocka_unit_test_teardown(test_same_path_twice_in_a_layer, teardown),
	    cmocka_unit_test_teardown(test_duplicate_layer_counts_twice, teardown),
	    cmocka_unit_test_teardown(test_missing_layer_and_empty_image, teardown),
	    cmocka_unit_test(test_go_formatting),
	    cmocka_unit_test(test_human_bytes_as_dive_prints_them),
	    cmocka_unit_test(test_ci_rules_parse_as_dive_does),
	    cmocka_unit_test_teardown(test_ci_report_as_dive_prints_it, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
