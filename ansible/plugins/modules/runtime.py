#!/usr/bin/python
# -*- coding: utf-8 -*-
# runtime.py - PCI functions bound to vfio-pci or given back now (pcibind bind, pcibind restore)
# Copyright: pcibind authors
# GNU General Public License v2.0 or later (see https://www.gnu.org/licenses/gpl-2.0.txt)
# SPDX-License-Identifier: GPL-2.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
---
module: runtime
short_description: Bind PCI functions to vfio-pci now, or give them back to their host drivers (pcibind bind, restore)
version_added: 0.1.0
description:
  - Runs C(pcibind bind) (I(state=bound)) or C(pcibind restore) (I(state=restored)) and reads its C(--json)
    report (schema 1), for hosts that move devices outside VM hooks.
  - pcibind binds whole IOMMU groups by C(driver_override), records what each function had, verifies the
    result and rolls back on failure; a refusal (a group sibling left on a host driver, the boot console, a
    mounted filesystem, swap, the default route's NIC, a keyboard's controller) fails the task with pcibind's
    message and changes nothing.
  - Check mode runs C(--dry-run); a second run reports no change.
author:
  - pcibind authors (!UNKNOWN)
options:
  state:
    description:
      - C(bound) runs C(pcibind bind), C(restored) C(pcibind restore).
    type: str
    choices: [bound, restored]
    default: bound
  name:
    description:
      - The name of a set in pcibind's configuration.
    type: str
  driver:
    description:
      - I(state=bound) only; the driver to bind to (C(--driver)), default the set's or C(vfio-pci).
    type: str
extends_documentation_fragment:
  - pcibind.pcibind.common
  - pcibind.pcibind.common.devices
notes:
  - Needs pcibind on the managed host; its JSON schema 1.
  - I(state=restored) without a selector restores everything pcibind moved.
seealso:
  - module: pcibind.pcibind.device_set
  - module: pcibind.pcibind.info
'''

EXAMPLES = r'''
- name: The second GPU and its audio to vfio-pci for a VM started by hand
  pcibind.pcibind.runtime:
    address: ["02:00"]
    state: bound

- name: And back to nvidia and snd_hda_intel
  pcibind.pcibind.runtime:
    address: ["02:00"]
    state: restored
'''

RETURN = r'''
changed:
  description: Whether a function moved (or, in check mode, would).
  returned: always
  type: bool
result:
  description: pcibind's result, C(done), C(nothing-to-do), C(planned) (check mode), C(refused), C(failed) or C(timeout).
  returned: when pcibind printed a report
  type: str
  sample: done
moved:
  description: The functions that moved (or would), each with C(address), C(from) and C(to) driver.
  returned: success
  type: list
  elements: dict
  sample: [{"address": "0000:02:00.0", "from": "nvidia", "to": "vfio-pci"}]
refusals:
  description: pcibind's refusals, each with C(address), C(kind), C(forceable), C(forced) and C(message).
  returned: when pcibind printed a report
  type: list
  elements: dict
rc:
  description: pcibind's exit status (0 done; 1 failed and rolled back, 3 refused, 4 timed out; see pcibind(8)).
  returned: always
  type: int
msg:
  description: pcibind's message on failure.
  returned: failure
  type: str
pcibind:
  description: The whole report C(pcibind bind|restore --json) printed (schema 1).
  returned: when pcibind printed one
  type: dict
'''

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.pcibind.pcibind.plugins.module_utils.pcibind import (
    CHANGE_ARGS, SELECTOR_ARGS, argument_spec, change_args, fail_pcibind, run_json, selectors)


def failure_messages(doc):
    """the report's own words: refusals not overridden, then each failed action's error"""
    if not doc:
        return []
    msgs = [r['message'] for r in doc.get('refusals') or [] if not r.get('forced')]
    for a in doc.get('actions') or []:
        for key in ('error', 'rollback_error'):
            if a.get(key):
                msgs.append('%s: %s' % (a['address'], a[key]))
    return msgs


def main():
    spec = argument_spec(dict(
        state=dict(type='str', choices=['bound', 'restored'], default='bound'),
    ), SELECTOR_ARGS, CHANGE_ARGS)
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True)
    p = module.params
    sels = selectors(module, with_name=True)
    if p['state'] == 'bound' and not sels:
        module.fail_json(msg='state=bound needs one of address, ids, name')
    if p['state'] == 'restored' and p['driver']:
        module.fail_json(msg='driver does not go with state=restored')
    args = ['bind' if p['state'] == 'bound' else 'restore'] + sels + change_args(module)
    rc, doc, err = run_json(module, args + ['--json'], ok_status=(0,))
    if rc != 0:
        fail_pcibind(module, rc, doc, err, failure_messages(doc), changed=False,
                     result=doc.get('result') if doc else None,
                     refusals=doc.get('refusals') if doc else None)
    want = 'planned' if module.check_mode else 'done'
    moved = [dict(address=a['address'], **{'from': a['from']['driver'], 'to': a['to']['driver']})
             for a in doc['actions'] if not a['noop'] and a['status'] == want]
    module.exit_json(changed=bool(moved), rc=rc, result=doc['result'], moved=moved,
                     refusals=doc['refusals'], pcibind=doc)


if __name__ == '__main__':
    main()
