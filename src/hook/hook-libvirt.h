/* hook-libvirt.h - the PCI host devices of a libvirt domain XML */
/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef PCIBIND_HOOK_LIBVIRT_H
#define PCIBIND_HOOK_LIBVIRT_H

#include <stdbool.h>
#include <stddef.h>

#include "hook-proxmox.h"

/* libvirt hands the domain XML on stdin; a domain is a few kilobytes */
#define LIBVIRT_XML_MAX (4u << 20)

/* A PCI <hostdev mode='subsystem' type='pci'> or <interface type='hostdev'> of /domain/devices */
struct libvirt_hostdev {
	struct pciaddr addr; /* its <source><address> */
	bool managed;	     /* managed='yes': libvirt detaches and reattaches it itself */
	bool interface;	     /* an <interface type='hostdev'> (an SR-IOV VF as a guest NIC) */
	unsigned long line;
	char *rom; /* <rom file='...'/>, NULL */
	bool rom_bar_off;
	char driver_iommufd; /* <driver iommufd='yes'|'no'>: 'y', 'n'; 0 absent */
	bool iommufd;	     /* opened through the VFIO cdev and iommufd: its driver's say, else the domain's */
};

/* What the hook and the per-VM check read of a domain XML; strings NULL when absent */
struct libvirt_domain {
	bool is_domain;
	char *name;
	char *machine;	    /* /domain/os/type/@machine */
	char *loader;	    /* /domain/os/loader text */
	bool efi;	    /* <os firmware='efi'> or <loader type='pflash'> */
	bool secure_boot;   /* <loader secure='yes'> or firmware feature secure-boot enabled */
	bool enrolled_keys; /* firmware feature enrolled-keys enabled */
	bool iommufd;	    /* <iommufd enabled='yes'/> (libvirt 12.1+) */
	struct libvirt_hostdev *hostdevs;
	size_t n;
	size_t n_network_ifaces; /* <interface type='network'>: a pool's VF is chosen by libvirt at start */
};

/*
 * Parse a domain XML. Nothing is read but xml: no network, no file, no
 * DTD (a DOCTYPE is refused), no entity but the predefined five. -EINVAL
 * with err naming the line for broken XML or a bad address, -EFBIG above
 * LIBVIRT_XML_MAX, -ENOMEM without a message.
 */
int libvirt_domain_parse(const char *xml, size_t len, struct libvirt_domain *ret, char *err, size_t size);
void libvirt_domain_free(struct libvirt_domain *d);

/* The functions of the PCI hostdevs pcibind hands over: managed='no' ones, every one when all */
int libvirt_domain_devices(const char *xml, size_t len, bool all, struct hook_devs *ret, char *err, size_t size);

#endif
