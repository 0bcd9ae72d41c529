#!/usr/bin/python
# -*- coding: utf-8 -*-
# device_set.py - a pcibind device set present or absent (pcibind setup, setup --remove)
# Copyright: pcibind authors
# GNU General Public License v2.0 or later (see https://www.gnu.org/licenses/gpl-2.0.txt)
# SPDX-License-Identifier: GPL-2.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
---
module: device_set
short_description: A set of PCI functions handed to vfio-pci, with its boot configuration (pcibind setup)
version_added: 0.1.0
description:
  - Runs C(pcibind setup) (I(state=present)) or C(pcibind setup --remove) (I(state=absent)) on the host
    and reads its C(--json) document (schema 1).
  - I(state=present) writes the set into C(/etc/pcibind/pcibind.conf) (comments and order kept), writes the
    persistent configuration (modprobe.d, modules-load.d, the kernel command line for the bootloader in use,
    the initramfs hooks), runs the refresh commands and enables C(pcibind.service) when the set is claimed at boot.
  - I(state=absent) takes the set out and regenerates; with no set claimed at boot the unit is disabled.
  - pcibind refuses what C(pcibind bind) would refuse (a group sibling, the boot console, a mounted
    filesystem, swap, the default route's NIC, a keyboard's controller); the task then fails with pcibind's
    message. I(force=true) overrides the refusals pcibind lets C(--force) override.
  - Check mode runs C(--dry-run) and changes nothing; diff mode shows the configuration and every generated
    file as unified diffs; a second run with the same options reports no change.
  - The single-GPU keys (C(release_console), C(stop_units)) and the SR-IOV keys (C(sriov_numvfs), C(vfs),
    C(reset_method)) are not options of C(pcibind setup); write them into the set in a drop-in of
    C(/etc/pcibind/conf.d) (for example with M(ansible.builtin.copy)) and name the set here with I(name);
    C(pcibind setup NAME) works on the set as written, keeps its keys, and regenerates from them.
author:
  - pcibind authors (!UNKNOWN)
options:
  state:
    description:
      - C(present) runs C(pcibind setup), C(absent) C(pcibind setup --remove).
    type: str
    choices: [present, absent]
    default: present
  name:
    description:
      - The set's name (its section in the configuration).
      - With I(address) or I(ids), the name the set is given (C(--name)); pcibind picks one from the class
        (C(gpu), C(nic), ...) when it is left out.
      - Alone, it selects the set of that name, as the configuration has it.
    type: str
  driver:
    description:
      - The driver the set binds to (C(--driver)); pcibind's default is the configuration's, else C(vfio-pci).
    type: str
  boot:
    description:
      - Claim the set at boot (C(--boot), C(boot = yes)) or not (C(--no-boot)). Left out, the set keeps
        what it has (a new set is not claimed at boot).
    type: bool
  remove_boot_setup:
    description:
      - With I(state=absent), when no set is left in the configuration, also take pcibind's boot setup out
        (C(pcibind generate --remove)), so that every file pcibind wrote or edited is as it was before.
      - A set that is not in the configuration is not taken out again (C(setup --remove) is not run).
    type: bool
    default: true
extends_documentation_fragment:
  - pcibind.pcibind.common
  - pcibind.pcibind.common.devices
notes:
  - Needs pcibind on the managed host; its JSON schema 1.
  - Supports check mode and diff mode.
seealso:
  - module: pcibind.pcibind.runtime
  - module: pcibind.pcibind.info
'''

EXAMPLES = r'''
- name: The second GPU and its audio to vfio-pci, claimed at boot
  pcibind.pcibind.device_set:
    address: ["0000:02:00"]
    name: gpu
    boot: true
  register: gpu

- name: Reboot when pcibind says the boot configuration needs it
  ansible.builtin.reboot:
  when: gpu.reboot_required

- name: A set by its ids, bound to a variant driver
  pcibind.pcibind.device_set:
    ids: ["15b3:101e"]
    name: vf
    driver: mlx5_vfio_pci

- name: Take the set out again
  pcibind.pcibind.device_set:
    name: gpu
    state: absent
'''

RETURN = r'''
changed:
  description: Whether the configuration, a generated file or the unit's links changed (or, in check mode, would).
  returned: always
  type: bool
set:
  description: The set's name.
  returned: success
  type: str
  sample: gpu
set_action:
  description:
    - What happened to the set in the configuration, C(create), C(change), C(unchanged), C(remove) or C(absent).
    - pcibind's C(action); Ansible keeps C(action) in a task's result for the module's name.
  returned: success
  type: str
  sample: create
functions:
  description: The PCI functions of the set.
  returned: success
  type: list
  elements: str
  sample: ["0000:02:00.0", "0000:02:00.1"]
files:
  description: The generated files changed (or, in check mode, to change), each with C(path), C(action) and C(diff).
  returned: success
  type: list
  elements: dict
commands:
  description: The refresh commands the changes call for (C(update-initramfs -u -k all), C(update-grub), ...).
  returned: success
  type: list
  elements: str
reboot_required:
  description: Whether the host needs a reboot for the boot configuration to take effect.
  returned: success
  type: bool
reboot_reasons:
  description: Why, one sentence each, as pcibind says it.
  returned: success
  type: list
  elements: str
  sample: ["the running kernel lacks intel_iommu=on, which the kernel command line now has"]
boot_setup_removed:
  description: With I(state=absent), the files C(pcibind generate --remove) took out or gave back (or would), each with C(path), C(action) and C(diff).
  returned: when I(state=absent)
  type: list
  elements: dict
rc:
  description: pcibind's exit status (0 on success; 2 usage or configuration, 3 refused, see pcibind(8)).
  returned: always
  type: int
msg:
  description: pcibind's message on failure.
  returned: failure
  type: str
pcibind:
  description: The whole document C(pcibind setup --json) printed (schema 1).
  returned: when pcibind printed one
  type: dict
'''

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.pcibind.pcibind.plugins.module_utils.pcibind import (
    CHANGE_ARGS, SELECTOR_ARGS, argument_spec, change_args, dry_run_args, fail_pcibind, run_json, selectors)


def setup_args(module):
    """pcibind's arguments for the task"""
    p = module.params
    sels = selectors(module)
    if p['state'] == 'absent':
        args = ['setup', '--remove'] + ([p['name']] if p['name'] else sels)
    else:
        args = ['setup'] + (sels or [p['name']])
        if sels and p['name']:
            args += ['--name', p['name']]
        if p['boot'] is not None:
            args.append('--boot' if p['boot'] else '--no-boot')
    # state=absent has no driver (main refuses one)
    return args + change_args(module) + ['--yes', '--json']


def diffs(doc):
    """Ansible's diff: the configuration file, then each generated file"""
    out = []
    if doc.get('config_diff'):
        out.append(dict(before_header=doc['file'], after_header=doc['file'], prepared=doc['config_diff']))
    for f in doc.get('files') or []:
        out.append(dict(before_header=f['path'], after_header=f['path'], prepared=f['diff']))
    return out


def sets_selected(module):
    """the names of the configured sets the task's selectors (or name) pick, and of every set"""
    p = module.params
    rc, doc, err = run_json(module, ['status', '--json'])
    if rc != 0:
        fail_pcibind(module, rc, doc, err, changed=False)
    every = [s['name'] for s in doc['sets']]
    if p['name']:
        return [n for n in every if n == p['name']], every
    rc, doc, err = run_json(module, ['status'] + selectors(module) + ['--json'], ok_status=(0, 2))
    if rc != 0 and doc is None:
        return [], every  # the selectors name no function on this host: no set holds them
    return [s['name'] for s in doc['sets']], every


def remove_boot_setup(module, result):
    """generate --remove when no set is left; its changed files in result"""
    args = ['generate', '--remove'] + dry_run_args(module) + ['--json']
    rc, doc, err = run_json(module, args)
    if rc != 0:
        fail_pcibind(module, rc, doc, err, changed=result['changed'])
    files = [dict(path=f['path'], action=f['action'], diff=f['diff'] or '')
             for f in doc['files'] if f['action'] != 'unchanged']
    result['boot_setup_removed'] = files
    result['commands'] = result.get('commands', []) + [c['command'] for c in doc['commands']]
    if files or doc['changes']:
        result['changed'] = True
    if module._diff:
        result.setdefault('diff', []).extend(
            dict(before_header=f['path'], after_header=f['path'], prepared=f['diff']) for f in files)


def run_absent(module):
    """setup --remove for a set that is there; then, with no set left, generate --remove"""
    picked, every = sets_selected(module)
    result = dict(changed=False, rc=0, set=picked[0] if picked else module.params['name'], set_action='absent',
                  functions=[], files=[], commands=[], reboot_required=False, reboot_reasons=[])
    if picked:
        rc, doc, err = run_json(module, setup_args(module))
        if rc != 0:
            fail_pcibind(module, rc, doc, err, changed=False)
        result.update(summary(module, doc))
    if module.params['remove_boot_setup'] and not [n for n in every if n not in picked]:
        remove_boot_setup(module, result)
    module.exit_json(**result)


def summary(module, doc):
    """the task's result from setup's document"""
    changed = (doc['action'] in ('create', 'change', 'remove') or bool(doc['files'])
               or doc['unit_links_changed'] > 0)
    result = dict(changed=changed, rc=doc['exit_status'], set=doc['set'], set_action=doc['action'],
                  functions=doc['functions'], files=doc['files'], commands=doc['commands'],
                  reboot_required=doc['reboot_needed'], reboot_reasons=doc['reboot_reasons'], pcibind=doc)
    if module._diff:
        result['diff'] = diffs(doc)
    return result


def main():
    spec = argument_spec(dict(
        state=dict(type='str', choices=['present', 'absent'], default='present'),
        boot=dict(type='bool'),
        remove_boot_setup=dict(type='bool', default=True),
    ), SELECTOR_ARGS, CHANGE_ARGS)
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True,
                           required_one_of=[('address', 'ids', 'name')])
    if module.params['state'] == 'absent':
        for key in ('boot', 'driver'):
            if module.params[key] is not None:
                module.fail_json(msg='%s does not go with state=absent' % key)
        run_absent(module)
    rc, doc, err = run_json(module, setup_args(module), ok_status=(0,))
    if rc != 0:
        fail_pcibind(module, rc, doc, err, changed=False)
    module.exit_json(**summary(module, doc))


if __name__ == '__main__':
    main()
