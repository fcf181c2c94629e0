/*
 * Fuzz target for the whole linter: every byte string goes through bale_lint() (ShellCheck
 * off: it is another program) and, when that succeeds, through every output format and
 * --fix. A crash, hang, leak or undefined behaviour in any rule shows; so does a broken
 * contract: a failure must carry a message, a finding a rule and a message, and a fixed file
 * must parse again.
 */
#include "bale/lint.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(bool ok)
{
	if (!ok)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const bale_format formats[] = {BALE_FORMAT_TTY,	  BALE_FORMAT_JSON,
					      BALE_FORMAT_SARIF,  BALE_FORMAT_CHECKSTYLE,
					      BALE_FORMAT_GITLAB, BALE_FORMAT_GITHUB};
	const char *text = (const char *)data;
	bale_lint_config cfg;
	bale_findings *f = NULL;
	bale_buf out = BALE_BUF_INIT;
	size_t nfixed;
	int rc;

	bale_lint_config_init(&cfg);
	cfg.shellcheck = 0;
	check(bale_findings_new(&f) == 0);
	rc = bale_lint(f, text, size, "Dockerfile", &cfg, NULL);
	if (rc != 0) {
		check(rc < 0 && bale_error_last()->message[0] != '\0');
		goto out;
	}
	for (size_t i = 0; i < bale_findings_count(f); i++) {
		const bale_finding *fd = bale_findings_get(f, i);

		check(fd->rule && fd->rule->id && fd->message && fd->message[0]);
	}
	bale_findings_sort(f);
	for (size_t k = 0; k < sizeof(formats) / sizeof(formats[0]); k++) {
		bale_buf_reset(&out);
		check(bale_report_render(&out, formats[k], f, NULL) == 0);
	}
	bale_buf_reset(&out);
	if (bale_lint_fix(&out, &nfixed, text, size, "Dockerfile", &cfg, NULL) == 0 && nfixed) {
		bale_dockerfile *df = NULL;

		/* A fix never turns a file that parses into one that does not. */
		check(bale_dockerfile_parse(&df, out.ptr, out.len, NULL) == 0);
		bale_dockerfile_free(df);
	}
out:
	bale_buf_release(&out);
	bale_findings_free(f);
	bale_lint_config_release(&cfg);
	return 0;
}
