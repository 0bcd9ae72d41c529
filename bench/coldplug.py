#!/usr/bin/python3
# coldplug.py - make bench's coldplug row: the udev rule's `pcibind apply --udev` for every PCI event of a boot
# SPDX-License-Identifier: GPL-2.0-or-later
#
# usage: bench/coldplug.py PCIBIND EVENTS BENCHDIR OUTDIR SIZE...
#
# At coldplug udev handles one "add" event per PCI function and the rule
# (udev-rules/60-pcibind.rules) runs `pcibind apply --udev ADDR` for each.
# For each SIZE (a tree bench/gen-host made in BENCHDIR/host-SIZE), a copy
# on tmpfs is made to look like the host at that moment: no function has a
# driver yet (every `driver` link removed), and /etc/pcibind/pcibind.conf
# has four boot sets: two GPU slots with an ids guard, two SR-IOV VFs by
# address, and one set selected by ids only. bench/events then runs, one
# after another as udev workers would, once per function in address order:
#   true      /bin/true ADDR                      (starting a process at all)
#   version   pcibind --version ADDR              (starting this binary: its libraries)
#   pcibind   pcibind --root COPY apply --udev ADDR
# on a fresh copy each run (the claims write driver_override and the
# journal). Every run of pcibind is checked: every event exited 0, exactly
# the configured functions carry vfio-pci in driver_override, the others
# "(null)", and the journal records each of them as a boot claim.
# With strace installed, the system calls of one unconfigured and one
# configured event are counted too. Results go to OUTDIR/coldplug.json.

import json
import os
import shutil
import statistics
import subprocess
import sys

REPS = int(os.environ.get("BENCH_COLDPLUG_RUNS", "3"))


def gpu_slots(devs, tree):
    """the GPU slots that are not the boot VGA, in address order"""
    out = []
    for d in devs:
        with open(os.path.join(tree, d, "class")) as f:
            if f.read().strip() != "0x030000":
                continue
        try:
            with open(os.path.join(tree, d, "boot_vga")) as f:
                if f.read().strip() == "1":
                    continue
        except OSError:
            pass
        out.append(d[:-2])
    return out


def vfs(devs, tree):
    return [d for d in devs if os.path.exists(os.path.join(tree, d, "physfn"))]


def prepare(src, dst):
    """a copy of src with no driver bound, configured; returns (addresses, configured addresses)"""
    if os.path.exists(dst):
        shutil.rmtree(dst)
    subprocess.run(["cp", "-a", src, dst], check=True)
    for top, dirs, files in os.walk(os.path.join(dst, "sys", "devices")):
        for name in dirs + files:
            p = os.path.join(top, name)
            if name == "driver" and os.path.islink(p):
                os.unlink(p)
    devdir = os.path.join(dst, "sys", "bus", "pci", "devices")
    devs = sorted(os.listdir(devdir))
    gpus = gpu_slots(devs, devdir)
    vf = vfs(devs, devdir)
    if len(gpus) < 3 or len(vf) < 2:
        raise SystemExit("coldplug: the tree has too few GPUs or VFs")
    conf = ("[gpu_a]\naddress = %s\nids = 10de:2204, 10de:1aef\nboot = yes\n\n"
            "[gpu_b]\naddress = %s\nids = 10de:2204, 10de:1aef\nboot = yes\n\n"
            "[vfs]\naddress = %s, %s\nboot = yes\n\n"
            "[smbus]\nids = 8086:7a23\nboot = yes\n" % (gpus[1], gpus[-1], vf[5], vf[-1]))
    os.makedirs(os.path.join(dst, "etc", "pcibind"), exist_ok=True)
    os.makedirs(os.path.join(dst, "run"), exist_ok=True)
    path = os.path.join(dst, "etc", "pcibind", "pcibind.conf")
    with open(path, "w") as f:
        f.write(conf)
    os.chmod(path, 0o644)
    configured = set()
    for d in devs:
        if d[:-2] in (gpus[1], gpus[-1]) or d in (vf[5], vf[-1]):
            configured.add(d)
        with open(os.path.join(devdir, d, "vendor")) as f, open(os.path.join(devdir, d, "device")) as g:
            if (f.read().strip(), g.read().strip()) == ("0x8086", "0x7a23"):
                configured.add(d)
    with open(dst + ".events", "w") as f:
        f.write("".join(d + "\n" for d in devs))
    return devs, configured


def run_events(events_bin, listfile, argv):
    r = subprocess.run([events_bin, listfile] + argv, check=True, capture_output=True, text=True)
    return json.loads(r.stdout)


def verify(root, devs, configured):
    devdir = os.path.join(root, "sys", "bus", "pci", "devices")
    for d in devs:
        with open(os.path.join(devdir, d, "driver_override")) as f:
            ov = f.read().strip()
        want = "vfio-pci" if d in configured else "(null)"
        if ov != want:
            return "%s: driver_override '%s', expected '%s'" % (d, ov, want)
    try:
        with open(os.path.join(root, "run", "pcibind", "journal")) as f:
            recs = [line for line in f if not line.startswith("#")]
    except OSError as e:
        return "no journal: %s" % e
    claimed = {line.split("\t")[0] for line in recs if line.rstrip("\n").endswith("\tclaimed=boot")}
    if claimed != configured:
        return "the journal's boot claims are %d functions, expected the %d configured" % (len(claimed), len(configured))
    return None


def syscalls(pcibind, root, addr):
    """system calls of one event (strace -f -c), or None"""
    if not shutil.which("strace"):
        return None
    out = root + ".strace"
    subprocess.run(["strace", "-f", "-c", "-o", out, pcibind, "--root", root, "apply", "--udev", addr],
                   check=False, capture_output=True)
    try:
        with open(out) as f:
            for line in f:
                parts = line.split()
                if parts and parts[-1] == "total":
                    return int(parts[3]) if len(parts) >= 5 else int(parts[2])
    except (OSError, ValueError):
        return None
    return None


def main():
    pcibind, events_bin, bench, out = sys.argv[1:5]
    sizes = [int(s) for s in sys.argv[5:]]
    res = {"reps": REPS, "sizes": {}}
    for n in sizes:
        src = os.path.join(bench, "host-%d" % n)
        work = os.path.join(bench, "coldplug-%d" % n)
        r = {"true": [], "version": [], "pcibind": []}
        devs, configured = prepare(src, work)
        for _ in range(REPS):
            r["true"].append(run_events(events_bin, work + ".events", ["/bin/true"]))
            r["version"].append(run_events(events_bin, work + ".events", [pcibind, "--version"]))
            devs, configured = prepare(src, work)
            t = run_events(events_bin, work + ".events", [pcibind, "--root", work, "apply", "--udev"])
            if t["failed"]:
                r["error"] = "%d events exited non-zero (first: %d)" % (t["failed"], t["first_status"])
            else:
                bad = verify(work, devs, configured)
                if bad:
                    r["error"] = bad
            r["pcibind"].append(t)
        unconf = next(d for d in devs if d not in configured)
        conf = sorted(configured)[0]
        prepare(src, work)
        r["syscalls_unconfigured"] = syscalls(pcibind, work, unconf)
        prepare(src, work)
        r["syscalls_configured_first"] = syscalls(pcibind, work, conf)
        r["syscalls_unconfigured_after"] = syscalls(pcibind, work, unconf)
        r["events"] = len(devs)
        r["configured"] = len(configured)
        for k in ("true", "version", "pcibind"):
            r[k + "_wall"] = statistics.median(x["wall"] for x in r[k])
            r[k + "_cpu"] = statistics.median(x["user"] + x["system"] for x in r[k])
        res["sizes"][str(n)] = r
        shutil.rmtree(work, ignore_errors=True)
        for ext in (".events", ".strace"):
            if os.path.exists(work + ext):
                os.unlink(work + ext)
        print("bench: coldplug %d: /bin/true %.2f s, pcibind %.2f s (%s)" % (
            n, r["true_wall"], r["pcibind_wall"], r.get("error", "checked")), file=sys.stderr)
    with open(os.path.join(out, "coldplug.json"), "w") as f:
        json.dump(res, f, indent=1)


if __name__ == "__main__":
    main()
