/* pciaddr.h - PCI addresses, selectors and driver names: parsing, formatting, matching, the one check of each */
/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef PCIBIND_PCIADDR_H
#define PCIBIND_PCIADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* "0000:00:00.0" plus room for an eight-digit (VMD) domain */
#define PCIADDR_STRLEN	20
#define DRIVER_NAME_MAX 64

struct pciaddr {
	uint32_t domain;
	uint8_t bus;
	uint8_t dev; /* 0..31 */
	uint8_t fn;  /* 0..7 */
};

/* Strict function address: "DDDD:BB:SS.F" or "BB:SS.F" (domain 0). */
int pciaddr_parse(const char *s, struct pciaddr *ret);
/* "DDDD:BB:SS.F" into buf of PCIADDR_STRLEN */
void pciaddr_format(const struct pciaddr *a, char *buf);
int pciaddr_cmp(const struct pciaddr *a, const struct pciaddr *b);
bool pciaddr_same_slot(const struct pciaddr *a, const struct pciaddr *b);

enum selector_kind {
	SEL_FUNCTION, /* 0000:82:00.0, 82:00.0 */
	SEL_SLOT,     /* 0000:82:00, 82:00: every function of the slot */
	SEL_IDS,      /* 10de:2204 */
	SEL_NAME,     /* a config section */
};

#define SELECTOR_NAME_MAX 64

struct selector {
	enum selector_kind kind;
	struct pciaddr addr; /* FUNCTION, SLOT (fn = 0) */
	uint16_t vendor;     /* IDS */
	uint16_t device;
	char name[SELECTOR_NAME_MAX]; /* NAME */
};

/*
 * Parse one selector. "82:00" is a slot (two hex digits each side),
 * "10de:2204" ids (four each side). A word that is none of the address
 * forms is a NAME if it is a valid section name, else -EINVAL.
 */
int selector_parse(const char *s, struct selector *ret);
/*
 * The same, and the short address forms `lspci -s` takes from a user at
 * the command line: "2:00", "2:0.1", "0:2:0" (hex, one or two digits for
 * bus and slot). The configuration and the VM hooks stay strict.
 */
int selector_parse_user(const char *s, struct selector *ret);
/* valid section name: [A-Za-z_][A-Za-z0-9_.-]{0,62} and not an address form */
bool selector_name_valid(const char *s);
bool selector_matches(const struct selector *sel, const struct pciaddr *a, uint16_t vendor, uint16_t device);

/*
 * A driver or module name as the kernel has them: 1 to DRIVER_NAME_MAX - 1
 * letters, digits, '_' and '-', not starting with '-'. Every name pcibind
 * takes from the command line, the configuration or the journal.
 */
bool driver_name_valid(const char *s);
/*
 * A PCIe Device Serial Number as lspci shows it: eight pairs of lowercase
 * hex digits joined by '-', the most significant byte first
 * ("00-11-22-33-44-55-66-77"). Parse: 0 or -EINVAL (uppercase taken).
 */
#define DSN_STRLEN 24
int dsn_parse(const char *s, uint64_t *ret);
void dsn_format(uint64_t dsn, char buf[static DSN_STRLEN]);
/* The name of a physical slot directory under bus/pci/slots: 1 to 63 of [A-Za-z0-9_.+-], not starting with '.' */
bool slot_name_valid(const char *s);

/* A driver whose name marks it as a VFIO (user-space DMA) driver */
bool driver_is_vfio(const char *driver);
/* Drivers that leave a group viable for VFIO: vfio ones and pci-stub */
bool driver_is_vfio_safe(const char *driver);

#endif
