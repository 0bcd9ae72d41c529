# scenarios-sriov.sh - SR-IOV physical and virtual functions as pcibind reads and moves them
# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
# sriov.topo: an I350 whose port 06:00.0 (igb, default route) has VFs 06:10.0 and 06:10.4 on
# igbvf, each VF in its own IOMMU group; port 06:00.1 has no VFs enabled.

# fn_json ADDR EXPR: EXPR evaluated on the function object f of ADDR in $OUT (status --json)
fn_json() {
	python3 -c '
import json, sys
d = json.loads(sys.argv[1])
f = [f for g in d["groups"] for f in g["functions"] if f["address"] == sys.argv[2]][0]
v = eval(sys.argv[3])
sys.exit(0 if str(v) == sys.argv[4] else 1)' "$OUT" "$1" "$2" "$3" 2>/dev/null
}

scenario_sriov() {
	sim_start sriov sriov || return
	OUT=$("$PCIBIND" --root "$ROOT" status --json 2>/dev/null)
	ST=$?
	check "status --json exits 0" exit_is 0
	check "the PF shows its VFs: 2 of 8" fn_json 0000:06:00.0 '(f["sriov"]["numvfs"], f["sriov"]["totalvfs"])' "(2, 8)"
	check "the PF has no physfn" fn_json 0000:06:00.0 'f["physfn"]' None
	check "a VF names its PF" fn_json 0000:06:10.4 'f["physfn"]' 0000:06:00.0
	check "a VF is no PF" fn_json 0000:06:10.0 'f["sriov"]' None
	check "a VF's ids come from its own modalias" fn_json 0000:06:10.0 '(f["vendor"], f["device"], f["driver"])' "('8086', '1520', 'igbvf')"
	check "the port without VFs enabled: 0 of 8" fn_json 0000:06:00.1 '(f["sriov"]["numvfs"], f["sriov"]["totalvfs"], f["sriov"]["vfs"])' "(0, 8, [])"
	check "the PF lists its VFs with their numbers" fn_json 0000:06:00.0 '[(v["address"], v["index"], v["driver"]) for v in f["sriov"]["vfs"]]' "[('0000:06:10.0', 0, 'igbvf'), ('0000:06:10.4', 1, 'igbvf')]"
	check "a VF's number from the PF's offset and stride" fn_json 0000:06:10.4 'f["vf_index"]' 1
	pb bind 06:10.4
	check "a VF binds on its own (exit 0)" exit_is 0
	check "VF 06:10.4 on vfio-pci" is_driver 0000:06:10.4 vfio-pci
	check "its PF keeps igb (it carries the route)" is_driver 0000:06:00.0 igb
	check "the other VF keeps igbvf" is_driver 0000:06:10.0 igbvf
	pb restore
	check "restore puts the VF back on igbvf" is_driver 0000:06:10.4 igbvf
	check "and leaves no journal" no_journal
	sim_stop
}

# ---- sriov-boot.topo: SR-IOV sets, variant drivers and reset methods (issue 15) ----
# X710 ports 3b:00.0 (default route) and 3b:00.1, no VFs yet, iavf not loaded; an NVMe 5e:00.0
# whose driver leaves its VFs enabled when unbound; a ConnectX-5 af:00.0 whose VFs have a
# vfio variant driver (module and driver mlx5_vfio_pci, as upstream; not loaded); an AMD GPU
# d8:00.0 with only a bus reset and its audio d8:00.1 with none; vendor-reset loaded.

PF1=0000:3b:00.1
NVME=0000:5e:00.0
attr() { cat "$ROOT/sys/bus/pci/devices/$1/$2" 2>/dev/null || echo missing; }
present() { [ -e "$ROOT/sys/bus/pci/devices/$1" ]; }
absent() { ! present "$1"; }
attr_is() { [ "$(attr "$1" "$2")" = "$3" ]; }
journal_has() { grep -q "$1" "$ROOT/run/pcibind/journal" 2>/dev/null; }
log_has() { sim_log | grep -q -- "$1"; }
log_lacks() { ! log_has "$1"; }
out_lacks() { ! out_has "$1"; }
# log_before A B: the first line matching A comes before the first matching B
log_before() {
	local a b
	a=$(sim_log | grep -n -m1 -- "$1" | cut -d: -f1)
	b=$(sim_log | grep -n -m1 -- "$2" | cut -d: -f1)
	[ -n "$a" ] && [ -n "$b" ] && [ "$a" -lt "$b" ]
}
# out_json EXPR VALUE: EXPR on the JSON document in $OUT is VALUE
out_json() {
	python3 -c 'import json,sys; d=json.loads(sys.argv[1]); v=eval(sys.argv[2]); sys.exit(0 if str(v)==sys.argv[3] else 1)' "$OUT" "$1" "$2" 2>/dev/null
}

# the kernel this machine "runs" and its modules.alias: a variant for ConnectX-5 VFs (15b3:1018),
# lines for other devices, and one for the X710 VF that needs another subsystem vendor
modules_alias() {
	mkdir -p "$ROOT/proc/sys/kernel" "$ROOT/lib/modules/6.1.0-99-amd64"
	echo 6.1.0-99-amd64 >"$ROOT/proc/sys/kernel/osrelease"
	cat >"$ROOT/lib/modules/6.1.0-99-amd64/modules.alias" <<-'EOF2'
	# Aliases extracted from modules themselves.
	alias pci:v00008086d00001572sv*sd*bc*sc*i* i40e
	alias pci:v000015B3d00001018sv*sd*bc*sc*i* mlx5_core
	alias vfio_pci:v*d*sv*sd*bc*sc*i* vfio_pci
	alias vfio_pci:v000015B3d0000101Esv*sd*bc*sc*i* mlx5_vfio_pci
	alias vfio_pci:v000015B3d00001018sv*sd*bc*sc*i* mlx5_vfio_pci
	alias vfio_pci:v000019E5d0000A251sv*sd*bc*sc*i* hisi_acc_vfio_pci
	alias vfio_pci:v00008086d0000154Csv00001234sd*bc*sc*i* other_vfio_pci
	EOF2
}

# VF creation at boot: a subset bound, the rest left to the host driver, no host driver first
scenario_sriov_boot_vfs() {
	sim_start sriov-boot-vfs sriov-boot || return
	ctl load iavf # udev loads it for the first VF's modalias; loaded, it would take every new VF
	conf <<-'EOF2'
	[vfs]
	address = 0000:3b:00.1
	sriov_numvfs = 4
	vfs = 0,2
	boot = yes
	EOF2
	pb apply -n
	check "apply -n says what it would do (exit 5)" exit_is 5
	check "apply -n names the VF count" out_has "vfs: (dry run) would create 4 VFs on 0000:3b:00.1 and bind 2 of them to vfio-pci"
	check "apply -n creates nothing" attr_is $PF1 sriov_numvfs 0
	pb apply
	check "apply exits 5 (changed)" exit_is 5
	check "apply reports the VFs and their binding" out_has "vfs: 4 VFs created on 0000:3b:00.1; 2 functions bound to vfio-pci"
	check "the PF has 4 VFs" attr_is $PF1 sriov_numvfs 4
	check "VF 0 (3b:0a.0) on vfio-pci" is_driver 0000:3b:0a.0 vfio-pci
	check "VF 2 (3b:0a.2) on vfio-pci" is_driver 0000:3b:0a.2 vfio-pci
	check "VF 1 (3b:0a.1) left to its host driver, iavf" is_driver 0000:3b:0a.1 iavf
	check "VF 3 (3b:0a.3) left to iavf, no override" is_override 0000:3b:0a.3 "(null)"
	check "the PF keeps i40e" is_driver $PF1 i40e
	check "sriov_drivers_autoprobe went off before the VFs were made" log_before "$PF1/sriov_drivers_autoprobe 0 -> ok" "$PF1/sriov_numvfs 4 -> ok"
	check "and back on after the set's VFs were bound" log_before "drivers_probe 0000:3b:0a.2 -> ok" "$PF1/sriov_drivers_autoprobe 1 -> ok"
	check "sriov_drivers_autoprobe is 1 again" attr_is $PF1 sriov_drivers_autoprobe 1
	check "iavf never took the set's VFs (its probes of them failed: autoprobe off)" bash -c "! grep -q 'probe 0000:3b:0a\\.[02] iavf ok' '$ROOT/sys/.pcisim/log'"
	check "the journal holds the PF's original count and autoprobe" journal_has "^$PF1	driver=i40e	.*sriov_numvfs=0	sriov_drivers_autoprobe=1$"
	check "and no record of the VFs it created" test "$(journal_lines)" -eq 1
	pb apply
	check "a second apply has nothing to do (exit 0)" exit_is 0
	check "and makes no VFs" test "$(sim_log | grep -c 'sriov_numvfs 4 -> ok')" -eq 1
	OUT=$("$PCIBIND" --root "$ROOT" status --json 2>/dev/null)
	check "status --json: VFs 0 and 2 in use" out_json '[v["index"] for g in d["groups"] for f in g["functions"] if f["address"]=="'$PF1'" for v in f["sriov"]["vfs"] if v["in_use"]]' "[0, 2]"
	pb status $PF1
	check "status notes the PF's VFs in use" out_has "SR-IOV 4/64 VFs, 2 in use (on vfio drivers)"
	pb restore
	check "restore exits 0" exit_is 0
	check "restore takes the PF back to its recorded count: 0" attr_is $PF1 sriov_numvfs 0
	check "the VFs are gone" absent 0000:3b:0a.0
	check "autoprobe is as it was" attr_is $PF1 sriov_drivers_autoprobe 1
	check "the journal is empty" no_journal
	sim_stop
}

# a VF added at run time (by someone else) is claimed by the udev path before its host driver loads
scenario_sriov_udev_runtime() {
	sim_start sriov-udev-runtime sriov-boot || return
	ctl load vfio-pci
	conf <<-'EOF2'
	[vf1]
	address = 0000:3b:00.1
	sriov_numvfs = 4
	vfs = 1
	boot = yes
	EOF2
	echo 4 >"$ROOT/sys/bus/pci/devices/$PF1/sriov_numvfs"
	check "VFs made by hand appear driverless (iavf not loaded yet)" is_driver 0000:3b:0a.1 none
	pb apply --udev $PF1
	check "the PF's own event claims nothing: it stays with i40e" is_override $PF1 "(null)"
	for vf in 0000:3b:0a.0 0000:3b:0a.1 0000:3b:0a.2 0000:3b:0a.3; do
		pb apply --udev $vf # the rule, for each VF's add event
	done
	check "--udev for the VFs exits 0" exit_is 0
	check "the wanted VF is claimed: override vfio-pci" is_override 0000:3b:0a.1 vfio-pci
	check "and, vfio-pci being loaded, bound at once" is_driver 0000:3b:0a.1 vfio-pci
	check "the others are not claimed" is_override 0000:3b:0a.0 "(null)"
	ctl load iavf # 80-drivers.rules loads the VFs' driver by modalias
	check "iavf takes the VFs the set does not want" is_driver 0000:3b:0a.0 iavf
	check "and not the claimed one" is_driver 0000:3b:0a.1 vfio-pci
	pb apply
	check "apply then has nothing to do for it (exit 0)" exit_is 0
	check "the count is the set's: apply made no VFs" test "$(sim_log | grep -c "$PF1/sriov_numvfs")" -eq 1
	# with the VF driver loaded, the kernel probes a new VF in the write itself, before udev
	echo 0 >"$ROOT/sys/bus/pci/devices/$PF1/sriov_numvfs"
	echo 4 >"$ROOT/sys/bus/pci/devices/$PF1/sriov_numvfs"
	pb apply --udev 0000:3b:0a.1
	check "a VF its host driver already has is left to the unit" is_driver 0000:3b:0a.1 iavf
	pb apply
	check "apply moves it (exit 5)" exit_is 5
	check "VF 1 on vfio-pci" is_driver 0000:3b:0a.1 vfio-pci
	sim_stop
}

# binding a PF with VFs: refused naming them and what holds them; forced, it says what it destroyed
scenario_sriov_pf_refusal() {
	sim_start sriov-pf-refusal sriov-boot || return
	echo 2 >"$ROOT/sys/bus/pci/devices/$NVME/sriov_numvfs"
	pb bind $NVME
	check "bind of a PF with VFs is refused (exit 3)" exit_is 3
	check "naming each VF and its driver" out_has "binding 0000:5e:00.0 destroys its 2 VFs: 0000:5e:00.1 (nvme), 0000:5e:00.2 (nvme); use --force"
	check "nothing changed: the VFs are there" attr_is $NVME sriov_numvfs 2
	pb unbind $NVME
	check "unbind too (exit 3)" exit_is 3
	pb bind 0000:5e:00.1
	check "one VF binds on its own" is_driver 0000:5e:00.1 vfio-pci
	fake_holder 4242 qemu-system-x86 "/dev/vfio/$(basename "$(readlink "$ROOT/sys/bus/pci/devices/0000:5e:00.1/iommu_group")")"
	pb bind -f $NVME
	check "a VF in use by a VM: refused even with --force (exit 3)" exit_is 3
	check "naming the VF and who holds it" out_has "0000:5e:00.1, a VF of 0000:5e:00.0, is in use: qemu-system-x86 (pid 4242) holds /dev/vfio/"
	check "nothing changed" is_driver 0000:5e:00.1 vfio-pci
	rm -rf "$ROOT/proc/4242"
	pb bind -f $NVME
	check "forced, the PF binds (exit 0), its VFs taken to 0 first (nvme would leave them)" exit_is 0
	check "the PF on vfio-pci" is_driver $NVME vfio-pci
	check "and says what it destroyed" out_has "0000:5e:00.0: its 2 VFs were destroyed; 'pcibind restore 0000:5e:00.0' gives it 2 again"
	check "the count went to 0 before the PF's unbind" log_before "$NVME/sriov_numvfs 0 -> ok" "drivers/nvme/unbind $NVME"
	check "the journal keeps the PF's count" journal_has "^$NVME	driver=nvme	.*sriov_numvfs=2	"
	check "and not the destroyed VF's record" bash -c "! grep -q '^0000:5e:00.1' '$ROOT/run/pcibind/journal'"
	pb restore
	check "restore exits 0" exit_is 0
	check "the PF is back on nvme" is_driver $NVME nvme
	check "with its 2 VFs again" attr_is $NVME sriov_numvfs 2
	check "on their host driver" is_driver 0000:5e:00.2 nvme
	check "journal empty" no_journal
	sim_stop
}

# a set asking for another count than the PF has: destroying the VFs there needs --force; restore gives them back
scenario_sriov_count_change() {
	sim_start sriov-count-change sriov-boot || return
	ctl load iavf
	echo 2 >"$ROOT/sys/bus/pci/devices/$PF1/sriov_numvfs"
	conf <<-'EOF2'
	[vfs]
	address = 3b:00.1
	sriov_numvfs = 3
	vfs = 2
	EOF2
	pb bind vfs
	check "refused (exit 3)" exit_is 3
	check "naming the VFs the new count destroys" out_has "[vfs] asks for 3 VFs on 0000:3b:00.1, which has 2: changing the count destroys 0000:3b:0a.0 (iavf), 0000:3b:0a.1 (iavf)"
	pb bind -f vfs
	check "forced, exit 0" exit_is 0
	check "3 VFs now" attr_is $PF1 sriov_numvfs 3
	check "the count went through 0 (the kernel refuses 2 to 3)" log_before "$PF1/sriov_numvfs 0 -> ok" "$PF1/sriov_numvfs 3 -> ok"
	check "VF 2 on vfio-pci" is_driver 0000:3b:0a.2 vfio-pci
	check "VFs 0 and 1 back on iavf" is_driver 0000:3b:0a.1 iavf
	pb restore vfs
	check "restore vfs exits 0" exit_is 0
	check "the recorded count again: 2" attr_is $PF1 sriov_numvfs 2
	check "VF 2 is gone" absent 0000:3b:0a.2
	check "the two VFs on iavf" is_driver 0000:3b:0a.0 iavf
	check "journal empty" no_journal
	sim_stop
}

# driver = auto: a variant from modules.alias with matching and non-matching entries, else vfio-pci
scenario_sriov_auto_variant() {
	sim_start sriov-auto-variant sriov-boot || return
	modules_alias
	conf <<-'EOF2'
	[mlx]
	address = 0000:af:00.0
	sriov_numvfs = 2
	driver = auto

	[nic]
	address = 0000:3b:00.1
	sriov_numvfs = 1
	driver = auto

	[gpu]
	address = d8:00
	driver = auto
	EOF2
	pb bind -n gpu
	check "dry run shows auto's pick for a function without a variant" out_has "driver = auto: vfio-pci (module vfio_pci): modules.alias vfio_pci:v*d*sv*sd*bc*sc*i*, 7 wildcards"
	pb bind mlx nic
	check "bind mlx nic exits 0" exit_is 0
	check "the ConnectX-5 VFs on the variant driver (its module loaded, its driver name read from sys/module)" is_driver 0000:af:00.1 mlx5_vfio_pci
	check "both of them" is_driver 0000:af:00.2 mlx5_vfio_pci
	check "its module was loaded" log_has "load mlx5_vfio_pci"
	check "the X710 VF: the subsystem-bound line does not match, vfio_pci's does" is_driver 0000:3b:0a.0 vfio-pci
	pb status 0000:af:00.1
	check "status shows the pick and why" out_has "driver = auto: mlx5_vfio_pci (modules.alias vfio_pci:v000015B3d00001018sv*sd*bc*sc*i*, 5 wildcards)"
	pb status
	check "status shows the set's driver" out_has "-> auto: mlx5_vfio_pci"
	OUT=$("$PCIBIND" --root "$ROOT" status --json 2>/dev/null)
	check "status --json: the variant, its alias and count" out_json '[(f["variant"]["driver"], f["variant"]["module"], f["variant"]["wildcards"]) for g in d["groups"] for f in g["functions"] if f["address"]=="0000:af:00.2"][0]' "('mlx5_vfio_pci', 'mlx5_vfio_pci', 5)"
	pb restore 0000:af:00.1
	check "one VF back to its host driver" is_driver 0000:af:00.1 mlx5_core
	pb bind -n mlx
	check "dry run names the variant with its alias" out_has "driver = auto: mlx5_vfio_pci (module mlx5_vfio_pci): modules.alias vfio_pci:v000015B3d00001018sv*sd*bc*sc*i*, 5 wildcards, the fewest"
	rm "$ROOT/lib/modules/6.1.0-99-amd64/modules.alias"
	pb bind -n mlx
	check "without modules.alias: vfio-pci, and why" out_has "driver = auto: vfio-pci (cannot read /lib/modules/6.1.0-99-amd64/modules.alias: No such file or directory)"
	pb restore
	check "restore exits 0" exit_is 0
	check "no VFs left" attr_is 0000:af:00.0 sriov_numvfs 0
	sim_stop
}

# the hook with driver = auto loads variant modules for the VM's own functions only: a GPU-only
# VM start loads no mlx5_vfio_pci for the host's ConnectX VFs, and is not stopped by the host
# NVMe's variant line naming a module modprobe cannot load; a VM with a ConnectX VF gets the
# variant and gives the VF back to mlx5_core at post-stop
scenario_sriov_hook_auto() {
	sim_start sriov-hook-auto sriov-boot || return
	modules_alias
	echo 'alias vfio_pci:v0000144Dd0000A824sv*sd*bc*sc*i* nvme_vfio_pci' >>"$ROOT/lib/modules/6.1.0-99-amd64/modules.alias"
	echo 2 >"$ROOT/sys/bus/pci/devices/0000:af:00.0/sriov_numvfs"
	conf <<-'EOF2'
	[pcibind]
	driver = auto

	[gpu]
	address = d8:00

	[vf]
	address = 0000:af:00.1
	EOF2
	mkdir -p "$ROOT/etc/pve/qemu-server"
	echo pve1 >"$ROOT/etc/hostname"
	printf 'hostpci0: 0000:d8:00\nmachine: q35\nname: g\n' >"$ROOT/etc/pve/qemu-server/101.conf"
	printf 'hostpci0: 0000:af:00.1\nname: n\n' >"$ROOT/etc/pve/qemu-server/102.conf"
	pb hook proxmox 101 pre-start
	check "GPU-only VM starts although the host NVMe's variant module cannot be loaded (exit 0)" exit_is 0
	check "the GPU on vfio-pci (no variant: vfio_pci's line)" is_driver 0000:d8:00.0 vfio-pci
	check "its audio too" is_driver 0000:d8:00.1 vfio-pci
	check "mlx5_vfio_pci, for VFs not in the VM, not loaded" log_lacks "load mlx5_vfio_pci"
	check "nvme_vfio_pci, for a drive not in the VM, not tried" log_lacks nvme_vfio_pci
	check "the host's VFs keep mlx5_core" is_driver 0000:af:00.1 mlx5_core
	check "the host's NVMe keeps nvme" is_driver $NVME nvme
	pb hook proxmox 101 post-stop
	check "GPU VM post-stop exits 0" exit_is 0
	check "the GPU back on amdgpu" is_driver 0000:d8:00.0 amdgpu
	pb hook proxmox 102 pre-start
	check "VF VM starts (exit 0)" exit_is 0
	check "its VF on the variant driver" is_driver 0000:af:00.1 mlx5_vfio_pci
	check "the variant's module was loaded for it" log_has "load mlx5_vfio_pci"
	check "the other VF, not in the VM, keeps mlx5_core" is_driver 0000:af:00.2 mlx5_core
	check "nvme_vfio_pci still not tried" log_lacks nvme_vfio_pci
	pb hook proxmox 102 post-stop
	check "VF VM post-stop exits 0" exit_is 0
	check "the VF back on mlx5_core" is_driver 0000:af:00.1 mlx5_core
	check "no journal left" no_journal
	sim_stop
}

# apply (the boot unit) with driver = auto where the pick's module and driver names differ: vfio_pci
# (not loaded) registers vfio-pci. The result is read back against the driver, not the module name;
# an SR-IOV set keeps the VFs it bound
scenario_sriov_apply_auto() {
	sim_start sriov-apply-auto sriov-boot || return
	modules_alias
	conf <<-'EOF2'
	[pcibind]
	driver = auto

	[gpu]
	address = d8:00
	boot = yes

	[nic]
	address = 0000:3b:00.1
	sriov_numvfs = 1
	boot = yes

	[mlx]
	address = 0000:af:00.0
	sriov_numvfs = 2
	boot = yes
	EOF2
	pb -n apply
	check "apply -n: the GPU set would go to the driver auto picks, named" out_has "gpu: (dry run) would bind 2 functions to vfio-pci (driver = auto)"
	check "... an SR-IOV set's VFs to the vfio driver their ids match" \
		out_has "would create 2 VFs on 0000:af:00.0 and bind 2 of them to the vfio driver their ids match (driver = auto)"
	check "... never 'to auto'" out_lacks "to auto"
	pb apply
	check "apply exits 5 (changed)" exit_is 5
	check "gpu: reported bound to vfio-pci, the driver vfio_pci registers" out_has "gpu: 2 functions bound to vfio-pci (driver = auto)"
	check "nic: its VF reported bound to vfio-pci" out_has "nic: 1 VF created on 0000:3b:00.1; 1 function bound to vfio-pci (driver = auto)"
	check "mlx: its VFs reported bound to the variant" out_has "mlx: 2 VFs created on 0000:af:00.0; 2 functions bound to mlx5_vfio_pci (driver = auto)"
	check "no set reported failed" out_lacks failed
	check "the GPU on vfio-pci" is_driver 0000:d8:00.0 vfio-pci
	check "the X710 VF on vfio-pci" is_driver 0000:3b:0a.0 vfio-pci
	check "the X710 PF keeps its VF (count not put back)" attr_is $PF1 sriov_numvfs 1
	check "the ConnectX VFs on mlx5_vfio_pci" is_driver 0000:af:00.2 mlx5_vfio_pci
	check "the ConnectX PF keeps its VFs" attr_is 0000:af:00.0 sriov_numvfs 2
	pb apply
	check "a second apply has nothing to do (exit 0)" exit_is 0
	check "... the GPU set already on vfio-pci, named" out_has "already bound: 2 functions on vfio-pci (driver = auto)"
	pb restore
	check "restore exits 0" exit_is 0
	check "the GPU back on amdgpu" is_driver 0000:d8:00.0 amdgpu
	check "the VF counts back to 0" attr_is $PF1 sriov_numvfs 0
	sim_stop
}

# reset_method of a set: applied by bind, journaled, restored
scenario_sriov_reset_method() {
	sim_start sriov-reset-method sriov-boot || return
	conf <<-'EOF2'
	[disk]
	address = 0000:5e:00.0
	reset_method = bus

	[audio]
	address = 0000:d8:00.1
	reset_method = flr
	EOF2
	# the text leaves reset_method unread (it shows none); --json reads it
	OUT=$("$PCIBIND" --root "$ROOT" status --json 2>/dev/null)
	check "status --json shows the drive's reset methods" fn_json $NVME 'f["reset_method"]' "['flr', 'bus']"
	check "and the audio's absent file as null" fn_json 0000:d8:00.1 'f["reset_method"]' None
	pb bind disk
	check "bind exits 0" exit_is 0
	check "the drive on vfio-pci" is_driver $NVME vfio-pci
	check "its reset_method is the set's" attr_is $NVME reset_method bus
	check "written after the bind" log_before "drivers_probe $NVME -> ok" "$NVME/reset_method bus -> ok"
	check "the journal keeps the original" journal_has "^$NVME	.*reset_method=flr bus	"
	pb bind disk
	check "bind again: nothing to do" out_has "nothing to do"
	pb restore disk
	check "restore exits 0" exit_is 0
	check "the original reset_method is back" attr_is $NVME reset_method "flr bus"
	check "on nvme" is_driver $NVME nvme
	pb bind audio
	check "a function with no reset method: refused (exit 3)" exit_is 3
	check "saying so" out_has "cannot set reset_method 'flr' of [audio] on 0000:d8:00.1: the kernel offers no reset method for it"
	sim_stop
}

# check names functions without a usable reset, the AMD reset bug, and vendor-reset
scenario_sriov_check_reset() {
	sim_start sriov-check-reset sriov-boot || return
	conf <<-'EOF2'
	[amd]
	address = d8:00.0

	[audio]
	address = d8:00.1

	[disk]
	address = 5e:00.0
	EOF2
	pb check
	check "check notices vendor-reset" out_has "info  reset: vendor-reset is loaded"
	check "the AMD GPU with only a bus reset: the reset bug, and the fix" out_has "0000:d8:00.0, an AMD GPU, can only be reset with 'bus'"
	check "the fix names device_specific" out_has "fix: vendor-reset is loaded: set reset_method = device_specific in [amd]"
	check "the audio alone in its set: no usable reset, and what that means" out_has "0000:d8:00.1 has no usable reset method (no reset_method file): the kernel cannot reset it when the VM stops, so the VM may not start cleanly again"
	check "a drive that resets fine" out_has "ok    reset [disk]: every function of [disk] has a usable reset method"
	conf <<-'EOF2'
	[amd]
	address = d8:00
	reset_method = device_specific
	EOF2
	pb check
	check "GPU and audio in one set: the audio resets with the GPU's bus reset" out_has "0000:d8:00.1 has no reset of its own; the bus reset of 0000:d8:00.0 resets it with it"
	check "reset_method = device_specific: no reset-bug warning" bash -c "! grep -q 'AMD reset bug' <<<\"\$0\"" "$OUT"
	sim_stop
}

# faults while VFs are made: each write that fails or hangs leaves the PF as it was, or journaled for restore
scenario_sriov_faults() {
	sim_start sriov-faults sriov-boot || return
	ctl load iavf
	conf <<-'EOF2'
	[vfs]
	address = 0000:3b:00.1
	sriov_numvfs = 4
	vfs = 0,2
	EOF2
	ctl "fail $PF1 sriov_numvfs EIO count=1"
	pb bind vfs
	check "a failing sriov_numvfs write: exit 1" exit_is 1
	check "says which write failed" out_has "cannot create the VFs of [vfs] on 0000:3b:00.1: writing sriov_numvfs '4': Input/output error; put back as it was"
	check "autoprobe is back on" attr_is $PF1 sriov_drivers_autoprobe 1
	check "no VFs" attr_is $PF1 sriov_numvfs 0
	check "no journal left" no_journal
	ctl "failprobe 0000:3b:0a.2 vfio-pci EIO"
	pb bind vfs
	check "the set's VF cannot be bound: exit 1" exit_is 1
	check "the VF count was put back" attr_is $PF1 sriov_numvfs 0
	check "and says so" out_has "0000:3b:00.1: its VF count was put back to 0"
	check "autoprobe back on" attr_is $PF1 sriov_drivers_autoprobe 1
	check "no journal left after the failed bind" no_journal
	ctl clear
	ctl "block $PF1 sriov_numvfs forever count=1"
	"$PCIBIND" --root "$ROOT" bind vfs >/dev/null 2>&1 &
	local pid=$!
	for _ in $(seq 200); do grep -q "^block $PF1 sriov_numvfs" "$ROOT/sys/.pcisim/log" && break; sleep 0.05; done
	kill -9 $pid
	wait $pid 2>/dev/null
	ctl "release *"
	check "killed while making VFs: the journal has the PF" journal_has "^$PF1	.*sriov_numvfs=0	sriov_drivers_autoprobe=1$"
	check "(autoprobe was left off)" attr_is $PF1 sriov_drivers_autoprobe 0
	pb restore
	check "restore after the kill exits 0" exit_is 0
	check "autoprobe on again" attr_is $PF1 sriov_drivers_autoprobe 1
	check "the count back to 0" attr_is $PF1 sriov_numvfs 0
	check "journal empty" no_journal
	sim_stop
}

# driver = auto against the outside oracle: the real depmod writes modules.alias from stub modules,
# the real modprobe (libkmod) resolves each function's vfio_pci: alias; pcibind's pick must be one of
# the modules kmod names, with the fewest wildcards of their lines, and none when kmod names none
scenario_sriov_variant_vs_kmod() {
	local rel=6.1.0-98-amd64 m k bad=0 f alias pick want
	sim_start sriov-variant-vs-kmod sriov-boot || return
	if ! command -v depmod >/dev/null || ! command -v modprobe >/dev/null || ! command -v cc >/dev/null; then
		notok "depmod, modprobe and cc are needed (kmod, gcc)"
		sim_stop
		return
	fi
	m=$ROOT/lib/modules/$rel
	k=$m/kernel/drivers/vfio/pci
	stub_module "$k" vfio-pci 'vfio_pci:v*d*sv*sd*bc*sc*i*' &&
		stub_module "$k" mlx5-vfio-pci 'vfio_pci:v000015B3d0000101Esv*sd*bc*sc*i*' 'vfio_pci:v000015B3d00001018sv*sd*bc*sc*i*' &&
		stub_module "$k" other_vfio_pci 'vfio_pci:v00008086d0000154Csv00001234sd*bc*sc*i*' &&
		stub_module "$k" nic_class_vfio_pci 'vfio_pci:v*d*sv*sd*bc02sc00i00' &&
		stub_module "$k" nvme_vfio_pci 'vfio_pci:v0000144Dd0000A824sv*sd*bc01sc08i02' ||
		{ notok "stub modules built"; sim_stop; return; }
	printf 'kernel/drivers/vfio/pci/%s.ko\n' vfio-pci mlx5-vfio-pci other_vfio_pci nic_class_vfio_pci nvme_vfio_pci >"$m/modules.order"
	: >"$m/modules.builtin"
	depmod -b "$ROOT" "$rel" 2>/dev/null
	check "the real depmod wrote vfio_pci: lines" grep -q '^alias vfio_pci:v000015B3d00001018sv\*sd\*bc\*sc\*i\* mlx5_vfio_pci$' "$m/modules.alias"
	mkdir -p "$ROOT/proc/sys/kernel"
	echo $rel >"$ROOT/proc/sys/kernel/osrelease"
	echo 2 >"$ROOT/sys/bus/pci/devices/0000:af:00.0/sriov_numvfs"
	echo 2 >"$ROOT/sys/bus/pci/devices/$PF1/sriov_numvfs"
	conf <<-'EOF2'
	[pcibind]
	driver = auto

	[all]
	ids = 8086:1572, 8086:154c, 15b3:1017, 15b3:1018, 144d:a824, 1002:67df, 1002:aaf0
	EOF2
	OUT=$("$PCIBIND" --root "$ROOT" status --json 2>/dev/null)
	for f in $(ls "$ROOT/sys/bus/pci/devices"); do
		alias=vfio_pci:$(cut -d: -f2 "$ROOT/sys/bus/pci/devices/$f/modalias")
		pick=$(python3 -c 'import json,sys; d=json.loads(sys.argv[1]); v=[f["variant"] for g in d["groups"] for f in g["functions"] if f["address"]==sys.argv[2]][0]; print(v["module"] or "-" if v else "?")' "$OUT" "$f")
		# kmod's answer: every module whose alias glob matches, and the fewest wildcards among their lines
		want=$(modprobe -d "$ROOT" -S $rel -R "$alias" 2>/dev/null | python3 -c '
import fnmatch, sys
mods = set(sys.stdin.read().split())
best = None
for line in open(sys.argv[1]):
    w = line.split()
    if len(w) == 3 and w[0] == "alias" and w[1].startswith("vfio_pci:") and w[2] in mods and fnmatch.fnmatchcase(sys.argv[2], w[1]):
        if best is None or w[1].count("*") < best[0]:
            best = (w[1].count("*"), w[2])
print(best[1] if best else "-")' "$m/modules.alias" "$alias")
		if [ "$pick" != "$want" ]; then
			notok "$f ($alias): pcibind picks '$pick', kmod's matches give '$want'"
			bad=1
		fi
	done
	[ $bad = 0 ] && ok "every function: pcibind's pick is kmod's match with the fewest wildcards (or none)"
	# libvirt counts wildcards, not how specific a field is: the class line (4) beats the id line (5)
	check "a ConnectX VF: the class line, with fewer wildcards than its id line" out_json '[f["variant"]["module"] for g in d["groups"] for f in g["functions"] if f["address"]=="0000:af:00.1"][0]' nic_class_vfio_pci
	check "the NVMe: its ids-and-class line (2 wildcards)" out_json '[f["variant"]["module"] for g in d["groups"] for f in g["functions"] if f["address"]=="0000:5e:00.0"][0]' nvme_vfio_pci
	check "an X710 VF the class line (the subsystem-bound line does not match it)" out_json '[f["variant"]["module"] for g in d["groups"] for f in g["functions"] if f["address"]=="0000:3b:0a.0"][0]' nic_class_vfio_pci
	check "the AMD GPU vfio_pci's own line" out_json '[f["variant"]["module"] for g in d["groups"] for f in g["functions"] if f["address"]=="0000:d8:00.0"][0]' vfio_pci
	sim_stop
}
