/* vfio-hold.c - open a PCI function through VFIO and hold it, as a running VM does */
/* SPDX-License-Identifier: GPL-2.0-or-later */

/*
 * Runs inside the test guest.  It does what QEMU does before a guest starts:
 * open the container, check the API, attach the IOMMU group, choose the
 * type1 IOMMU, take the device file.  Then it sits on the device until it is
 * killed (SIGTERM/SIGINT), so that the kernel's unbind of that device blocks
 * the way it does under a live VM.
 *
 * With --req it also arms the device's request interrupt (the eventfd QEMU
 * uses to learn that the host wants the device back) and logs every request;
 * with --release-on-request it lets go at the first one, like a guest that
 * honours hot-unplug.
 *
 * Built statically: the guest has no libc of its own to spare.
 */

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/vfio.h>

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: vfio-hold [--ready FILE] [--req] [--release-on-request] [-pidfile FILE] DDDD:BB:DD.F\n");
}

/* The group number is the last component of the iommu_group link. */
static int device_group(const char *bdf, int *ret_group)
{
	char path[PATH_MAX], target[PATH_MAX];
	const char *base;
	char *end;
	long n;
	ssize_t len;

	if (snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/iommu_group", bdf) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	len = readlink(path, target, sizeof(target) - 1);
	if (len < 0)
		return -errno;
	target[len] = '\0';
	base = strrchr(target, '/');
	base = base ? base + 1 : target;
	errno = 0;
	n = strtol(base, &end, 10);
	if (errno || *end || end == base || n < 0 || n > INT_MAX)
		return -EINVAL;
	*ret_group = (int)n;
	return 0;
}

static int open_container(void)
{
	int fd, r;

	fd = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "vfio-hold: cannot open /dev/vfio/vfio: %s\n", strerror(errno));
		return -1;
	}
	r = ioctl(fd, VFIO_GET_API_VERSION);
	if (r != VFIO_API_VERSION) {
		fprintf(stderr, "vfio-hold: VFIO API version %d, expected %d\n", r, VFIO_API_VERSION);
		close(fd);
		return -1;
	}
	return fd;
}

static int open_group(int group)
{
	struct vfio_group_status status = { .argsz = sizeof(status) };
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/dev/vfio/%d", group);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "vfio-hold: cannot open %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (ioctl(fd, VFIO_GROUP_GET_STATUS, &status) < 0) {
		fprintf(stderr, "vfio-hold: VFIO_GROUP_GET_STATUS on %s: %s\n", path, strerror(errno));
		close(fd);
		return -1;
	}
	if (!(status.flags & VFIO_GROUP_FLAGS_VIABLE)) {
		fprintf(stderr, "vfio-hold: group %d is not viable: a function of it is bound to a host driver\n",
			group);
		close(fd);
		return -1;
	}
	return fd;
}

static int attach(int container, int group_fd, int group)
{
	int type;

	if (ioctl(group_fd, VFIO_GROUP_SET_CONTAINER, &container) < 0) {
		fprintf(stderr, "vfio-hold: VFIO_GROUP_SET_CONTAINER for group %d: %s\n", group, strerror(errno));
		return -1;
	}
	/* QEMU prefers type1v2 when the kernel has it; so do we. */
	if (ioctl(container, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU) > 0)
		type = VFIO_TYPE1v2_IOMMU;
	else if (ioctl(container, VFIO_CHECK_EXTENSION, VFIO_TYPE1_IOMMU) > 0)
		type = VFIO_TYPE1_IOMMU;
	else {
		fprintf(stderr, "vfio-hold: the kernel offers no type1 IOMMU (is vfio_iommu_type1 loaded?)\n");
		return -1;
	}
	if (ioctl(container, VFIO_SET_IOMMU, type) < 0) {
		fprintf(stderr, "vfio-hold: VFIO_SET_IOMMU(%s): %s\n", type == VFIO_TYPE1v2_IOMMU ? "type1v2" : "type1",
			strerror(errno));
		return -1;
	}
	return 0;
}

static int open_device(int group_fd, const char *bdf)
{
	struct vfio_device_info info = { .argsz = sizeof(info) };
	int fd;

	fd = ioctl(group_fd, VFIO_GROUP_GET_DEVICE_FD, bdf);
	if (fd < 0) {
		fprintf(stderr, "vfio-hold: VFIO_GROUP_GET_DEVICE_FD(%s): %s\n", bdf, strerror(errno));
		return -1;
	}
	if (ioctl(fd, VFIO_DEVICE_GET_INFO, &info) < 0) {
		fprintf(stderr, "vfio-hold: VFIO_DEVICE_GET_INFO(%s): %s\n", bdf, strerror(errno));
		close(fd);
		return -1;
	}
	if (!(info.flags & VFIO_DEVICE_FLAGS_PCI)) {
		fprintf(stderr, "vfio-hold: %s is not a VFIO PCI device (flags 0x%x)\n", bdf, info.flags);
		close(fd);
		return -1;
	}
	printf("vfio-hold: %s: %u regions, %u irqs, reset %s\n", bdf, info.num_regions, info.num_irqs,
	       info.flags & VFIO_DEVICE_FLAGS_RESET ? "yes" : "no");
	return fd;
}

/* Arm the request interrupt: the kernel signals it when someone unbinds. */
static int arm_request(int device_fd, const char *bdf)
{
	char buf[sizeof(struct vfio_irq_set) + sizeof(int32_t)];
	struct vfio_irq_set *set = (struct vfio_irq_set *)buf;
	int32_t efd;

	efd = eventfd(0, EFD_CLOEXEC);
	if (efd < 0) {
		fprintf(stderr, "vfio-hold: eventfd: %s\n", strerror(errno));
		return -1;
	}
	set->argsz = sizeof(buf);
	set->flags = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER;
	set->index = VFIO_PCI_REQ_IRQ_INDEX;
	set->start = 0;
	set->count = 1;
	memcpy(set->data, &efd, sizeof(efd));
	if (ioctl(device_fd, VFIO_DEVICE_SET_IRQS, set) < 0) {
		fprintf(stderr, "vfio-hold: arming the request interrupt of %s: %s\n", bdf, strerror(errno));
		close(efd);
		return -1;
	}
	return efd;
}

static int write_ready(const char *file, int group)
{
	char tmp[PATH_MAX];
	FILE *f;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", file) >= (int)sizeof(tmp))
		return -1;
	f = fopen(tmp, "we");
	if (!f)
		return -1;
	fprintf(f, "%d %d\n", (int)getpid(), group);
	if (fclose(f) != 0)
		return -1;
	return rename(tmp, file);
}

/* Sleep until a signal; with a request eventfd, log requests meanwhile. */
static void hold(int req_fd, int release_on_request, const char *bdf)
{
	struct pollfd p = { .fd = req_fd, .events = POLLIN };
	uint64_t count;

	while (!stop) {
		if (req_fd < 0) {
			pause();
			continue;
		}
		if (poll(&p, 1, -1) < 0)
			continue; /* EINTR: look at stop again */
		if (read(req_fd, &count, sizeof(count)) != sizeof(count))
			continue;
		printf("vfio-hold: the kernel asks for %s back (%llu request(s))\n", bdf, (unsigned long long)count);
		fflush(stdout);
		if (release_on_request)
			break;
	}
}

int main(int argc, char **argv)
{
	const char *ready = NULL, *bdf = NULL, *pidfile = NULL;
	int req = 0, release = 0, group, container, group_fd, device_fd, req_fd = -1, r, i;
	struct sigaction sa = { .sa_handler = on_signal };

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--ready") && i + 1 < argc)
			ready = argv[++i];
		else if (!strcmp(argv[i], "-pidfile") && i + 1 < argc)
			pidfile = argv[++i]; /* QEMU's option: a process qemu-server counts as the VM (its cmdline names it) */
		else if (!strcmp(argv[i], "--req"))
			req = 1;
		else if (!strcmp(argv[i], "--release-on-request"))
			req = release = 1;
		else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(stdout);
			return 0;
		} else if (argv[i][0] != '-' && !bdf)
			bdf = argv[i];
		else {
			usage(stderr);
			return 2;
		}
	}
	if (!bdf) {
		usage(stderr);
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (sigaction(SIGTERM, &sa, NULL) < 0 || sigaction(SIGINT, &sa, NULL) < 0) {
		fprintf(stderr, "vfio-hold: sigaction: %s\n", strerror(errno));
		return 1;
	}

	r = device_group(bdf, &group);
	if (r < 0) {
		fprintf(stderr, "vfio-hold: no IOMMU group for %s: %s\n", bdf, strerror(-r));
		return 1;
	}
	container = open_container();
	if (container < 0)
		return 1;
	group_fd = open_group(group);
	if (group_fd < 0)
		return 1;
	if (attach(container, group_fd, group) < 0)
		return 1;
	device_fd = open_device(group_fd, bdf);
	if (device_fd < 0)
		return 1;
	if (req) {
		req_fd = arm_request(device_fd, bdf);
		if (req_fd < 0)
			return 1;
	}
	if (pidfile) {
		FILE *pf = fopen(pidfile, "w");

		if (!pf || fprintf(pf, "%d\n", (int)getpid()) < 0 || fclose(pf) != 0) {
			fprintf(stderr, "vfio-hold: cannot write %s: %s\n", pidfile, strerror(errno));
			return 1;
		}
	}
	if (ready && write_ready(ready, group) < 0) {
		fprintf(stderr, "vfio-hold: cannot write %s: %s\n", ready, strerror(errno));
		return 1;
	}
	printf("vfio-hold: holding %s (group %d) as pid %d\n", bdf, group, (int)getpid());

	hold(req_fd, release, bdf);

	/* The order QEMU tears down in: device, group, container. */
	close(device_fd);
	close(group_fd);
	close(container);
	if (req_fd >= 0)
		close(req_fd);
	printf("vfio-hold: released %s\n", bdf);
	return 0;
}
