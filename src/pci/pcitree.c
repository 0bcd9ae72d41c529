/* pcitree.c - bridges above each function from sysfs paths, and the reason an IOMMU group holds several */
/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pcitree.h"
#include "util.h"

void pcitree_free(struct pcitree *t)
{
	if (!t)
		return;
	free(t->parent);
	free(t->rootbus);
	free(t);
}

/* the components before ADDR in "../../../devices/pci0000:00/0000:00:01.0/0000:01:00.0" */
static void parse_link(const struct pcihost *h, const char *link, long *ret_parent, char *rootbus)
{
	const char *last = strrchr(link, '/'), *p;
	struct pciaddr a;
	char comp[64];

	*ret_parent = -1;
	if (!last)
		return;
	for (p = last; p > link && p[-1] != '/'; p--)
		;
	/* p .. last is the parent's component */
	if ((size_t)(last - p) < sizeof(comp)) {
		memcpy(comp, p, (size_t)(last - p));
		comp[last - p] = '\0';
		if (pciaddr_parse(comp, &a) == 0) {
			const struct pcifn *f = pcihost_find(h, &a);
			*ret_parent = f ? f - h->fns : -1;
		}
	}
	/* the root bus is the component after "devices/" */
	p = strstr(link, "devices/");
	if (p) {
		p += strlen("devices/");
		(void)snprintf(rootbus, ROOTBUS_STRLEN, "%.*s", (int)strcspn(p, "/"), p);
	}
}

int pcitree_build(const struct sysroot *r, const struct pcihost *h, struct pcitree **ret)
{
	struct pcitree *t = calloc(1, sizeof(*t));
	char rel[128];

	if (!t)
		return -ENOMEM;
	t->h = h;
	t->parent = calloc(h->n ? h->n : 1, sizeof(*t->parent));
	t->rootbus = calloc(h->n ? h->n : 1, sizeof(*t->rootbus));
	if (!t->parent || !t->rootbus) {
		pcitree_free(t);
		return -ENOMEM;
	}
	for (size_t i = 0; i < h->n; i++) {
		_cleanup_free_ char *link = NULL;

		(void)snprintf(t->rootbus[i], ROOTBUS_STRLEN, "pci%04x:%02x", h->fns[i].addr.domain, 0);
		t->parent[i] = -1;
		if (xsnprintf(rel, sizeof(rel), "sys/bus/pci/devices/%s", h->fns[i].name) == 0 &&
		    sysroot_readlink(r, rel, &link) == 0)
			parse_link(h, link, &t->parent[i], t->rootbus[i]);
		if (t->parent[i] == (long)i)
			t->parent[i] = -1;
	}
	*ret = t;
	return 0;
}

size_t pcitree_depth(const struct pcitree *t, size_t i)
{
	size_t d = 0;

	for (long p = t->parent[i]; p >= 0 && d < 256; p = t->parent[p])
		d++;
	return d;
}

static bool is_ancestor(const struct pcitree *t, long a, size_t i)
{
	size_t guard = 0;

	for (long p = t->parent[i]; p >= 0 && guard++ < 256; p = t->parent[p])
		if (p == a)
			return true;
	return false;
}

/* the deepest bridge above both, -1 when they meet only at the root bus */
static long common_bridge(const struct pcitree *t, size_t f, size_t s)
{
	size_t guard = 0;

	for (long p = t->parent[f]; p >= 0 && guard++ < 256; p = t->parent[p])
		if (is_ancestor(t, p, s))
			return p;
	return -1;
}

static const char *kind(const struct pcifn *f)
{
	switch (f->class >> 8) {
	case 0x0604:
	case 0x0609:
		return (f->addr.bus == 0) ? "root port" : "bridge";
	default:
		return "bridge";
	}
}

static void slot_text(const struct pciaddr *a, char *buf, size_t size)
{
	(void)snprintf(buf, size, "%04x:%02x:%02x", a->domain, a->bus, a->dev);
}

const char *pcitree_why_shared(const struct pcitree *t, size_t f, size_t s, char *buf, size_t size)
{
	const struct pcifn *a = &t->h->fns[f], *b = &t->h->fns[s];
	long c;
	char slot[PCIADDR_STRLEN];

	if (pciaddr_same_slot(&a->addr, &b->addr)) {
		slot_text(&a->addr, slot, sizeof(slot));
		(void)snprintf(buf, size,
			       "%s and %s are functions of one device (%s) without ACS isolation between them", a->name,
			       b->name, slot);
		return buf;
	}
	c = common_bridge(t, f, s);
	/* the topmost bridge above f that is in the group: the one whose missing ACS pulled f in */
	for (long p = t->parent[f]; p >= 0; p = t->parent[p]) {
		if (t->h->fns[p].group != a->group || !is_ancestor(t, p, s))
			continue;
		c = p;
	}
	if (c >= 0)
		(void)snprintf(buf, size, "the %s %s above both does not isolate the devices below it (no ACS)",
			       kind(&t->h->fns[c]), t->h->fns[c].name);
	else
		(void)snprintf(buf, size, "%s and %s sit on root bus %s with no ACS isolation between them", a->name,
			       b->name, t->rootbus[f]);
	return buf;
}

long pcitree_group_top(const struct pcitree *t, int g)
{
	long top = -1;
	size_t best = (size_t)-1;

	for (size_t i = 0; i < t->h->n; i++) {
		long p = t->parent[i];
		size_t d;

		if (t->h->fns[i].group != g || (p >= 0 && t->h->fns[p].group == g))
			continue;
		d = pcitree_depth(t, i);
		if (d < best) {
			best = d;
			top = (long)i;
		}
	}
	return top;
}

const char *pcitree_why_group(const struct pcitree *t, int g, char *buf, size_t size)
{
	long top = pcitree_group_top(t, g), other = -1;
	bool one_slot = true;
	char slot[PCIADDR_STRLEN];
	size_t n = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < t->h->n; i++) {
		if (t->h->fns[i].group != g)
			continue;
		n++;
		if ((long)i != top && other < 0)
			other = (long)i;
		if (top >= 0)
			one_slot &= pciaddr_same_slot(&t->h->fns[i].addr, &t->h->fns[top].addr);
	}
	if (n < 2 || top < 0 || other < 0)
		return buf;
	if (one_slot) {
		slot_text(&t->h->fns[top].addr, slot, sizeof(slot));
		(void)snprintf(buf, size, "the functions of one device (%s) without ACS isolation between them", slot);
		return buf;
	}
	if (pcifn_is_bridge(&t->h->fns[top]) && is_ancestor(t, top, (size_t)other)) {
		(void)snprintf(buf, size, "the %s %s does not isolate the devices below it (no ACS)",
			       kind(&t->h->fns[top]), t->h->fns[top].name);
		return buf;
	}
	return pcitree_why_shared(t, (size_t)top, (size_t)other, buf, size);
}
