/* udevwait.h - wait until udev has handled the events of the functions pcibind moved */
/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef PCIBIND_UDEVWAIT_H
#define PCIBIND_UDEVWAIT_H

#include <stddef.h>

#include "sysroot.h"

/*
 * Why: /dev/vfio/N gets its owner and mode from udev rules, after the
 * kernel has bound the function. A VM started right after `pcibind bind`
 * must find the node final. Start watching before the first write
 * (udevwait_begin), then wait for the processed bind/unbind event of each
 * function and for udev's queue to drain (udevwait_end).
 *
 * Under a root other than "/", or when udevd is not running, *ret is NULL
 * and udevwait_end(NULL, ...) returns 0 at once.
 */
struct udevwait;

int udevwait_begin(const struct sysroot *r, struct udevwait **ret);

/*
 * names[i]: a function ("0000:82:00.0"); drivers[i]: the driver it should
 * end on, NULL for none (then its "unbind" event counts). Waits at most
 * timeout_ms in all. 0 when udev is done, -ETIMEDOUT otherwise (*ret_pending
 * names the first function still pending, or is "" when only the queue was
 * not empty). Frees w.
 */
int udevwait_end(struct udevwait *w, const char *const *names, const char *const *drivers, size_t n,
		 unsigned timeout_ms, const char **ret_pending);

void udevwait_free(struct udevwait *w);

/*
 * The boot unit's wait, by state rather than by event: until udev has
 * handled the vfio group device of each of groups[0..n) (its database
 * entry exists: /dev/vfio/N has the owner and mode the rules give it),
 * at most timeout_ms. It does not wait for udev's queue to drain (at boot
 * that is the whole coldplug) nor for the functions' own bind events. A
 * group node udev has no entry for and no event in flight (it was made
 * before udevd ran, in the initramfs, or before the coldplug replay) gets
 * a synthetic "add" on its uevent file, as `udevadm trigger` would write.
 * 0 when all are done, or when there is nothing to wait for (another root,
 * udevd not running, a group without a node); -ETIMEDOUT with
 * *ret_pending set to the first group still pending.
 */
int udevwait_vfio_nodes(const struct sysroot *r, const int *groups, size_t n, unsigned timeout_ms, int *ret_pending);

#endif
