# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lifeboat.backup maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Encryption with age: recipients, fingerprints, identities (pure, _encryption/logic.py) and the adapter
(_encryption/age.py) against the real age, age-keygen and ssh-keygen (Debian packages age, openssh-client).

Keys are made fresh by the real tools in tmp_path; secret texts are checked never to appear in a message.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import base64
import hashlib
import io
import os
import struct
import subprocess

import pytest

from ansible_collections.lifeboat.backup.plugins.module_utils import _pipeline as pipeline
from ansible_collections.lifeboat.backup.plugins.module_utils._encryption import age
from ansible_collections.lifeboat.backup.plugins.module_utils._encryption import logic
from ansible_collections.lifeboat.backup.plugins.module_utils._errors import ConfigError, DeniedError, NotFoundError


# ---------------------------------------------------------------- fixtures: real keys

class Keys(object):
    """age and SSH key pairs made by age-keygen and ssh-keygen in a directory."""

    def __init__(self, root):
        self.root = root

    def path(self, name):
        return str(self.root / name)

    def age(self, name):
        subprocess.run(['age-keygen', '-o', self.path(name)], check=True, stderr=subprocess.DEVNULL)
        public = subprocess.run(['age-keygen', '-y', self.path(name)], check=True, stdout=subprocess.PIPE).stdout
        return public.decode().strip(), self.text(name)

    def ssh(self, name, kind='ed25519', bits=None, passphrase='', pem=None, comment='someone@example'):
        argv = ['ssh-keygen', '-q', '-t', kind, '-N', passphrase, '-C', comment, '-f', self.path(name)]
        if bits:
            argv += ['-b', str(bits)]
        if pem:
            argv += ['-m', pem]
        subprocess.run(argv, check=True)
        return self.text(name + '.pub').strip(), self.text(name)

    def text(self, name):
        with open(self.path(name)) as handle:
            return handle.read()


@pytest.fixture(scope='module')
def keys(tmp_path_factory):
    return Keys(tmp_path_factory.mktemp('keys'))


def ssh_fingerprint(keys, name):
    out = subprocess.run(['ssh-keygen', '-lf', keys.path(name + '.pub')], check=True, stdout=subprocess.PIPE).stdout
    return out.decode().split()[1]


# ---------------------------------------------------------------- bech32

@pytest.mark.parametrize('text', ['A12UEL5L', 'a12uel5l', 'abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw',
                                  'split1checkupstagehandshakeupstreamerranterredcaperred2y9e3w', '?1ezyfcl'])
def test_bech32_valid_vectors(text):
    """BIP 173's valid test vectors (those whose data part is whole bytes, as every age key's is)."""
    assert logic.bech32_decode(text) is not None


@pytest.mark.parametrize('text', ['pzry9x0s0muk', '1pzry9x0s0muk', 'x1b4n0q5v', 'li1dgmt3', 'A1G7SGD8', '10a06t8',
                                  '1qzzfhee', 'a12UEL5L', '', ' 1nwldj5'])
def test_bech32_invalid_vectors(text):
    """BIP 173's invalid vectors (no separator, bad checksum, bad characters, mixed case, empty hrp)."""
    assert logic.bech32_decode(text) is None


def test_bech32_round_trip():
    data = bytes(range(32))
    text = logic.bech32_encode('age', data)
    assert logic.bech32_decode(text) == ('age', data)
    assert logic.bech32_decode(text.upper()) == ('age', data)


# ---------------------------------------------------------------- recipients

def test_age_recipient_and_its_fingerprint(keys):
    public, _secret = keys.age('r1.txt')
    recipient = logic.parse_recipient(public + '  ops laptop 2026', 'recipients[0]')
    assert recipient.kind == logic.X25519
    assert recipient.value == public
    assert recipient.comment == 'ops laptop 2026'
    # the documented computation: printf %s age1... | openssl dgst -sha256 -binary | base64 | tr -d =
    expected = 'SHA256:' + base64.b64encode(hashlib.sha256(public.encode()).digest()).decode().rstrip('=')
    assert recipient.fingerprint == expected
    openssl = subprocess.run('printf %%s %s | openssl dgst -sha256 -binary | base64 | tr -d =' % public, shell=True,
                             check=True, stdout=subprocess.PIPE).stdout.decode().strip()
    assert recipient.fingerprint == 'SHA256:' + openssl
    assert recipient.as_record() == {'type': 'X25519', 'fingerprint': expected, 'comment': 'ops laptop 2026'}


@pytest.mark.parametrize('kind, bits', [('ed25519', None), ('rsa', 2048), ('rsa', 3072)])
def test_ssh_recipient_fingerprint_is_what_ssh_keygen_prints(keys, kind, bits):
    name = 'ssh-%s-%s' % (kind, bits)
    public, _secret = keys.ssh(name, kind, bits)
    recipient = logic.parse_recipient(public, 'recipients[0]')
    assert recipient.kind == 'ssh-' + kind
    assert recipient.fingerprint == ssh_fingerprint(keys, name)
    assert recipient.comment == 'someone@example'
    assert recipient.value == ' '.join(public.split()[:2])   # age gets the key without the comment


def test_small_rsa_and_other_ssh_types_are_refused(keys):
    small, _secret = keys.ssh('rsa1024', 'rsa', 1024)
    with pytest.raises(ConfigError, match='1024-bit RSA key; age needs 2048'):
        logic.parse_recipient(small, 'recipients[1]')
    ecdsa, _secret = keys.ssh('ecdsa', 'ecdsa')
    with pytest.raises(ConfigError, match='ssh-ed25519 and ssh-rsa keys only, not ecdsa-sha2-nistp256'):
        logic.parse_recipient(ecdsa, 'recipients[2]')


def test_ssh_line_whose_type_disagrees_with_its_key(keys):
    public, _secret = keys.ssh('ed-mismatch')
    with pytest.raises(ConfigError, match='the line says ssh-rsa but the key is ssh-ed25519'):
        logic.parse_recipient('ssh-rsa ' + public.split()[1], 'recipients[0]')
    with pytest.raises(ConfigError, match='is not base64'):
        logic.parse_recipient('ssh-ed25519 not*base64', 'recipients[0]')
    with pytest.raises(ConfigError, match='without its base64 key'):
        logic.parse_recipient('ssh-ed25519', 'recipients[0]')


def test_private_keys_given_as_recipients_are_refused_without_being_quoted(keys):
    _public, secret = keys.age('as-recipient.txt')
    line = [entry for entry in secret.splitlines() if entry.startswith('AGE-SECRET-KEY-')][0]
    with pytest.raises(ConfigError) as err:
        logic.parse_recipients([line])
    assert 'is an age private key (an identity), not a recipient' in err.value.msg
    assert line not in err.value.msg and line[16:40] not in err.value.msg
    _public, ssh_secret = keys.ssh('ssh-as-recipient')
    with pytest.raises(ConfigError) as err:
        logic.parse_recipients([], ssh_secret, '/etc/lifeboat/recipients')
    assert 'is an SSH private key, not a recipient' in err.value.msg
    assert ssh_secret.splitlines()[1] not in err.value.msg


def test_age_recipient_mistakes(keys):
    public, _secret = keys.age('mistakes.txt')
    broken = public[:10] + ('q' if public[10] != 'q' else 'p') + public[11:]
    with pytest.raises(ConfigError, match='bad checksum'):
        logic.parse_recipient(broken, 'recipients[0]')
    with pytest.raises(ConfigError, match='lower case'):
        logic.parse_recipient(public.upper(), 'recipients[0]')
    plugin = logic.bech32_encode('age1yubikey', bytes(33))
    with pytest.raises(ConfigError, match='age plugin'):
        logic.parse_recipient(plugin, 'recipients[0]')
    short = logic.bech32_encode('age', bytes(16))
    with pytest.raises(ConfigError, match='16 bytes, not 32'):
        logic.parse_recipient(short, 'recipients[0]')


def test_unknown_text_is_not_quoted():
    with pytest.raises(ConfigError) as err:
        logic.parse_recipients(['hunter2-my-database-password'])
    assert 'recipients[0] is not an age recipient' in err.value.msg
    assert 'hunter2' not in err.value.msg


def test_recipients_file_comments_labels_duplicates(keys):
    first, _secret = keys.age('file1.txt')
    second, _secret = keys.age('file2.txt')
    ssh_public, _secret = keys.ssh('file-ssh')
    text = '# lifeboat recipients\n\n# ops 2026\n%s\n%s  second key\n\n%s\n# trailing comment\n' % (first, second, ssh_public)
    recipients = logic.parse_recipients([first + ' inline wins'], text, '/etc/lifeboat/recipients')
    assert [(r.kind, r.comment) for r in recipients] == [('X25519', 'inline wins'), ('X25519', 'second key'),
                                                         ('ssh-ed25519', 'someone@example')]
    only_file = logic.parse_recipients([], text, '/f')
    assert only_file[0].comment == 'ops 2026'


def test_recipients_errors_name_where(keys):
    public, _secret = keys.age('where.txt')
    with pytest.raises(ConfigError, match=r'recipients_file /f line 3 is not an age recipient'):
        logic.parse_recipients([], '# x\n%s\nnonsense\n' % public, '/f')
    with pytest.raises(ConfigError, match=r'recipients\[1\] line 2 is not an age recipient'):
        logic.parse_recipients([public, '%s\nnonsense' % public])
    with pytest.raises(ConfigError, match='holds no recipient'):
        logic.parse_recipients([public], '# only a comment\n\n', '/f')
    with pytest.raises(ConfigError, match='no recipient is given'):
        logic.parse_recipients([])
    with pytest.raises(ConfigError, match='is not a string'):
        logic.parse_recipients([42])


def test_wanted():
    assert not logic.wanted(None)
    assert not logic.wanted({'recipients': [], 'recipients_file': None})
    assert logic.wanted({'recipients': ['age1x'], 'recipients_file': None})
    assert logic.wanted({'recipients': [], 'recipients_file': '/f'})


# ---------------------------------------------------------------- identities (pure)

def test_normalize_identity():
    assert logic.normalize_identity('AGE-SECRET-KEY-1X\r\n\r\n') == b'AGE-SECRET-KEY-1X\n'
    assert logic.normalize_identity(b'a\rb') == b'a\nb\n'
    with pytest.raises(ConfigError, match='not text'):
        logic.normalize_identity(b'\xff\xfe')
    with pytest.raises(ConfigError, match='at most 65536 bytes'):
        logic.normalize_identity('x' * 70000)


def test_classify_age_identity(keys):
    _public, secret = keys.age('classify.txt')
    _public2, secret2 = keys.age('classify2.txt')
    data = logic.normalize_identity(secret + secret2)
    assert logic.classify_identity(data, 'identity') == (logic.AGE_IDENTITY, 2)


def test_classify_ssh_identities(keys):
    public, secret = keys.ssh('classify-ed')
    kind, blob = logic.classify_identity(logic.normalize_identity(secret), 'identity')
    assert kind == logic.SSH_IDENTITY
    assert blob == base64.b64decode(public.split()[1])
    _public, pem = keys.ssh('classify-pem', 'rsa', 2048, pem='PEM')
    assert logic.classify_identity(logic.normalize_identity(pem), 'identity') == (logic.SSH_IDENTITY, None)
    _public, pkcs8 = keys.ssh('classify-pkcs8', 'rsa', 2048, pem='PKCS8')
    assert logic.classify_identity(logic.normalize_identity(pkcs8), 'identity') == (logic.SSH_IDENTITY, None)


@pytest.mark.parametrize('pem', [None, 'PEM', 'PKCS8'])
def test_passphrase_protected_ssh_identities_are_refused(keys, pem):
    _public, secret = keys.ssh('pass-%s' % pem, 'rsa' if pem else 'ed25519', 2048 if pem else None, passphrase='s3cret', pem=pem)
    with pytest.raises(ConfigError, match='protected by a passphrase'):
        logic.classify_identity(logic.normalize_identity(secret), 'identity_file /k')


def test_identities_age_cannot_use(keys):
    _public, ecdsa = keys.ssh('id-ecdsa', 'ecdsa')
    with pytest.raises(ConfigError, match='cannot decrypt age files'):
        logic.classify_identity(logic.normalize_identity(ecdsa), 'identity')
    with pytest.raises(ConfigError, match='age file protected by a passphrase'):
        logic.classify_identity(b'age-encryption.org/v1\n-> scrypt abc 18\n', 'identity')
    with pytest.raises(ConfigError, match='line 2 is an age plugin identity'):
        logic.classify_identity(b'# x\nAGE-PLUGIN-YUBIKEY-1QQQQ\n', 'identity')
    with pytest.raises(ConfigError, match='holds no key'):
        logic.classify_identity(b'# created: today\n\n', 'identity')
    with pytest.raises(ConfigError, match='a PEM document but no private key'):
        logic.classify_identity(b'-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n', 'identity')


def test_garbage_identity_is_not_quoted(keys):
    _public, secret = keys.age('garbage.txt')
    line = [entry for entry in secret.splitlines() if entry.startswith('AGE-SECRET-KEY-')][0]
    broken = line[:-1] + ('Q' if line[-1] != 'Q' else 'P')
    with pytest.raises(ConfigError) as err:
        logic.classify_identity(logic.normalize_identity(secret.replace(line, broken)), 'identity')
    assert 'is not an age secret key' in err.value.msg
    assert broken[16:] not in err.value.msg and line[16:] not in err.value.msg


def test_openssh_key_with_two_keys_is_refused():
    body = logic._OPENSSH_MAGIC
    for field in (b'none', b'none', b''):
        body += struct.pack('>I', len(field)) + field
    body += struct.pack('>I', 2)
    pem = '-----BEGIN OPENSSH PRIVATE KEY-----\n%s\n-----END OPENSSH PRIVATE KEY-----\n' % base64.b64encode(body).decode()
    with pytest.raises(ConfigError, match='not a readable OpenSSH private key'):
        logic.classify_identity(pem.encode(), 'identity')


# ---------------------------------------------------------------- records and matching

REC_A = {'key': 's/h/files/a.tar.zst.age', 'encryption': 'age',
         'recipients': [{'type': 'X25519', 'fingerprint': 'SHA256:aaa', 'comment': 'ops 2026'},
                        {'type': 'ssh-ed25519', 'fingerprint': 'SHA256:bbb', 'comment': 'alice@laptop'}]}
REC_OLD = {'key': 's/h/postgresql/db.pgdump.zst.age', 'encryption': 'age',
           'recipients': [{'type': 'X25519', 'fingerprint': 'SHA256:old', 'comment': 'ops 2025'}]}
REC_PLAIN = {'key': 's/h/files/b.tar.zst', 'encryption': 'none'}


def test_unmatched():
    assert logic.unmatched([REC_A, REC_OLD, REC_PLAIN], ['SHA256:bbb']) == [REC_OLD]
    assert logic.unmatched([REC_A, REC_OLD], ['SHA256:old', 'SHA256:aaa']) == []
    assert logic.unmatched([dict(REC_A, recipients=[])], ['SHA256:zzz']) == []   # nothing recorded: age decides
    assert logic.unmatched([REC_PLAIN], []) == []


def test_mismatch_message_names_the_recipients():
    msg = logic.mismatch_message([REC_A, REC_OLD], [('X25519', 'SHA256:zzz')], 'identity_file /k')
    assert 'the identity from identity_file /k (X25519 SHA256:zzz) is not a recipient' in msg
    assert 's/h/files/a.tar.zst.age is encrypted for X25519 SHA256:aaa (ops 2026), ssh-ed25519 SHA256:bbb (alice@laptop)' in msg
    assert 's/h/postgresql/db.pgdump.zst.age is encrypted for X25519 SHA256:old (ops 2025)' in msg
    assert msg.endswith('nothing was changed')


def test_missing_identity_message():
    msg = logic.missing_identity_message([REC_A, REC_OLD])
    assert msg.startswith('artifact s/h/files/a.tar.zst.age (and 1 more) is encrypted with age for X25519 SHA256:aaa (ops 2026)')
    assert 'lifeboat_encryption.identity_file or identity' in msg


def test_unknown_encryption_is_refused():
    with pytest.raises(ConfigError, match="encrypted with 'rot13'"):
        logic.check_supported({'key': 'k', 'encryption': 'rot13'})
    logic.check_supported(REC_A)
    logic.check_supported(REC_PLAIN)


def test_argv():
    recipient = logic.Recipient('X25519', 'age1abc', 'SHA256:x')
    assert logic.encrypt_argv('/usr/bin/age', [recipient, recipient]) == ['/usr/bin/age', '--encrypt', '-r', 'age1abc', '-r', 'age1abc']
    assert logic.decrypt_argv('/usr/bin/age', '/dev/fd/7') == ['/usr/bin/age', '--decrypt', '-i', '/dev/fd/7']


# ---------------------------------------------------------------- the adapter, with the real tools

@pytest.mark.parametrize('kind, bits, pem', [('ed25519', None, None), ('rsa', 3072, None), ('rsa', 2048, 'PEM'),
                                             ('rsa', 2048, 'PKCS8')])
def test_identity_keys_of_ssh_identities(keys, kind, bits, pem):
    name = 'derive-%s-%s-%s' % (kind, bits, pem)
    _public, secret = keys.ssh(name, kind, bits, pem=pem)
    assert age.identity_keys(logic.normalize_identity(secret), 'identity') == [('ssh-' + kind, ssh_fingerprint(keys, name))]


def test_identity_keys_of_an_age_identity_file(keys):
    first, secret = keys.age('derive1.txt')
    second, secret2 = keys.age('derive2.txt')
    found = age.identity_keys(logic.normalize_identity(secret + '\n' + secret2), 'identity')
    assert found == [('X25519', logic.fingerprint_x25519(first)), ('X25519', logic.fingerprint_x25519(second))]


def _fds():
    return set(os.listdir('/proc/self/fd'))


def _encrypt(recipients_options, plain):
    encryption = age.for_backup(recipients_options)
    return subprocess.run(encryption.argv(), input=plain, stdout=subprocess.PIPE, check=True).stdout, encryption


def _decrypt(decryption, cipher):
    with decryption.stage() as stage:
        assert stage.argv[-1] == '/dev/fd/%d' % stage.pass_fds[0]
        proc = subprocess.run(stage.argv, input=cipher, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              pass_fds=stage.pass_fds, check=False)
    return proc


def test_encrypt_to_several_recipients_each_identity_alone_decrypts(keys):
    age_public, age_secret = keys.age('multi.txt')
    ed_public, _secret = keys.ssh('multi-ed')
    rsa_public, _secret = keys.ssh('multi-rsa', 'rsa', 3072)
    plain = os.urandom(300000) + b'MARKER'
    cipher, encryption = _encrypt({'recipients': [age_public, ed_public], 'recipients_file': None}, plain)
    assert b'MARKER' not in cipher
    assert [entry['type'] for entry in encryption.record_recipients()] == ['X25519', 'ssh-ed25519']
    with open(keys.path('multi-recipients'), 'w') as handle:
        handle.write('%s\n%s\n%s\n' % (age_public, ed_public, rsa_public))
    cipher, encryption = _encrypt({'recipients': [], 'recipients_file': keys.path('multi-recipients')}, plain)
    record = {'key': 'k', 'encryption': 'age', 'recipients': encryption.record_recipients()}
    before = _fds()
    for options in ({'identity': age_secret}, {'identity_file': keys.path('multi-ed')}, {'identity_file': keys.path('multi-rsa')}):
        decryption = age.for_restore(options)
        age.check_identity([record], decryption)
        proc = _decrypt(decryption, cipher)
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout == plain
    assert _fds() == before   # no pipe end left open


def test_wrong_identity_is_caught_up_front_and_by_age(keys):
    public, _secret = keys.age('right.txt')
    _other, wrong = keys.age('wrong.txt')
    cipher, encryption = _encrypt({'recipients': [public + ' ops'], 'recipients_file': None}, b'data')
    record = {'key': 'set/h/files/x.tar.zst.age', 'encryption': 'age', 'recipients': encryption.record_recipients()}
    decryption = age.for_restore({'identity': wrong})
    with pytest.raises(ConfigError) as err:
        age.check_identity([record], decryption)
    assert 'encrypted for X25519 %s (ops)' % logic.fingerprint_x25519(public) in err.value.msg
    assert err.value.details['recipients_expected'] == encryption.record_recipients()
    proc = _decrypt(decryption, cipher)
    assert proc.returncode != 0 and b'no identity matched' in proc.stderr
    with pytest.raises(ConfigError, match='no identity was given'):
        age.check_identity([record], None)
    age.check_identity([{'key': 'k', 'encryption': 'none'}], None)


@pytest.mark.parametrize('damage', ['flip', 'truncate_chunk', 'truncate_end', 'header'])
def test_age_refuses_damaged_ciphertext(keys, damage):
    public, secret = keys.age('damage-%s.txt' % damage)
    plain = os.urandom(5 * 65536 + 100)
    cipher, _encryption = _encrypt({'recipients': [public], 'recipients_file': None}, plain)
    header_end = cipher.index(b'\n---') + 1
    header_end = cipher.index(b'\n', header_end) + 1
    if damage == 'flip':
        damaged = bytearray(cipher)
        damaged[len(cipher) // 2] ^= 0x01
    elif damage == 'truncate_chunk':
        damaged = cipher[:header_end + 16 + 2 * (65536 + 16)]   # nonce + two whole chunks: a clean boundary
    elif damage == 'truncate_end':
        damaged = cipher[:-1]
    else:
        damaged = bytearray(cipher)
        damaged[header_end - 5] ^= 0x01                            # the header's MAC
    proc = _decrypt(age.for_restore({'identity': secret}), bytes(damaged))
    assert proc.returncode != 0
    assert len(proc.stdout) < len(plain)


def test_for_backup_and_for_restore_errors(keys, tmp_path):
    assert age.for_backup(None) is None
    assert age.for_backup({'recipients': [], 'recipients_file': None}) is None
    assert age.for_restore(None) is None
    assert age.for_restore({'identity': None, 'identity_file': None}) is None
    with pytest.raises(NotFoundError, match='recipients_file /nonexistent/r does not exist on this host'):
        age.for_backup({'recipients': [], 'recipients_file': '/nonexistent/r'})
    with pytest.raises(NotFoundError, match='identity_file /nonexistent/k does not exist on this host'):
        age.for_restore({'identity': None, 'identity_file': '/nonexistent/k'})
    with pytest.raises(ConfigError, match='is a directory'):
        age.for_restore({'identity': None, 'identity_file': str(tmp_path)})
    with pytest.raises(ConfigError, match='not both'):
        age.for_restore({'identity': 'x', 'identity_file': '/k'})


def test_unreadable_identity_file(keys, tmp_path):
    """As root every file is readable: the check runs in a child that became nobody, which cannot read a 0600
    file of root's."""
    if os.geteuid() != 0:
        pytest.skip('needs root to switch to nobody')
    _public, secret = keys.age('unreadable.txt')
    path = tmp_path / 'identity'
    path.write_text(secret)
    os.chmod(str(path), 0o600)
    os.chmod(str(tmp_path), 0o755)
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        code = 1
        try:
            os.close(read_fd)
            os.setgroups([])
            os.setgid(65534)
            os.setuid(65534)
            try:
                age.for_restore({'identity': None, 'identity_file': str(path)})
            except DeniedError as err:
                os.write(write_fd, err.msg.encode())
                code = 3
        finally:
            os._exit(code)
    os.close(write_fd)
    with os.fdopen(read_fd, 'rb') as handle:
        msg = handle.read().decode()
    _pid, status = os.waitpid(pid, 0)
    assert os.WEXITSTATUS(status) == 3
    assert msg == 'identity_file %s cannot be read by this user (Permission denied): fix its owner or mode, or run as a user that can read it' % path
    assert secret not in msg


def test_stage_without_a_reader_does_not_hang(keys):
    """age that exits before reading its identity (it never starts): the writer thread ends, fds are closed."""
    _public, secret = keys.age('noreader.txt')
    decryption = age.for_restore({'identity': secret})
    before = _fds()
    with decryption.stage() as stage:
        assert len(stage.pass_fds) == 1
    assert _fds() == before


# ---------------------------------------------------------------- the pipeline's age stages

class _Collect(object):
    def __init__(self):
        self.chunks = []

    def write(self, data):
        self.chunks.append(bytes(data))


def test_pipeline_encrypts_after_compression_and_only_age_gets_the_identity(keys, tmp_path):
    public, secret = keys.age('pipeline.txt')
    source = tmp_path / 'source'
    source.write_bytes(b'MARKER ' * 100000)
    encryption = age.for_backup({'recipients': [public], 'recipients_file': None})
    assert pipeline.backup_stages(['cat', str(source)], 'cat', 'zstd', encryption=encryption)[-1][0] == 'age'
    assert 'age' in pipeline.stage_tools('zstd', encryption)
    writer = _Collect()
    res = pipeline.stream_to_store(writer, source_argv=['cat', str(source)], source_name='cat', compression='zstd',
                                   encryption=encryption)
    cipher = b''.join(writer.chunks)
    assert cipher.startswith(b'age-encryption.org/v1\n') and b'MARKER' not in cipher
    assert res['sha256'] == hashlib.sha256(cipher).hexdigest()
    decryption = age.for_restore({'identity': secret})
    out = tmp_path / 'out'
    fds = tmp_path / 'sink-fds'
    sink = ['sh', '-c', 'ls /proc/$$/fd > "$1"; cat > "$2"', 'sh', str(fds), str(out)]
    with decryption.stage() as stage:
        restored = pipeline.stream_from_store(io.BytesIO(cipher), sink, 'zstd', stage, sink_name='sh')
        identity_fd = stage.pass_fds[0]
    assert [r.name for r in restored['stages']] == ['age', 'zstd', 'sh']
    assert all(not r.failed() for r in restored['stages']), [r.describe() for r in restored['stages']]
    assert out.read_bytes() == source.read_bytes()
    assert str(identity_fd) not in fds.read_text().split()   # the sink never saw the identity's pipe
    with pytest.raises(Exception, match='needs an identity'):
        pipeline.restore_stages(['cat'], 'cat', 'zstd', 'age')
    planned = pipeline.restore_stages(['cat'], 'cat', 'zstd', decryption.planned_stage())
    assert planned[0] == ('age', [decryption.age, '--decrypt', '-i', '/dev/fd/N'], ())
