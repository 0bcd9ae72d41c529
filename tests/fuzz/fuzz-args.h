/* fuzz-args.h - shared by the generator fuzz targets: input text plus the kernel arguments pcibind would add */
/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef PCIBIND_FUZZ_ARGS_H
#define PCIBIND_FUZZ_ARGS_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gen.h"

#define FUZZ_MAX_ARGS 8

struct fuzz_input {
	char *text;
	char *args[FUZZ_MAX_ARGS];
	size_t n_args;
};

static size_t key_len(const char *a)
{
	const char *eq = strchr(a, '=');

	return eq ? (size_t)(eq - a) : strlen(a);
}

/* the kernel's parameter names: '-' and '_' are the same character */
static int same_key(const char *a, const char *b)
{
	size_t n = key_len(a);

	if (n != key_len(b))
		return 0;
	for (size_t i = 0; i < n; i++)
		if (a[i] != b[i] && !((a[i] == '-' || a[i] == '_') && (b[i] == '-' || b[i] == '_')))
			return 0;
	return 1;
}

/* an argument whose key another one already has: generate never emits two */
static int key_taken(const struct fuzz_input *in, const char *a)
{
	for (size_t i = 0; i < in->n_args; i++)
		if (same_key(in->args[i], a))
			return 1;
	return 0;
}

/*
 * "TEXT\n#---\nARG ARG ..." (valid arguments only, unique keys); without the
 * separator the arguments are pcibind's usual ones.
 */
static int fuzz_input_split(const uint8_t *data, size_t size, struct fuzz_input *in)
{
	static const char sep[] = "\n#---\n";
	static char *const dflt[] = {"intel_iommu=on", "iommu=pt", "vfio-pci.ids=10de:2204,10de:1aef"};
	char *rest, *save = NULL;

	memset(in, 0, sizeof(*in));
	if (!(in->text = malloc(size + 1)))
		return -1;
	memcpy(in->text, data, size);
	in->text[size] = '\0';
	rest = strstr(in->text, sep);
	if (!rest) {
		for (size_t i = 0; i < 3; i++)
			in->args[in->n_args++] = dflt[i];
		return 0;
	}
	*rest = '\0';
	rest += sizeof(sep) - 1;
	for (char *a = strtok_r(rest, " \n", &save); a && in->n_args < FUZZ_MAX_ARGS; a = strtok_r(NULL, " \n", &save))
		if (cmdline_arg_valid(a) && !key_taken(in, a))
			in->args[in->n_args++] = a;
	return 0;
}

#endif
