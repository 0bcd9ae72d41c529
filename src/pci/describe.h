/* describe.h - a function in words, as lspci -nn writes it: class, vendor and device, subsystem */
/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef PCIBIND_DESCRIBE_H
#define PCIBIND_DESCRIBE_H

#include <stddef.h>

#include "names.h"
#include "pcidev.h"

#define DESCRIBE_MAX 512

/* "VGA compatible controller [0300]", "Class [ff00]" when pci.ids does not know it */
const char *describe_class(struct names *nm, uint32_t class, char *buf, size_t size);
/* the same without the number: "VGA compatible controller" */
const char *describe_class_name(struct names *nm, uint32_t class, char *buf, size_t size);
/* "NVIDIA Corporation GA102 [GeForce RTX 3090] [10de:2204]", "NVIDIA Corporation Device [10de:2204]", "Device
 * [10de:2204]" */
const char *describe_device(struct names *nm, uint16_t vendor, uint16_t device, char *buf, size_t size);
/* "Gigabyte Technology Co., Ltd Device [1458:403b]"; NULL when the function has no subsystem ids */
const char *describe_subsystem(struct names *nm, const struct pcifn *f, char *buf, size_t size);
/* describe_fn() without the address: "VGA compatible controller [0300]: NVIDIA ..." */
const char *describe_ids(struct names *nm, const struct pcifn *f, char *buf, size_t size);
/* lspci -D -nn's first line without its "(rev xx)": "0000:02:00.0 VGA compatible controller [0300]: NVIDIA ..." */
const char *describe_fn(struct names *nm, const struct pcifn *f, char *buf, size_t size);

#endif
