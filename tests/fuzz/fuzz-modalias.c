/* fuzz-modalias.c - libFuzzer target: modules.alias vfio_pci: lines and libvirt's fewest-wildcards match */
/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "variant.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fail(const char *what, const char *s)
{
	fprintf(stderr, "property violated: %s (%s)\n", what, s);
	abort();
}

/* the first six bytes pick a function; the rest is the file */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct variant_table *t = NULL, *again = NULL;
	struct variant_pick p, q;
	struct pcifn f = { 0 };
	char *text, line[160];

	if (size < 6)
		return 0;
	f.vendor = (uint16_t)(data[0] | data[1] << 8);
	f.device = (uint16_t)(data[2] | data[3] << 8);
	f.class = (uint32_t)data[4] << 16 | (uint32_t)data[5] << 8;
	if (!(text = malloc(size - 6 + 1)))
		return 0;
	memcpy(text, data + 6, size - 6);
	text[size - 6] = '\0';
	if (variant_table_parse(text, &t) == 0) {
		variant_match(t, &f, &p);
		if (p.module[0] && (p.wildcards < 0 || p.wildcards > 7 || strncmp(p.alias, "vfio_pci:v", 10) != 0))
			fail("a match with an impossible wildcard count or pattern", p.alias);
		if (!p.module[0] && !p.why[0])
			fail("no match and no reason", "");
		if (p.module[0]) {
			/* the winning line, alone, parses back to itself and matches again */
			snprintf(line, sizeof(line), "alias %s %s\n", p.alias, p.module);
			if (variant_table_parse(line, &again) < 0 || variant_table_size(again) != 1)
				fail("the winning line does not parse back", line);
			variant_match(again, &f, &q);
			if (strcmp(q.module, p.module) || q.wildcards != p.wildcards)
				fail("the winning line alone does not match the same way", line);
			variant_table_free(again);
		}
	}
	variant_table_free(t);
	free(text);
	return 0;
}
