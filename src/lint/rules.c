/*
 * The rule table, built from rules.def, and the catalogue in id order. rules.def lines may
 * come in any order (each topic's author appends theirs); the catalogue sorts once.
 */
#include "lint/internal.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define LINT_RULE(id) extern const struct lint_rule lint_rule_##id;
#include "lint/rules.def"
#undef LINT_RULE

const struct lint_rule *const lint_rules[] = {
#define LINT_RULE(id) &lint_rule_##id,
#include "lint/rules.def"
#undef LINT_RULE
};

const size_t lint_nrules = sizeof(lint_rules) / sizeof(lint_rules[0]);

static const struct lint_rule *sorted[sizeof(lint_rules) / sizeof(lint_rules[0])];
static pthread_once_t sorted_once = PTHREAD_ONCE_INIT;

static int by_id(const void *a, const void *b)
{
	const struct lint_rule *x = *(const struct lint_rule *const *)a;
	const struct lint_rule *y = *(const struct lint_rule *const *)b;

	return strcmp(x->meta.id, y->meta.id);
}

static void sort_catalogue(void)
{
	memcpy(sorted, lint_rules, sizeof(sorted));
	qsort(sorted, lint_nrules, sizeof(sorted[0]), by_id);
}

const bale_rule *bale_lint_rule(size_t index)
{
	pthread_once(&sorted_once, sort_catalogue);
	return index < lint_nrules ? &sorted[index]->meta : NULL;
}

size_t bale_lint_rule_count(void)
{
	return lint_nrules;
}
