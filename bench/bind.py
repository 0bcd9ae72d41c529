#!/usr/bin/python3
# bind.py - binding at boot and hook latency, against the FUSE simulator (tests/sim) with slow unbinds
# SPDX-License-Identifier: GPL-2.0-or-later
#
# usage: bench/bind.py PCIBIND PCISIM TOPDIR WORKDIR OUTDIR
#
# tests/sim/eightgpu.topo: 8 GPUs with their audio, one IOMMU group each.
# Every GPU function's unbind is blocked UNBIND_S seconds in the simulator
# (its `block` fault takes whole seconds, so 1 s stands for the issue's
# 0.5 s; the ratios are what count). Measured, each a fresh simulator:
#   baseline   one blocked unbind, written directly to the simulator
#   bind       pcibind bind of the 8 slots (16 functions)
#   apply      pcibind apply with 8 boot=yes sets
#   driverctl  driverctl --nosave set-override of the 16 functions, one after
#              another, in a private mount namespace where /sys is the
#              simulator and modprobe is tests/sim/fake-modprobe (both checked
#              inside the namespace before driverctl runs; else skipped)
#   hook       pcibind hook proxmox 100 pre-start once all 16 are on vfio-pci
# Results go to OUTDIR/bind.json.

import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time

UNBIND_S = 1
REPS = 3
HOOK_REPS = 20
SLOTS = ["0000:%d1:00" % i for i in range(1, 9)]
FNS = [s + ".%d" % f for s in SLOTS for f in (0, 1)]


class Sim:
    def __init__(self, pcisim, topo, root):
        self.root = root
        if os.path.ismount(os.path.join(root, "sys")):
            subprocess.run(["fusermount3", "-u", os.path.join(root, "sys")], check=False)
        shutil.rmtree(root, ignore_errors=True)
        subprocess.run([pcisim, topo, root], check=True)
        self.ctl_path = os.path.join(root, "sys/.pcisim/ctl")
        for _ in range(100):
            if os.path.exists(self.ctl_path):
                break
            time.sleep(0.05)

    def ctl(self, cmd):
        fd = os.open(self.ctl_path, os.O_WRONLY | os.O_CLOEXEC)
        try:
            os.write(fd, (cmd + "\n").encode())
        finally:
            os.close(fd)

    def drivers(self):
        res = {}
        with open(os.path.join(self.root, "sys/.pcisim/state")) as f:
            for line in f:
                w = line.split()
                res[w[0]] = w[1].split("=", 1)[1]
        return res

    def block_gpus(self):
        for s in SLOTS:
            self.ctl("block %s.0 unbind %d" % (s, UNBIND_S))

    def all_on_vfio(self):
        d = self.drivers()
        return all(d.get(a) == "vfio-pci" for a in FNS)

    def stop(self):
        subprocess.run(["fusermount3", "-u", os.path.join(self.root, "sys")], check=False)


def timed(argv, env=None, ok_codes=(0,)):
    """wall seconds, CPU seconds (user+sys) of the child, exit status"""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    p = subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wall = time.monotonic() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if p.returncode not in ok_codes:
        sys.stderr.write("bench: %s exited %d: %s\n" % (" ".join(argv), p.returncode, p.stderr.decode()[-500:]))
    return wall, cpu, p.returncode


def sim_env(root, top):
    env = dict(os.environ)
    env["PCIBIND_MODPROBE"] = os.path.join(top, "tests/sim/fake-modprobe")
    env["PCISIM_ROOT"] = root
    return env


def baseline(pcisim, topo, root):
    sim = Sim(pcisim, topo, root)
    try:
        sim.ctl("block %s.0 unbind %d" % (SLOTS[0], UNBIND_S))
        fd = os.open(os.path.join(root, "sys/bus/pci/drivers/nvidia/unbind"), os.O_WRONLY | os.O_CLOEXEC)
        t0 = time.monotonic()
        os.write(fd, (SLOTS[0] + ".0").encode())
        wall = time.monotonic() - t0
        os.close(fd)
        return wall
    finally:
        sim.stop()


def write_config(root):
    d = os.path.join(root, "etc/pcibind")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "pcibind.conf"), "w") as f:
        for i, s in enumerate(SLOTS):
            f.write("[gpu%d]\naddress = %s\nids = 10de:2204,10de:1aef\nboot = yes\n\n" % (i + 1, s))
    os.chmod(os.path.join(d, "pcibind.conf"), 0o644)


def pcibind_run(pcibind, pcisim, topo, root, top, args, config=False):
    sim = Sim(pcisim, topo, root)
    try:
        if config:
            write_config(root)
        sim.block_gpus()
        # apply exits 5 (EXIT_CHANGED) when it changed something
        ok_codes = (0, 5) if args[0] == "apply" else (0,)
        wall, cpu, rc = timed([pcibind, "--root", root] + args, env=sim_env(root, top), ok_codes=ok_codes)
        ok = rc in ok_codes and sim.all_on_vfio()
        return wall, cpu, ok
    finally:
        sim.stop()


DRIVERCTL_NS = r'''
set -e
mount --bind "$0/sys" /sys
[ -e /sys/.pcisim/state ] || { echo "bench: /sys is not the simulator" >&2; exit 97; }
mount --bind "$1" /sbin/modprobe
cmp -s "$1" /sbin/modprobe || { echo "bench: modprobe is not the fake one" >&2; exit 97; }
export PCISIM_ROOT="$0"
shift
for a in "$@"; do driverctl --nosave set-override "$a" vfio-pci; done
'''


def driverctl_run(pcisim, topo, root, top):
    if not shutil.which("driverctl"):
        return None, "driverctl is not installed"
    sim = Sim(pcisim, topo, root)
    try:
        sim.block_gpus()
        argv = ["unshare", "--mount", "--propagation", "private", "--", "sh", "-c", DRIVERCTL_NS, root,
                os.path.join(top, "tests/sim/fake-modprobe")] + FNS
        wall, _, rc = timed(argv)
        if rc == 97:
            return None, "the namespace could not be made airtight; skipped"
        if rc != 0 or not sim.all_on_vfio():
            return None, "driverctl failed (exit %d)" % rc
        return wall, None
    finally:
        sim.stop()


def hook_series(argv, env=None):
    walls, cpus = [], []
    for _ in range(HOOK_REPS):
        wall, cpu, rc = timed(argv, env=env)
        if rc != 0:
            return None, "%s exited %d" % (" ".join(argv), rc)
        walls.append(wall)
        cpus.append(cpu)
    return {"wall": statistics.median(walls), "cpu": statistics.median(cpus)}, None


def hook_run(pcibind, pcisim, topo, root, top, work):
    """The hook in the simulator, and on a plain copy of its tree (tmpfs: no FUSE round trip per
    syscall, closer to what sysfs costs), with /bin/true as the cost of starting any process."""
    plain = os.path.join(work, "plain")
    shutil.rmtree(plain, ignore_errors=True)
    sim = Sim(pcisim, topo, root)
    try:
        env = sim_env(root, top)
        subprocess.run([pcibind, "--root", root, "bind"] + SLOTS, env=env, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if not sim.all_on_vfio():
            return None, "could not put the GPUs on vfio-pci first"
        conf = os.path.join(root, "etc/pve/qemu-server/100.conf")
        os.makedirs(os.path.dirname(conf), exist_ok=True)
        with open(conf, "w") as f:
            f.write("boot: order=scsi0\ncores: 8\n")
            for i, s in enumerate(SLOTS):
                f.write("hostpci%d: %s,pcie=1\n" % (i, s))
            f.write("machine: q35\nmemory: 16384\nname: bench\n")
        argv = [pcibind, "--root", root, "hook", "proxmox", "100", "pre-start"]
        res, why = hook_series(argv, env)
        if res is None:
            return None, why
        if not sim.all_on_vfio():
            return None, "the hook moved a function"
        # write-only attributes (uevent, bind, ...) cannot be read: cp complains, the copy is complete otherwise
        subprocess.run(["cp", "-a", root, plain], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    finally:
        sim.stop()
    plain_argv = [pcibind, "--root", plain, "hook", "proxmox", "100", "pre-start"]
    if not os.path.exists(os.path.join(plain, "sys/bus/pci/devices/%s.0/driver" % SLOTS[0])):
        return None, "could not copy the simulator's tree"
    res["plain"], why = hook_series(plain_argv)
    if res["plain"] is None:
        return None, "on the plain tree: " + why
    res["true"], _ = hook_series(["/bin/true"])
    res["version"], _ = hook_series([pcibind, "--version"])
    shutil.rmtree(plain, ignore_errors=True)
    return res, None


def main():
    pcibind, pcisim, top, work, out = sys.argv[1:6]
    topo = os.path.join(top, "tests/sim/eightgpu.topo")
    root = os.path.join(work, "m")
    os.makedirs(work, exist_ok=True)
    res = {"unbind_s": UNBIND_S, "reps": REPS, "hook_reps": HOOK_REPS}
    res["baseline"] = statistics.median(baseline(pcisim, topo, root) for _ in range(REPS))
    for name, args, cfg in (("bind", ["bind"] + SLOTS, False), ("apply", ["apply"], True)):
        runs = [pcibind_run(pcibind, pcisim, topo, root, top, args, cfg) for _ in range(REPS)]
        if all(ok for _, _, ok in runs):
            res[name] = {"wall": statistics.median(w for w, _, _ in runs),
                         "cpu": statistics.median(c for _, c, _ in runs)}
        else:
            res[name + "_error"] = "pcibind %s did not put all 16 functions on vfio-pci" % args[0]
    wall, why = driverctl_run(pcisim, topo, root, top)
    if wall is None:
        res["driverctl_error"] = why
    else:
        res["driverctl"] = wall
    hook, why = hook_run(pcibind, pcisim, topo, root, top, work)
    if hook is None:
        res["hook_error"] = why
    else:
        res["hook"] = hook
    with open(os.path.join(out, "bind.json"), "w") as f:
        json.dump(res, f, indent=1)


if __name__ == "__main__":
    main()
