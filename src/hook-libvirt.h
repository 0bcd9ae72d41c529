/* hook-libvirt.h - the PCI host devices of a libvirt domain XML */
/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef PCIBIND_HOOK_LIBVIRT_H
#define PCIBIND_HOOK_LIBVIRT_H

#include <stdbool.h>
#include <stddef.h>

#include "hook-proxmox.h"

/* libvirt hands the domain XML on stdin; a domain is a few kilobytes */
#define LIBVIRT_XML_MAX (4u << 20)

/*
 * The <hostdev mode='subsystem' type='pci'> source addresses of the domain
 * XML (managed='no' only unless all). Nothing is read but xml: no network,
 * no file, no DTD (a DOCTYPE is refused), no entity but the predefined five.
 * -EINVAL with err naming the line for broken XML or a bad address, -EFBIG
 * above LIBVIRT_XML_MAX, -ENOMEM without a message.
 */
int libvirt_domain_devices(const char *xml, size_t len, bool all, struct hook_devs *ret, char *err, size_t size);

#endif
