#!/usr/bin/python
# -*- coding: utf-8 -*-
# info.py - pcibind's view of the host as facts (pcibind status --json, pcibind check --json)
# Copyright: pcibind authors
# GNU General Public License v2.0 or later (see https://www.gnu.org/licenses/gpl-2.0.txt)
# SPDX-License-Identifier: GPL-2.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
---
module: info
short_description: IOMMU groups, functions, device sets and readiness findings (pcibind status, check)
version_added: 0.1.0
description:
  - Runs C(pcibind status --json) and C(pcibind check --json) (schema 1) and returns both documents, and
    sets them as the fact C(pcibind) (C(pcibind.status), C(pcibind.check)).
  - Changes nothing; check mode runs the same commands.
author:
  - pcibind authors (!UNKNOWN)
options:
  address:
    description:
      - Show only these functions or slots (and their IOMMU groups), as C(pcibind status SEL...).
    type: list
    elements: str
  ids:
    description:
      - Show only the functions with these vendor:device ids.
    type: list
    elements: str
  name:
    description:
      - Show only the functions of this set.
    type: str
  check:
    description:
      - Also run C(pcibind check --json) (with I(vm), C(check --vm VMID)).
    type: bool
    default: true
  vm:
    description:
      - A Proxmox VM id for C(pcibind check --vm).
    type: str
extends_documentation_fragment:
  - pcibind.pcibind.common
notes:
  - Needs pcibind on the managed host; its JSON schema 1 (pcibind's docs/status-json.md has every key).
seealso:
  - module: pcibind.pcibind.device_set
  - module: pcibind.pcibind.runtime
'''

EXAMPLES = r'''
- name: What pcibind sees
  pcibind.pcibind.info:
  register: pci

- name: The sets that are not bound yet
  ansible.builtin.debug:
    msg: "{{ pci.status.sets | rejectattr('verdict', 'equalto', 'bound') | map(attribute='name') | list }}"

- name: Stop when the host is not ready for passthrough
  ansible.builtin.assert:
    that: pci.check.ready
    fail_msg: "{{ pci.check.findings | selectattr('status', 'equalto', 'fail') | map(attribute='message') | list }}"
'''

RETURN = r'''
status:
  description: The document of C(pcibind status --json) (C(iommu), C(groups) with their C(functions), C(sets) with their C(verdict)).
  returned: always
  type: dict
check:
  description: The document of C(pcibind check --json) (C(ready), C(findings) with C(check), C(status), C(message), C(fix)).
  returned: when I(check=true)
  type: dict
ready:
  description: C(check)'s verdict, the host is ready for passthrough.
  returned: when I(check=true)
  type: bool
ansible_facts:
  description: The same documents as the fact C(pcibind).
  returned: always
  type: dict
  contains:
    pcibind:
      description: C(status) and C(check).
      returned: always
      type: dict
'''

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.pcibind.pcibind.plugins.module_utils.pcibind import (
    SELECTOR_ARGS, argument_spec, fail_pcibind, run_json, selectors)


def main():
    spec = argument_spec(dict(
        check=dict(type='bool', default=True),
        vm=dict(type='str'),
    ), SELECTOR_ARGS)
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True)
    p = module.params
    sels = selectors(module, with_name=True)
    rc, status, err = run_json(module, ['status'] + sels + ['--json'])
    if rc != 0:
        fail_pcibind(module, rc, status, err)
    result = dict(changed=False, status=status)
    if p['check']:
        # check exits 1 when the host is not ready: a verdict, not a failure
        rc, check, err = run_json(module, ['check'] + (['--vm', p['vm']] if p['vm'] else []) + ['--json'],
                                  ok_status=(0, 1))
        if rc not in (0, 1) or check is None:
            fail_pcibind(module, rc, check, err)
        result.update(check=check, ready=check['ready'])
    result['ansible_facts'] = dict(pcibind=dict(status=status, check=result.get('check')))
    module.exit_json(**result)


if __name__ == '__main__':
    main()
