/* test-plan.c - the planner on in-memory hosts and configs: selection, targets, refusals, verdicts */
/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "harness.h"
#include "plan.h"
#include "util.h"

#define C_HOSTBRIDGE 0x060000
#define C_ROOTPORT   0x060400
#define C_VGA	     0x030000
#define C_AUDIO	     0x040300
#define C_NIC	     0x020000
#define C_NVME	     0x010802
#define C_USB	     0x0c0330

/* One function of an in-memory host */
struct fnspec {
	const char *addr;
	uint16_t vendor, device;
	uint32_t class;
	const char *driver;
	int group;
	const char *override;
	unsigned uses;
	const char *detail;
	const char *reset_method;
	int numvfs; /* 0 means "not a PF" here, stored as -1, unless totalvfs is given */
	int totalvfs;       /* a PF: sriov_totalvfs, numvfs taken as it is */
	enum autoprobe autoprobe;
	const char *physfn; /* a VF: its PF, and vf its number */
	int vf;
	struct variant_pick *variant;
};

/* The common fields in order, the rest by name: FN(addr, vendor, device, class, driver, group, .uses = ...)
 */
#define FN(a, v, d, c, drv, g, ...)                                                                          \
	{                                                                                                    \
		.addr = (a), .vendor = (v), .device = (d), .class = (c), .driver = (drv), .group = (g),      \
		__VA_ARGS__                                                                                  \
	}

static int fn_cmp(const void *a, const void *b)
{
	return pciaddr_cmp(&((const struct pcifn *)a)->addr, &((const struct pcifn *)b)->addr);
}

static struct pcihost *host_make(bool iommu, const struct fnspec *s, size_t n)
{
	struct pcihost *h = calloc(1, sizeof(*h));

	h->fns = calloc(n, sizeof(*h->fns));
	h->n = n;
	h->iommu = iommu;
	for (size_t i = 0; i < n; i++) {
		struct pcifn *f = &h->fns[i];

		if (pciaddr_parse(s[i].addr, &f->addr) < 0)
			abort();
		pciaddr_format(&f->addr, f->name);
		f->vendor = s[i].vendor;
		f->device = s[i].device;
		f->class = s[i].class;
		f->driver = xstrdup_null(s[i].driver);
		f->override = xstrdup_null(s[i].override);
		f->group = s[i].group;
		f->boot_vga = -1;
		f->reset_method = xstrdup_null(s[i].reset_method);
		f->sriov_numvfs = s[i].totalvfs || s[i].numvfs ? s[i].numvfs : -1;
		f->sriov_totalvfs = s[i].totalvfs ? s[i].totalvfs : -1;
		f->sriov_autoprobe = s[i].autoprobe;
		f->is_vf = s[i].physfn != NULL;
		f->vf_index = f->is_vf ? s[i].vf : -1;
		if (s[i].physfn)
			(void)snprintf(f->physfn, sizeof(f->physfn), "%s", s[i].physfn);
		if (s[i].variant) {
			f->variant = malloc(sizeof(*f->variant));
			*f->variant = *s[i].variant;
		}
		f->uses = s[i].uses;
		f->use_detail = xstrdup_null(s[i].detail);
		for (unsigned u = 0; u < PCIFN_N_USES; u++) /* one detail for each of its uses */
			if (f->uses & (1u << u))
				f->use_details[u] = xstrdup_null(s[i].detail);
	}
	qsort(h->fns, n, sizeof(*h->fns), fn_cmp);
	return h;
}

#define HOST(iommu, ...)                                                                                     \
	host_make(iommu, (const struct fnspec[]){__VA_ARGS__},                                               \
		  sizeof((const struct fnspec[]){__VA_ARGS__}) / sizeof(struct fnspec))

/*
 * A workstation: root port and host bridge, a GPU with its audio behind the
 * port, two identical NICs, an NVMe with / on it, a USB controller with the
 * keyboard. Groups follow what ACS-less consumer boards show.
 */
static struct pcihost *workstation(void)
{
	return HOST(true, FN("0000:00:00.0", 0x8086, 0x3e30, C_HOSTBRIDGE, NULL, 0),
		    FN("0000:00:01.0", 0x8086, 0x1901, C_ROOTPORT, "pcieport", 1),
		    FN("0000:00:14.0", 0x8086, 0xa36d, C_USB, "xhci_hcd", 5, .uses = USE_INPUT,
		       .detail = "keyboard on usb 1-2"),
		    FN("0000:01:00.0", 0x10de, 0x2204, C_VGA, "nouveau", 1),
		    FN("0000:01:00.1", 0x10de, 0x1aef, C_AUDIO, "snd_hda_intel", 1),
		    FN("0000:02:00.0", 0x8086, 0x1533, C_NIC, "igb", 2),
		    FN("0000:03:00.0", 0x8086, 0x1533, C_NIC, "igb", 3),
		    FN("0000:04:00.0", 0x144d, 0xa808, C_NVME, "nvme", 4, .uses = USE_MOUNT,
		       .detail = "/ on nvme0n1p2"));
}

static void pcihost_freep(struct pcihost **h)
{
	pcihost_free(*h);
}

static void config_freep(struct config **c)
{
	config_free(*c);
}

static void plan_freep(struct plan **p)
{
	plan_free(*p);
}

#define _cleanup_host_	 _cleanup_(pcihost_freep)
#define _cleanup_config_ _cleanup_(config_freep)
#define _cleanup_plan_	 _cleanup_(plan_freep)

/* Add [name] with comma-separated addresses and ids (either may be NULL) */
static void cfg_add(struct config *cfg, const char *name, const char *addrs, const char *ids,
		    const char *driver)
{
	struct devset *set;
	char buf[256], *tok, *save;

	cfg->sets = realloc(cfg->sets, (cfg->n_sets + 1) * sizeof(*cfg->sets));
	set = &cfg->sets[cfg->n_sets++];
	*set =
	    (struct devset){.file = strdup("/etc/pcibind/pcibind.conf"), .line = 10 * (unsigned)cfg->n_sets};
	(void)snprintf(set->name, sizeof(set->name), "%s", name);
	set->driver = xstrdup_null(driver);
	(void)snprintf(buf, sizeof(buf), "%s", addrs ? addrs : "");
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		set->addrs = realloc(set->addrs, (set->n_addrs + 1) * sizeof(*set->addrs));
		if (selector_parse(tok, &set->addrs[set->n_addrs++]) < 0)
			abort();
	}
	(void)snprintf(buf, sizeof(buf), "%s", ids ? ids : "");
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		set->ids = realloc(set->ids, (set->n_ids + 1) * sizeof(*set->ids));
		if (sscanf(tok, "%4hx:%4hx", &set->ids[set->n_ids].vendor, &set->ids[set->n_ids].device) != 2)
			abort();
		set->n_ids++;
	}
}

#define MAX_SELS 8

/*
 * Plan one request given as words, as a user types them. Returns what
 * plan_make() returns; *ret (freed first, so tests can plan again into the
 * same variable) is the plan or NULL, err the message.
 */
static int plan_words(const struct pcihost *h, const struct config *cfg, const struct fnstate *recs,
		      size_t n_recs, enum verb verb, const char *driver, bool force, const char *words,
		      struct plan **ret, struct plan_error *err)
{
	struct selector sels[MAX_SELS];
	struct request req = {.verb = verb, .driver = driver, .force = force, .sels = sels};
	char buf[256], *tok, *save;

	(void)snprintf(buf, sizeof(buf), "%s", words ? words : "");
	for (tok = strtok_r(buf, " ", &save); tok; tok = strtok_r(NULL, " ", &save))
		if (req.n_sels == MAX_SELS || selector_parse(tok, &sels[req.n_sels++]) < 0)
			abort();
	plan_free(*ret);
	*ret = NULL;
	memset(err, 0, sizeof(*err));
	return plan_make(h, cfg, recs, n_recs, &req, ret, err);
}

#define BIND(h, cfg, words, p, e) plan_words(h, cfg, NULL, 0, VERB_BIND, NULL, false, words, p, e)

static const struct refusal *find_refusal(const struct plan *p, enum refusal_kind kind)
{
	for (size_t i = 0; i < p->n_refusals; i++)
		if (p->refusals[i].kind == kind)
			return &p->refusals[i];
	return NULL;
}

/* ---- selection ---- */

TEST(select_function)
{
	_cleanup_host_ struct pcihost *h = workstation();
	_cleanup_plan_ struct plan *p = NULL;
	struct plan_error e;

	ASSERT_INT_EQ(BIND(h, NULL, "0000:02:00.0", &p, &e), 0);
	ASSERT_NOT_NULL(p);
	ASSERT_INT_EQ(p->verb, VERB_BIND);
	ASSERT_INT_EQ(p->n_acts, 1);
	ASSERT_STR_EQ(p->acts[0].name, "0000:02:00.0");
	ASSERT_STR_EQ(h->fns[p->acts[0].fn].name, "0000:02:00.0");
	ASSERT_INT_EQ(p->acts[0].group, 2);
	ASSERT_STR_EQ(p->acts[0].target.driver, "vfio-pci");
	ASSERT_STR_EQ(p->acts[0].target.override, "vfio-pci");
	ASSERT_FALSE(p->acts[0].target.kernel_picks);
	ASSERT_NULL(p->acts[0].set);
	ASSERT_FALSE(p->acts[0].noop);
	ASSERT_FALSE(p->acts[0].recorded);
	ASSERT_STR_EQ(p->acts[0].before.name, "0000:02:00.0");
	ASSERT_STR_EQ(p->acts[0].before.driver, "igb");
	ASSERT_NULL(p->acts[0].before.override);
	ASSERT_NULL(p->acts[0].reset_method);
	ASSERT_INT_EQ(p->acts[0].sriov_numvfs, -1);
	ASSERT_INT_EQ(p->n_refusals, 0);
	ASSERT_FALSE(plan_refused(p));
	ASSERT_INT_EQ(plan_changes(p), 1);
}

TEST(select_function_short_form)
{
	_cleanup_host_ struct pcihost *h = workstation();
	_cleanup_plan_ struct plan *p = NULL;
	struct plan_error e;

	ASSERT_INT_EQ(BIND(h, NULL, "03:00.0", &p, &e), 0);
	ASSERT_INT_EQ(p->n_acts, 1);
	ASSERT_STR_EQ(p->acts[0].name, "0000:03:00.0");
}

TEST(select_function_absent)
{
	_cleanup_host_ struct pcihost *h = workstation();
	_cleanup_plan_ struct plan *p = NULL;
	struct plan_error e;

	ASSERT_INT_EQ(BIND(h, NULL, "0000:82:00.0", &p, &e), -EINVAL);
	ASSERT_NULL(p);
	ASSERT_STR_EQ(e.msg, "no PCI function 0000:82:00.0 on this host");
}

TEST(select_slot_gpu_and_audio_is_allowed)
{
	_cleanup_host_ struct pcihost *h = workstation();
	_cleanup_plan_ struct plan *p = NULL;
	struct plan_error e;

	ASSERT_INT_EQ(BIND(h, NULL, "01:00", &p, &e), 0);
	ASSERT_INT_EQ(p->n_acts, 2);
	ASSERT_STR_EQ(p->acts[0].name, "0000:01:00.0");
	ASSERT_STR_EQ(p->acts[1].name, "0000:01:00.1");
	ASSERT_STR_EQ(p->acts[1].before.driver, "snd_hda_intel");
	/* the root port in group 1 is a bridge: it does not count */
	ASSERT_INT_EQ(p->n_refusals, 0);
	ASSERT_FALSE(plan_refused(p));
	ASSERT_INT_EQ(plan_changes(p), 2);
}

TEST(select_slot_absent)
{
	_cleanup_host_ struct pcihost *h = workstation();
	_cleanup_plan_ struct plan *p = NULL;
	struct plan_error e;

	ASSERT_INT_EQ(BIND(h, NULL, "0000:82:00", &p, &e), -EINVAL);
	ASSERT_NULL(p);
	ASSERT_STR_EQ(e.msg, "no PCI function in slot 0000:82:00 on this host");
}

TEST(select_ids_picks_both_identical_nics)
{
	_cleanup_host_ struct pcihost *h = workstation();
	_cleanup_plan_ struct plan *p = NULL;
	struct plan_error e;

	ASSERT_INT_EQ(BIND(h, NULL, "8086:1533", &p, &e), 0);
	ASSERT_INT_EQ(p->n_acts, 2);
	ASSERT_STR_EQ(p->acts[0].name, "0000:02:00.0");
	ASSERT_STR_EQ(p->acts[1].name, "0000:03:00.0");
	ASSERT_INT_EQ(p->n_refusals, 0);
}

TEST(select_ids_absent)
{
	_cleanup_host_ struct pcihost *h = workstation();
	_cleanup_plan_ struct plan *p = NULL;
	struct plan_error e;

	ASSERT_INT_EQ(BIND(h, NULL, "1234:5678", &p, &e), -EINVAL);
	ASSERT_NULL(p);
	ASSERT_STR_EQ(e.msg, "no PCI function with ids 1234:5678 on this host");
}

TEST(identical_nics_only_the_addressed_one)
{
	_cleanup_host_ struct pcihost *h = workstation();
	_cleanup_plan_ struct plan *p = NULL;
	struct plan_error e;

	ASSERT_INT_EQ(BIND(h, NULL, "0000:03:00.0", &p, &e), 0);
	ASSERT_INT_EQ(p->n_acts, 1);
	ASSERT_STR_EQ(p->acts[0].name, "0000:03:00.0");
	ASSERT_STR_EQ(h->fns[p->acts[0].fn].name, "0000:03:00.0");
	ASSERT_INT_EQ(p->acts[0].group, 3);
	ASSERT_INT_EQ(p->n_refusals, 0);
}

TEST(select_name)
{
	_cleanup_host_ struct pcihost *h = workstation();
	_cleanup_config_ struct config *cfg = config_new();
	_cleanup_plan_ struct plan *p = NULL;
	struct plan_error e;

	cfg_add(cfg, "nic", "02:00.0", NULL, NULL);
	cfg_add(cfg, "gpu", "0000:01:00", "10de:2204,10de:1aef", NULL);
	ASSERT_INT_EQ(BIND(h, cfg, "gpu", &p, &e), 0);
	ASSERT_INT_EQ(p->n_acts, 2);
	ASSERT_STR_EQ(p->acts[0].name, "0000:01:00.0");
	ASSERT_STR_EQ(p->acts[1].name, "0000:01:00.1");
	ASSERT_STR_EQ(p->acts[0].set, "gpu");
	ASSERT_STR_EQ(p->acts[1].set, "gpu");
	ASSERT_INT_EQ(p->n_refusals, 0);
}

TEST(select_name_by_ids)
{
	_cleanup_host_ struct pcihost *h = workstation();
	_cleanup_config_ struct config *cfg = config_new();
	_cleanup_plan_ struct plan *p = NULL;
	struct plan_error e;

	cfg_add(cfg, "nics", NULL, "8086:1533", NULL);
	ASSERT_INT_EQ(BIND(h, cfg, "nics", &p, &e), 0);
	ASSERT_INT_EQ(p->n_acts, 2);
	ASSERT_STR_EQ(p->acts[0].set, "nics");
	ASSERT_STR_EQ(p->acts[1].name, "0000:03:00.0");
	/* an ids-only set has no guard to fail */
	ASSERT_INT_EQ(p->n_refusals, 0);
}

TEST(select_name_unknown)
{
	_cleanup_host_ struct pcihost *h = workstation();
	_cleanup_config_ struct config *cfg = config_new();
	_cleanup_plan_ struct plan *p = NULL;
	struct plan_error e;

	cfg_add(cfg, "a", "02:00.0", NULL, NULL);
	cfg_add(cfg, "b", "03:00.0", NULL, NULL);
	ASSERT_INT_EQ(BIND(h, cfg, "gpu", &p, &e), -EINVAL);
	ASSERT_NULL(p);
	ASSERT_STR_EQ(e.msg, "no section [gpu] in the configuration (known: a, b)");
}

TEST(select_name_without_sections)
{
	_cleanup_host_ struct pcihost *h = workstation();
	_cleanup_config_ struct config *cfg = config_new();
	_cleanup_plan_ struct plan *p = NULL;
	struct plan_error e;

	ASSERT_INT_EQ(BIND(h, cfg, "gpu", &p, &e), -EINVAL);
	ASSERT_STR_EQ(e.msg, "no section [gpu] in the configuration (it defines none)");
	/* no config at all reads the same */
	ASSERT_INT_EQ(BIND(h, NULL, "gpu", &p, &e), -EINVAL);
	ASSERT_NULL(p);
	ASSERT_STR_EQ(e.msg, "no section [gpu] in the configuration (it defines none)");
}

TEST(select_name_absent)
{
	_cleanup_host_ struct pcihost *h = workstation();
	_cleanup_config_ struct config *cfg = config_new();
	_cleanup_plan_ struct plan *p = NULL;
	struct plan_error e;

	cfg_add(cfg, "gpu", "0000:82:00", "10de:2204", NULL);
	cfg_add(cfg, "two", "82:00.0,83:00", NULL, NULL);
	cfg_add(cfg, "byid", NULL, "1234:5678,1234:5679", NULL);
	ASSERT_INT_EQ(BIND(h, cfg, "gpu", &p, &e), -EINVAL);
	ASSERT_STR_EQ(e.msg, "[gpu] selects 0000:82:00 but no such function is present");
	ASSERT_INT_EQ(BIND(h, cfg, "two", &p, &e), -EINVAL);
	ASSERT_STR_EQ(e.msg, "[two] selects 0000:82:00.0, 0000:83:00 but no such function is present");
	ASSERT_INT_EQ(BIND(h, cfg, "byid", &p, &e), -EINVAL);
	ASSERT_STR_EQ(e.msg, "[byid] selects 1234:5678,1234:5679 but no such function is present");
	ASSERT_NULL(p);
}

TEST(select_union_without_duplicates)
{
	_cleanup_host_ struct pcihost *h = workstation();
	_cleanup_config_ struct config *cfg = config_new();
	_cleanup_plan_ struct plan *p = NULL;
	struct plan_error e;

	cfg_add(cfg, "gpu", "01:00", NULL, NULL);
	ASSERT_INT_EQ(BIND(h, cfg, "01:00.1 03:00.0 01:00 gpu 0000:01:00.0", &p, &e), 0);
	ASSERT_INT_EQ(p->n_acts, 3);
	ASSERT_STR_EQ(p->acts[0].name, "0000:01:00.0");
	ASSERT_STR_EQ(p->acts[1].name, "0000:01:00.1");
	ASSERT_STR_EQ(p->acts[2].name, "0000:03:00.0");
	/* named by address first, then through the set: the set is what counts */
	ASSERT_STR_EQ(p->acts[0].set, "gpu");
	ASSERT_STR_EQ(p->acts[1].set, "gpu");
	ASSERT_NULL(p->acts[2].set);
}

TEST(select_error_stops_at_first_bad_selector)
{
	_cleanup_host_ struct pcihost *h = workstation();
	_cleanup_plan_ struct plan *p = NULL;
	struct plan_error e;

	ASSERT_INT_EQ(BIND(h, NULL, "01:00 0000:05:00.0 0000:06:00.0", &p, &e), -EINVAL);
	ASSERT_NULL(p);
	ASSERT_STR_EQ(e.msg, "no PCI function 0000:05:00.0 on this host");
}

TEST(zero_selectors_bind_unbind_error)
{
	_cleanup_host_ struct pcihost *h = workstation();
	_cleanup_plan_ struct plan *p = NULL;
	struct plan_error e;

	ASSERT_INT_EQ(BIND(h, NULL, "", &p, &e), -EINVAL);
	ASSERT_NULL(p);
	ASSERT_STR_CONTAINS(e.msg, "nothing to bind");
	ASSERT_INT_EQ(plan_words(h, NULL, NULL, 0, VERB_UNBIND, NULL, false, NULL, &p, &e), -EINVAL);
	ASSERT_NULL(p);
	ASSERT_STR_CONTAINS(e.msg, "nothing to unbind");
}

TEST(error_leaves_ret_untouched)
{
	_cleanup_host_ struct pcihost *h = workstation();
	struct selector sel;
	struct request req = {.verb = VERB_BIND, .sels = &sel, .n_sels = 1};
	struct plan *p = (struct plan *)&req; /* a sentinel, never dereferenced */
	struct plan_error e;

	ASSERT_INT_EQ(selector_parse("0000:82:00.0", &sel), 0);
	ASSERT_INT_EQ(plan_make(h, NULL, NULL, 0, &req, &p, &e), -EINVAL);
	ASSERT_TRUE(p == (struct plan *)&req);
	/* a NULL err is allowed */
	ASSERT_INT_EQ(plan_make(h, NULL, NULL, 0, &req, &p, NULL), -EINVAL);
}

/* ---- bind targets ---- */

TEST(bind_driver_choice)
{
	_cleanup_host_ struct pcihost *h = workstation();
	_cleanup_config_ struct config *cfg = config_new();
	_cleanup_plan_ struct plan *p = NULL;
	struct plan_error e;

	cfg_add(cfg, "stubbed", "02:00.0", NULL, "pci-stub");
	cfg_add(cfg, "plain", "03:00.0", NULL, NULL);

	/* --driver wins over everything */
	ASSERT_INT_EQ(plan_words(h, cfg, NULL, 0, VERB_BIND, "vfio-pci", false, "stubbed", &p, &e), 0);
	ASSERT_STR_EQ(p->acts[0].target.driver, "vfio-pci");
	/* then the set's driver */
	ASSERT_INT_EQ(BIND(h, cfg, "stubbed", &p, &e), 0);
	ASSERT_STR_EQ(p->acts[0].target.driver, "pci-stub");
	ASSERT_STR_EQ(p->acts[0].target.override, "pci-stub");
	/* then [pcibind] driver, for a set without one and for bare addresses */
	free(cfg->driver);
	cfg->driver = strdup("vfio-pci-custom");
	ASSERT_INT_EQ(BIND(h, cfg, "plain 04:00.0", &p, &e), 0);
	ASSERT_STR_EQ(p->acts[0].target.driver, "vfio-pci-custom");
	ASSERT_STR_EQ(p->acts[1].target.driver, "vfio-pci-custom");
	/* an address that a set selects was not named through the set */
	ASSERT_INT_EQ(BIND(h, cfg, "02:00.0", &p, &e), 0);
	ASSERT_STR_EQ(p->acts[0].target.driver, "vfio-pci-custom");
	ASSERT_NULL(p->acts[0].set);
	/* no config: vfio-pci */
	ASSERT_INT_EQ(BIND(h, NULL, "02:00.0", &p, &e), 0);
	ASSERT_STR_EQ(p->acts[0].target.driver, "vfio-pci");
}

TEST(bind_noop)
{
	_cleanup_host_ struct pcihost *h =
	    HOST(true, FN("0000:02:00.0", 0x8086, 0x1533, C_NIC, "vfio-pci", 2, .override = "vfio-pci"),
		 FN("0000:03:00.0", 0x8086, 0x1533, C_NIC, "vfio-pci", 3),
		 FN("0000:04:00.0", 0x8086, 0x1533, C_NIC, NULL, 4, .override = "vfio-pci"));
	_cleanup_plan_ struct plan *p = NULL;
	struct plan_error e;

	ASSERT_INT_EQ(BIND(h, NULL, "8086:1533", &p, &e), 0);
	ASSERT_INT_EQ(p->n_acts, 3);
	ASSERT_TRUE(p->acts[0].noop);
	/* on vfio-pci through vfio-pci.ids, no override: the override still has to be written */
	ASSERT_FALSE(p->acts[1].noop);
	/* override set but nothing bound */
	ASSERT_FALSE(p->acts[2].noop);
	ASSERT_INT_EQ(plan_changes(p), 2);
	ASSERT_STR_EQ(p->acts[0].before.override, "vfio-pci");
}

TEST(bind_noop_under_other_driver_is_not_noop)
{
	_cleanup_host_ struct pcihost *h =
	    HOST(true, FN("0000:02:00.0", 0x8086, 0x1533, C_NIC, "vfio-pci", 2, .override = "vfio-pci"));
	_cleanup_plan_ struct plan *p = NULL;
	struct plan_error e;

	ASSERT_INT_EQ(plan_words(h, NULL, NULL, 0, VERB_BIND, "pci-stub", false, "02:00.0", &p, &e), 0);
	ASSERT_FALSE(p->acts[0].noop);
	ASSERT_STR_EQ(p->acts[0].target.driver, "pci-stub");
	ASSERT_INT_EQ(plan_changes(p), 1);
}

TEST(recorded_flag_on_bind)
{
	_cleanup_host_ struct pcihost *h = workstation();
	_cleanup_plan_ struct plan *p = NULL;
	struct fnstate recs[] = {{.name = "0000:03:00.0", .driver = "igb", .sriov_numvfs = -1}};
	struct plan_error e;

	ASSERT_INT_EQ(plan_words(h, NULL, recs, 1, VERB_BIND, NULL, false, "8086:1533", &p, &e), 0);
	ASSERT_INT_EQ(p->n_acts, 2);
	ASSERT_FALSE(p->acts[0].recorded);
	ASSERT_TRUE(p->acts[1].recorded);
	/* bind does not restore anything */
	ASSERT_NULL(p->acts[1].reset_method);
	ASSERT_INT_EQ(p->acts[1].sriov_numvfs, -1);
}

/* ---- IOMMU groups ---- */

TEST(group_sibling_on_host_driver_refuses)
{
	_cleanup_host_ struct pcihost *h = workstation();
	_cleanup_plan_ struct plan *p = NULL;
	const struct refusal *r;
	struct plan_error e;

	ASSERT_INT_EQ(BIND(h, NULL, "0000:01:00.0", &p, &e), 0);
	ASSERT_INT_EQ(p->n_acts, 1);
	ASSERT_INT_EQ(p->n_refusals, 1);
	r = &p->refusals[0];
	ASSERT_INT_EQ(r->kind, REFUSE_GROUP);
	ASSERT_FALSE(r->forceable);
	ASSERT_FALSE(r->forced);
	ASSERT_STR_EQ(r->fn, "0000:01:00.0");
	ASSERT_STR_EQ(r->msg,
		      "cannot bind 0000:01:00.0 to vfio-pci: IOMMU group 1 also holds 0000:01:00.1 "
		      "(snd_hda_intel); add it to the request, e.g. select the slot 01:00 (a VM cannot "
		      "use a group while a host driver holds part of it, so --force does not help)");
	ASSERT_TRUE(plan_refused(p));
}

TEST(group_refusal_is_not_forceable)
{
	_cleanup_host_ struct pcihost *h = workstation();
	_cleanup_plan_ struct plan *p = NULL;
	struct plan_error e;

	ASSERT_INT_EQ(plan_words(h, NULL, NULL, 0, VERB_BIND, NULL, true, "01:00.0", &p, &e), 0);
	ASSERT_INT_EQ(p->n_refusals, 1);
	ASSERT_INT_EQ(p->refusals[0].kind, REFUSE_GROUP);
	ASSERT_FALSE(p->refusals[0].forced);
	ASSERT_TRUE(plan_refused(p));
}

TEST(group_siblings_that_do_not_refuse)
{
	/* a bridge on pcieport, a driverless function, vfio-pci, pci-stub: all leave the group viable */
	_cleanup_host_ struct pcihost *h =
	    HOST(true, FN("0000:00:01.0", 0x8086, 0x1901, C_ROOTPORT, "pcieport", 7),
		 FN("0000:01:00.0", 0x10de, 0x2204, C_VGA, "nouveau", 7),
		 FN("0000:01:00.1", 0x10de, 0x1aef, C_AUDIO, NULL, 7),
		 FN("0000:01:00.2", 0x10de, 0x1ade, C_USB, "vfio-pci", 7),
		 FN("0000:01:00.3", 0x10de, 0x1adf, 0x0c8000, "pci-stub", 7));
	_cleanup_plan_ struct plan *p = NULL;
	struct plan_error e;

	ASSERT_INT_EQ(BIND(h, NULL, "01:00.0", &p, &e), 0);
	ASSERT_INT_EQ(p->n_acts, 1);
	ASSERT_INT_EQ(p->n_refusals, 0);
	ASSERT_FALSE(plan_refused(p));
}

TEST(group_names_every_blocking_sibling_once)
{
	_cleanup_host_ struct pcihost *h = HOST(true, FN("0000:01:00.0", 0x10de, 0x2204, C_VGA, "nouveau", 9),
						FN("0000:01:00.1", 0x10de, 0x1aef, C_AUDIO, "nouveau", 9),
						FN("0000:01:00.2", 0x10de, 0x1ad6, C_USB, "xhci_hcd", 9),
						FN("0000:05:00.0", 0x8086, 0x1533, C_NIC, "igb", 9),
						FN("0000:06:00.0", 0x8086, 0x1533, C_NIC, "igb", 10));
	_cleanup_plan_ struct plan *p = NULL;
	struct plan_error e;

	/* two requested functions in group 9: the siblings are named once, not per function */
	ASSERT_INT_EQ(BIND(h, NULL, "01:00.0 01:00.1", &p, &e), 0);
	ASSERT_INT_EQ(p->n_refusals, 2);
	ASSERT_STR_EQ(p->refusals[0].fn, "0000:01:00.0");
	ASSERT_STR_CONTAINS(p->refusals[0].msg, "IOMMU group 9 also holds 0000:01:00.2 (xhci_hcd)");
	ASSERT_STR_CONTAINS(p->refusals[0].msg, "e.g. select the slot 01:00");
	ASSERT_STR_CONTAINS(p->refusals[1].msg, "IOMMU group 9 also holds 0000:05:00.0 (igb)");
	/* another slot: name the function, not a slot */
	ASSERT_STR_CONTAINS(p->refusals[1].msg, "e.g. add 0000:05:00.0");
	ASSERT_STR_CONTAINS(p->refusals[1].msg, "--force does not help");
}

TEST(group_hint_keeps_a_nonzero_domain)
{
	_cleanup_host_ struct pcihost *h =
	    HOST(true, FN("10000:01:00.0", 0x10de, 0x2204, C_VGA, "nouveau", 3),
		 FN("10000:01:00.1", 0x10de, 0x1aef, C_AUDIO, "snd_hda_intel", 3));
	_cleanup_plan_ struct plan *p = NULL;
	struct plan_error e;

	ASSERT_INT_EQ(BIND(h, NULL, "10000:01:00.0", &p, &e), 0);
	ASSERT_INT_EQ(p->n_refusals, 1);
	ASSERT_STR_CONTAINS(p->refusals[0].msg, "also holds 10000:01:00.1 (snd_hda_intel)");
	ASSERT_STR_CONTAINS(p->refusals[0].msg, "select the slot 10000:01:00 ");
}

TEST(group_not_checked_for_non_vfio_target)
{
	_cleanup_host_ struct pcihost *h = workstation();
	_cleanup_plan_ struct plan *p = NULL;
	struct plan_error e;

	ASSERT_INT_EQ(plan_words(h, NULL, NULL, 0, VERB_BIND, "pci-stub", false, "01:00.0", &p, &e), 0);
	ASSERT_INT_EQ(p->n_refusals, 0);
}

TEST(no_iommu_refuses)
{
	_cleanup_host_ struct pcihost *h = HOST(false, FN("0000:02:00.0", 0x8086, 0x1533, C_NIC, "igb", -1));
	_cleanup_plan_ struct plan *p = NULL;
	struct plan_error e;

	ASSERT_INT_EQ(plan_words(h, NULL, NULL, 0, VERB_BIND, NULL, true, "02:00.0", &p, &e), 0);
	ASSERT_INT_EQ(p->n_refusals, 1);
	ASSERT_INT_EQ(p->refusals[0].kind, REFUSE_NO_IOMMU);
	ASSERT_FALSE(p->refusals[0].forceable);
	ASSERT_FALSE(p->refusals[0].forced);
	ASSERT_STR_EQ(p->refusals[0].fn, "0000:02:00.0");
	ASSERT_STR_EQ(p->refusals[0].msg,
		      "cannot bind 0000:02:00.0 to vfio-pci: no IOMMU group (is the IOMMU "
		      "enabled? intel_iommu=on on Intel)");
	ASSERT_TRUE(plan_refused(p));
	ASSERT_INT_EQ(p->acts[0].group, -1);
}

TEST(no_iommu_group_on_one_function_refuses)
{
	_cleanup_host_ struct pcihost *h = HOST(true, FN("0000:02:00.0", 0x8086, 0x1533, C_NIC, "igb", 2),
						FN("0000:03:00.0", 0x8086, 0x1533, C_NIC, "igb", -1));
	_cleanup_plan_ struct plan *p = NULL;
	struct plan_error e;

	ASSERT_INT_EQ(BIND(h, NULL, "8086:1533", &p, &e), 0);
	ASSERT_INT_EQ(p->n_refusals, 1);
	ASSERT_INT_EQ(p->refusals[0].kind, REFUSE_NO_IOMMU);
	ASSERT_STR_EQ(p->refusals[0].fn, "0000:03:00.0");
}

TEST(no_iommu_is_fine_for_pci_stub)
{
	_cleanup_host_ struct pcihost *h = HOST(false, FN("0000:02:00.0", 0x8086, 0x1533, C_NIC, "igb", -1));
	_cleanup_plan_ struct plan *p = NULL;
	struct plan_error e;

	ASSERT_INT_EQ(plan_words(h, NULL, NULL, 0, VERB_BIND, "pci-stub", false, "02:00.0", &p, &e), 0);
	ASSERT_INT_EQ(p->n_refusals, 0);
	ASSERT_INT_EQ(plan_changes(p), 1);
}

TEST(bridge_refuses)
{
	_cleanup_host_ struct pcihost *h = workstation();
	_cleanup_plan_ struct plan *p = NULL;
	const struct refusal *r;
	struct plan_error e;

	ASSERT_INT_EQ(plan_words(h, NULL, NULL, 0, VERB_BIND, NULL, true, "00:01.0", &p, &e), 0);
	ASSERT_INT_EQ(p->n_refusals, 1);
	r = &p->refusals[0];
	ASSERT_INT_EQ(r->kind, REFUSE_BRIDGE);
	ASSERT_FALSE(r->forceable);
	ASSERT_FALSE(r->forced);
	ASSERT_STR_EQ(r->fn, "0000:00:01.0");
	ASSERT_STR_CONTAINS(r->msg, "cannot bind 0000:00:01.0 to vfio-pci: it is a PCI bridge");
	ASSERT_TRUE(plan_refused(p));
}

TEST(bridge_with_its_group_refuses_only_the_bridge)
{
	_cleanup_host_ struct pcihost *h = workstation();
	_cleanup_plan_ struct plan *p = NULL;
	struct plan_error e;

	/* the whole of group 1: port, GPU, audio */
	ASSERT_INT_EQ(BIND(h, NULL, "00:01.0 01:00", &p, &e), 0);
	ASSERT_INT_EQ(p->n_acts, 3);
	ASSERT_INT_EQ(p->n_refusals, 1);
	ASSERT_INT_EQ(p->refusals[0].kind, REFUSE_BRIDGE);
}

/* ---- ids guard ---- */

TEST(ids_guard_refuses)
{
	_cleanup_host_ struct pcihost *h = workstation();
	_cleanup_config_ struct config *cfg = config_new();
	_cleanup_plan_ struct plan *p = NULL;
	const struct refusal *r;
	struct plan_error e;

	cfg_add(cfg, "gpu", "0000:02:00", "10de:2204,10de:1aef", NULL);
	ASSERT_INT_EQ(plan_words(h, cfg, NULL, 0, VERB_BIND, NULL, true, "gpu", &p, &e), 0);
	ASSERT_INT_EQ(p->n_acts, 1);
	ASSERT_INT_EQ(p->n_refusals, 1);
	r = &p->refusals[0];
	ASSERT_INT_EQ(r->kind, REFUSE_IDS);
	ASSERT_FALSE(r->forceable);
	ASSERT_FALSE(r->forced);
	ASSERT_STR_EQ(r->fn, "0000:02:00.0");
	ASSERT_STR_EQ(r->msg, "[gpu] expects 10de:2204,10de:1aef at 0000:02:00.0 but it holds 8086:1533; "
			      "fix the address in /etc/pcibind/pcibind.conf:10");
	ASSERT_TRUE(plan_refused(p));
}

TEST(ids_guard_applies_to_addresses_and_unbind_not_restore)
{
	_cleanup_host_ struct pcihost *h = workstation();
	_cleanup_config_ struct config *cfg = config_new();
	_cleanup_plan_ struct plan *p = NULL;
	struct plan_error e;

	cfg_add(cfg, "gpu", "0000:01:00", "10de:2204", NULL);
	/* 01:00.1 (10de:1aef) is in the slot but not in ids; reached by address it is still guarded */
	ASSERT_INT_EQ(BIND(h, cfg, "01:00.1", &p, &e), 0);
	ASSERT_INT_EQ(p->n_refusals, 2);
	ASSERT_INT_EQ(p->refusals[0].kind, REFUSE_IDS);
	ASSERT_INT_EQ(p->refusals[1].kind, REFUSE_GROUP); /* 01:00.0 stays on nouveau */
	ASSERT_STR_CONTAINS(p->refusals[0].msg,
			    "[gpu] expects 10de:2204 at 0000:01:00.1 but it holds 10de:1aef");
	ASSERT_INT_EQ(plan_words(h, cfg, NULL, 0, VERB_UNBIND, NULL, false, "01:00.1", &p, &e), 0);
	ASSERT_INT_EQ(p->n_refusals, 1);
	ASSERT_INT_EQ(p->refusals[0].kind, REFUSE_IDS);
	ASSERT_INT_EQ(plan_words(h, cfg, NULL, 0, VERB_RESTORE, NULL, false, "01:00.1", &p, &e), 0);
	ASSERT_INT_EQ(p->n_refusals, 0);
	/* the matching function passes */
	ASSERT_INT_EQ(plan_words(h, cfg, NULL, 0, VERB_UNBIND, NULL, false, "01:00.0", &p, &e), 0);
	ASSERT_INT_EQ(p->n_refusals, 0);
}

TEST(ids_guard_without_file)
{
	_cleanup_host_ struct pcihost *h = workstation();
	_cleanup_config_ struct config *cfg = config_new();
	_cleanup_plan_ struct plan *p = NULL;
	struct plan_error e;

	cfg_add(cfg, "gpu", "0000:02:00.0", "10de:2204", NULL);
	free(cfg->sets[0].file);
	cfg->sets[0].file = NULL;
	ASSERT_INT_EQ(BIND(h, cfg, "gpu", &p, &e), 0);
	ASSERT_INT_EQ(p->n_refusals, 1);
	ASSERT_STR_CONTAINS(p->refusals[0].msg, "; fix the address in the configuration");
}

TEST(config_text_through_the_parser)
{
	static const char text[] = "[pcibind]\n"
				   "driver = vfio-pci\n"
				   "\n"
				   "[gpu]\n"
				   "address = 0000:01:00\n"
				   "ids = 10de:2204,10de:1aef\n"
				   "\n"
				   "[wrong]\n"
				   "address = 0000:02:00.0\n"
				   "ids = 10de:2204\n"
				   "\n"
				   "[stub]\n"
				   "address = 03:00.0\n"
				   "driver = pci-stub\n";
	_cleanup_host_ struct pcihost *h = workstation();
	_cleanup_config_ struct config *cfg = config_new();
	_cleanup_plan_ struct plan *p = NULL;
	const struct devset *wrong;
	struct config_error cerr = {0};
	struct plan_error e;
	char expect[512];

	ASSERT_INT_EQ(config_parse_text(cfg, text, "/etc/pcibind/pcibind.conf", &cerr), 0);
	ASSERT_INT_EQ(config_finish(cfg, &cerr), 0);
	ASSERT_NOT_NULL(wrong = config_find_set(cfg, "wrong"));
	ASSERT_INT_EQ(BIND(h, cfg, "gpu stub", &p, &e), 0);
	ASSERT_INT_EQ(p->n_acts, 3);
	ASSERT_STR_EQ(p->acts[0].set, "gpu");
	ASSERT_STR_EQ(p->acts[0].target.driver, "vfio-pci");
	ASSERT_STR_EQ(p->acts[2].set, "stub");
	ASSERT_STR_EQ(p->acts[2].target.driver, "pci-stub");
	ASSERT_INT_EQ(p->n_refusals, 0);
	ASSERT_INT_EQ(BIND(h, cfg, "wrong", &p, &e), 0);
	ASSERT_INT_EQ(p->n_refusals, 1);
	(void)snprintf(
	    expect, sizeof(expect),
	    "[wrong] expects 10de:2204 at 0000:02:00.0 but it holds 8086:1533; fix the address in %s:%u",
	    wrong->file, wrong->line);
	ASSERT_STR_EQ(p->refusals[0].msg, expect);
	ASSERT_STR_CONTAINS(p->refusals[0].msg, "/etc/pcibind/pcibind.conf:");
}

/* ---- safety refusals ---- */

struct safety_case {
	unsigned use;
	enum refusal_kind kind;
	const char *detail;
	const char *expect; /* the message for bind */
};

static const struct safety_case safety_cases[] = {
    {USE_CONSOLE, REFUSE_CONSOLE, "fbcon on fb0",
     "0000:02:00.0 is the boot VGA and carries the console (fbcon on fb0); binding it takes your display "
     "away; use --force if you mean it"},
    {USE_MOUNT, REFUSE_MOUNT, "/ on nvme0n1p2",
     "0000:02:00.0 holds a mounted filesystem (/ on nvme0n1p2); binding it pulls the filesystem from under "
     "the host; use --force if you mean it"},
    {USE_SWAP, REFUSE_SWAP, "swap on nvme0n1p3",
     "0000:02:00.0 holds active swap (swap on nvme0n1p3); binding it pulls swap from under the kernel; use "
     "--force if you mean it"},
    {USE_ROUTE, REFUSE_ROUTE, "default route via enp2s0",
     "0000:02:00.0 carries the default route (default route via enp2s0); binding it cuts this host off the "
     "network; use --force if you mean it"},
    {USE_INPUT, REFUSE_INPUT, "keyboard on usb 1-2",
     "0000:02:00.0 has an input device on it (keyboard on usb 1-2); binding it takes that keyboard or mouse "
     "away; use --force if you mean it"},
};

TEST(safety_refusals_each)
{
	for (size_t i = 0; i < ARRAY_SIZE(safety_cases); i++) {
		const struct safety_case *c = &safety_cases[i];
		_cleanup_host_ struct pcihost *h = HOST(true, FN("0000:02:00.0", 0x8086, 0x1533, C_NIC, "igb",
								 2, .uses = c->use, .detail = c->detail));
		_cleanup_plan_ struct plan *p = NULL;
		struct plan_error e;

		ASSERT_INT_EQ(BIND(h, NULL, "02:00.0", &p, &e), 0);
		ASSERT_INT_EQ(p->n_refusals, 1);
		ASSERT_INT_EQ(p->refusals[0].kind, c->kind);
		ASSERT_TRUE(p->refusals[0].forceable);
		ASSERT_FALSE(p->refusals[0].forced);
		ASSERT_STR_EQ(p->refusals[0].fn, "0000:02:00.0");
		ASSERT_STR_EQ(p->refusals[0].msg, c->expect);
		ASSERT_TRUE(plan_refused(p));
	}
}

TEST(safety_refusals_forced)
{
	for (size_t i = 0; i < ARRAY_SIZE(safety_cases); i++) {
		const struct safety_case *c = &safety_cases[i];
		_cleanup_host_ struct pcihost *h = HOST(true, FN("0000:02:00.0", 0x8086, 0x1533, C_NIC, "igb",
								 2, .uses = c->use, .detail = c->detail));
		_cleanup_plan_ struct plan *p = NULL;
		struct plan_error e;

		ASSERT_INT_EQ(plan_words(h, NULL, NULL, 0, VERB_BIND, NULL, true, "02:00.0", &p, &e), 0);
		ASSERT_INT_EQ(p->n_refusals, 1);
		ASSERT_INT_EQ(p->refusals[0].kind, c->kind);
		ASSERT_TRUE(p->refusals[0].forceable);
		ASSERT_TRUE(p->refusals[0].forced);
		/* forced, it is reported as overridden: the hint to use --force is not said again */
		ASSERT_INT_EQ(strlen(p->refusals[0].msg), strlen(c->expect) - strlen("; use --force if you mean it"));
		ASSERT_INT_EQ(strncmp(p->refusals[0].msg, c->expect, strlen(p->refusals[0].msg)), 0);
		ASSERT_FALSE(plan_refused(p));
		ASSERT_INT_EQ(plan_changes(p), 1);
	}
}

TEST(safety_refusal_on_unbind)
{
	_cleanup_host_ struct pcihost *h = workstation();
	_cleanup_plan_ struct plan *p = NULL;
	struct plan_error e;

	ASSERT_INT_EQ(plan_words(h, NULL, NULL, 0, VERB_UNBIND, NULL, false, "04:00.0", &p, &e), 0);
	ASSERT_INT_EQ(p->n_refusals, 1);
	ASSERT_INT_EQ(p->refusals[0].kind, REFUSE_MOUNT);
	ASSERT_STR_EQ(p->refusals[0].msg,
		      "0000:04:00.0 holds a mounted filesystem (/ on nvme0n1p2); unbinding it "
		      "pulls the filesystem from under the host; use --force if you mean it");
	ASSERT_TRUE(plan_refused(p));
}

TEST(safety_refusal_without_detail_and_several_uses)
{
	_cleanup_host_ struct pcihost *h =
	    HOST(true, FN("0000:04:00.0", 0x144d, 0xa808, C_NVME, "nvme", 4, .uses = USE_MOUNT | USE_SWAP));
	_cleanup_plan_ struct plan *p = NULL;
	struct plan_error e;

	ASSERT_INT_EQ(BIND(h, NULL, "04:00.0", &p, &e), 0);
	ASSERT_INT_EQ(p->n_refusals, 2);
	ASSERT_INT_EQ(p->refusals[0].kind, REFUSE_MOUNT);
	ASSERT_INT_EQ(p->refusals[1].kind, REFUSE_SWAP);
	ASSERT_STR_EQ(p->refusals[1].msg,
		      "0000:04:00.0 holds active swap; binding it pulls swap from under the "
		      "kernel; use --force if you mean it");
}

/* A function scanned deferred whose locked attributes were never read is never acted on */
TEST(unread_override_is_refused)
{
	_cleanup_host_ struct pcihost *h = HOST(true, FN("0000:02:00.0", 0x8086, 0x1533, C_NIC, NULL, 2));
	_cleanup_plan_ struct plan *p = NULL;
	struct plan_error e;

	h->fns[0].locked_unread = true;
	ASSERT_INT_EQ(BIND(h, NULL, "02:00.0", &p, &e), 0);
	ASSERT_INT_EQ(p->n_refusals, 1);
	ASSERT_INT_EQ(p->refusals[0].kind, REFUSE_BUSY);
	ASSERT_FALSE(p->refusals[0].forceable);
	ASSERT_STR_EQ(p->refusals[0].msg, "0000:02:00.0: its driver_override was not read; nothing done");
}

/* Each refusal carries its own use's detail, not the others' */
TEST(safety_refusal_detail_per_use)
{
	_cleanup_host_ struct pcihost *h =
	    HOST(true, FN("0000:04:00.0", 0x144d, 0xa808, C_NVME, "nvme", 4, .uses = USE_MOUNT | USE_SWAP));
	_cleanup_plan_ struct plan *p = NULL;
	struct plan_error e;
	struct pcifn *f = &h->fns[0];

	f->use_detail = strdup("/ on nvme0n1p2; swap on nvme0n1p3");
	f->use_details[PCIFN_USE_INDEX(USE_MOUNT)] = strdup("/ on nvme0n1p2");
	f->use_details[PCIFN_USE_INDEX(USE_SWAP)] = strdup("swap on nvme0n1p3");
	ASSERT_INT_EQ(BIND(h, NULL, "04:00.0", &p, &e), 0);
	ASSERT_INT_EQ(p->n_refusals, 2);
	ASSERT_STR_EQ(p->refusals[0].msg,
		      "0000:04:00.0 holds a mounted filesystem (/ on nvme0n1p2); binding it pulls the filesystem "
		      "from under the host; use --force if you mean it");
	ASSERT_STR_EQ(p->refusals[1].msg,
		      "0000:04:00.0 holds active swap (swap on nvme0n1p3); binding it pulls swap from under the "
		      "kernel; use --force if you mean it");
}

TEST(safety_not_for_noop_or_restore)
{
	_cleanup_host_ struct pcihost *h =
	    HOST(true,
		 FN("0000:01:00.0", 0x10de, 0x2204, C_VGA, "vfio-pci", 1, .override = "vfio-pci",
		    .uses = USE_CONSOLE, .detail = "fb0"),
		 FN("0000:02:00.0", 0x8086, 0x1533, C_NIC, NULL, 2, .override = "none", .uses = USE_ROUTE,
		    .detail = "via enp2s0"),
		 FN("0000:04:00.0", 0x144d, 0xa808, C_NVME, "nvme", 4, .uses = USE_MOUNT,
		    .detail = "/ on nvme0n1p2"));
	_cleanup_plan_ struct plan *p = NULL;
	struct plan_error e;

	ASSERT_INT_EQ(BIND(h, NULL, "01:00.0", &p, &e), 0);
	ASSERT_TRUE(p->acts[0].noop);
	ASSERT_INT_EQ(p->n_refusals, 0);
	ASSERT_INT_EQ(plan_words(h, NULL, NULL, 0, VERB_UNBIND, NULL, false, "02:00.0", &p, &e), 0);
	ASSERT_TRUE(p->acts[0].noop);
	ASSERT_INT_EQ(p->n_refusals, 0);
	ASSERT_INT_EQ(
	    plan_words(h, NULL, NULL, 0, VERB_RESTORE, NULL, false, "01:00.0 02:00.0 04:00.0", &p, &e), 0);
	ASSERT_INT_EQ(p->n_acts, 3);
	ASSERT_INT_EQ(p->n_refusals, 0);
}

TEST(refusals_combine_forced_and_not)
{
	_cleanup_host_ struct pcihost *h = workstation();
	_cleanup_plan_ struct plan *p = NULL;
	struct plan_error e;

	/* the keyboard controller (forceable) and half a GPU (not) */
	ASSERT_INT_EQ(plan_words(h, NULL, NULL, 0, VERB_BIND, NULL, true, "00:14.0 01:00.0", &p, &e), 0);
	ASSERT_INT_EQ(p->n_refusals, 2);
	ASSERT_NOT_NULL(find_refusal(p, REFUSE_INPUT));
	ASSERT_TRUE(find_refusal(p, REFUSE_INPUT)->forced);
	ASSERT_NOT_NULL(find_refusal(p, REFUSE_GROUP));
	ASSERT_FALSE(find_refusal(p, REFUSE_GROUP)->forced);
	ASSERT_TRUE(plan_refused(p));
}

/* ---- unbind ---- */

TEST(unbind_target)
{
	_cleanup_host_ struct pcihost *h =
	    HOST(true, FN("0000:02:00.0", 0x8086, 0x1533, C_NIC, "igb", 2),
		 FN("0000:03:00.0", 0x8086, 0x1533, C_NIC, NULL, 3, .override = "none"),
		 FN("0000:05:00.0", 0x8086, 0x1533, C_NIC, NULL, 5));
	_cleanup_plan_ struct plan *p = NULL;
	struct plan_error e;

	ASSERT_INT_EQ(plan_words(h, NULL, NULL, 0, VERB_UNBIND, NULL, false, "8086:1533", &p, &e), 0);
	ASSERT_INT_EQ(p->verb, VERB_UNBIND);
	ASSERT_INT_EQ(p->n_acts, 3);
	for (size_t i = 0; i < 3; i++) {
		ASSERT_NULL(p->acts[i].target.driver);
		ASSERT_STR_EQ(p->acts[i].target.override, "none");
		ASSERT_FALSE(p->acts[i].target.kernel_picks);
	}
	ASSERT_FALSE(p->acts[0].noop);
	ASSERT_TRUE(p->acts[1].noop);
	/* driverless, but any driver could still probe it */
	ASSERT_FALSE(p->acts[2].noop);
	ASSERT_INT_EQ(plan_changes(p), 2);
	ASSERT_INT_EQ(p->n_refusals, 0);
}

TEST(unbind_does_not_check_groups)
{
	_cleanup_host_ struct pcihost *h = workstation();
	_cleanup_plan_ struct plan *p = NULL;
	struct plan_error e;

	ASSERT_INT_EQ(plan_words(h, NULL, NULL, 0, VERB_UNBIND, NULL, false, "01:00.0", &p, &e), 0);
	ASSERT_INT_EQ(p->n_refusals, 0);
}

/* ---- restore ---- */

TEST(restore_with_record)
{
	_cleanup_host_ struct pcihost *h =
	    HOST(true,
		 FN("0000:05:00.0", 0x8086, 0x1521, C_NIC, "vfio-pci", 5, .override = "vfio-pci",
		    .reset_method = "flr"),
		 FN("0000:05:00.1", 0x8086, 0x1521, C_NIC, "vfio-pci", 5, .override = "vfio-pci",
		    .reset_method = "flr bus", .numvfs = 2));
	struct fnstate recs[] = {
	    {.name = "0000:05:00.0", .driver = "igb", .reset_method = "flr bus", .sriov_numvfs = 4},
	    {.name = "0000:05:00.1",
	     .driver = "igb",
	     .override = "igb",
	     .reset_method = "flr bus",
	     .sriov_numvfs = 2},
	};
	_cleanup_plan_ struct plan *p = NULL;
	struct plan_error e;

	ASSERT_INT_EQ(plan_words(h, NULL, recs, 2, VERB_RESTORE, NULL, false, "05:00", &p, &e), 0);
	ASSERT_INT_EQ(p->verb, VERB_RESTORE);
	ASSERT_INT_EQ(p->n_acts, 2);
	ASSERT_TRUE(p->acts[0].recorded);
	ASSERT_STR_EQ(p->acts[0].target.driver, "igb");
	ASSERT_NULL(p->acts[0].target.override);
	ASSERT_FALSE(p->acts[0].target.kernel_picks);
	ASSERT_STR_EQ(p->acts[0].reset_method, "flr bus");
	ASSERT_INT_EQ(p->acts[0].sriov_numvfs, 4);
	ASSERT_STR_EQ(p->acts[0].before.driver, "vfio-pci");
	ASSERT_STR_EQ(p->acts[0].before.reset_method, "flr");
	ASSERT_FALSE(p->acts[0].noop);
	/* equal reset_method and numvfs are left alone */
	ASSERT_STR_EQ(p->acts[1].target.override, "igb");
	ASSERT_NULL(p->acts[1].reset_method);
	ASSERT_INT_EQ(p->acts[1].sriov_numvfs, -1);
	ASSERT_FALSE(p->acts[1].noop);
	ASSERT_INT_EQ(p->n_refusals, 0);
	ASSERT_INT_EQ(plan_changes(p), 2);
}

TEST(restore_with_record_noop)
{
	_cleanup_host_ struct pcihost *h = HOST(
	    true, FN("0000:05:00.0", 0x8086, 0x1521, C_NIC, "igb", 5, .reset_method = "flr", .numvfs = 4),
	    FN("0000:06:00.0", 0x8086, 0x1521, C_NIC, NULL, 6, .override = "none"));
	struct fnstate recs[] = {
	    {.name = "0000:05:00.0", .driver = "igb", .reset_method = "flr", .sriov_numvfs = 4},
	    /* recorded as driverless with an override: restore puts exactly that back */
	    {.name = "0000:06:00.0", .override = "none", .sriov_numvfs = -1},
	};
	_cleanup_plan_ struct plan *p = NULL;
	struct plan_error e;

	ASSERT_INT_EQ(plan_words(h, NULL, recs, 2, VERB_RESTORE, NULL, false, "05:00.0 06:00.0", &p, &e), 0);
	ASSERT_INT_EQ(p->n_acts, 2);
	ASSERT_TRUE(p->acts[0].noop);
	ASSERT_TRUE(p->acts[1].noop);
	ASSERT_NULL(p->acts[1].target.driver);
	ASSERT_STR_EQ(p->acts[1].target.override, "none");
	ASSERT_INT_EQ(plan_changes(p), 0);
}

TEST(restore_without_record)
{
	_cleanup_host_ struct pcihost *h =
	    HOST(true, FN("0000:02:00.0", 0x8086, 0x1533, C_NIC, "vfio-pci", 2, .override = "vfio-pci"),
		 FN("0000:03:00.0", 0x8086, 0x1533, C_NIC, "igb", 3),
		 FN("0000:04:00.0", 0x8086, 0x1533, C_NIC, "igb", 4, .override = "igb"),
		 FN("0000:05:00.0", 0x8086, 0x1533, C_NIC, NULL, 5),
		 FN("0000:06:00.0", 0x8086, 0x1533, C_NIC, "vfio-pci", 6));
	_cleanup_plan_ struct plan *p = NULL;
	struct plan_error e;

	ASSERT_INT_EQ(plan_words(h, NULL, NULL, 0, VERB_RESTORE, NULL, false, "8086:1533", &p, &e), 0);
	ASSERT_INT_EQ(p->n_acts, 5);
	for (size_t i = 0; i < 5; i++) {
		ASSERT_FALSE(p->acts[i].recorded);
		ASSERT_TRUE(p->acts[i].target.kernel_picks);
		ASSERT_NULL(p->acts[i].target.driver);
		ASSERT_NULL(p->acts[i].target.override);
		ASSERT_NULL(p->acts[i].reset_method);
		ASSERT_INT_EQ(p->acts[i].sriov_numvfs, -1);
	}
	ASSERT_FALSE(p->acts[0].noop); /* on vfio-pci with its override */
	ASSERT_TRUE(p->acts[1].noop);  /* on its host driver already */
	ASSERT_FALSE(p->acts[2].noop); /* an override to clear */
	ASSERT_FALSE(p->acts[3].noop); /* driverless: let the kernel probe */
	ASSERT_FALSE(p->acts[4].noop); /* on vfio-pci without an override */
	ASSERT_INT_EQ(plan_changes(p), 4);
	ASSERT_INT_EQ(p->n_refusals, 0);
}

/* a boot claim's record gives the function to whatever the kernel picks, as without a record */
TEST(restore_boot_claim)
{
	_cleanup_host_ struct pcihost *h =
	    HOST(true, FN("0000:02:00.0", 0x8086, 0x1533, C_NIC, "vfio-pci", 2, .override = "vfio-pci"),
		 FN("0000:05:00.0", 0x8086, 0x1533, C_NIC, NULL, 5));
	struct fnstate recs[] = {
	    {.name = "0000:02:00.0", .sriov_numvfs = -1, .boot_claim = true},
	    {.name = "0000:05:00.0", .sriov_numvfs = -1}, /* driverless on purpose (pcibind unbind, say) */
	};
	_cleanup_plan_ struct plan *p = NULL;
	struct plan_error e;

	ASSERT_INT_EQ(plan_words(h, NULL, recs, ARRAY_SIZE(recs), VERB_RESTORE, NULL, false, NULL, &p, &e), 0);
	ASSERT_INT_EQ(p->n_acts, 2);
	ASSERT_TRUE(p->acts[0].recorded);
	ASSERT_TRUE(p->acts[0].target.kernel_picks);
	ASSERT_NULL(p->acts[0].target.driver);
	ASSERT_NULL(p->acts[0].target.override);
	ASSERT_FALSE(p->acts[0].noop);
	ASSERT_FALSE(p->acts[1].target.kernel_picks); /* stays driverless, as recorded */
	ASSERT_TRUE(p->acts[1].noop);
}

TEST(restore_all_records)
{
	_cleanup_host_ struct pcihost *h = workstation();
	struct fnstate recs[] = {
	    {.name = "0000:99:00.0", .driver = "igb", .sriov_numvfs = -1}, /* gone from the host */
	    {.name = "0000:03:00.0", .driver = "igb", .sriov_numvfs = -1},
	    {.name = "0000:01:00.1", .driver = "snd_hda_intel", .sriov_numvfs = -1},
	    {.name = "0000:01:00.0", .driver = "nouveau", .sriov_numvfs = -1},
	};
	_cleanup_plan_ struct plan *p = NULL;
	struct plan_error e;

	ASSERT_INT_EQ(plan_words(h, NULL, recs, ARRAY_SIZE(recs), VERB_RESTORE, NULL, false, NULL, &p, &e),
		      0);
	ASSERT_INT_EQ(p->n_acts, 3);
	ASSERT_STR_EQ(p->acts[0].name, "0000:01:00.0");
	ASSERT_STR_EQ(p->acts[1].name, "0000:01:00.1");
	ASSERT_STR_EQ(p->acts[2].name, "0000:03:00.0");
	ASSERT_TRUE(p->acts[0].recorded);
	ASSERT_STR_EQ(p->acts[0].target.driver, "nouveau");
	ASSERT_STR_EQ(p->acts[2].target.driver, "igb");
	/* everything is on those drivers already */
	ASSERT_INT_EQ(plan_changes(p), 0);
	ASSERT_INT_EQ(p->n_refusals, 0);
}

TEST(restore_no_records_no_selectors_is_empty)
{
	_cleanup_host_ struct pcihost *h = workstation();
	_cleanup_plan_ struct plan *p = NULL;
	struct plan_error e;

	ASSERT_INT_EQ(plan_words(h, NULL, NULL, 0, VERB_RESTORE, NULL, false, NULL, &p, &e), 0);
	ASSERT_NOT_NULL(p);
	ASSERT_INT_EQ(p->n_acts, 0);
	ASSERT_INT_EQ(p->n_refusals, 0);
	ASSERT_INT_EQ(plan_changes(p), 0);
	ASSERT_FALSE(plan_refused(p));
}

TEST(restore_by_set_name)
{
	_cleanup_host_ struct pcihost *h = workstation();
	_cleanup_config_ struct config *cfg = config_new();
	_cleanup_plan_ struct plan *p = NULL;
	struct plan_error e;

	cfg_add(cfg, "gpu", "01:00", NULL, NULL);
	ASSERT_INT_EQ(plan_words(h, cfg, NULL, 0, VERB_RESTORE, NULL, false, "gpu", &p, &e), 0);
	ASSERT_INT_EQ(p->n_acts, 2);
	ASSERT_STR_EQ(p->acts[0].set, "gpu");
	ASSERT_TRUE(p->acts[0].target.kernel_picks);
}

/* ---- order ---- */

TEST(sorted_by_group_then_address)
{
	_cleanup_host_ struct pcihost *h = HOST(true, FN("0000:02:00.0", 0x8086, 0x1533, C_NIC, "igb", 20),
						FN("0000:03:00.0", 0x8086, 0x1533, C_NIC, "igb", -1),
						FN("0000:04:00.0", 0x8086, 0x1533, C_NIC, "igb", 3),
						FN("0000:05:00.0", 0x8086, 0x1533, C_NIC, "igb", 20),
						FN("0000:06:00.0", 0x8086, 0x1533, C_NIC, "igb", -1),
						FN("0000:07:00.0", 0x8086, 0x1533, C_NIC, "igb", 0),
						FN("0000:01:00.0", 0x8086, 0x1533, C_NIC, "igb", 20));
	static const char *const order[] = {"0000:07:00.0", "0000:04:00.0", "0000:01:00.0", "0000:02:00.0",
					    "0000:05:00.0", "0000:03:00.0", "0000:06:00.0"};
	static const int groups[] = {0, 3, 20, 20, 20, -1, -1};
	_cleanup_plan_ struct plan *p = NULL;
	struct plan_error e;

	ASSERT_INT_EQ(plan_words(h, NULL, NULL, 0, VERB_UNBIND, NULL, false, "06:00.0 8086:1533", &p, &e), 0);
	ASSERT_INT_EQ(p->n_acts, ARRAY_SIZE(order));
	for (size_t i = 0; i < ARRAY_SIZE(order); i++) {
		ASSERT_STR_EQ(p->acts[i].name, order[i]);
		ASSERT_INT_EQ(p->acts[i].group, groups[i]);
		ASSERT_STR_EQ(h->fns[p->acts[i].fn].name, order[i]);
	}
}

/* ---- small API ---- */

TEST(names)
{
	ASSERT_STR_EQ(verb_name(VERB_BIND), "bind");
	ASSERT_STR_EQ(verb_name(VERB_UNBIND), "unbind");
	ASSERT_STR_EQ(verb_name(VERB_RESTORE), "restore");
	ASSERT_STR_EQ(set_verdict_name(VERDICT_READY), "ready");
	ASSERT_STR_EQ(set_verdict_name(VERDICT_BOUND), "bound");
	ASSERT_STR_EQ(set_verdict_name(VERDICT_ABSENT), "absent");
	ASSERT_STR_EQ(set_verdict_name(VERDICT_NO_IOMMU), "no-iommu");
	ASSERT_STR_EQ(set_verdict_name(VERDICT_GROUP), "group");
	ASSERT_STR_EQ(set_verdict_name(VERDICT_IDS), "ids");
	ASSERT_STR_EQ(set_verdict_name(VERDICT_REFUSED), "refused");
}

TEST(null_safe)
{
	plan_free(NULL);
	ASSERT_FALSE(plan_refused(NULL));
	ASSERT_INT_EQ(plan_changes(NULL), 0);
}

TEST(empty_host)
{
	_cleanup_host_ struct pcihost *h = calloc(1, sizeof(*h));
	_cleanup_plan_ struct plan *p = NULL;
	struct plan_error e;

	ASSERT_INT_EQ(BIND(h, NULL, "02:00.0", &p, &e), -EINVAL);
	ASSERT_STR_EQ(e.msg, "no PCI function 0000:02:00.0 on this host");
	ASSERT_INT_EQ(plan_words(h, NULL, NULL, 0, VERB_RESTORE, NULL, false, NULL, &p, &e), 0);
	ASSERT_INT_EQ(p->n_acts, 0);
}

/* ---- set verdicts ---- */

static enum set_verdict verdict(const struct pcihost *h, const struct config *cfg, const char *name,
				char *detail, size_t size)
{
	const struct devset *set = config_find_set(cfg, name);

	if (!set)
		abort();
	return plan_set_verdict(h, cfg, set, detail, size);
}

TEST(verdict_absent)
{
	_cleanup_host_ struct pcihost *h = workstation();
	_cleanup_config_ struct config *cfg = config_new();
	char d[256];

	cfg_add(cfg, "gpu", "0000:82:00", "10de:2204", NULL);
	ASSERT_INT_EQ(verdict(h, cfg, "gpu", d, sizeof(d)), VERDICT_ABSENT);
	ASSERT_STR_EQ(d, "no function matches 0000:82:00");
}

TEST(verdict_ids)
{
	_cleanup_host_ struct pcihost *h = workstation();
	_cleanup_config_ struct config *cfg = config_new();
	char d[256];

	cfg_add(cfg, "gpu", "0000:02:00", "10de:2204,10de:1aef", NULL);
	ASSERT_INT_EQ(verdict(h, cfg, "gpu", d, sizeof(d)), VERDICT_IDS);
	ASSERT_STR_EQ(d, "expects 10de:2204,10de:1aef at 0000:02:00.0 but it holds 8086:1533");
}

TEST(verdict_no_iommu)
{
	_cleanup_host_ struct pcihost *off =
	    HOST(false, FN("0000:02:00.0", 0x8086, 0x1533, C_NIC, "igb", -1));
	_cleanup_host_ struct pcihost *nogroup =
	    HOST(true, FN("0000:02:00.0", 0x8086, 0x1533, C_NIC, "igb", -1));
	_cleanup_config_ struct config *cfg = config_new();
	char d[256];

	cfg_add(cfg, "nic", "02:00.0", NULL, NULL);
	cfg_add(cfg, "stub", "02:00.0", NULL, "pci-stub");
	ASSERT_INT_EQ(verdict(off, cfg, "nic", d, sizeof(d)), VERDICT_NO_IOMMU);
	ASSERT_STR_CONTAINS(d, "no IOMMU");
	ASSERT_STR_CONTAINS(d, "intel_iommu=on");
	ASSERT_INT_EQ(verdict(nogroup, cfg, "nic", d, sizeof(d)), VERDICT_NO_IOMMU);
	ASSERT_STR_EQ(d, "0000:02:00.0 has no IOMMU group");
	/* pci-stub needs no IOMMU */
	ASSERT_INT_EQ(verdict(off, cfg, "stub", d, sizeof(d)), VERDICT_READY);
	ASSERT_STR_EQ(d, "ready: 1 function");
}

TEST(verdict_group)
{
	_cleanup_host_ struct pcihost *h =
	    HOST(true, FN("0000:00:01.0", 0x8086, 0x1901, C_ROOTPORT, "pcieport", 14),
		 FN("0000:82:00.0", 0x10de, 0x2204, C_VGA, "nouveau", 14),
		 FN("0000:82:00.1", 0x10de, 0x1aef, C_AUDIO, "snd_hda_intel", 14),
		 FN("0000:82:00.2", 0x10de, 0x1ad6, C_USB, "xhci_hcd", 14));
	_cleanup_config_ struct config *cfg = config_new();
	char d[256];

	cfg_add(cfg, "gpu", "82:00.0,82:00.1", NULL, NULL);
	cfg_add(cfg, "slot", "82:00", NULL, NULL);
	ASSERT_INT_EQ(verdict(h, cfg, "gpu", d, sizeof(d)), VERDICT_GROUP);
	ASSERT_STR_EQ(d, "group 14 also holds 0000:82:00.2 on driver xhci_hcd");
	/* the whole slot: the bridge does not count */
	ASSERT_INT_EQ(verdict(h, cfg, "slot", d, sizeof(d)), VERDICT_READY);
	ASSERT_STR_EQ(d, "ready: 3 functions in group 14");
}

TEST(verdict_refused)
{
	_cleanup_host_ struct pcihost *h = workstation();
	_cleanup_config_ struct config *cfg = config_new();
	char d[256];

	cfg_add(cfg, "disk", "04:00.0", NULL, NULL);
	cfg_add(cfg, "usb", "00:14.0", NULL, NULL);
	/* the whole of group 1, root port included */
	cfg_add(cfg, "port", "00:01.0,01:00", NULL, NULL);
	ASSERT_INT_EQ(verdict(h, cfg, "disk", d, sizeof(d)), VERDICT_REFUSED);
	ASSERT_STR_EQ(d, "/ on nvme0n1p2");
	ASSERT_INT_EQ(verdict(h, cfg, "usb", d, sizeof(d)), VERDICT_REFUSED);
	ASSERT_STR_EQ(d, "keyboard on usb 1-2");
	ASSERT_INT_EQ(verdict(h, cfg, "port", d, sizeof(d)), VERDICT_REFUSED);
	ASSERT_STR_EQ(d, "0000:00:01.0 is a bridge and cannot go to vfio-pci");
}

TEST(verdict_bound_and_ready)
{
	_cleanup_host_ struct pcihost *h =
	    HOST(true, FN("0000:01:00.0", 0x10de, 0x2204, C_VGA, "vfio-pci", 1, .override = "vfio-pci"),
		 FN("0000:01:00.1", 0x10de, 0x1aef, C_AUDIO, "vfio-pci", 1, .override = "vfio-pci"),
		 FN("0000:02:00.0", 0x8086, 0x1533, C_NIC, "igb", 2),
		 FN("0000:03:00.0", 0x8086, 0x1533, C_NIC, "vfio-pci", 3));
	_cleanup_config_ struct config *cfg = config_new();
	char d[256];

	cfg_add(cfg, "gpu", "01:00", "10de:2204,10de:1aef", NULL);
	cfg_add(cfg, "nics", NULL, "8086:1533", NULL);
	cfg_add(cfg, "stub", "01:00.0", NULL, "pci-stub");
	ASSERT_INT_EQ(verdict(h, cfg, "gpu", d, sizeof(d)), VERDICT_BOUND);
	ASSERT_STR_EQ(d, "bound: 2 functions on vfio-pci");
	ASSERT_INT_EQ(verdict(h, cfg, "nics", d, sizeof(d)), VERDICT_READY);
	ASSERT_STR_EQ(d, "ready: 2 functions in groups 2, 3");
	/* on vfio-pci, but this set wants pci-stub */
	ASSERT_INT_EQ(verdict(h, cfg, "stub", d, sizeof(d)), VERDICT_READY);
	ASSERT_STR_EQ(d, "ready: 1 function in group 1");
}

TEST(verdict_safety_use_on_a_bound_function_is_bound)
{
	_cleanup_host_ struct pcihost *h =
	    HOST(true, FN("0000:01:00.0", 0x10de, 0x2204, C_VGA, "vfio-pci", 1, .override = "vfio-pci",
			  .uses = USE_CONSOLE, .detail = "efifb"));
	_cleanup_config_ struct config *cfg = config_new();
	char d[256];

	cfg_add(cfg, "gpu", "01:00.0", NULL, NULL);
	ASSERT_INT_EQ(verdict(h, cfg, "gpu", d, sizeof(d)), VERDICT_BOUND);
	ASSERT_STR_EQ(d, "bound: 1 function on vfio-pci");
}

TEST(verdict_detail_is_cut_not_overflowed)
{
	_cleanup_host_ struct pcihost *h = workstation();
	_cleanup_config_ struct config *cfg = config_new();
	char d[8];

	cfg_add(cfg, "gpu", "0000:82:00", NULL, NULL);
	ASSERT_INT_EQ(verdict(h, cfg, "gpu", d, sizeof(d)), VERDICT_ABSENT);
	ASSERT_STR_EQ(d, "no func");
}

/* ---- SR-IOV, variant drivers, reset methods ---- */

#define PF0 "0000:3b:00.0"

/* An X710 port with 2 of its 64 VFs (3b:02.0 on iavf, 3b:02.1 on vfio-pci), a second port without VFs */
static struct pcihost *sriov_host(int numvfs_port1)
{
	return HOST(true, FN("0000:00:01.0", 0x8086, 0x2030, C_ROOTPORT, "pcieport", 1),
		    FN(PF0, 0x8086, 0x1572, C_NIC, "i40e", 10, .numvfs = 2, .totalvfs = 64, .autoprobe = AUTOPROBE_ON,
		       .reset_method = "flr bus"),
		    FN("0000:3b:00.1", 0x8086, 0x1572, C_NIC, "i40e", 11, .numvfs = numvfs_port1, .totalvfs = 64,
		       .autoprobe = AUTOPROBE_ON),
		    FN("0000:3b:02.0", 0x8086, 0x154c, C_NIC, "iavf", 40, .physfn = PF0, .vf = 0, .reset_method = "flr"),
		    FN("0000:3b:02.1", 0x8086, 0x154c, C_NIC, "vfio-pci", 41, .physfn = PF0, .vf = 1,
		       .override = "vfio-pci", .reset_method = "flr"),
		    FN("0000:3c:00.0", 0x10de, 0x2204, C_VGA, "nouveau", 50));
}

static struct devset *sriov_set(struct config *cfg, const char *name, const char *pf, int numvfs, const char *vfs)
{
	struct devset *set;

	cfg_add(cfg, name, pf, NULL, NULL);
	set = &cfg->sets[cfg->n_sets - 1];
	set->sriov_numvfs = numvfs;
	for (const char *v = vfs; v && *v; v++) {
		if (*v < '0' || *v > '9')
			continue;
		set->vfs = realloc(set->vfs, (set->n_vfs + 1) * sizeof(*set->vfs));
		set->vfs[set->n_vfs++] = (uint16_t)(*v - '0');
	}
	return set;
}

/* the set binds the wanted VFs that exist with its count; the PF stays where it is */
TEST(sriov_set_binds_its_vfs_not_the_pf)
{
	_cleanup_host_ struct pcihost *h = sriov_host(0);
	_cleanup_config_ struct config *cfg = config_new();
	_cleanup_plan_ struct plan *p = NULL;
	struct plan_error e;

	sriov_set(cfg, "vfs", PF0, 2, "0");
	ASSERT_INT_EQ(BIND(h, cfg, "vfs", &p, &e), 0);
	ASSERT_INT_EQ(p->n_acts, 1);
	ASSERT_STR_EQ(p->acts[0].name, "0000:3b:02.0");
	ASSERT_STR_EQ(p->acts[0].target.driver, "vfio-pci");
	ASSERT_FALSE(p->acts[0].created_vf); /* it was there before: it gets a record */
	ASSERT_INT_EQ(p->acts[0].sriov_numvfs, -1);
	ASSERT_INT_EQ(p->n_sriov, 0);
	ASSERT_INT_EQ(p->n_refusals, 0);
	/* every VF when vfs is not given; the one on vfio-pci already is a noop */
	cfg->sets[0].n_vfs = 0;
	ASSERT_INT_EQ(BIND(h, cfg, "vfs", &p, &e), 0);
	ASSERT_INT_EQ(p->n_acts, 2);
	ASSERT_TRUE(p->acts[1].noop);
	ASSERT_INT_EQ(plan_changes(p), 1);
}

/* a PF without the set's count: the plan says to create them; no VF to bind yet */
TEST(sriov_set_creates_vfs_first)
{
	_cleanup_host_ struct pcihost *h = sriov_host(0);
	_cleanup_config_ struct config *cfg = config_new();
	_cleanup_plan_ struct plan *p = NULL;
	struct plan_error e;
	char detail[256];

	sriov_set(cfg, "port1", "0000:3b:00.1", 4, "02");
	ASSERT_INT_EQ(BIND(h, cfg, "port1", &p, &e), 0);
	ASSERT_INT_EQ(p->n_acts, 0);
	ASSERT_INT_EQ(p->n_sriov, 1);
	ASSERT_STR_EQ(p->sriov[0].name, "0000:3b:00.1");
	ASSERT_INT_EQ(p->sriov[0].from, 0);
	ASSERT_INT_EQ(p->sriov[0].to, 4);
	ASSERT_INT_EQ(p->sriov[0].n_wanted, 2);
	ASSERT_INT_EQ(p->sriov[0].autoprobe, AUTOPROBE_ON);
	ASSERT_FALSE(p->sriov[0].recorded);
	ASSERT_STR_EQ(p->sriov[0].before.driver, "i40e");
	ASSERT_INT_EQ(p->sriov[0].before.sriov_numvfs, 0);
	ASSERT_INT_EQ(p->sriov[0].before.sriov_autoprobe, AUTOPROBE_ON);
	ASSERT_STR_EQ(p->sriov[0].set, "port1");
	ASSERT_INT_EQ(p->n_refusals, 0);
	ASSERT_INT_EQ(plan_changes(p), 1);
	ASSERT_INT_EQ(plan_set_verdict(h, cfg, &cfg->sets[0], detail, sizeof(detail)), VERDICT_READY);
	ASSERT_STR_EQ(detail, "ready: creates 4 VFs on 0000:3b:00.1, binds VFs 0,2");
	/* the same on a restore is nothing: restore never creates VFs */
	ASSERT_INT_EQ(plan_words(h, cfg, NULL, 0, VERB_RESTORE, NULL, false, "port1", &p, &e), 0);
	ASSERT_INT_EQ(p->n_sriov, 0);
	ASSERT_INT_EQ(p->n_acts, 0);
}

/* a different count destroys the VFs there are: forceable, naming them and their drivers */
TEST(sriov_set_changing_the_count_is_refused)
{
	_cleanup_host_ struct pcihost *h = sriov_host(0);
	_cleanup_config_ struct config *cfg = config_new();
	_cleanup_plan_ struct plan *p = NULL;
	const struct refusal *r;
	struct plan_error e;
	char detail[256];

	sriov_set(cfg, "vfs", PF0, 4, NULL);
	ASSERT_INT_EQ(BIND(h, cfg, "vfs", &p, &e), 0);
	ASSERT_INT_EQ(p->n_sriov, 1);
	ASSERT_INT_EQ(p->sriov[0].from, 2);
	ASSERT_NOT_NULL(r = find_refusal(p, REFUSE_SRIOV));
	ASSERT_TRUE(r->forceable);
	ASSERT_STR_EQ(r->msg, "[vfs] asks for 4 VFs on 0000:3b:00.0, which has 2: changing the count destroys "
			      "0000:3b:02.0 (iavf), 0000:3b:02.1 (vfio-pci); use --force if you mean it");
	ASSERT_TRUE(plan_refused(p));
	ASSERT_INT_EQ(plan_words(h, cfg, NULL, 0, VERB_BIND, NULL, true, "vfs", &p, &e), 0);
	ASSERT_FALSE(plan_refused(p));
	ASSERT_INT_EQ(plan_set_verdict(h, cfg, &cfg->sets[0], detail, sizeof(detail)), VERDICT_REFUSED);
	ASSERT_STR_EQ(detail, "0000:3b:00.0 has 2 VFs; changing the count to 4 destroys them");
}

TEST(sriov_set_pf_that_cannot)
{
	_cleanup_host_ struct pcihost *h = sriov_host(0);
	_cleanup_config_ struct config *cfg = config_new();
	_cleanup_plan_ struct plan *p = NULL;
	const struct refusal *r;
	struct plan_error e;
	char detail[256];

	sriov_set(cfg, "gpu", "0000:3c:00.0", 2, NULL);
	sriov_set(cfg, "many", "0000:3b:00.1", 65, NULL);
	ASSERT_INT_EQ(BIND(h, cfg, "gpu", &p, &e), 0);
	ASSERT_NOT_NULL(r = find_refusal(p, REFUSE_SRIOV_CONFIG));
	ASSERT_FALSE(r->forceable);
	ASSERT_STR_EQ(r->msg, "[gpu] asks for 2 VFs on 0000:3c:00.0, which cannot have any (no SR-IOV capability: no "
			      "sriov_totalvfs)");
	ASSERT_INT_EQ(plan_words(h, cfg, NULL, 0, VERB_BIND, NULL, true, "gpu", &p, &e), 0);
	ASSERT_TRUE(plan_refused(p));
	ASSERT_INT_EQ(BIND(h, cfg, "many", &p, &e), 0);
	ASSERT_NOT_NULL(r = find_refusal(p, REFUSE_SRIOV_CONFIG));
	ASSERT_STR_EQ(r->msg, "[many] asks for 65 VFs on 0000:3b:00.1, which has at most 64 (sriov_totalvfs)");
	ASSERT_INT_EQ(plan_set_verdict(h, cfg, &cfg->sets[0], detail, sizeof(detail)), VERDICT_REFUSED);
	ASSERT_STR_EQ(detail, "0000:3c:00.0 has no SR-IOV capability");
	/* a PF on vfio-pci cannot create VFs */
	free(h->fns[2].driver);
	h->fns[2].driver = strdup("vfio-pci");
	cfg->sets[1].sriov_numvfs = 2;
	ASSERT_INT_EQ(BIND(h, cfg, "many", &p, &e), 0);
	ASSERT_NOT_NULL(r = find_refusal(p, REFUSE_SRIOV_CONFIG));
	ASSERT_STR_EQ(r->msg, "cannot create the VFs of [many] on 0000:3b:00.1: it is on vfio-pci, which does not create "
			      "VFs; give it back to its host driver first ('pcibind restore 0000:3b:00.1')");
}

/* bind -f of a PF with VFs used to destroy them without a word */
TEST(binding_a_pf_with_vfs_is_refused)
{
	_cleanup_host_ struct pcihost *h = sriov_host(0);
	_cleanup_plan_ struct plan *p = NULL;
	const struct refusal *r;
	struct plan_error e;

	ASSERT_INT_EQ(BIND(h, NULL, PF0, &p, &e), 0);
	ASSERT_INT_EQ(p->n_acts, 1);
	ASSERT_INT_EQ(p->acts[0].sriov_numvfs, 0); /* taken to 0 first, recorded, restored */
	ASSERT_NOT_NULL(r = find_refusal(p, REFUSE_SRIOV));
	ASSERT_TRUE(r->forceable);
	ASSERT_STR_EQ(r->fn, PF0);
	ASSERT_STR_EQ(r->msg, "binding 0000:3b:00.0 destroys its 2 VFs: 0000:3b:02.0 (iavf), 0000:3b:02.1 (vfio-pci); "
			      "use --force if you mean it ('pcibind restore 0000:3b:00.0' creates them again)");
	ASSERT_INT_EQ(plan_words(h, NULL, NULL, 0, VERB_UNBIND, NULL, false, PF0, &p, &e), 0);
	ASSERT_NOT_NULL(r = find_refusal(p, REFUSE_SRIOV));
	ASSERT_TRUE(strncmp(r->msg, "unbinding 0000:3b:00.0 destroys its 2 VFs", 41) == 0);
	ASSERT_INT_EQ(plan_words(h, NULL, NULL, 0, VERB_BIND, NULL, true, PF0, &p, &e), 0);
	ASSERT_FALSE(plan_refused(p));
	/* a PF without VFs is no such case */
	ASSERT_INT_EQ(BIND(h, NULL, "0000:3b:00.1", &p, &e), 0);
	ASSERT_NULL(find_refusal(p, REFUSE_SRIOV));
	ASSERT_INT_EQ(p->acts[0].sriov_numvfs, -1);
	/* a PF and one of its VFs in one request: never, not even forced */
	ASSERT_INT_EQ(plan_words(h, NULL, NULL, 0, VERB_BIND, NULL, true, PF0 " 0000:3b:02.0", &p, &e), 0);
	ASSERT_TRUE(plan_refused(p));
	ASSERT_STR_EQ(p->refusals[0].msg, "cannot bind 0000:3b:02.0 together with its PF 0000:3b:00.0: binding the PF "
					  "destroys its VFs; leave them out of the request");
}

/* VFs pcibind created have no records: restoring the PF's count takes them away, no moves first */
TEST(restore_of_created_vfs_goes_with_the_pf)
{
	_cleanup_host_ struct pcihost *h = sriov_host(0);
	_cleanup_config_ struct config *cfg = config_new();
	struct fnstate recs[] = {{.name = PF0, .driver = "i40e", .sriov_numvfs = 0, .sriov_autoprobe = AUTOPROBE_ON}};
	_cleanup_plan_ struct plan *p = NULL;
	struct plan_error e;

	sriov_set(cfg, "vfs", PF0, 2, NULL);
	/* binding them: created, so no record of their own */
	ASSERT_INT_EQ(plan_words(h, cfg, recs, 1, VERB_BIND, NULL, false, "vfs", &p, &e), 0);
	ASSERT_INT_EQ(p->n_acts, 2);
	ASSERT_TRUE(p->acts[0].created_vf && p->acts[1].created_vf);
	/* restore with no SEL: the PF's record; the count goes back to 0 */
	ASSERT_INT_EQ(plan_words(h, cfg, recs, 1, VERB_RESTORE, NULL, false, NULL, &p, &e), 0);
	ASSERT_INT_EQ(p->n_acts, 1);
	ASSERT_STR_EQ(p->acts[0].name, PF0);
	ASSERT_INT_EQ(p->acts[0].sriov_numvfs, 0);
	ASSERT_FALSE(p->acts[0].noop);
	/* restore SET: the PF and its VFs, which are noops that go with the count */
	ASSERT_INT_EQ(plan_words(h, cfg, recs, 1, VERB_RESTORE, NULL, false, "vfs", &p, &e), 0);
	ASSERT_INT_EQ(p->n_acts, 3);
	for (size_t i = 0; i < p->n_acts; i++)
		if (strcmp(p->acts[i].name, PF0) != 0 && !p->acts[i].noop)
			FAIL_AT("%s would be moved before its PF's count takes it away", p->acts[i].name);
	/* one VF on its own: to whatever host driver the kernel picks */
	ASSERT_INT_EQ(plan_words(h, cfg, recs, 1, VERB_RESTORE, NULL, false, "0000:3b:02.1", &p, &e), 0);
	ASSERT_INT_EQ(p->n_acts, 1);
	ASSERT_TRUE(p->acts[0].target.kernel_picks);
	ASSERT_FALSE(p->acts[0].noop);
}

/* a recorded autoprobe that differs is put back (a run killed between turning it off and on) */
TEST(restore_puts_autoprobe_back)
{
	_cleanup_host_ struct pcihost *h = sriov_host(0);
	struct fnstate recs[] = {{.name = "0000:3b:00.1", .driver = "i40e", .sriov_numvfs = 0,
				  .sriov_autoprobe = AUTOPROBE_ON}};
	_cleanup_plan_ struct plan *p = NULL;
	struct plan_error e;

	h->fns[2].sriov_autoprobe = AUTOPROBE_OFF;
	ASSERT_INT_EQ(plan_words(h, NULL, recs, 1, VERB_RESTORE, NULL, false, NULL, &p, &e), 0);
	ASSERT_INT_EQ(p->n_acts, 1);
	ASSERT_INT_EQ(p->acts[0].sriov_autoprobe, AUTOPROBE_ON);
	ASSERT_INT_EQ(p->acts[0].sriov_numvfs, -1);
	ASSERT_FALSE(p->acts[0].noop);
	h->fns[2].sriov_autoprobe = AUTOPROBE_ON;
	ASSERT_INT_EQ(plan_words(h, NULL, recs, 1, VERB_RESTORE, NULL, false, NULL, &p, &e), 0);
	ASSERT_TRUE(p->acts[0].noop);
}

TEST(auto_driver_takes_the_variant)
{
	struct variant_pick mlx = {.module = "mlx5_vfio_pci", .driver = "mlx5-vfio-pci", .wildcards = 5};
	struct variant_pick none = {.wildcards = -1, .why = "no vfio_pci alias"};
	_cleanup_host_ struct pcihost *h =
	    HOST(true, FN("0000:af:00.1", 0x15b3, 0x101e, C_NIC, "mlx5_core", 30, .variant = &mlx),
		 FN("0000:af:00.2", 0x15b3, 0x101e, C_NIC, "mlx5-vfio-pci", 30, .override = "mlx5-vfio-pci",
		    .variant = &mlx),
		 FN("0000:b0:00.0", 0x8086, 0x10d3, C_NIC, "e1000e", 31, .variant = &none),
		 FN("0000:b1:00.0", 0x8086, 0x10d3, C_NIC, "e1000e", 32));
	_cleanup_config_ struct config *cfg = config_new();
	_cleanup_plan_ struct plan *p = NULL;
	struct plan_error e;
	char detail[256];

	cfg_add(cfg, "mlx", "af:00.1,af:00.2", NULL, DRIVER_AUTO);
	cfg_add(cfg, "nic", "b0:00.0", NULL, DRIVER_AUTO);
	ASSERT_INT_EQ(BIND(h, cfg, "mlx nic", &p, &e), 0);
	ASSERT_INT_EQ(p->n_acts, 3);
	ASSERT_STR_EQ(p->acts[0].target.driver, "mlx5-vfio-pci");
	ASSERT_TRUE(p->acts[0].auto_driver);
	ASSERT_FALSE(p->acts[0].noop);
	/* the sibling in its group on a variant driver leaves the group viable */
	ASSERT_NULL(find_refusal(p, REFUSE_GROUP));
	ASSERT_TRUE(p->acts[1].noop);
	ASSERT_STR_EQ(p->acts[2].target.driver, "vfio-pci");
	/* --driver auto for a function named by address; no pick looked up: vfio-pci */
	ASSERT_INT_EQ(plan_words(h, NULL, NULL, 0, VERB_BIND, DRIVER_AUTO, false, "b1:00.0", &p, &e), 0);
	ASSERT_STR_EQ(p->acts[0].target.driver, "vfio-pci");
	ASSERT_TRUE(p->acts[0].auto_driver);
	ASSERT_INT_EQ(plan_set_verdict(h, cfg, &cfg->sets[0], detail, sizeof(detail)), VERDICT_READY);
	free(h->fns[0].driver);
	h->fns[0].driver = strdup("mlx5-vfio-pci");
	ASSERT_INT_EQ(plan_set_verdict(h, cfg, &cfg->sets[0], detail, sizeof(detail)), VERDICT_BOUND);
	ASSERT_STR_EQ(detail, "bound: 2 functions on mlx5-vfio-pci");
}

/* the set's reset_method goes with bind; noop only when it is already set; none possible refuses */
TEST(reset_method_of_the_set_goes_with_bind)
{
	_cleanup_host_ struct pcihost *h =
	    HOST(true, FN("0000:05:00.0", 0x8086, 0x1521, C_NIC, "igb", 5, .reset_method = "flr bus"),
		 FN("0000:05:00.1", 0x8086, 0x1521, C_NIC, "vfio-pci", 6, .override = "vfio-pci", .reset_method = "bus"),
		 FN("0000:06:00.0", 0x8086, 0x1521, C_NIC, "igb", 7));
	_cleanup_config_ struct config *cfg = config_new();
	_cleanup_plan_ struct plan *p = NULL;
	struct plan_error e;

	cfg_add(cfg, "nic", "05:00", NULL, NULL);
	cfg->sets[0].reset_method = strdup("bus");
	cfg_add(cfg, "none", "06:00.0", NULL, NULL);
	cfg->sets[1].reset_method = strdup("flr");
	ASSERT_INT_EQ(BIND(h, cfg, "nic", &p, &e), 0);
	ASSERT_INT_EQ(p->n_acts, 2);
	ASSERT_STR_EQ(p->acts[0].reset_method, "bus");
	ASSERT_STR_EQ(p->acts[0].before.reset_method, "flr bus");
	ASSERT_NULL(p->acts[1].reset_method);
	ASSERT_TRUE(p->acts[1].noop);
	/* named by address, the function still belongs to its set */
	ASSERT_INT_EQ(BIND(h, cfg, "0000:05:00.0", &p, &e), 0);
	ASSERT_STR_EQ(p->acts[0].reset_method, "bus");
	/* already bound, only the method differs: not a noop */
	free(h->fns[1].reset_method);
	h->fns[1].reset_method = strdup("flr bus");
	ASSERT_INT_EQ(BIND(h, cfg, "nic", &p, &e), 0);
	ASSERT_FALSE(p->acts[1].noop);
	ASSERT_STR_EQ(p->acts[1].reset_method, "bus");
	/* unbind does not touch it */
	ASSERT_INT_EQ(plan_words(h, cfg, NULL, 0, VERB_UNBIND, NULL, false, "nic", &p, &e), 0);
	ASSERT_NULL(p->acts[0].reset_method);
	ASSERT_INT_EQ(BIND(h, cfg, "none", &p, &e), 0);
	ASSERT_NOT_NULL(find_refusal(p, REFUSE_RESET));
	ASSERT_STR_EQ(find_refusal(p, REFUSE_RESET)->msg,
		      "cannot set reset_method 'flr' of [none] on 0000:06:00.0: the kernel offers no reset method for it "
		      "(no reset_method file); take reset_method out of [none]");
}

/* a GPU's audio has no reset method: the set's reset_method goes to the GPU, which resets both */
TEST(reset_method_of_a_multi_function_set)
{
	_cleanup_host_ struct pcihost *h = HOST(true, FN("0000:d8:00.0", 0x1002, 0x67df, C_VGA, "amdgpu", 14, .reset_method = "bus"),
						FN("0000:d8:00.1", 0x1002, 0xaaf0, C_AUDIO, "snd_hda_intel", 14));
	_cleanup_config_ struct config *cfg = config_new();
	_cleanup_plan_ struct plan *p = NULL;
	struct plan_error e;

	cfg_add(cfg, "amd", "d8:00", NULL, NULL);
	cfg->sets[0].reset_method = strdup("device_specific");
	ASSERT_INT_EQ(BIND(h, cfg, "amd", &p, &e), 0);
	ASSERT_INT_EQ(p->n_refusals, 0);
	ASSERT_STR_EQ(p->acts[0].reset_method, "device_specific");
	ASSERT_NULL(p->acts[1].reset_method);
	ASSERT_FALSE(p->acts[1].noop);
	/* the audio alone (by address): its set's GPU is not in the request, but the set still has it */
	ASSERT_INT_EQ(BIND(h, cfg, "0000:d8:00.1", &p, &e), 0);
	ASSERT_NULL(find_refusal(p, REFUSE_RESET));
}

HARNESS_MAIN
