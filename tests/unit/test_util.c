/* util: buffers, unified diffs, UTF-8, Go quoting. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/unicode.h"
#include "util/util.h"

static char *diff(const char *a, const char *b)
{
	bale_buf out = BALE_BUF_INIT;

	assert_int_equal(bale_diff_unified(&out, a, strlen(a), b, strlen(b), "a/F", "b/F"), 0);
	return bale_buf_detach(&out, NULL);
}

static void test_diff_of_equal_texts_is_empty(void **state)
{
	char *d = diff("a\nb\n", "a\nb\n");

	(void)state;
	assert_string_equal(d, "");
	free(d);
}

static void test_diff_one_change_with_context(void **state)
{
	char *d = diff("1\n2\n3\n4\n5\n6\n7\n8\n", "1\n2\n3\n4\nfive\n6\n7\n8\n");

	(void)state;
	assert_string_equal(d, "--- a/F\n+++ b/F\n@@ -2,7 +2,7 @@\n 2\n 3\n 4\n-5\n+five\n 6\n 7\n"
			       " 8\n");
	free(d);
}

static void test_diff_separate_hunks_and_insertions(void **state)
{
	char *d = diff("a\nb\nc\nd\ne\nf\ng\nh\ni\nj\nk\nl\n",
		       "new\na\nb\nc\nd\ne\nf\ng\nh\ni\nj\nk\nl\nend\n");

	(void)state;
	assert_string_equal(d, "--- a/F\n+++ b/F\n@@ -1,3 +1,4 @@\n+new\n a\n b\n c\n"
			       "@@ -10,3 +11,4 @@\n j\n k\n l\n+end\n");
	assert_non_null(strstr(d, "+new\n"));
	assert_non_null(strstr(d, "+end\n"));
	assert_null(strstr(d, "\n-"));
	free(d);
}

static void test_diff_marks_missing_final_newline(void **state)
{
	char *d = diff("a\nb", "a\nc");

	(void)state;
	assert_string_equal(d, "--- a/F\n+++ b/F\n@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of "
			       "file\n+c\n\\ No newline at end of file\n");
	free(d);
}

static void test_go_quote_escapes_like_strconv_quote(void **state)
{
	bale_buf out = BALE_BUF_INIT;

	(void)state;
	bale_go_quote(&out, "a\"\\\t\x01\x7f\xc2\xa0\xe2\x99\xa5\xff", 12);
	assert_string_equal(out.ptr, "\"a\\\"\\\\\\t\\x01\\x7f\\u00a0\xe2\x99\xa5\\xff\"");
	bale_buf_release(&out);
}

static void test_buffer_cap_is_sticky(void **state)
{
	bale_buf b;

	(void)state;
	bale_buf_init(&b, 4);
	assert_int_equal(bale_buf_adds(&b, "abcd"), 0);
	assert_int_equal(bale_buf_addch(&b, 'e'), BALE_ELIMIT);
	assert_int_equal(bale_buf_adds(&b, ""), BALE_ELIMIT);
	assert_string_equal(b.ptr, "abcd");
	bale_buf_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_diff_of_equal_texts_is_empty),
	    cmocka_unit_test(test_diff_one_change_with_context),
	    cmocka_unit_test(test_diff_separate_hunks_and_insertions),
	    cmocka_unit_test(test_diff_marks_missing_final_newline),
	    cmocka_unit_test(test_go_quote_escapes_like_strconv_quote),
	    cmocka_unit_test(test_buffer_cap_is_sticky),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
