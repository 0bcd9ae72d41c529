# Makefile - build, test, install pcibind
# SPDX-License-Identifier: GPL-2.0-or-later

# the one place of the version: debian/changelog's top entry (`pcibind --version` = the package's)
VERSION    := $(shell sed -n '1s/^pcibind [(]\([^ ]*\)[)] .*/\1/p' debian/changelog 2>/dev/null)
$(if $(VERSION),,$(error no version: debian/changelog must start with "pcibind (VERSION) ..."))
PREFIX     ?= /usr
SBINDIR    ?= $(PREFIX)/sbin
SYSCONFDIR ?= /etc
MANDIR     ?= $(PREFIX)/share/man
HOOKDIR    ?= $(PREFIX)/share/pcibind/hooks
# where Debian's ansible finds collections (its default collections path has /usr/share/ansible/collections)
ANSIBLEDIR ?= $(PREFIX)/share/ansible/collections/ansible_collections/pcibind/pcibind
DESTDIR    ?=

CC         ?= cc
PKG_CONFIG ?= pkg-config
PKGS       := libpci libudev inih expat
PKG_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null)

WARNINGS   := -Wall -Wextra -Wshadow -Wformat=2 -Wstrict-prototypes \
              -Wmissing-prototypes -Wno-unused-parameter
CFLAGS     ?= -O2 -g
ALL_CFLAGS := -std=gnu11 $(WARNINGS) -D_GNU_SOURCE -DPCIBIND_VERSION='"$(VERSION)"' \
              $(PKG_CFLAGS) $(CFLAGS)
LDLIBS     := $(PKG_LIBS) -lpthread

SAN_FLAGS  := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined

# src/ in one folder per layer, lowest first (HACKING.md). A layer is compiled with the include
# paths of its own folder and those below it only: an include of a layer above fails the build.
LAYERS     := basic state pci config plan run boot hook tool
INC_basic  := -Isrc/basic
INC_state  := $(INC_basic) -Isrc/state
INC_pci    := $(INC_state) -Isrc/pci
INC_config := $(INC_pci) -Isrc/config
INC_plan   := $(INC_config) -Isrc/plan
INC_run    := $(INC_plan) -Isrc/run
INC_boot   := $(INC_run) -Isrc/boot
INC_hook   := $(INC_boot) -Isrc/hook
INC_tool   := $(INC_hook) -Isrc/tool
ALL_INC    := $(INC_tool)
HEADERS    := $(wildcard src/*/*.h)

LIB_SRC    := $(filter-out src/tool/%,$(wildcard src/*/*.c))
CMD_SRC    := $(wildcard src/tool/*.c)
UNIT_SRC   := $(wildcard tests/unit/test-*.c)

B          := build
BA         := build/asan

LIB_OBJ    := $(LIB_SRC:src/%.c=$(B)/%.o)
CMD_OBJ    := $(CMD_SRC:src/%.c=$(B)/%.o)
LIB_OBJ_A  := $(LIB_SRC:src/%.c=$(BA)/%.o)
CMD_OBJ_A  := $(CMD_SRC:src/%.c=$(BA)/%.o)
UNIT_BIN   := $(UNIT_SRC:tests/unit/%.c=$(BA)/tests/%)

.PHONY: all check check-fast test-unit test-sim test-vm demo deps install uninstall clean sim format deb ansible-collection install-ansible

all: $(B)/pcibind

define LAYER_RULES
$(B)/$(1)/%.o: src/$(1)/%.c $(HEADERS) | $(B)/$(1)
	$$(CC) $$(ALL_CFLAGS) $$(INC_$(1)) $$(CPPFLAGS) -c -o $$@ $$<
$(BA)/$(1)/%.o: src/$(1)/%.c $(HEADERS) | $(BA)/$(1)
	$$(CC) $$(ALL_CFLAGS) $$(INC_$(1)) $$(SAN_FLAGS) -c -o $$@ $$<
$(BF)/obj/$(1)/%.o: src/$(1)/%.c $(HEADERS) | $(BF)/obj/$(1)
	$$(FUZZ_CC) $$(FUZZ_CFLAGS) $$(INC_$(1)) -fsanitize=fuzzer-no-link -c -o $$@ $$<
$(B)/$(1) $(BA)/$(1) $(BF)/obj/$(1):
	mkdir -p $$@
endef

# main.c prints the version
$(B)/tool/main.o $(BA)/tool/main.o: debian/changelog

# the initrd-*.c methods embed the initramfs scripts (.incbin)
$(patsubst src/%.c,$(B)/%.o,$(wildcard src/boot/initrd-*.c)) $(patsubst src/%.c,$(BA)/%.o,$(wildcard src/boot/initrd-*.c)): $(wildcard initramfs/*/*)

$(B)/pcibind: $(LIB_OBJ) $(CMD_OBJ)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# the test build: sanitizers on
$(BA)/pcibind: $(LIB_OBJ_A) $(CMD_OBJ_A)
	$(CC) $(ALL_CFLAGS) $(SAN_FLAGS) -o $@ $^ $(LDLIBS)

$(BA)/tests/%: tests/unit/%.c $(wildcard tests/unit/*.h) $(LIB_OBJ_A) | $(BA)/tests
	$(CC) $(ALL_CFLAGS) $(ALL_INC) $(SAN_FLAGS) -Itests/unit -o $@ $< $(LIB_OBJ_A) $(LDLIBS)

$(B) $(BA) $(BA)/tests:
	mkdir -p $@

# the simulated kernel (tests/sim)
SIM_CFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -D_GNU_SOURCE $(shell $(PKG_CONFIG) --cflags fuse3 2>/dev/null)
SIM_LIBS   := $(shell $(PKG_CONFIG) --libs fuse3 2>/dev/null) -lpthread
sim: $(B)/pcisim
$(B)/pcisim: $(wildcard tests/sim/*.c tests/sim/*.h) | $(B)
	$(CC) $(SIM_CFLAGS) -o $@ $(filter %.c,$^) $(SIM_LIBS)

# the gen tier's fault shim (tests/gen/atomic-faults.sh): LD_PRELOAD, fails calls below a root
$(B)/faultfs.so: tests/gen/faultfs.c | $(B)
	$(CC) -std=gnu11 -O2 -g -Wall -Wextra -D_GNU_SOURCE -shared -fPIC -o $@ $< -ldl

deps:
	@tests/install-deps.sh

test-unit: $(UNIT_BIN)
	@tests/run-unit.sh $(UNIT_BIN)

test-sim: $(BA)/pcibind $(B)/pcisim
	@tests/sim/run.sh $(BA)/pcibind $(B)/pcisim

test-vm: $(B)/pcibind
	@tests/vm/run.sh $(B)/pcibind

# unit and simulator tiers only, for quick iteration
check-fast: deps
	@$(MAKE) --no-print-directory $(UNIT_BIN) $(BA)/pcibind $(B)/pcibind $(B)/pcisim $(B)/faultfs.so
	@tests/run-all.sh --fast

# every tier; the last line is "N passed, N failed"
check: deps
	@$(MAKE) --no-print-directory $(UNIT_BIN) $(BA)/pcibind $(B)/pcibind $(B)/pcisim $(B)/faultfs.so
	@tests/run-all.sh

demo: deps
	@$(MAKE) --no-print-directory $(B)/pcibind $(B)/pcisim
	@tests/demo.sh $(B)/pcibind $(B)/pcisim

format:
	clang-format -i src/*/*.c src/*/*.h

# ---- install (DESTDIR, PREFIX, SBINDIR, SYSCONFDIR, MANDIR, UDEVDIR, SYSTEMDUNITDIR, BASHCOMPDIR) ----
pkgvar      = $(or $(shell $(PKG_CONFIG) --variable=$(2) $(1) 2>/dev/null),$(3))
UDEVDIR        ?= $(call pkgvar,udev,udevdir,/usr/lib/udev)
SYSTEMDUNITDIR ?= $(call pkgvar,systemd,systemdsystemunitdir,/usr/lib/systemd/system)
BASHCOMPDIR    ?= $(call pkgvar,bash-completion,completionsdir,/usr/share/bash-completion/completions)
TEMPLATES   := $(B)/60-pcibind.rules $(B)/pcibind.service

$(B)/60-pcibind.rules: udev-rules/60-pcibind.rules.in | $(B)
	sed 's|@SBINDIR@|$(SBINDIR)|g' $< >$@
$(B)/pcibind.service: systemd-units/pcibind.service.in | $(B)
	sed 's|@SBINDIR@|$(SBINDIR)|g' $< >$@
# the templates depend on SBINDIR: rebuild them whenever install runs
.PHONY: $(TEMPLATES)

install: $(B)/pcibind $(TEMPLATES)
	install -D -m 0755 $(B)/pcibind $(DESTDIR)$(SBINDIR)/pcibind
	install -D -m 0644 $(B)/60-pcibind.rules $(DESTDIR)$(UDEVDIR)/rules.d/60-pcibind.rules
	install -D -m 0644 $(B)/pcibind.service $(DESTDIR)$(SYSTEMDUNITDIR)/pcibind.service
	install -D -m 0644 conf/pcibind.conf $(DESTDIR)$(SYSCONFDIR)/pcibind/pcibind.conf.example
	test -e $(DESTDIR)$(SYSCONFDIR)/pcibind/pcibind.conf || \
		install -D -m 0644 conf/pcibind.conf $(DESTDIR)$(SYSCONFDIR)/pcibind/pcibind.conf
	install -d -m 0755 $(DESTDIR)$(SYSCONFDIR)/pcibind/conf.d
	install -D -m 0644 man/pcibind.8 $(DESTDIR)$(MANDIR)/man8/pcibind.8
	install -D -m 0644 man/pcibind.conf.5 $(DESTDIR)$(MANDIR)/man5/pcibind.conf.5
	install -D -m 0644 completion/pcibind.bash $(DESTDIR)$(BASHCOMPDIR)/pcibind
	install -D -m 0755 hooks/proxmox-hookscript $(DESTDIR)$(HOOKDIR)/proxmox-hookscript
	install -D -m 0755 hooks/libvirt-qemu $(DESTDIR)$(HOOKDIR)/libvirt-qemu
	$(MAKE) --no-print-directory install-ansible

# the Ansible collection and the JSON schemas its modules read pcibind's output by
install-ansible:
	for f in $(ANSIBLE_FILES); do install -D -m 0644 ansible/$$f $(DESTDIR)$(ANSIBLEDIR)/$$f || exit 1; done
	for f in schemas/*.schema.json; do install -D -m 0644 $$f $(DESTDIR)$(PREFIX)/share/pcibind/$$f || exit 1; done

# pcibind.conf and conf.d are the administrator's: kept
uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/pcibind \
		$(DESTDIR)$(UDEVDIR)/rules.d/60-pcibind.rules \
		$(DESTDIR)$(SYSTEMDUNITDIR)/pcibind.service \
		$(DESTDIR)$(SYSCONFDIR)/pcibind/pcibind.conf.example \
		$(DESTDIR)$(MANDIR)/man8/pcibind.8 \
		$(DESTDIR)$(MANDIR)/man5/pcibind.conf.5 \
		$(DESTDIR)$(BASHCOMPDIR)/pcibind \
		$(DESTDIR)$(HOOKDIR)/proxmox-hookscript \
		$(DESTDIR)$(HOOKDIR)/libvirt-qemu
	rm -rf $(DESTDIR)$(ANSIBLEDIR) $(DESTDIR)$(PREFIX)/share/pcibind/schemas

clean:
	rm -rf $(B)

# ---- the Ansible collection (ansible/): its files, and the tarball for ansible-galaxy collection install ----
ANSIBLE_FILES := $(patsubst ansible/%,%,$(shell find ansible -type f ! -path 'ansible/tests/*' ! -path '*/__pycache__/*' ! -name '*.pyc' ! -name '*.tar.gz' | LC_ALL=C sort))

ansible-collection: | $(B)
	ansible-galaxy collection build ansible --output-path $(B) --force

# ---- Debian package: dpkg-buildpackage -us -uc -b on a clean copy of the tree (its build
# dependencies installed first); the .deb lands in build/deb/ ----
deb:
	@tests/pkg/build-deb.sh $(B)/deb

# ---- fuzzing (tests/fuzz): libFuzzer targets built with clang, ASan and UBSan ----
FUZZ_CC      ?= clang
FUZZ_TIME    ?= 60
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
FUZZ_CFLAGS  := -std=gnu11 -Wall -Wextra -Wno-unused-parameter -D_GNU_SOURCE \
                -DPCIBIND_VERSION='"$(VERSION)"' $(PKG_CFLAGS) -O1 -g $(FUZZ_SAN)
BF           := $(B)/fuzz
FUZZ_LIB_OBJ := $(LIB_SRC:src/%.c=$(BF)/obj/%.o)
FUZZ_NAMES   := $(patsubst tests/fuzz/fuzz-%.c,%,$(wildcard tests/fuzz/fuzz-*.c))
FUZZ_BIN     := $(FUZZ_NAMES:%=$(BF)/fuzz-%)

.PHONY: fuzz fuzz-quick fuzz-build bench

$(BF)/fuzz-%: tests/fuzz/fuzz-%.c $(wildcard tests/fuzz/*.h) $(FUZZ_LIB_OBJ) | $(BF)/obj
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(ALL_INC) -fsanitize=fuzzer -o $@ $< $(FUZZ_LIB_OBJ) $(LDLIBS)

$(BF)/obj:
	mkdir -p $@

fuzz-build: $(FUZZ_BIN)

# each target for FUZZ_TIME seconds (default 60)
fuzz: fuzz-build
	@tests/fuzz/run.sh $(BF) $(FUZZ_TIME) $(FUZZ_NAMES)

# each target for about 10 s, with its regression inputs: "ok - fuzz: ..." lines
fuzz-quick: fuzz-build
	@tests/fuzz/run.sh $(BF) 10 $(FUZZ_NAMES)

# ---- benchmarks (bench/): pcibind against its peers on generated hosts; not part of check ----
bench: $(B)/pcibind $(B)/pcisim
	@bench/run.sh $(B)/pcibind $(B)/pcisim

# the compile rules of each layer (LAYER_RULES), once every directory variable is set
$(foreach l,$(LAYERS),$(eval $(call LAYER_RULES,$(l))))
