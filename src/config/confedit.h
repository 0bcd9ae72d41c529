/* confedit.h - edit the text of a pcibind.conf file: one section set or taken out, every other byte kept */
/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef PCIBIND_CONFEDIT_H
#define PCIBIND_CONFEDIT_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Lines are read as config.c (and inih) read them: a comment or blank
 * line, a [section] header, a "key = value" (or "key: value") line, or an
 * indented line continuing the key above it. A section runs from its
 * header to its last key or continuation line; comments and blank lines
 * after that belong to whatever follows (they usually describe the next
 * section), so they are never touched.
 */

struct confedit_key {
	const char *name;
	const char *value; /* one line, no newline */
};

/* true if text has a [section] header of that name */
bool confedit_has_section(const char *text, const char *section);

/*
 * Give [section] these keys. An existing section keeps its header, its
 * comments, its other keys and the order of everything; a key it has is
 * rewritten on its own line (its indentation and a "; comment" after the
 * value kept, continuation lines folded into the one line), a key it
 * lacks is added after its last key line. A missing section is appended
 * at the end of the text after one blank line, comment (if not NULL) as
 * "# comment" under its header. New lines end like the file's first line
 * ("\r\n" or "\n"); a text that ends without one gets one before the
 * section, and the section ends without one (so that confedit_remove()
 * gives the text back byte for byte). Returns 0 with *ret (a new string; equal to text when
 * nothing changes), -EINVAL for a name, key or value that cannot be
 * written safely, -ENOMEM.
 */
int confedit_set(const char *text, const char *section, const struct confedit_key *keys, size_t n_keys,
		 const char *comment, char **ret);

/*
 * Take [section] out: its header and every line up to its last key or
 * continuation line, and one blank line before it when a blank line or
 * the end of the text follows (what confedit_set() added). A text that
 * ends without an end of line and loses its last lines ends without one
 * again. Returns 0
 * with *ret, -ENOENT if there is no such section, -ENOMEM.
 */
int confedit_remove(const char *text, const char *section, char **ret);

#endif
