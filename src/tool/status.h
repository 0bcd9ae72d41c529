/* status.h - pcibind status: what the text, tree and JSON outputs share (cmd-status.c gathers, status-*.c print) */
/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef PCIBIND_STATUS_H
#define PCIBIND_STATUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cmd.h"
#include "config.h"
#include "describe.h"
#include "modalias.h"
#include "names.h"
#include "pcidev.h"

#define CELL_MAX   512
#define DETAIL_MAX 512

/*
 * A function's ids in words and its candidate modules. Functions in a
 * row mostly share their ids (a PF's VFs), and naming them is most of
 * what a line costs: the last function's are kept for the next.
 */
struct fn_words {
	bool valid;
	uint16_t vendor, device, subvendor, subdevice;
	uint32_t class;
	char ids[DESCRIBE_MAX];	      /* describe_ids() */
	char subsystem[DESCRIBE_MAX]; /* describe_subsystem(); "" when there is none */
	char modules[CELL_MAX];	      /* fn_modules() */
};

struct status {
	struct ctx *c;
	struct config *cfg;
	struct pcihost *h;
	struct names *names;
	struct modaliases *mods; /* NULL: modules.alias not found */
	size_t width;		 /* columns of the terminal; 0: not a terminal */
	struct selector *sels;
	size_t n_sels;
	size_t *order; /* indices of the functions shown: by group (none last), then address */
	size_t n_order;
	bool *set_shown;       /* per cfg->sets */
	size_t *vfs_in_use;    /* per function: a PF's VFs on vfio drivers */
	struct fn_words words; /* the last function's, for the next one */
};
#define LINE_MAX_     4096
#define MODULES_SHOWN 16

/* what the host uses a function for, in words (text and JSON alike) */
struct status_use_word {
	unsigned use;
	const char *word;
};
#define STATUS_N_USE_WORDS 5
extern const struct status_use_word status_use_words[STATUS_N_USE_WORDS];

/* cmd-status.c: facts both outputs show */
bool status_set_selects_fn(const struct devset *set, const struct pcifn *f);
void status_sel_format(const struct selector *s, char *buf);
const char *status_detail_body(const char *verdict, const char *detail);
void status_set_selection(const struct devset *set, char *buf, size_t size);

/* status-text.c: the table; lines cut to the terminal's width */
void status_emit(const struct status *st, const char *text);
_printf_(2, 3) void status_emitf(const struct status *st, const char *fmt, ...);
void status_fn_notes(const struct status *st, const struct pcifn *f, char *buf, size_t size);
int status_print_text(struct status *st);

/* status-tree.c: --tree */
int status_print_tree(struct status *st);

/* status-json.c: --json (docs/status-json.md) */
int status_print_json(struct status *st);

#endif
