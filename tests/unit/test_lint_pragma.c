/* Inline ignores: hadolint's and bale's pragmas, BuildKit's check directive. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <string.h>

#include "lint/internal.h"

static const char *const pin_aliases[] = {"DL3008", NULL};
static const bale_rule pin = {.id = "DL3008", .name = "pin-apt-versions", .aliases = pin_aliases};
static const bale_rule other = {.id = "DL3009", .name = "apt-lists"};
static const char *const json_aliases[] = {"JSONArgsRecommended", NULL};
static const bale_rule json_args = {.id = "BK0001",
				    .name = "json-args-recommended",
				    .aliases = json_aliases,
				    .category = "buildkit"};

static bale_dockerfile *parse(const char *text)
{
	bale_dockerfile *df = NULL;

	assert_int_equal(bale_dockerfile_parse(&df, text, strlen(text), NULL), 0);
	return df;
}

static void test_next_instruction_pragma_with_aliases_and_names(void **state)
{
	bale_dockerfile *df = parse("FROM a\n# hadolint ignore=DL3008, DL3009\n"
				    "RUN apt-get install x\n"
				    "# bale ignore=pin-apt-versions\n# another comment\n"
				    "RUN apt-get install y\nRUN apt-get install z\n");
	struct lint_pragmas pr;

	(void)state;
	assert_int_equal(lint_pragmas_read(&pr, df, NULL), 0);
	assert_true(lint_pragmas_ignore(&pr, &pin, 1, BALE_NO_STAGE, false));
	assert_true(lint_pragmas_ignore(&pr, &other, 1, BALE_NO_STAGE, false));
	assert_true(lint_pragmas_ignore(&pr, &pin, 2, BALE_NO_STAGE, false));
	assert_false(lint_pragmas_ignore(&pr, &other, 2, BALE_NO_STAGE, false));
	assert_false(lint_pragmas_ignore(&pr, &pin, 3, BALE_NO_STAGE, false));
	/* disable-ignore-pragma turns them off. */
	assert_false(lint_pragmas_ignore(&pr, &pin, 1, BALE_NO_STAGE, true));
	lint_pragmas_release(&pr);
	bale_dockerfile_free(df);
}

static void test_empty_line_cuts_the_pragma_off(void **state)
{
	bale_dockerfile *df = parse("FROM a\n# hadolint ignore=DL3008\n\nRUN apt-get install x\n");
	struct lint_pragmas pr;

	(void)state;
	assert_int_equal(lint_pragmas_read(&pr, df, NULL), 0);
	assert_false(lint_pragmas_ignore(&pr, &pin, 1, BALE_NO_STAGE, false));
	lint_pragmas_release(&pr);
	bale_dockerfile_free(df);
}

static void test_global_pragma_anywhere(void **state)
{
	bale_dockerfile *df = parse("FROM a\nRUN x\n# hadolint global ignore=DL3009\n");
	struct lint_pragmas pr;

	(void)state;
	assert_int_equal(lint_pragmas_read(&pr, df, NULL), 0);
	assert_true(lint_pragmas_ignore(&pr, &other, 0, BALE_NO_STAGE, false));
	assert_true(lint_pragmas_ignore(&pr, &other, 1, BALE_NO_STAGE, false));
	assert_false(lint_pragmas_ignore(&pr, &pin, 1, BALE_NO_STAGE, false));
	lint_pragmas_release(&pr);
	bale_dockerfile_free(df);
}

static void test_buildkit_check_directive_skips_only_buildkit_checks(void **state)
{
	bale_dockerfile *df = parse("# check=skip=JSONArgsRecommended;error=true\nFROM a\n"
				    "CMD x\n");
	struct lint_pragmas pr;

	(void)state;
	assert_int_equal(lint_pragmas_read(&pr, df, NULL), 0);
	assert_true(pr.check_error);
	assert_true(lint_pragmas_ignore(&pr, &json_args, 1, BALE_NO_STAGE, true));
	assert_false(lint_pragmas_ignore(&pr, &pin, 1, BALE_NO_STAGE, false));
	lint_pragmas_release(&pr);
	bale_dockerfile_free(df);
	{
		static const char *const maint_aliases[] = {"MaintainerDeprecated", NULL};
		static const bale_rule maint = {.id = "DL4000",
						.name = "maintainer-deprecated",
						.aliases = maint_aliases,
						.category = "style"};

		df = parse("# check=skip=MaintainerDeprecated\nFROM a\nMAINTAINER x\n");
		assert_int_equal(lint_pragmas_read(&pr, df, NULL), 0);
		assert_true(lint_pragmas_ignore(&pr, &maint, 1, BALE_NO_STAGE, false));
		lint_pragmas_release(&pr);
		bale_dockerfile_free(df);
	}
	df = parse("# check=skip=all\nFROM a\nCMD x\n");
	assert_int_equal(lint_pragmas_read(&pr, df, NULL), 0);
	assert_true(lint_pragmas_ignore(&pr, &json_args, 1, BALE_NO_STAGE, false));
	lint_pragmas_release(&pr);
	bale_dockerfile_free(df);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_next_instruction_pragma_with_aliases_and_names),
	    cmocka_unit_test(test_empty_line_cuts_the_pragma_off),
	    cmocka_unit_test(test_global_pragma_anywhere),
	    cmocka_unit_test(test_buildkit_check_directive_skips_only_buildkit_checks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
