/* fuzz-cmdline.c - libFuzzer target: gen_cmdline_merge and gen_kernelstub_edit; a second merge changes nothing */
/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdio.h>

#include "fuzz-args.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fail(const char *what, const char *line)
{
	fprintf(stderr, "property violated: %s for '%s'\n", what, line);
	abort();
}

/* every argument stands in the merged line as a whole word */
static void check_has_args(const char *merged, const struct fuzz_input *in)
{
	for (size_t i = 0; i < in->n_args; i++) {
		size_t n = strlen(in->args[i]);
		const char *p = merged;
		int found = 0;

		while (!found && (p = strstr(p, in->args[i]))) {
			found = (p == merged || strchr(" \t\n", p[-1])) && strchr(" \t\n", p[n]);
			p++;
		}
		if (!found)
			fail("an argument is missing after the merge", merged);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input in;
	struct gen_error err;
	char *merged, *again, *edited = NULL;

	if (size > 16 * 1024 || fuzz_input_split(data, size, &in) < 0)
		return 0;
	merged = gen_cmdline_merge(in.text, in.args, in.n_args);
	if (merged) {
		check_has_args(merged, &in);
		again = gen_cmdline_merge(merged, in.args, in.n_args);
		if (!again || strcmp(again, merged) != 0)
			fail("merging twice changes the line", in.text);
		free(again);
	}
	if (gen_kernelstub_edit(in.text, in.args, in.n_args, &edited, &err) == 0) {
		char *twice = NULL;

		if (gen_kernelstub_edit(edited, in.args, in.n_args, &twice, &err) < 0 || strcmp(twice, edited) != 0)
			fail("editing the kernelstub configuration twice changes it", in.text);
		free(twice);
		free(edited);
	}
	free(merged);
	free(in.text);
	return 0;
}
