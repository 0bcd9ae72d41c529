/* sysw.c - one write(2) to a sysfs file, reporting the exact errno, for the test guest */
/* SPDX-License-Identifier: GPL-2.0-or-later */

/*
 * The shell's `echo > file` hides what the kernel answered behind a
 * translated message.  The simulator needs the errno itself, so the guest
 * scenarios write through this: one open, one write of exactly the given
 * bytes (plus "\n" unless -n), and the result on stdout as
 *   ok <bytes>        or        err <NAME> <number>
 * Exit status: 0 on success, 1 on a failed write, 2 on usage or open error
 * (the open error is reported the same way, prefixed "open").
 */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *errno_name(int e)
{
	switch (e) {
	case EPERM: return "EPERM";
	case ENOENT: return "ENOENT";
	case EINTR: return "EINTR";
	case EIO: return "EIO";
	case ENXIO: return "ENXIO";
	case EAGAIN: return "EAGAIN";
	case ENOMEM: return "ENOMEM";
	case EACCES: return "EACCES";
	case EFAULT: return "EFAULT";
	case EBUSY: return "EBUSY";
	case EEXIST: return "EEXIST";
	case ENODEV: return "ENODEV";
	case EINVAL: return "EINVAL";
	case ENOSPC: return "ENOSPC";
	case ERANGE: return "ERANGE";
	case ENODATA: return "ENODATA";
	case EOPNOTSUPP: return "EOPNOTSUPP";
	case ETIMEDOUT: return "ETIMEDOUT";
	case 517: return "EPROBE_DEFER";
	case 524: return "ENOTSUPP";
	default: return "E?";
	}
}

int main(int argc, char **argv)
{
	int newline = 1, i = 1, fd;
	size_t len;
	ssize_t n;
	char *buf;

	if (i < argc && !strcmp(argv[i], "-n")) {
		newline = 0;
		i++;
	}
	if (argc - i != 2) {
		fprintf(stderr, "usage: sysw [-n] FILE DATA\n");
		return 2;
	}
	len = strlen(argv[i + 1]);
	buf = malloc(len + 2);
	if (!buf)
		return 2;
	memcpy(buf, argv[i + 1], len);
	if (newline)
		buf[len++] = '\n';
	fd = open(argv[i], O_WRONLY | O_CLOEXEC);
	if (fd < 0) {
		printf("open err %s %d\n", errno_name(errno), errno);
		return 2;
	}
	n = write(fd, buf, len);
	if (n < 0) {
		printf("err %s %d\n", errno_name(errno), errno);
		return 1;
	}
	if (close(fd) < 0) {
		printf("close err %s %d\n", errno_name(errno), errno);
		return 1;
	}
	printf("ok %zd\n", n);
	return 0;
}
