/*
 * Unified diffs of two texts, line by line, for `bale lint --diff`: Myers' O((N+M)D)
 * algorithm over the lines between the common prefix and suffix, keeping one diagonal row per
 * edit step (O(D^2) memory). Past MAX_EDITS edits the middle is shown as one replacement,
 * still a correct diff, so a huge change cannot take huge memory.
 */
#include "util/util.h"

#include <stdlib.h>
#include <string.h>

#define MAX_EDITS 4000
#define CONTEXT	  3

struct line {
	const char *p;
	size_t len; /* without the newline */
	bool nl;    /* the line ends with a newline */
};

struct lines {
	struct line *v;
	size_t n, alloc;
};

static int split(struct lines *out, const char *s, size_t len)
{
	size_t pos = 0;

	while (pos < len) {
		const char *nl = memchr(s + pos, '\n', len - pos);
		size_t l = nl ? (size_t)(nl - (s + pos)) : len - pos;

		if (BALE_ARRAY_RESERVE(out->v, out->alloc, out->n + 1))
			return BALE_ENOMEM;
		out->v[out->n].p = s + pos;
		out->v[out->n].len = l;
		out->v[out->n].nl = nl != NULL;
		out->n++;
		pos += l + (nl != NULL);
	}
	return 0;
}

static bool same(const struct line *a, const struct line *b)
{
	return a->len == b->len && a->nl == b->nl && memcmp(a->p, b->p, a->len) == 0;
}

/* One edit script entry per line of either side: ' ' both, '-' only a, '+' only b. */
struct op {
	char kind;
	size_t a, b; /* line indexes (a for ' ' and '-', b for ' ' and '+') */
};

struct ops {
	struct op *v;
	size_t n, alloc;
};

static int push_op(struct ops *ops, char kind, size_t a, size_t b)
{
	if (BALE_ARRAY_RESERVE(ops->v, ops->alloc, ops->n + 1))
		return BALE_ENOMEM;
	ops->v[ops->n].kind = kind;
	ops->v[ops->n].a = a;
	ops->v[ops->n].b = b;
	ops->n++;
	return 0;
}

/*
 * The shortest edit script from a[alo..ahi) to b[blo..bhi) appended to `ops` (in order).
 * Returns 1 when it needs more than MAX_EDITS edits (nothing appended).
 */
static int myers(struct ops *ops, const struct lines *a, size_t alo, size_t ahi,
		 const struct lines *b, size_t blo, size_t bhi)
{
	long n = (long)(ahi - alo), m = (long)(bhi - blo), max = n + m, d, k, x, y;
	long **rows = NULL;
	int rc = 0;

	if (max == 0)
		return 0;
	rows = calloc((size_t)(max < MAX_EDITS ? max : MAX_EDITS) + 1, sizeof(*rows));
	if (!rows)
		return bale_error_oom();
	for (d = 0; d <= max && d <= MAX_EDITS; d++) {
		/* rows[d][k + d] is the furthest x on diagonal k after d edits. */
		long *v = malloc(sizeof(long) * (size_t)(2 * d + 1));

		if (!v) {
			rc = bale_error_oom();
			goto out;
		}
		rows[d] = v;
		for (k = -d; k <= d; k += 2) {
			if (d == 0)
				x = 0;
			else if (k == -d || (k != d && rows[d - 1][k - 1 + d - 1] <
							   rows[d - 1][k + 1 + d - 1]))
				x = rows[d - 1][k + 1 + d - 1];
			else
				x = rows[d - 1][k - 1 + d - 1] + 1;
			y = x - k;
			while (x < n && y < m &&
			       same(&a->v[alo + (size_t)x], &b->v[blo + (size_t)y])) {
				x++;
				y++;
			}
			v[k + d] = x;
			if (x >= n && y >= m)
				goto found;
		}
	}
	rc = 1; /* too many edits */
	goto out;
found : {
	/* Walk back from (n, m) to collect the script in reverse, then reverse it. */
	size_t start = ops->n;

	x = n;
	y = m;
	for (long dd = d; dd > 0; dd--) {
		long kk = x - y, prev_k, prev_x, prev_y;

		if (kk == -dd ||
		    (kk != dd && rows[dd - 1][kk - 1 + dd - 1] < rows[dd - 1][kk + 1 + dd - 1]))
			prev_k = kk + 1;
		else
			prev_k = kk - 1;
		prev_x = rows[dd - 1][prev_k + dd - 1];
		prev_y = prev_x - prev_k;
		while (x > prev_x && y > prev_y) {
			x--;
			y--;
			if ((rc = push_op(ops, ' ', alo + (size_t)x, blo + (size_t)y)) != 0)
				goto out;
		}
		if (x == prev_x) {
			y--;
			rc = push_op(ops, '+', alo + (size_t)x, blo + (size_t)y);
		} else {
			x--;
			rc = push_op(ops, '-', alo + (size_t)x, blo + (size_t)y);
		}
		if (rc)
			goto out;
	}
	while (x > 0 && y > 0) {
		x--;
		y--;
		if ((rc = push_op(ops, ' ', alo + (size_t)x, blo + (size_t)y)) != 0)
			goto out;
	}
	for (size_t i = start, j = ops->n - 1; i < j; i++, j--) {
		struct op t = ops->v[i];

		ops->v[i] = ops->v[j];
		ops->v[j] = t;
	}
}
out:
	for (long i = 0; rows && i <= (max < MAX_EDITS ? max : MAX_EDITS); i++)
		free(rows[i]);
	free(rows);
	return rc;
}

static void emit_line(bale_buf *out, char kind, const struct line *l)
{
	bale_buf_addch(out, kind);
	bale_buf_add(out, l->p, l->len);
	bale_buf_addch(out, '\n');
	if (!l->nl)
		bale_buf_adds(out, "\\ No newline at end of file\n");
}

int bale_diff_unified(bale_buf *out, const char *a, size_t alen, const char *b, size_t blen,
		      const char *name_a, const char *name_b)
{
	struct lines la = {0}, lb = {0};
	struct ops ops = {0};
	size_t pre = 0, suf = 0;
	int rc;

	if ((rc = split(&la, a, alen)) || (rc = split(&lb, b, blen)))
		goto out;
	while (pre < la.n && pre < lb.n && same(&la.v[pre], &lb.v[pre]))
		pre++;
	while (suf < la.n - pre && suf < lb.n - pre &&
	       same(&la.v[la.n - 1 - suf], &lb.v[lb.n - 1 - suf]))
		suf++;
	if (pre == la.n && pre == lb.n)
		goto out; /* identical */
	for (size_t i = 0; i < pre; i++)
		if ((rc = push_op(&ops, ' ', i, i)) != 0)
			goto out;
	rc = myers(&ops, &la, pre, la.n - suf, &lb, pre, lb.n - suf);
	if (rc == 1) {
		rc = 0;
		for (size_t i = pre; i < la.n - suf && !rc; i++)
			rc = push_op(&ops, '-', i, pre);
		for (size_t i = pre; i < lb.n - suf && !rc; i++)
			rc = push_op(&ops, '+', la.n - suf, i);
	}
	for (size_t i = 0; i < suf && !rc; i++)
		rc = push_op(&ops, ' ', la.n - suf + i, lb.n - suf + i);
	if (rc)
		goto out;
	bale_buf_addf(out, "--- %s\n+++ %s\n", name_a, name_b);
	/* Hunks: runs of changes with CONTEXT lines around, merged when close. */
	for (size_t i = 0; i < ops.n;) {
		size_t start, end, a_start, b_start, a_count = 0, b_count = 0;

		while (i < ops.n && ops.v[i].kind == ' ')
			i++;
		if (i == ops.n)
			break;
		start = i > CONTEXT ? i - CONTEXT : 0;
		end = i;
		for (;;) {
			size_t j = end;

			while (j < ops.n && ops.v[j].kind != ' ')
				j++;
			end = j;
			while (j < ops.n && ops.v[j].kind == ' ' && j - end < 2 * CONTEXT + 1)
				j++;
			if (j < ops.n && ops.v[j].kind != ' ' && j - end <= 2 * CONTEXT) {
				end = j;
				continue;
			}
			end = end + CONTEXT < ops.n ? end + CONTEXT : ops.n;
			break;
		}
		a_start = ops.v[start].a;
		b_start = ops.v[start].b;
		for (size_t k = start; k < end; k++) {
			a_count += ops.v[k].kind != '+';
			b_count += ops.v[k].kind != '-';
		}
		bale_buf_addf(out, "@@ -%zu,%zu +%zu,%zu @@\n", a_count ? a_start + 1 : a_start,
			      a_count, b_count ? b_start + 1 : b_start, b_count);
		for (size_t k = start; k < end; k++)
			emit_line(out, ops.v[k].kind,
				  ops.v[k].kind == '+' ? &lb.v[ops.v[k].b] : &la.v[ops.v[k].a]);
		i = end;
	}
	rc = out->err;
out:
	free(la.v);
	free(lb.v);
	free(ops.v);
	return rc;
}
