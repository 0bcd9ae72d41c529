/* names.h - vendor and device names from pci.ids, through libpci */
/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef PCIBIND_NAMES_H
#define PCIBIND_NAMES_H

#include <stddef.h>
#include <stdint.h>

struct names;

/* pci.ids is looked up lazily on the first call; NULL-safe destructor */
int names_new(struct names **ret);
/* the same with another pci.ids file (tests); path is copied */
int names_new_file(const char *ids_path, struct names **ret);
void names_free(struct names *n);
/*
 * Parse pci.ids in a thread while the caller does other work (the sysfs
 * scan): on a many-core host its ~20 ms of CPU leave the wall time. The
 * first lookup (or names_wait(), or names_free()) joins it.
 */
void names_preload(struct names *n);
void names_wait(struct names *n);
/* "NVIDIA Corporation"; falls back to "Device 10de" style text when unknown */
const char *names_vendor(struct names *n, uint16_t vendor, char *buf, size_t size);
const char *names_device(struct names *n, uint16_t vendor, uint16_t device, char *buf, size_t size);
const char *names_class(struct names *n, uint32_t class, char *buf, size_t size);

/* The database's text only: NULL when pci.ids has no entry or cannot be loaded */
const char *names_lookup_vendor(struct names *n, uint16_t vendor, char *buf, size_t size);
const char *names_lookup_device(struct names *n, uint16_t vendor, uint16_t device, char *buf, size_t size);
/* the name pci.ids gives the subsystem subvendor:subdevice of vendor:device ("GeForce RTX 3090 Gaming OC") */
const char *names_lookup_subsystem(struct names *n, uint16_t vendor, uint16_t device, uint16_t subvendor,
				   uint16_t subdevice, char *buf, size_t size);
const char *names_lookup_class(struct names *n, uint32_t class, char *buf, size_t size);

#endif
