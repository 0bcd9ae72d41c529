#!/usr/bin/python3
# report.py - make bench's tables from the hyperfine JSON and bind.json of one run: medians and ratios
# SPDX-License-Identifier: GPL-2.0-or-later
#
# usage: bench/report.py OUTDIR "SIZES" BIGGEST
import json
import os
import platform
import statistics
import sys


def load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except OSError:
        return None


def medians(path):
    """command -> median seconds"""
    d = load(path)
    return {r["command"]: r["median"] for r in d["results"]} if d else {}


def cpu_means(path):
    """command -> mean user+system seconds"""
    d = load(path)
    return {r["command"]: r["user"] + r["system"] for r in d["results"]} if d else {}


def find(m, needle):
    for cmd, t in m.items():
        if needle(cmd):
            return t
    return None


def fmt_t(t):
    return "%.1f ms" % (t * 1000) if t < 1 else "%.2f s" % t


def machine():
    model = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return "%d CPUs (%s), kernel %s" % (os.cpu_count(), model, platform.release())


def listing(out, big):
    m = medians(os.path.join(out, "list-fast.json"))
    cpu = cpu_means(os.path.join(out, "list-fast.json"))
    slow_notes = {}
    try:
        runs = {}
        with open(os.path.join(out, "list-slow.txt")) as f:
            for line in f:
                name, t = line.rstrip("\n").rsplit(" ", 1)
                runs.setdefault(name, []).append(t)
        for name, ts in runs.items():
            ok = [float(t) for t in ts if t[0].isdigit()]
            cut = [t for t in ts if t.startswith(">")]
            if len(ok) == len(ts):
                m[name] = statistics.median(ok)
            elif cut:
                slow_notes[name] = "cut off after %s s in %d of %d runs" % (cut[0][1:], len(cut), len(ts))
            else:
                slow_notes[name] = "failed in %d of %d runs" % (len(ts) - len(ok), len(ts))
    except OSError:
        pass
    is_floor = lambda c: c.split()[0].endswith("/floor") and c.split()[1] != "--modalias"
    is_mfloor = lambda c: c.split()[0].endswith("/floor") and c.split()[1] == "--modalias"
    floor = find(m, is_floor)
    rows = [
        ("floor (bench/floor.c: ids, class, driver, group)", floor),
        ("floor --modalias (ids and class from one file, as pcibind reads them)", find(m, is_mfloor)),
        ("pcibind status", find(m, lambda c: c.endswith(" status"))),
        ("pcibind status --json", find(m, lambda c: c.endswith("status --json"))),
        ("lspci -k", m.get("lspci -k")),
        ("dpdk-devbind.py --status", m.get("dpdk-devbind.py --status")),
        ("driverctl list-devices", m.get("driverctl list-devices")),
    ]
    print("Listing %s functions (median of hyperfine runs; ratio to the floor)\n" % big)
    cfloor = find(cpu, is_floor)
    cmds = {"pcibind status": lambda c: c.endswith(" status"), "pcibind status --json": lambda c: c.endswith("--json"),
            "lspci -k": lambda c: c == "lspci -k"}
    print("| command | median wall | x floor | CPU (user+sys) | CPU x floor |")
    print("|---|---:|---:|---:|---:|")
    for name, t in rows:
        c = find(cpu, cmds[name]) if name in cmds else (
            cfloor if name.startswith("floor (") else find(cpu, is_mfloor) if name.startswith("floor --") else None)
        cpart = "%s | %.2f" % (fmt_t(c), c / cfloor) if c is not None else " | "
        if t is None:
            why = slow_notes.get(name, "not installed")
            print("| %s | %s | | | |" % (name, why if name in slow_notes else "not measured (%s)" % why))
        else:
            print("| %s | %s | %.2f | %s |" % (name, fmt_t(t), t / floor, cpart))
    mfloor, st, js, ls = rows[1][1], rows[2][1], rows[3][1], rows[4][1]
    rss = {}
    try:
        with open(os.path.join(out, "rss.txt")) as f:
            for line in f:
                args, kib = line.rsplit(" ", 1)
                rss[args] = int(kib)
    except OSError:
        pass
    print()
    print("Targets:")
    print("- pcibind status within 2x of the floor: %.2fx -> %s" % (st / floor, "met" if st <= 2 * floor else "MISSED"))
    if mfloor:
        print("  (against the stricter floor --modalias: %.2fx -> %s)" % (
            st / mfloor, "met" if st <= 2 * mfloor else "MISSED"))
    if ls:
        print("- at least 3x faster than lspci -k: %.2fx -> %s" % (ls / st, "met" if ls >= 3 * st else "MISSED"))
    cst = find(cpu, cmds["pcibind status"])
    cjs = find(cpu, cmds["pcibind status --json"])
    print("- --json no slower than status: wall %.2fx, CPU %.2fx -> %s" % (
        js / st, cjs / cst, "met" if cjs <= cst * 1.05 else "MISSED"))
    print("- CPU (user+sys), less disturbed by other load: status %.2fx the floor, lspci -k %.2fx status" % (
        cst / cfloor, find(cpu, cmds["lspci -k"]) / cst if ls else 0))
    for args, kib in rss.items():
        print("- peak memory of pcibind %s: %.1f MiB -> %s" % (args, kib / 1024, "met" if kib < 8192 else "MISSED"))
    try:
        with open(os.path.join(out, "lspci-count.txt")) as f:
            print("- lspci listed %s functions from the tree" % f.read().strip())
    except OSError:
        pass


def growth(out, sizes):
    print("\nGrowth (median; per function)\n")
    print("| functions | floor wall | status wall | status wall per function | status CPU | status CPU per function"
          " | CPU x floor |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for n in sizes:
        path = os.path.join(out, "growth-%d.json" % n)
        m, c = medians(path), cpu_means(path)
        fl = find(m, lambda x: x.split()[0].endswith("/floor"))
        st = find(m, lambda x: x.endswith(" status"))
        cfl = find(c, lambda x: x.split()[0].endswith("/floor"))
        cst = find(c, lambda x: x.endswith(" status"))
        if fl is None or st is None:
            continue
        print("| %d | %s | %s | %.1f us | %s | %.1f us | %.2f |" % (n, fmt_t(fl), fmt_t(st), st / n * 1e6, fmt_t(cst),
                                                                 cst / n * 1e6, cst / cfl))


def binding(out):
    b = load(os.path.join(out, "bind.json"))
    if not b:
        print("\nBinding: not measured (bench/bind.py failed)")
        return
    base = b["baseline"]
    print("\nBinding 8 GPUs + audio (8 groups, 16 functions) in the simulator, each GPU unbind blocked %d s;"
          " median of %d\n" % (b["unbind_s"], b["reps"]))
    print("| what | wall | x one unbind |")
    print("|---|---:|---:|")
    print("| one blocked unbind (baseline) | %s | 1.00 |" % fmt_t(base))
    for key, name in (("bind", "pcibind bind (8 slots)"), ("apply", "pcibind apply (8 boot=yes sets)")):
        if key in b:
            r = b[key]["wall"] / base
            print("| %s | %s | %.2f (%s) |" % (name, fmt_t(b[key]["wall"]), r, "met" if r <= 1.3 else "MISSED 1.3x"))
        else:
            print("| %s | failed: %s | |" % (name, b.get(key + "_error")))
    if "driverctl" in b:
        print("| driverctl --nosave set-override, 16 functions one after another | %s | %.2f |" % (
            fmt_t(b["driverctl"]), b["driverctl"] / base))
    else:
        print("| driverctl set-override | not measured: %s | |" % b.get("driverctl_error"))
    if "hook" in b:
        h = b["hook"]
        print("\nHook: pcibind hook proxmox 100 pre-start, 8 hostpci slots (16 functions) already on vfio-pci;"
              " median of %d runs each\n" % b.get("hook_reps", 20))
        print("| what | wall | CPU (user+sys) |")
        print("|---|---:|---:|")
        rows = [("/bin/true (starting any process)", h.get("true")),
                ("pcibind --version (start-up and dynamic linking)", h.get("version")),
                ("hook, on a plain copy of the tree (tmpfs)", h.get("plain")),
                ("hook, in the FUSE simulator (every syscall a round trip to pcisim)", h)]
        for name, r in rows:
            if r:
                print("| %s | %s | %s |" % (name, fmt_t(r["wall"]), fmt_t(r["cpu"])))
        if h.get("plain") and h.get("true"):
            own = h["plain"]["cpu"] - h["true"]["cpu"]
            print("\n- pcibind's own CPU time (hook on the plain tree minus /bin/true): %s -> %s (target < 5 ms);"
                  " the whole process: %s" % (fmt_t(own), "met" if own < 0.005 else "MISSED",
                                               fmt_t(h["plain"]["cpu"])))
    else:
        print("\nHook: not measured: %s" % b.get("hook_error"))


def coldplug(out):
    c = load(os.path.join(out, "coldplug.json"))
    if not c:
        print("\nColdplug: not measured (bench/coldplug.py failed or no 1024/4096 tree)")
        return
    print("\nColdplug: `pcibind apply --udev ADDR` (the udev rule) for every function of the host, one after"
          " another, no driver bound yet, 4 boot sets (7 functions); against /bin/true ADDR per event;"
          " median of %d\n" % c["reps"])
    print("| functions | /bin/true, all events | pcibind --version, all | pcibind, all events | x /bin/true"
          " | per event | CPU x /bin/true | syscalls of an unconfigured event: first / later | checked |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for n, r in sorted(c["sizes"].items(), key=lambda kv: int(kv[0])):
        sc = "%s / %s" % (r.get("syscalls_unconfigured") or "-", r.get("syscalls_unconfigured_after") or "-")
        ver = fmt_t(r["version_wall"]) if "version_wall" in r else "-"
        print("| %s | %s | %s | %s | %.2f | %.2f ms | %.2f | %s | %s |" % (
            n, fmt_t(r["true_wall"]), ver, fmt_t(r["pcibind_wall"]), r["pcibind_wall"] / r["true_wall"],
            r["pcibind_wall"] / r["events"] * 1000, r["pcibind_cpu"] / r["true_cpu"], sc,
            r.get("error", "claims and journal as expected")))
    big = c["sizes"].get("4096")
    if big:
        ratio = big["pcibind_wall"] / big["true_wall"]
        print("\n- the 4096 coldplug: %.2fx /bin/true per event -> %s (target: a process start, 2x at most)" % (
            ratio, "met" if ratio <= 2 else "MISSED"))


def main():
    out, sizes, big = sys.argv[1], [int(s) for s in sys.argv[2].split()], sys.argv[3]
    print("\nMachine: %s\n" % machine())
    listing(out, big)
    growth(out, sizes)
    coldplug(out)
    binding(out)


if __name__ == "__main__":
    main()
