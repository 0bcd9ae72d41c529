/* fuzz-config.c - libFuzzer target: one config file's text through config_parse_text and config_finish */
/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * The input is split at the first "\n#---\n" into two files, so that the
 * checks across files (a [pcibind] key set twice, duplicate addresses) run too.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char sep[] = "\n#---\n";
	struct config_error err;
	struct config *cfg;
	char *text, *second;

	if (size > 64 * 1024)
		return 0;
	if (!(text = malloc(size + 1)))
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	second = strstr(text, sep);
	if (second) {
		*second = '\0';
		second += sizeof(sep) - 1;
	}
	cfg = config_new();
	if (cfg && config_parse_text(cfg, text, "/etc/pcibind/pcibind.conf", &err) == 0 &&
	    (!second || config_parse_text(cfg, second, "/etc/pcibind/conf.d/10-vm.conf", &err) == 0) &&
	    config_finish(cfg, &err) == 0) {
		/* what the commands do with a valid config */
		for (size_t i = 0; i < cfg->n_sets; i++) {
			const struct devset *set = &cfg->sets[i];
			struct pciaddr a = {0, 1, 0, 0};

			if (config_find_set(cfg, set->name) == NULL || devset_driver(cfg, set) == NULL)
				abort();
			(void)devset_selects(set, &a, 0x10de, 0x2204);
		}
	}
	config_free(cfg);
	free(text);
	return 0;
}
