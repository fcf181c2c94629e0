/*
 * findings.h: the library's own way in to a findings list, for checkers that format their
 * message themselves (lint formats one to decide nothing silences it first). The message and
 * the location's strings are the list's own, as with bale_findings_add(): the rule is
 * referenced, and the file name is copied once (report_findings_note_file()).
 */
#ifndef BALE_REPORT_FINDINGS_H
#define BALE_REPORT_FINDINGS_H

#include "bale/report.h"
#include "util/util.h"

/* The list itself: the formats read it, checkers add to it through the functions below. */
struct bale_findings {
	bale_arena arena;      /* messages, copied location strings, v and files */
	const char *last_file; /* the arena's copy of the file name last added */
	bale_finding *v;
	size_t n, alloc;
	const char **files; /* files that were checked, in the order noted */
	size_t nfiles, files_alloc;
	bale_rule **rules; /* rules made at run time (bale_findings_intern_rule), in the arena */
	size_t nrules, rules_alloc;
};

/*
 * The least room report_findings_room() gives: more than any message the rules write but one
 * that quotes a long word, for which lint formats it apart. The head chunk's end, when it has
 * less, is left unused: a sixteenth of a chunk at most.
 */
#define REPORT_MESSAGE_ROOM 1024

/*
 * Room for the message of the next finding, for a checker that writes it before it knows its
 * length: *room bytes (1024 at least) at the pointer returned, NULL when out of memory. Nothing
 * else may be added to the list until report_findings_add_written() adds the finding whose
 * message is the first `len` bytes written there (len < *room: the list puts the NUL after
 * them); a checker that gives up on the room just does not call it. Inline: lint asks for
 * every finding, and the room is nearly always there.
 */
static inline char *report_findings_room(bale_findings *findings, size_t *room)
{
	return bale_arena_room(&findings->arena, REPORT_MESSAGE_ROOM, room);
}

int report_findings_add_written(bale_findings *findings, const bale_rule *rule,
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
