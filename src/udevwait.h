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

#endif
