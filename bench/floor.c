/* floor.c - the least any listing tool must do: each function's ids, class, driver link and group link */
/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * usage: floor [--modalias] ROOT
 * Reads ROOT/sys/bus/pci/devices/ * / {vendor,device,class} and the driver
 * and iommu_group link names, and prints one line per function. The
 * benchmark's yardstick: pcibind status is measured as a multiple of it.
 * --modalias: the ids and class from the one modalias attribute instead of
 * three files, as pcibind reads them: the stricter floor.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void read_attr(int dirfd, const char *name, char *buf, size_t size)
{
	int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, size - 1);

	if (fd >= 0)
		close(fd);
	if (n < 0)
		n = 0;
	if (n > 0 && buf[n - 1] == '\n')
		n--;
	buf[n] = '\0';
}

static const char *link_base(int dirfd, const char *name, char *buf, size_t size)
{
	ssize_t n = readlinkat(dirfd, name, buf, size - 1);
	char *slash;

	if (n < 0)
		return "-";
	buf[n] = '\0';
	slash = strrchr(buf, '/');
	return slash ? slash + 1 : buf;
}

int main(int argc, char **argv)
{
	char path[4096], vendor[16], device[16], class[16], alias[80], drv[4096], grp[4096];
	int modalias = argc == 3 && strcmp(argv[1], "--modalias") == 0;
	struct dirent *de;
	DIR *d;

	if (argc != 2 + modalias ||
	    snprintf(path, sizeof(path), "%s/sys/bus/pci/devices", argv[1 + modalias]) >= (int)sizeof(path)) {
		fprintf(stderr, "usage: floor [--modalias] ROOT\n");
		return 2;
	}
	if (!(d = opendir(path))) {
		perror(path);
		return 1;
	}
	while ((de = readdir(d))) {
		int fd;

		if (de->d_name[0] == '.')
			continue;
		fd = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0)
			continue;
		if (modalias) {
			read_attr(fd, "modalias", alias, sizeof(alias));
			printf("%s %s", de->d_name, alias);
		} else {
			read_attr(fd, "vendor", vendor, sizeof(vendor));
			read_attr(fd, "device", device, sizeof(device));
			read_attr(fd, "class", class, sizeof(class));
			printf("%s %s %s %s", de->d_name, vendor, device, class);
		}
		printf(" driver=%s group=%s\n", link_base(fd, "driver", drv, sizeof(drv)),
		       link_base(fd, "iommu_group", grp, sizeof(grp)));
		close(fd);
	}
	closedir(d);
	return 0;
}
