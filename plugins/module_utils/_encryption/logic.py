# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lifeboat.backup maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Client-side encryption with age, the pure part: recipients, fingerprints, identities, argv (no I/O).

Recipients are what a backup encrypts to: age X25519 keys (``age1...``) and SSH public keys
(``ssh-ed25519``, ``ssh-rsa`` of 2048 bits or more), given inline or in a recipients file. A record names them
by **fingerprint** only: ``SHA256:`` and the unpadded base64 of the SHA-256 of

* for an SSH key, its wire-format key blob (the base64 field decoded): exactly what ``ssh-keygen -lf key.pub``
  prints;
* for an age X25519 key, the recipient string ``age1...`` as ASCII
  (``printf %s age1... | openssl dgst -sha256 -binary | base64 | tr -d =``).

Identities are what a restore decrypts with: an age identity file (``AGE-SECRET-KEY-1...`` lines) or an
unencrypted SSH private key. Their text is a secret: nothing here ever puts any of it into a message, and the
adapter (age.py) hands it to age on a pipe, never on disk or in argv. An identity matches a set when the
fingerprint of a public key derived from it is among the record's recipients; that is checked before a
restore touches anything, so a wrong identity fails with the list of the recipients the set was made for.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import base64
import binascii
import hashlib
import re
import struct

from ansible_collections.lifeboat.backup.plugins.module_utils._errors import ConfigError

NAME = 'age'
EXTENSION = '.age'
X25519 = 'X25519'
SSH_ED25519 = 'ssh-ed25519'
SSH_RSA = 'ssh-rsa'
RECIPIENT_TYPES = (X25519, SSH_ED25519, SSH_RSA)
RSA_MIN_BITS = 2048           # age refuses smaller RSA keys
IDENTITY_MAX_BYTES = 64 * 1024  # an identity goes to age through a pipe that holds this much without a reader
COMMENT_MAX = 200

# The module options (shared by every module; doc fragment lifeboat.backup.encryption). Recipients are public
# keys, but a private key pasted there by mistake must not be printed by Ansible either (it is refused): no_log.
RECIPIENTS_SPEC = dict(
    recipients=dict(type='list', elements='str', default=[], no_log=True),
    recipients_file=dict(type='path'),
)
IDENTITY_SPEC = dict(
    identity=dict(type='str', no_log=True),
    identity_file=dict(type='path'),
)
# backup modules: encryption={recipients, recipients_file}; they never take an identity
ENCRYPTION_SPEC = dict(encryption=dict(type='dict', options=RECIPIENTS_SPEC))
# restore, fetch, verify, drill: decryption={identity, identity_file}
DECRYPTION_SPEC = dict(decryption=dict(type='dict', options=IDENTITY_SPEC, mutually_exclusive=[('identity', 'identity_file')]))

_BECH32_CHARSET = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l'
_BECH32_GEN = (0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3)
_AGE_SECRET_HRP = 'age-secret-key-'
_AGE_HRP = 'age'
_SSH_PRIVATE_RE = re.compile(r'-----BEGIN ([A-Z0-9 ]*)PRIVATE KEY-----')
_OPENSSH_MAGIC = b'openssh-key-v1\x00'
_COMMENT_BAD = re.compile(r'[\x00-\x1f\x7f]')


# ---------------------------------------------------------------- bech32 (BIP 173, as age uses it)

def _polymod(values):
    chk = 1
    for value in values:
        top = chk >> 25
        chk = (chk & 0x1ffffff) << 5 ^ value
        for bit in range(5):
            chk ^= _BECH32_GEN[bit] if (top >> bit) & 1 else 0
    return chk


def _hrp_expand(hrp):
    return [ord(char) >> 5 for char in hrp] + [0] + [ord(char) & 31 for char in hrp]


def bech32_decode(text):
    """(hrp, data bytes) of a bech32 string (all lower or all upper case), or None when it is not one.

    No length limit (age lifts BIP 173's 90 characters); the checksum is the original bech32 one.
    """
    if not isinstance(text, str) or not text or text.lower() != text and text.upper() != text:
        return None
    text = text.lower()
    sep = text.rfind('1')
    if sep < 1 or sep + 7 > len(text) or any(ord(char) < 33 or ord(char) > 126 for char in text):
        return None
    hrp, rest = text[:sep], text[sep + 1:]
    if any(char not in _BECH32_CHARSET for char in rest):
        return None
    values = [_BECH32_CHARSET.index(char) for char in rest]
    if _polymod(_hrp_expand(hrp) + values) != 1:
        return None
    acc = 0
    bits = 0
    out = bytearray()
    for value in values[:-6]:
        acc = (acc << 5) | value
        bits += 5
        if bits >= 8:
            bits -= 8
            out.append((acc >> bits) & 0xff)
    if bits >= 5 or acc & ((1 << bits) - 1):
        return None  # more than 4 padding bits, or padding bits that are not zero
    return hrp, bytes(out)


def bech32_encode(hrp, data):
    """The bech32 string of ``data`` under ``hrp`` (lower case). Used by the tests and to print keys back."""
    acc = 0
    bits = 0
    values = []
    for byte in bytearray(data):
        acc = (acc << 8) | byte
        bits += 8
        while bits >= 5:
            bits -= 5
            values.append((acc >> bits) & 31)
    if bits:
        values.append((acc << (5 - bits)) & 31)
    poly = _polymod(_hrp_expand(hrp) + values + [0] * 6) ^ 1
    values += [(poly >> 5 * (5 - index)) & 31 for index in range(6)]
    return hrp + '1' + ''.join(_BECH32_CHARSET[value] for value in values)


# ---------------------------------------------------------------- SSH wire format

def _ssh_strings(blob):
    """The length-prefixed fields of an SSH wire-format blob; raises ValueError when it is not one."""
    fields = []
    pos = 0
    while pos < len(blob):
        if pos + 4 > len(blob):
            raise ValueError('truncated length')
        (length,) = struct.unpack('>I', blob[pos:pos + 4])
        pos += 4
        if pos + length > len(blob):
            raise ValueError('truncated field')
        fields.append(blob[pos:pos + length])
        pos += length
    return fields


def _ssh_read(buf, pos):
    """One length-prefixed field of ``buf`` at ``pos``: (bytes, next pos); ValueError when it overruns."""
    if pos + 4 > len(buf):
        raise ValueError('truncated length')
    (length,) = struct.unpack('>I', buf[pos:pos + 4])
    pos += 4
    if pos + length > len(buf):
        raise ValueError('truncated field')
    return buf[pos:pos + length], pos + length


def ssh_key_problem(blob):
    """(type, None) for a public key blob age can encrypt to, or (type or None, why not)."""
    try:
        fields = _ssh_strings(blob)
    except ValueError:
        return None, 'its base64 part is not an SSH public key'
    if not fields:
        return None, 'its base64 part is empty'
    kind = fields[0].decode('ascii', 'replace')
    if kind == SSH_ED25519:
        if len(fields) != 2 or len(fields[1]) != 32:
            return kind, 'it is not a valid ssh-ed25519 key (32 bytes)'
        return kind, None
    if kind == SSH_RSA:
        if len(fields) != 3:
            return kind, 'it is not a valid ssh-rsa key'
        bits = int(binascii.hexlify(fields[2]) or b'0', 16).bit_length()
        if bits < RSA_MIN_BITS:
            return kind, 'it is a %d-bit RSA key; age needs %d bits or more' % (bits, RSA_MIN_BITS)
        return kind, None
    return kind, 'age encrypts to ssh-ed25519 and ssh-rsa keys only, not %s' % _printable(kind, 40)


def _b64(data):
    return base64.b64encode(data).decode('ascii').rstrip('=')


def fingerprint_ssh(blob):
    """OpenSSH's fingerprint of a public key blob: what ``ssh-keygen -l`` prints (``SHA256:...``)."""
    return 'SHA256:' + _b64(hashlib.sha256(blob).digest())


def fingerprint_x25519(recipient):
    """The fingerprint of an age X25519 recipient: SHA-256 of its ``age1...`` string, as SSH writes them."""
    return 'SHA256:' + _b64(hashlib.sha256(recipient.encode('ascii')).digest())


# ---------------------------------------------------------------- recipients

class Recipient(object):
    """A public key a backup encrypts to. ``value`` is what age gets (``-r value``), without the comment."""

    def __init__(self, kind, value, fingerprint, comment=''):
        self.kind = kind
        self.value = value
        self.fingerprint = fingerprint
        self.comment = comment

    def as_record(self):
        return {'type': self.kind, 'fingerprint': self.fingerprint, 'comment': self.comment}

    def __eq__(self, other):
        return isinstance(other, Recipient) and other.fingerprint == self.fingerprint

    def __ne__(self, other):
        return not self == other

    def __hash__(self):
        return hash(self.fingerprint)

    def __repr__(self):
        return 'Recipient(%s %s)' % (self.kind, self.fingerprint)


def _printable(text, limit):
    text = _COMMENT_BAD.sub(' ', text).strip()
    return text if len(text) <= limit else text[:limit - 3] + '...'


def _secret_looking(text):
    """Why ``text`` (a would-be recipient) is a private key, or None. The text itself is never quoted."""
    upper = text.upper()
    if upper.startswith(('AGE-SECRET-KEY-', 'AGE-PLUGIN-')):
        return ('is an age private key (an identity), not a recipient: give its public key instead '
                '(age-keygen -y prints it). A host that backs up must never hold a key that decrypts')
    if _SSH_PRIVATE_RE.search(upper) or 'PRIVATE KEY' in upper:
        return ('is an SSH private key, not a recipient: give its public key instead (the .pub file, or '
                'ssh-keygen -y -f KEY). A host that backs up must never hold a key that decrypts')
    return None


def parse_recipient(text, where):
    """The Recipient of one line: ``age1... [comment]`` or ``ssh-ed25519|ssh-rsa BASE64 [comment]``.

    ``where`` names the line in messages (``recipients[2]``, ``/etc/lifeboat/recipients line 4``). Raises
    ConfigError; a line that is not a public key is never quoted (it may be a secret given by mistake).
    """
    if not isinstance(text, str):
        raise ConfigError('%s is not a string' % where)
    secret = _secret_looking(text)
    if secret:
        raise ConfigError('%s %s' % (where, secret))
    words = text.split()
    if not words:
        raise ConfigError('%s is empty' % where)
    first = words[0]
    if first.lower().startswith('age1'):
        decoded = bech32_decode(first)
        if decoded is None:
            raise ConfigError('%s is not a valid age recipient: %s has a bad checksum or characters (copy it again '
                              'from age-keygen -y)' % (where, _printable(first, 80)))
        hrp, data = decoded
        if first != first.lower():
            raise ConfigError('%s: age recipients are written in lower case (%s)' % (where, _printable(first, 80)))
        if hrp != _AGE_HRP:
            raise ConfigError('%s: %s is a recipient of an age plugin (%s); lifeboat.backup supports X25519 '
                              '(age1...) and SSH recipients only' % (where, _printable(first, 80), hrp))
        if len(data) != 32:
            raise ConfigError('%s: %s is not an X25519 key (%d bytes, not 32)' % (where, _printable(first, 80), len(data)))
        return Recipient(X25519, first, fingerprint_x25519(first), _printable(' '.join(words[1:]), COMMENT_MAX))
    if first.startswith(('ssh-', 'ecdsa-', 'sk-')):
        if len(words) < 2:
            raise ConfigError('%s: %s without its base64 key' % (where, _printable(first, 40)))
        try:
            blob = base64.b64decode(words[1].encode('ascii'), validate=True)
        except (binascii.Error, ValueError, UnicodeEncodeError):
            raise ConfigError('%s: the key of this %s line is not base64' % (where, _printable(first, 40)))
        kind, why = ssh_key_problem(blob)
        if why is None and kind != first:
            why = 'the line says %s but the key is %s' % (_printable(first, 40), kind)
        if why:
            raise ConfigError('%s cannot be used: %s' % (where, why))
        return Recipient(kind, '%s %s' % (first, words[1]), fingerprint_ssh(blob), _printable(' '.join(words[2:]), COMMENT_MAX))
    raise ConfigError('%s is not an age recipient (age1...) nor an ssh-ed25519 or ssh-rsa public key' % where)


def recipient_lines(text, where):
    """(line text, where) for each recipient line of a recipients file (``#`` comments and blank lines skipped).

    A comment line right above an age key becomes its comment when the key has none on its own line
    (``# ops laptop`` then ``age1...``), as in the files age-keygen writes.
    """
    out = []
    pending = ''
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line:
            pending = ''
            continue
        if line.startswith('#'):
            pending = line.lstrip('#').strip()
            continue
        if pending and line.lower().startswith('age1') and len(line.split()) == 1:
            line = '%s %s' % (line, pending)
        pending = ''
        out.append((line, '%s line %d' % (where, number)))
    return out


def parse_recipients(inline=None, file_text=None, file_name=None):
    """The Recipients of ``inline`` (a list; an entry may hold several lines) and a recipients file's text.

    Duplicates (by fingerprint) are kept once, the first comment wins. Raises ConfigError for any bad entry
    and when nothing is left (an empty recipients file would silently turn encryption off).
    """
    lines = []
    for index, entry in enumerate(inline or []):
        if not isinstance(entry, str):
            raise ConfigError('recipients[%d] is not a string' % index)
        found = recipient_lines(entry, 'recipients[%d]' % index)
        if len(found) == 1:
            found = [(found[0][0], 'recipients[%d]' % index)]
        lines.extend(found)
    if file_text is not None:
        found = recipient_lines(file_text, 'recipients_file %s' % file_name)
        if not found:
            raise ConfigError('recipients_file %s holds no recipient (only comments or blank lines)' % file_name)
        lines.extend(found)
    recipients = []
    for text, where in lines:
        recipient = parse_recipient(text, where)
        if recipient not in recipients:
            recipients.append(recipient)
    if not recipients:
        raise ConfigError('encryption is asked for but no recipient is given: set recipients or recipients_file')
    return recipients


def wanted(options):
    """True when module options ``encryption`` ({recipients, recipients_file}) ask for encryption."""
    return bool(options) and bool(options.get('recipients') or options.get('recipients_file'))


# ---------------------------------------------------------------- identities

AGE_IDENTITY = 'age'
SSH_IDENTITY = 'ssh'


def normalize_identity(text):
    """An identity's text as bytes with LF line ends and one final newline (AWX credentials may carry CRLF)."""
    if isinstance(text, bytes):
        try:
            text = text.decode('utf-8')
        except UnicodeDecodeError:
            raise ConfigError('the identity is not text (an age identity file or an SSH private key in PEM/OpenSSH form)')
    text = text.replace('\r\n', '\n').replace('\r', '\n').strip('\n')
    data = (text + '\n').encode('utf-8')
    if len(data) > IDENTITY_MAX_BYTES:
        raise ConfigError('the identity is %d bytes; an age identity file or SSH private key is far smaller (at most %d '
                          'bytes are accepted)' % (len(data), IDENTITY_MAX_BYTES))
    return data


def _openssh_public(body):
    """(public key blob, cipher name) of an ``openssh-key-v1`` private key (its base64 body decoded)."""
    if not body.startswith(_OPENSSH_MAGIC):
        raise ValueError('not openssh-key-v1')
    pos = len(_OPENSSH_MAGIC)
    cipher, pos = _ssh_read(body, pos)
    _kdf, pos = _ssh_read(body, pos)
    _kdf_options, pos = _ssh_read(body, pos)
    if pos + 4 > len(body):
        raise ValueError('truncated')
    (count,) = struct.unpack('>I', body[pos:pos + 4])
    pos += 4
    if count != 1:
        raise ValueError('%d keys' % count)
    blob, pos = _ssh_read(body, pos)
    return blob, cipher.decode('ascii', 'replace')


def classify_identity(data, where):
    """What an identity (normalized bytes) is: ``(AGE_IDENTITY, key count)``, ``(SSH_IDENTITY, public blob)`` for
    an OpenSSH-format key, or ``(SSH_IDENTITY, None)`` for a PEM/PKCS#8 key (its public key must be derived).

    Raises ConfigError, naming ``where`` (``identity``, ``identity_file /path``) and never quoting the content,
    for what age could not use without asking a passphrase on a terminal or a plugin, or what is no identity.
    """
    text = data.decode('utf-8', 'replace')
    stripped = text.strip()
    if stripped.startswith(('age-encryption.org/', '-----BEGIN AGE ENCRYPTED FILE-----')):
        raise ConfigError('%s is an age file protected by a passphrase; age would ask for it on a terminal, which a '
                          'restore does not have. Give the decrypted identity (age -d FILE) through a protected variable '
                          'or file' % where)
    if '-----BEGIN' in stripped:
        match = _SSH_PRIVATE_RE.search(stripped)
        if not match:
            raise ConfigError('%s is a PEM document but no private key (an age identity file or an unencrypted SSH '
                              'private key is needed)' % where)
        label = match.group(1).strip()
        if label == 'ENCRYPTED' or 'Proc-Type: 4,ENCRYPTED' in stripped:
            raise ConfigError('%s is an SSH private key protected by a passphrase; age would ask for it on a terminal, '
                              'which a restore does not have. Use an unencrypted copy kept only where restores run '
                              '(ssh-keygen -p -N "" -f COPY)' % where)
        if label == 'OPENSSH':
            body = stripped[match.end():].split('-----END', 1)[0]
            try:
                blob, cipher = _openssh_public(base64.b64decode(''.join(body.split()).encode('ascii')))
            except (binascii.Error, ValueError, UnicodeEncodeError):
                raise ConfigError('%s is not a readable OpenSSH private key (damaged, or more than one key)' % where)
            if cipher != 'none':
                raise ConfigError('%s is an SSH private key protected by a passphrase; age would ask for it on a '
                                  'terminal, which a restore does not have. Use an unencrypted copy kept only where '
                                  'restores run (ssh-keygen -p -N "" -f COPY)' % where)
            kind, why = ssh_key_problem(blob)
            if why:
                raise ConfigError('%s cannot decrypt age files: %s' % (where, why))
            return SSH_IDENTITY, blob
        if label in ('RSA', ''):
            return SSH_IDENTITY, None
        raise ConfigError('%s is a %s private key; age decrypts with X25519 identities and ssh-ed25519 or ssh-rsa '
                          'keys only' % (where, _printable(label, 20)))
    keys = 0
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith('#'):
            continue
        if line.upper().startswith('AGE-PLUGIN-'):
            raise ConfigError('%s line %d is an age plugin identity; lifeboat.backup supports X25519 and SSH '
                              'identities only' % (where, number))
        decoded = bech32_decode(line) if line.startswith('AGE-SECRET-KEY-1') else None
        if decoded is None or decoded[0] != _AGE_SECRET_HRP or len(decoded[1]) != 32:
            raise ConfigError('%s line %d is not an age secret key (AGE-SECRET-KEY-1..., as age-keygen writes it); '
                              'an identity is an age identity file or an unencrypted SSH private key' % (where, number))
        keys += 1
    if not keys:
        raise ConfigError('%s holds no key (only comments or blank lines)' % where)
    return AGE_IDENTITY, keys


def public_line_fingerprint(line):
    """(type, fingerprint) of a public key line a tool derived (``age1...`` or ``ssh-... BASE64 ...``)."""
    recipient = parse_recipient(line, 'the public key derived from the identity')
    return recipient.kind, recipient.fingerprint


# ---------------------------------------------------------------- records and matching

def record_recipients(record):
    """The recipients a record says its artifact was encrypted for (a list of dicts, maybe empty)."""
    value = record.get('recipients')
    return [entry for entry in value if isinstance(entry, dict)] if isinstance(value, list) else []


def describe_recipient(entry):
    """``X25519 SHA256:... (comment)`` for a record's recipient entry."""
    text = '%s %s' % (entry.get('type', '?'), entry.get('fingerprint', '?'))
    comment = entry.get('comment')
    return text + (' (%s)' % _printable(comment, COMMENT_MAX) if comment else '')


def describe_recipients(entries):
    return ', '.join(describe_recipient(entry) for entry in entries) or 'no recipient recorded'


def is_encrypted(record):
    return record.get('encryption') not in (None, 'none')


def check_supported(record):
    """Raise ConfigError when a record's encryption is one this version does not know."""
    value = record.get('encryption')
    if value not in (None, 'none', NAME):
        raise ConfigError('artifact %s is encrypted with %r, which this version of lifeboat.backup cannot decrypt'
                          % (record.get('key'), value))


def unmatched(records, fingerprints):
    """The encrypted records none of ``fingerprints`` (of an identity's public keys) is a recipient of.

    A record listing no recipients cannot be checked up front and is left to age (which then says whether the
    identity fits).
    """
    have = set(fingerprints)
    out = []
    for record in records:
        if not is_encrypted(record):
            continue
        listed = record_recipients(record)
        if listed and not have.intersection(entry.get('fingerprint') for entry in listed):
            out.append(record)
    return out


def mismatch_message(records, keys, where):
    """The message of a wrong identity: what it is, and the recipients each set was made for."""
    groups = {}
    for record in records:
        groups.setdefault(describe_recipients(record_recipients(record)), []).append(record.get('key', '?'))
    parts = []
    for recipients, keys_ in sorted(groups.items()):
        named = ', '.join(keys_[:3]) + (' and %d more' % (len(keys_) - 3) if len(keys_) > 3 else '')
        parts.append('%s %s encrypted for %s' % (named, 'is' if len(keys_) == 1 else 'are', recipients))
    made_for = '; '.join(parts)
    return ('the identity from %s (%s) is not a recipient of what this restore reads: %s. Use the identity of one '
            'of those recipients (sets keep the recipients they were made with: after a key rotation, restore old '
            'sets with the old identity); nothing was changed'
            % (where, ', '.join('%s %s' % key for key in keys) or 'no key', made_for))


def missing_identity_message(records):
    first = records[0]
    return ('artifact %s%s is encrypted with age for %s, and no identity was given: set lifeboat_encryption.identity_file '
            'or identity (module option decryption) on the hosts that restore; nothing was changed'
            % (first.get('key', '?'), ' (and %d more)' % (len(records) - 1) if len(records) > 1 else '',
               describe_recipients(record_recipients(first))))


# ---------------------------------------------------------------- argv

def encrypt_argv(age, recipients):
    """age encrypting stdin to stdout for every recipient (binary output; age is told each key by -r)."""
    argv = [age, '--encrypt']
    for recipient in recipients:
        argv += ['-r', recipient.value]
    return argv


def decrypt_argv(age, identity_path):
    """age decrypting stdin to stdout with the identity at ``identity_path`` (``/dev/fd/N``: a pipe)."""
    return [age, '--decrypt', '-i', identity_path]


_SECRETS = re.compile(r'AGE-SECRET-KEY-1[0-9A-Za-z]+|-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----.*?(-----END [A-Z0-9 ]*PRIVATE KEY-----|$)', re.S)


def age_error(stderr):
    """age's own error line (``age: error: ...`` without its advert), cut short and with anything key-like removed."""
    lines = [line.strip() for line in (stderr or '').splitlines() if line.strip() and 'report unexpected' not in line]
    text = lines[-1] if lines else ''
    if text.startswith('age: error: '):
        text = text[len('age: error: '):]
    return _printable(_SECRETS.sub('[key removed]', text), 300)


def decrypt_failure_message(record, rc, stderr):
    """The message of an age stage that failed on an artifact whose SHA-256 matched its record."""
    why = age_error(stderr) or ('age exited with %s' % rc)
    if 'no identity matched' in why:
        cause = ('its header does not open with this identity although the record lists it as a recipient: the '
                 'artifact or its record was changed')
    else:
        cause = ('its SHA-256 matched the record, so the ciphertext was changed or cut together with its record (or the '
                 'record was made for other data); age checks every 64 KiB chunk and the end of the stream')
    return ('artifact %s does not decrypt and authenticate (age: %s): %s. Nothing was restored from it'
            % (record.get('key', '?'), why, cause))
