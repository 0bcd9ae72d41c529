/* fuzz-grub.c - libFuzzer target: gen_grub_edit of an /etc/default/grub text; a second edit changes nothing */
/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdio.h>

#include "fuzz-args.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input in;
	struct gen_error err;
	char *edited = NULL, *twice = NULL;

	if (size > 16 * 1024 || fuzz_input_split(data, size, &in) < 0)
		return 0;
	if (gen_grub_edit(in.text, in.args, in.n_args, &edited, &err) == 0) {
		if (!edited)
			abort();
		if (gen_grub_edit(edited, in.args, in.n_args, &twice, &err) < 0 || strcmp(twice, edited) != 0) {
			fprintf(stderr, "property violated: editing twice changes the file\n--- once:\n%s\n--- twice:\n%s\n",
				edited, twice ? twice : "(refused)");
			abort();
		}
	} else if (!memchr(err.msg, '\0', sizeof(err.msg))) {
		abort();
	}
	free(twice);
	free(edited);
	free(in.text);
	return 0;
}
