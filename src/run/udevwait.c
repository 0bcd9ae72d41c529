/* udevwait.c - libudev: the processed bind/unbind events of moved functions, then an empty udev queue */
/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <libudev.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "udevwait.h"
#include "util.h"

/* a node's own "add" is handled within this at boot, before coldplug; later, it was missed */
#define REPLAY_AFTER_MS 200

struct udevwait {
	struct udev *udev;
	struct udev_monitor *mon;
	struct udev_queue *queue;
};

void udevwait_free(struct udevwait *w)
{
	if (!w)
		return;
	udev_queue_unref(w->queue);
	udev_monitor_unref(w->mon);
	udev_unref(w->udev);
	free(w);
}

int udevwait_begin(const struct sysroot *r, struct udevwait **ret)
{
	struct udevwait *w;

	*ret = NULL;
	if (!sysroot_is_host(r)) /* libudev has no root prefix: nothing to wait for below --root */
		return 0;
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->udev = udev_new();
	if (!w->udev)
		goto fail;
	w->queue = udev_queue_new(w->udev);
	if (!w->queue || !udev_queue_get_udev_is_active(w->queue)) {
		udevwait_free(w); /* udevd is not running (early boot shells, containers) */
		return 0;
	}
	/* subscribe before the first write, so no event is missed */
	w->mon = udev_monitor_new_from_netlink(w->udev, "udev");
	if (!w->mon || udev_monitor_filter_add_match_subsystem_devtype(w->mon, "pci", NULL) < 0 ||
	    udev_monitor_enable_receiving(w->mon) < 0)
		goto fail;
	*ret = w;
	return 0;
fail:
	udevwait_free(w);
	return -ENOMEM;
}

/* Is this processed event the last one expected for function i? */
static bool event_done(struct udev_device *d, const char *driver)
{
	const char *action = udev_device_get_action(d);
	const char *drv = udev_device_get_driver(d);

	if (!action)
		return false;
	if (!driver)
		return streq(action, "unbind");
	return streq(action, "bind") && drv && streq(drv, driver);
}

static void take_events(struct udevwait *w, const char *const *names, const char *const *drivers, size_t n, bool *seen)
{
	struct udev_device *d;

	while ((d = udev_monitor_receive_device(w->mon))) {
		const char *sysname = udev_device_get_sysname(d);

		for (size_t i = 0; sysname && i < n; i++)
			if (!seen[i] && streq(sysname, names[i]) && event_done(d, drivers[i]))
				seen[i] = true;
		udev_device_unref(d);
	}
}

static long long remaining(long long deadline)
{
	long long left = deadline - now_ms();

	return left > 0 ? left : 0;
}

int udevwait_end(struct udevwait *w, const char *const *names, const char *const *drivers, size_t n,
		 unsigned timeout_ms, const char **ret_pending)
{
	long long deadline = now_ms() + timeout_ms;
	_cleanup_free_ bool *seen = calloc(n ? n : 1, sizeof(*seen));
	size_t i = 0;
	int err = 0;

	*ret_pending = "";
	if (!w)
		return 0;
	if (!seen) {
		udevwait_free(w);
		return -ENOMEM;
	}
	for (;;) {
		struct pollfd p = { .fd = udev_monitor_get_fd(w->mon), .events = POLLIN };

		take_events(w, names, drivers, n, seen);
		while (i < n && seen[i])
			i++;
		if (i == n)
			break;
		if (remaining(deadline) == 0 || poll(&p, 1, (int)remaining(deadline)) == 0) {
			*ret_pending = names[i];
			err = -ETIMEDOUT;
			goto out;
		}
	}
	/* our bind events are processed; the vfio/N "add" came from the kernel before them */
	while (!udev_queue_get_queue_is_empty(w->queue)) {
		if (remaining(deadline) == 0) {
			err = -ETIMEDOUT;
			goto out;
		}
		(void)poll(NULL, 0, 20);
	}
out:
	udevwait_free(w);
	return err;
}

/* 1: udev has handled vfio/N; 0: not yet; -ENOENT: there is no such node */
static int node_done(struct udev *udev, int group)
{
	char name[16];
	struct udev_device *d;
	int done;

	(void)snprintf(name, sizeof(name), "%d", group);
	d = udev_device_new_from_subsystem_sysname(udev, "vfio", name);
	if (!d)
		return -ENOENT;
	done = udev_device_get_is_initialized(d) > 0;
	udev_device_unref(d);
	return done;
}

/* "add" on sys/class/vfio/N/uevent: the event udev missed (a kernel write, sysfs-relative) */
static void replay_add(const struct sysroot *r, int group)
{
	char rel[64];

	if (sysroot_pathf(rel, sizeof(rel), "sys/class/vfio/%d/uevent", group) == 0)
		(void)sysroot_write(r, rel, "add", 3);
}

int udevwait_vfio_nodes(const struct sysroot *r, const int *groups, size_t n, unsigned timeout_ms, int *ret_pending)
{
	long long deadline = now_ms() + timeout_ms, replay_at = now_ms() + REPLAY_AFTER_MS;
	struct udev_queue *queue = NULL;
	struct udev *udev = NULL;
	bool replayed = false;
	size_t i = 0;
	int err = 0;

	*ret_pending = -1;
	if (!sysroot_is_host(r) || n == 0)
		return 0;
	if (!(udev = udev_new()) || !(queue = udev_queue_new(udev))) {
		err = -ENOMEM;
		goto out;
	}
	if (!udev_queue_get_udev_is_active(queue))
		goto out; /* nobody will set an owner: nothing to wait for */
	while (i < n) {
		int done = node_done(udev, groups[i]);

		if (done != 0) { /* handled, or no node (a function bound to another driver) */
			i++;
			continue;
		}
		if (now_ms() >= deadline) {
			*ret_pending = groups[i];
			err = -ETIMEDOUT;
			goto out;
		}
		/* its event is not coming: the node predates udevd or its coldplug replay */
		if (!replayed && now_ms() >= replay_at) {
			for (size_t k = i; k < n; k++)
				if (node_done(udev, groups[k]) == 0)
					replay_add(r, groups[k]);
			replayed = true;
		}
		(void)poll(NULL, 0, 10);
	}
out:
	udev_queue_unref(queue);
	udev_unref(udev);
	return err;
}
