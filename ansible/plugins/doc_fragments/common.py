# -*- coding: utf-8 -*-
# common.py - the documentation of the options the modules share (pcibind.pcibind.common, .devices)
# Copyright: pcibind authors
# GNU General Public License v2.0 or later (see https://www.gnu.org/licenses/gpl-2.0.txt)
# SPDX-License-Identifier: GPL-2.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type


class ModuleDocFragment(object):
    # every module: where pcibind works and which pcibind runs (module_utils/pcibind.py COMMON_ARGS)
    DOCUMENTATION = r'''
options:
  root:
    description:
      - Operate on the system below this directory (pcibind's C(--root)), such as an image, a chroot's tree or a test root.
    type: path
  executable:
    description:
      - The pcibind program. Default C(pcibind) in the C(PATH) or C(/usr/sbin).
    type: path
'''

    # the modules that bind or configure functions (device_set, runtime): the functions picked by
    # address or id, and --force; name and driver mean something of each module's own
    DEVICES = r'''
options:
  address:
    description:
      - PCI addresses of functions (C(0000:82:00.0), C(82:00.0)) or slots (C(82:00), every function of it).
    type: list
    elements: str
  ids:
    description:
      - Vendor:device ids (C(10de:2204)) of the functions.
    type: list
    elements: str
  force:
    description:
      - Override the safety refusals pcibind lets C(--force) override (each is named in the message).
    type: bool
    default: false
'''
