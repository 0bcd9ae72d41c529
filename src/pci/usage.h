/* usage.h - what the host uses each function for: console, filesystems, swap, route, input */
/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef PCIBIND_USAGE_H
#define PCIBIND_USAGE_H

#include "pcidev.h"
#include "sysroot.h"

/*
 * Fill pcifn.uses and pcifn.use_detail for every function of h from
 * /proc/self/mountinfo, /proc/swaps, /proc/net/route, /proc/net/ipv6_route
 * and /sys/class/{block,net,input,graphics,vtconsole}. Every PCI function
 * on the sysfs path of a device in use is marked (the NVMe and the root
 * port above it). Facts that cannot be read are skipped, not fatal.
 */
int usage_scan(const struct sysroot *r, struct pcihost *h);

/*
 * Only the console part of it (vtconsoles, framebuffers, vgacon): all the
 * udev rule reads when a boot set holds the boot VGA, whose console it
 * must not take (h may hold that function alone).
 */
void usage_scan_console(const struct sysroot *r, struct pcihost *h);

#endif
