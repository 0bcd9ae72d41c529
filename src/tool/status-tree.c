/* status-tree.c - pcibind status --tree: bridges as lspci -tv draws them, each function with its group */
/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pcitree.h"
#include "status.h"

/* ---- the tree (--tree): bridges as lspci -tv draws them, each function with its group ---- */

struct tree_walk {
	struct status *st;
	const struct pcitree *t;
	const bool *shown;
	char prefix[512];
};

static void tree_node(struct tree_walk *w, size_t i, bool last)
{
	const struct pcifn *f = &w->st->h->fns[i];
	char cls[256], dev[DESCRIBE_MAX], notes[CELL_MAX], group[24] = "no group";
	size_t len = strlen(w->prefix);

	if (f->group >= 0)
		(void)snprintf(group, sizeof(group), "group %d", f->group);
	status_fn_notes(w->st, f, notes, sizeof(notes));
	status_emitf(w->st, "%s%s %s  %s  %s: %s  driver: %s%s%s%s", w->prefix, last ? "\\-" : "+-", f->name, group,
		     describe_class_name(w->st->names, f->class, cls, sizeof(cls)),
		     describe_device(w->st->names, f->vendor, f->device, dev, sizeof(dev)),
		     f->driver ? f->driver : "none", notes[0] ? "  [" : "", notes, notes[0] ? "]" : "");
	if (len + 4 >= sizeof(w->prefix))
		return;
	memcpy(w->prefix + len, last ? "   " : "|  ", 4);
	for (size_t c = 0, n = 0; c < w->st->h->n; c++) {
		size_t next;

		if (w->t->parent[c] != (long)i || !w->shown[c])
			continue;
		/* the last shown child gets the corner */
		for (next = c + 1; next < w->st->h->n && !(w->t->parent[next] == (long)i && w->shown[next]); next++)
			;
		tree_node(w, c, next == w->st->h->n);
		n++;
	}
	w->prefix[len] = '\0';
}

static void tree_bus(struct tree_walk *w, const char *bus)
{
	const struct pcihost *h = w->st->h;

	status_emitf(w->st, "%s", bus);
	for (size_t i = 0, next; i < h->n; i = next) {
		for (next = i + 1;
		     next < h->n && !(w->t->parent[next] < 0 && w->shown[next] && streq(w->t->rootbus[next], bus));
		     next++)
			;
		if (w->t->parent[i] < 0 && w->shown[i] && streq(w->t->rootbus[i], bus))
			tree_node(w, i, next == h->n);
	}
}

/* the groups shown with more than one function: who is in them, and why */
static void tree_groups(struct status *st, const struct pcitree *t, const bool *shown)
{
	bool header = false;

	for (size_t i = 0; i < st->n_order; i++) {
		const struct pcifn *f = &st->h->fns[st->order[i]];
		char members[LINE_MAX_ / 2] = "", why[512];
		size_t n = 0;

		if (f->group < 0 || (i && st->h->fns[st->order[i - 1]].group == f->group))
			continue;
		for (size_t k = 0; k < st->h->n; k++)
			if (st->h->fns[k].group == f->group && shown[k])
				strappendf(members, sizeof(members), "%s%s", n++ ? ", " : "", st->h->fns[k].name);
		if (n < 2)
			continue;
		if (!header) {
			putchar('\n');
			status_emit(st, "IOMMU groups of more than one function");
		}
		header = true;
		status_emitf(st, "  group %d: %s", f->group, members);
		if (pcitree_why_group(t, f->group, why, sizeof(why))[0])
			status_emitf(st, "      why: %s", why);
	}
}

int status_print_tree(struct status *st)
{
	struct pcitree *t = NULL;
	struct tree_walk w = { .st = st };
	bool *shown = calloc(st->h->n ? st->h->n : 1, sizeof(*shown));
	int err = shown ? pcitree_build(st->c->root, st->h, &t) : -ENOMEM;

	if (err < 0) {
		free(shown);
		msg_error("cannot read the PCI topology: %s", strerror(-err));
		return EXIT_FAILURE_;
	}
	/* what was asked for, the rest of its groups, and the bridges on the way to them */
	for (size_t i = 0; i < st->n_order; i++) {
		const struct pcifn *f = &st->h->fns[st->order[i]];

		for (size_t k = 0; k < st->h->n; k++)
			if (k == st->order[i] || (f->group >= 0 && st->h->fns[k].group == f->group))
				for (long p = (long)k; p >= 0 && !shown[p]; p = t->parent[p])
					shown[p] = true;
	}
	w.t = t;
	w.shown = shown;
	if (!st->h->iommu)
		status_emit(st, "no IOMMU groups: the IOMMU is off or absent; vfio-pci cannot be used");
	for (size_t i = 0; i < st->h->n; i++) {
		bool first = true;

		for (size_t k = 0; k < i && first; k++)
			first = !streq(t->rootbus[k], t->rootbus[i]) || !shown[k] || t->parent[k] >= 0;
		if (shown[i] && t->parent[i] < 0 && first)
			tree_bus(&w, t->rootbus[i]);
	}
	tree_groups(st, t, shown);
	pcitree_free(t);
	free(shown);
	return 0;
}
