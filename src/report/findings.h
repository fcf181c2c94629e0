/*
 * findings.h: the library's own way in to a findings list, for checkers that format their
 * message themselves (lint formats one to decide nothing silences it first). The message and
 * the location's strings are copied into the list, as bale_findings_add() does.
 */
#ifndef BALE_REPORT_FINDINGS_H
#define BALE_REPORT_FINDINGS_H

#include "bale/report.h"

/*
 * Adds a finding whose message is `len` bytes that the caller writes at the pointer returned,
 * for a checker that formats its message straight into the list (the list has put the NUL
 * after them); NULL when out of memory, and then no finding is added.
 */
char *report_findings_add_message(bale_findings *findings, const bale_rule *rule,
				  bale_severity severity, const bale_location *loc, size_t len);

/*
 * Adds a finding whose message is the `len` bytes at `message` (no format is applied).
 * `severity` BALE_SEV_NONE means the rule's default. Returns 0 or BALE_ENOMEM.
 */
int report_findings_add_text(bale_findings *findings, const bale_rule *rule, bale_severity severity,
			     const bale_location *loc, const char *message, size_t len);

/*
 * bale_findings_add_file(), giving back in *copy the list's own copy of `file`: a checker that
 * gives it as the location's file saves the list comparing the name for every finding.
 */
int report_findings_note_file(bale_findings *findings, const char *file, const char **copy);

#endif
