# -*- coding: utf-8 -*-
# pcibind.py - runs pcibind with --json and reads its document (schema 1); shared by the modules
# Copyright: pcibind authors
# GNU General Public License v2.0 or later (see https://www.gnu.org/licenses/gpl-2.0.txt)
# SPDX-License-Identifier: GPL-2.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import copy
import json

# the documents' schema number these modules were written for (pcibind docs/json-contract.md)
SCHEMA = 1

# every module's options: where pcibind works (--root) and which pcibind runs (doc fragment common)
COMMON_ARGS = dict(
    root=dict(type='path'),
    executable=dict(type='path'),
)

# the functions a task is about: addresses or slots, vendor:device ids, a set's name
SELECTOR_ARGS = dict(
    address=dict(type='list', elements='str'),
    ids=dict(type='list', elements='str'),
    name=dict(type='str'),
)

# what a task that binds or configures functions adds: the driver and --force (device_set, runtime)
CHANGE_ARGS = dict(
    driver=dict(type='str'),
    force=dict(type='bool', default=False),
)


def argument_spec(own, *shared):
    """a module's argument spec: its own options, the SHARED groups given, and COMMON_ARGS"""
    spec = copy.deepcopy(own)
    for group in shared + (COMMON_ARGS,):
        spec.update(copy.deepcopy(group))
    return spec


def pcibind_command(module, args):
    """the argument vector: pcibind, --root when given, then ARGS"""
    exe = module.params.get('executable') or module.get_bin_path('pcibind', required=True,
                                                                 opt_dirs=['/usr/sbin', '/sbin'])
    cmd = [exe]
    if module.params.get('root'):
        cmd += ['--root', module.params['root']]
    return cmd + list(args)


def stderr_message(err):
    """pcibind's own message: its stderr lines without the 'pcibind: ' prefix, joined"""
    lines = []
    for line in (err or '').splitlines():
        line = line.strip()
        if line.startswith('pcibind: '):
            line = line[len('pcibind: '):]
        if line:
            lines.append(line)
    return '; '.join(lines)


def run_json(module, args, ok_status=(0,)):
    """Run pcibind ARGS (with --json among them). (rc, document or None, stderr).
    A document of another schema, or no document where one is due, fails the task."""
    cmd = pcibind_command(module, args)
    rc, out, err = module.run_command(cmd, environ_update=dict(LC_ALL='C'))
    doc = None
    if out.strip():
        try:
            doc = json.loads(out)
        except ValueError as e:
            module.fail_json(msg='pcibind printed no valid JSON: %s' % e, rc=rc, cmd=cmd, stdout=out, stderr=err)
        if not isinstance(doc, dict) or doc.get('schema') != SCHEMA:
            module.fail_json(msg='pcibind printed a document of schema %r; this collection reads schema %d'
                             % (doc.get('schema') if isinstance(doc, dict) else None, SCHEMA),
                             rc=rc, cmd=cmd, stderr=err)
    elif rc in ok_status:
        module.fail_json(msg='pcibind printed no JSON document', rc=rc, cmd=cmd, stderr=err)
    return rc, doc, err


def fail_pcibind(module, rc, doc, err, messages=None, **extra):
    """fail the task with pcibind's message(s) and exit status"""
    msg = '; '.join(messages) if messages else stderr_message(err)
    if not msg:
        msg = 'pcibind exited with status %d' % rc
    module.fail_json(msg=msg, rc=rc, stderr=err, pcibind=doc, **extra)


def selectors(module, with_name=False):
    """SEL... from the options address and ids (in that order); WITH_NAME: the set's name after them"""
    sels = []
    for key in ('address', 'ids'):
        sels += module.params.get(key) or []
    if with_name and module.params.get('name'):
        sels.append(module.params['name'])
    return sels


def dry_run_args(module):
    """--dry-run in check mode: pcibind then changes nothing and says what it would do"""
    return ['--dry-run'] if module.check_mode else []


def change_args(module):
    """--driver DRIVER when given, --force when the task says so, then --dry-run in check mode"""
    p = module.params
    args = ['--driver', p['driver']] if p.get('driver') else []
    if p.get('force'):
        args.append('--force')
    return args + dry_run_args(module)
