# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lifeboat.backup maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type


class ModuleDocFragment(object):

    # The encryption option of every module that writes an artifact (files_backup, backup_upload,
    # postgresql_backup): lifeboat.backup.encryption. Spec: module_utils/_encryption/logic.py ENCRYPTION_SPEC.
    DOCUMENTATION = r'''
options:
  encryption:
    description:
      - Client-side encryption with age (the age format v1, authenticated streaming encryption), done by the C(age)
        process in the pipeline after compression, before anything leaves the host. See C(docs/encryption.md).
      - Without recipients (the default) nothing is encrypted.
      - The host only needs public keys, so it can write sets it cannot read back. The record lists the recipients'
        fingerprints and comments, never a key.
    type: dict
    suboptions:
      recipients:
        description:
          - Public keys to encrypt to; any one of the matching identities decrypts. age X25519 recipients
            (C(age1...), optionally followed by a comment) and SSH public keys (C(ssh-ed25519 ...), C(ssh-rsa ...) of
            2048 bits or more, as in a C(.pub) file).
          - A private key given here is refused, and never shown (the option is C(no_log), although recipients are
            public keys).
        type: list
        elements: str
        default: []
      recipients_file:
        description:
          - A file on the host with one recipient per line (C(#) comments and blank lines are skipped; a comment line
            right above an C(age1...) key becomes its comment). Added to O(encryption.recipients).
        type: path
requirements:
  - age (1.0 or later; the Debian and Fedora package C(age)), for O(encryption.recipients)
'''

    # The decryption option of every module that reads artifacts back (files_restore, postgresql_restore,
    # backup_fetch, verify, drill): lifeboat.backup.encryption.decryption. Spec: DECRYPTION_SPEC.
    DECRYPTION = r'''
options:
  decryption:
    description:
      - The age identity that decrypts encrypted artifacts. Needed only for sets made with C(encryption)
        recipients; plain artifacts ignore it.
      - Before anything is read or changed, the identity's public keys are compared with the recipients recorded in
        the set; a wrong identity fails at once, naming the recipients the set was made for.
      - The identity reaches age on a pipe (C(-i /dev/fd/N)); it is never written to disk, never on a command line,
        never in a message.
    type: dict
    suboptions:
      identity:
        description:
          - The identity's content (an age identity file with C(AGE-SECRET-KEY-1...) lines, or an unencrypted
            ssh-ed25519 or ssh-rsa private key), e.g. from an AWX credential or Ansible Vault. Never logged.
          - Mutually exclusive with O(decryption.identity_file).
        type: str
      identity_file:
        description:
          - A file on the host holding the identity (as for O(decryption.identity)). Passphrase-protected keys are
            refused (age would need a terminal to ask for the passphrase).
        type: path
requirements:
  - age and age-keygen (package C(age)); ssh-keygen for SSH identities in PEM or PKCS#8 form
'''
