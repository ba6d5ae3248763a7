# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lifeboat.backup maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Upload any existing file or directory into a set (component ``upload``), and fetch artifacts back.

upload(): a file streams as-is through compression; a directory through the same GNU tar as
files_backup. Both go through artifacts.write_artifact.
fetch(): an artifact of a completed set streams into a temp name in the destination directory while
its sha256 and size are checked, and is renamed into place only when they match.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import errno
import hashlib
import os
import re
import stat as stat_mod
import uuid

from ansible_collections.lifeboat.backup.plugins.module_utils._errors import LifeboatError
from ansible_collections.lifeboat.backup.plugins.module_utils._backup_set import artifacts
from ansible_collections.lifeboat.backup.plugins.module_utils._files import backup as files_backup
from ansible_collections.lifeboat.backup.plugins.module_utils._files import logic as files_logic
from ansible_collections.lifeboat.backup.plugins.module_utils._files.tar import tar_features
from ansible_collections.lifeboat.backup.plugins.module_utils import _pipeline as pipeline
from ansible_collections.lifeboat.backup.plugins.module_utils._backup_set import format as set_format
from ansible_collections.lifeboat.backup.plugins.module_utils._backup_set import lifecycle
from ansible_collections.lifeboat.backup.plugins.module_utils._encryption import age as encryption_age
from ansible_collections.lifeboat.backup.plugins.module_utils._stores.filesystem import fsync_dir

COMPONENT = 'upload'
FETCH_MARK = '.lifeboat-fetch-'


# ---------------------------------------------------------------- pure helpers

def safe_name(name):
    """``name`` if it is a valid artifact name, else a stable encoded one: (safe, original or None)."""
    try:
        return set_format.validate_name(name), None
    except LifeboatError:
        pass
    if not isinstance(name, str) or not name:
        raise LifeboatError('upload name %r is empty' % (name,))
    base = re.sub(r'[^A-Za-z0-9_.@+-]+', '_', name).strip('._-@+')[:100] or 'upload'
    digest = hashlib.sha256(name.encode('utf-8', 'surrogateescape')).hexdigest()[:10]
    safe = '%s-%s' % (base, digest)
    if not safe[0].isalnum():
        safe = 'u' + safe
    return set_format.validate_name(safe), name


def default_name(src):
    return os.path.basename(os.path.normpath(src)) or 'root'


def fetch_filename(record, decompress):
    """File name used when dest is a directory."""
    if not decompress:
        return record['key'].rsplit('/', 1)[-1]
    name = (record.get('extra') or {}).get('original_name') or record['name']
    name = os.path.basename(name.replace('\x00', '')) or record['name']
    if record.get('format') == 'tar' and not name.endswith('.tar'):
        name += '.tar'
    return name


def match_record(manifest, host, component, name):
    """The record named ``name`` (or whose original name is ``name``) of a host and component."""
    for r in manifest.get('artifacts', []):
        if r['host'] == host and r['component'] == component and (
                r['name'] == name or (r.get('extra') or {}).get('original_name') == name):
            return r
    return artifacts.find_record(manifest, host, component, name)  # raises with the list of what exists


# ---------------------------------------------------------------- upload

def upload(store, set_id, host, src, name=None, compression='zstd', level=None, threads=0, exclude=None,
           one_file_system=False, check_mode=False, encryption=None):
    src = os.path.abspath(src)
    try:
        st = os.stat(src)
    except OSError as e:
        if e.errno == errno.ENOENT:
            raise LifeboatError('src %s does not exist on this host' % src)
        raise LifeboatError('cannot stat src %s: %s' % (src, e.strerror))
    safe, original = safe_name(name if name else default_name(src))
    pipeline.compressor_argv(compression, level, threads)   # validate before anything starts
    lifecycle.require_open(store, set_id)
    if stat_mod.S_ISDIR(st.st_mode):
        kind = 'directory'
    elif stat_mod.S_ISREG(st.st_mode) or stat_mod.S_ISFIFO(st.st_mode):
        kind = 'file' if stat_mod.S_ISREG(st.st_mode) else 'fifo'
    else:
        raise LifeboatError('src %s is neither a regular file nor a directory' % src)
    if not os.access(src, os.R_OK | (os.X_OK if kind == 'directory' else 0)):
        raise LifeboatError('src %s is not readable by this user' % src)
    if check_mode:
        note = '' if encryption is None else ', encrypted with age for %s' % encryption.describe()
        return {'changed': True, 'records': [], 'summary': [],
                'msg': 'would upload %s %s into set %s as %s/%s%s' % (kind, src, set_id, COMPONENT, safe, note)}
    extra = {'src': src, 'src_type': kind}
    if original is not None:
        extra['original_name'] = original
    if kind == 'directory':
        record = _upload_dir(store, set_id, host, src, safe, compression, level, threads, exclude, one_file_system,
                             extra, encryption)
    else:
        record = _upload_file(store, set_id, host, src, safe, kind, compression, level, threads, extra, encryption)
    ex = record.get('extra') or {}
    summary = {'host': host, 'component': COMPONENT, 'name': safe, 'size': record['size'],
               'uncompressed_size': ex.get('uncompressed_size'), 'seconds': ex.get('seconds')}
    return {'changed': True, 'records': [record], 'record': record, 'summary': [summary], 'key': record['key'],
            'size': record['size'], 'sha256': record['sha256']}


def _upload_file(store, set_id, host, src, name, kind, compression, level, threads, extra, encryption=None):
    """A regular file is read up to the size it had when opened (``head -c``), so a file that keeps growing
    cannot make the upload run forever; if it changed meanwhile, the copy is refused. A named pipe is read
    to its end (its writer decides when it ends)."""
    try:
        f = open(src, 'rb', buffering=0)
    except (IOError, OSError) as e:
        raise LifeboatError('cannot open src %s: %s' % (src, e.strerror or e))
    with f:
        before = os.fstat(f.fileno())
        source = {'source_file': f}
        if kind == 'file':
            head = pipeline.need_tool('head', 'uploading a file')
            source = {'source_argv': [head, '-c', str(before.st_size), '--', src], 'source_name': 'head'}

        def check(res):
            facts = {}
            if kind == 'file':
                if res is not None and res.failed():
                    raise LifeboatError('reading src %s failed: %s' % (src, res.describe()), stage=res.as_dict())
                after = os.fstat(f.fileno())
                try:
                    now = os.stat(src)
                except OSError as e:
                    raise LifeboatError('src %s was removed or replaced while it was being uploaded (%s); nothing '
                                        'was stored' % (src, e.strerror))
                if (after.st_size, after.st_mtime_ns) != (before.st_size, before.st_mtime_ns) or \
                        (now.st_dev, now.st_ino) != (before.st_dev, before.st_ino):
                    raise LifeboatError('src %s changed while it was being uploaded (size %d -> %d): the copy would '
                                        'not match any state of the file; nothing was stored'
                                        % (src, before.st_size, now.st_size))
                facts['uncompressed_size'] = before.st_size
                facts['src_mode'] = '%04o' % stat_mod.S_IMODE(before.st_mode)
            return facts

        return artifacts.write_artifact(
            store, set_id, host, COMPONENT, name, 'file', 'raw', '', source='upload:' + src, check_source=check,
            compression=compression, level=level, threads=threads, encryption=encryption, extra=extra,
            total=before.st_size if kind == 'file' else None, **source)


def _upload_dir(store, set_id, host, src, name, compression, level, threads, exclude, one_file_system, extra,
                encryption=None):
    paths = files_logic.normalize_paths([src])
    tar = pipeline.need_tool('tar', 'uploading a directory')
    feats = tar_features(tar)
    argv = files_logic.tar_create_argv(tar, paths, exclude, feats, one_file_system)
    extra = dict(extra, paths=paths, exclude=list(exclude or []), xattrs=feats['xattrs'], acls=feats['acls'])

    def check(res):
        return files_logic.judge_tar_create(res.rc, res.stderr)

    return artifacts.write_artifact(
        store, set_id, host, COMPONENT, name, 'files', 'tar', '.tar', source='upload:' + src, check_source=check,
        source_argv=argv, source_name='tar', compression=compression, level=level, threads=threads,
        encryption=encryption, tools={'tar': feats['version']}, extra=extra, env=dict(os.environ, LC_ALL='C'),
        estimated=True, measure=lambda: files_backup.tree_size(paths, one_file_system))


# ---------------------------------------------------------------- fetch

def fetch(store, host, name, dest, component=COMPONENT, set_id=None, pin=None, force=False, decompress=True,
          mode=0o600, check_mode=False, decryption=None):
    """``decompress`` false fetches the stored bytes as they are (ciphertext of an encrypted artifact: no identity
    needed); otherwise an encrypted artifact needs ``decryption``, checked before anything is written."""
    manifest, digest = lifecycle.resolve_completed(store, set_id, pin)
    record = match_record(manifest, host, component, name)
    if decompress:
        encryption_age.check_identity([record], decryption)
    dest = os.path.abspath(dest)
    if os.path.isdir(dest):
        dest = os.path.join(dest, fetch_filename(record, decompress))
    ddir = os.path.dirname(dest)
    if not os.path.isdir(ddir):
        raise LifeboatError('the directory of dest, %s, does not exist' % ddir)
    if os.path.lexists(dest):
        if not force:
            raise LifeboatError('dest %s already exists: set force=true to replace it' % dest)
        if os.path.isdir(dest) and not os.path.islink(dest):
            raise LifeboatError('dest %s is a directory' % dest)
    if not os.access(ddir, os.W_OK | os.X_OK):
        raise LifeboatError('cannot write into %s: permission denied' % ddir)
    result = {'changed': True, 'dest': dest, 'set_id': manifest['set_id'], 'manifest_sha256': digest,
              'key': record['key'], 'sha256': record['sha256'], 'stored_size': record['size']}
    if check_mode:
        result['msg'] = 'would fetch %s to %s' % (record['key'], dest)
        return result
    tmp = os.path.join(ddir, FETCH_MARK + os.path.basename(dest)[:100] + '-' + uuid.uuid4().hex[:12])
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.close(fd)
    except OSError as e:
        raise LifeboatError('cannot create a temp file in %s: %s' % (ddir, e.strerror))
    try:
        rec = record if decompress else dict(record, compression='none', encryption='none')
        sink = [pipeline.need_tool('dd', 'backup_fetch'), 'of=' + tmp, 'bs=1M', 'conv=fsync', 'status=none']
        res = artifacts.read_artifact(store, rec, sink, sink_name='dd', decryption=decryption if decompress else None)
        if res['broken_pipe'] or res['sink'].failed():
            raise LifeboatError('writing %s failed: %s' % (tmp, res['sink'].describe()))
        os.chmod(tmp, mode)
        os.rename(tmp, dest)
        tmp = None
        fsync_dir(ddir)
    finally:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass
    result['size'] = os.path.getsize(dest)
    return result
