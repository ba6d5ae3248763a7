# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lifeboat.backup maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Artifacts: the one way any component puts data into a set and gets it back.

write_artifact(): declare the part (exclusive create), source -> pipeline -> store, checked (source verdict,
                  size read back), then its record. A declared part without a record is unfinished.
read_artifact():  store -> pipeline -> sink, with size and sha256 compared against the record.
Files, PostgreSQL, uploads and later components all call these two; none has a pipeline of its own.
put_small_artifact() / get_small_artifact(): a small document (the record of EBS or OpenSearch snapshots, which
live outside the store) as bytes through the store, with the same kind of part declaration and record.
Both start a progress phase per artifact (``<component>/<name>``) on the module's reporter (_progress.install),
so the flows between a module and the pipeline need not pass it along.
Every write renews this process's heartbeat in the set and is cancelled cleanly by SIGTERM/SIGINT
(heartbeat.py): the pipeline stops, nothing half-written becomes visible, the part stays unfinished.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import contextlib
import signal

from ansible_collections.lifeboat.backup.plugins.module_utils._errors import CancelledError, ConfigError, DamagedError, LifeboatError
from ansible_collections.lifeboat.backup.plugins.module_utils._stores.base import AlreadyExistsError
from ansible_collections.lifeboat.backup.plugins.module_utils import _pipeline as pipeline
from ansible_collections.lifeboat.backup.plugins.module_utils import _progress as progress_report
from ansible_collections.lifeboat.backup.plugins.module_utils._backup_set import heartbeat
from ansible_collections.lifeboat.backup.plugins.module_utils._backup_set import lifecycle
from ansible_collections.lifeboat.backup.plugins.module_utils._backup_set import format as set_format
from ansible_collections.lifeboat.backup.plugins.module_utils._encryption import age as encryption_age
from ansible_collections.lifeboat.backup.plugins.module_utils._encryption import logic as encryption_logic


def artifact_filename(name, fmt_ext, compression, encryption='none'):
    """``app.tar.zst``, ``app.tar.zst.age``: the format's, the compression's and the encryption's suffixes."""
    enc_name = pipeline.encryption_name(encryption)
    return name + fmt_ext + pipeline.EXTENSIONS[compression] + ('' if enc_name == 'none' else '.' + enc_name)


def write_artifact(store, set_id, host, component, name, kind, fmt_name, fmt_ext, source, check_source,
                   source_argv=None, source_file=None, source_name='source', compression='zstd', level=None,
                   threads=0, encryption='none', tools=None, extra=None, cwd=None, env=None, progress=None,
                   total=None, estimated=False, measure=None):
    """Stream one artifact into an open set and write its record.

    ``encryption`` is None (or 'none') or an ``_encryption.age.Encryption``: the artifact is then encrypted by
    age after compression, and the record says ``encryption: age`` with the recipients' fingerprints.

    ``check_source(StageResult or None) -> dict`` judges the source process (raise LifeboatError when it
    failed) and returns extra facts for the record (warnings, totals...). Nothing is committed unless the
    source verdict, every stage's exit code and the stored size all check out. The part is declared in the store
    first (exclusively: a second part of the same name in the set is refused before any data is written).
    ``progress``: the pipeline's progress hook; without one, the reporter the module installed (if any) gets a
    phase ``<component>/<name>`` whose ``total`` (plain bytes, ``estimated`` when it is a guess) gives the ETA.
    ``measure``: without a ``total``, a callable returning an estimate of the plain bytes (a du-like walk); the
    reporter runs it beside the work once the first progress line is due, never for a short task.
    Returns the record.
    """
    key = set_format.artifact_key(set_id, host, component, artifact_filename(name, fmt_ext, compression, encryption))
    heartbeat.raise_if_cancelled('%s was not written' % key)
    lifecycle.require_open(store, set_id, host=host)
    beat = heartbeat.ensure(store, set_id, host)
    progress = progress_report.phase(progress, '%s/%s' % (component, name), total=total, estimated=estimated,
                                     measure=measure)
    try:
        all_tools = pipeline.stage_tools(compression, encryption)
        all_tools.update(tools or {})
        lifecycle.declare_part(store, set_id, host, component, name, key,
                               owner={'node': beat.node, 'pid': beat.pid, 'module': beat.module})
        started = set_format.iso(set_format.utcnow())
        with store.open_write(key, exclusive=True) as writer:  # a part of an open set is never replaced
            res = pipeline.stream_to_store(writer, source_argv=source_argv, source_file=source_file, source_name=source_name,
                                           compression=compression, level=level, threads=threads, encryption=encryption,
                                           cwd=cwd, env=env, progress=progress)
            facts = check_source(res['source']) or {}
            try:
                writer.commit()
            except AlreadyExistsError:
                raise ConfigError('set %s already has the artifact %s of host %s, written outside its part declaration; '
                                  'it was not replaced, and this part is left unfinished' % (set_id, key, host), artifact=key)
        info = store.stat(key)
        if info is None or info.size != res['size']:
            store.delete(key)
            raise LifeboatError('%s: the stored object %s has %s bytes after writing %d; the artifact was removed'
                                % (store.describe(), key, 'no' if info is None else info.size, res['size']))
        merged = dict(extra or {})
        merged.update(facts)
        merged['seconds'] = round(res['seconds'], 3)
        record = set_format.make_record(set_id, host, component, name, kind, key, source, fmt_name, compression,
                                        pipeline.encryption_name(encryption), res['size'], res['sha256'], started,
                                        set_format.iso(set_format.utcnow()), all_tools, extra=merged)
        if pipeline.encryption_name(encryption) != 'none':
            record['recipients'] = encryption.record_recipients()
        lifecycle.put_record(store, record)
    except CancelledError as e:
        heartbeat.mark_cancelled()
        raise CancelledError('%s while writing %s into set %s: the part is left unfinished, so the set will not be '
                             'committed' % (e.msg, key, set_id), artifact=key, **e.details)
    return record


def find_record(manifest, host, component, name):
    for r in manifest.get('artifacts', []):
        if r['host'] == host and r['component'] == component and r['name'] == name:
            return r
    have = sorted('%s/%s/%s' % (r['host'], r['component'], r['name']) for r in manifest.get('artifacts', []))
    raise LifeboatError('set %s has no artifact %s/%s for host %s (it has: %s)'
                        % (manifest['set_id'], component, name, host, ', '.join(have) or 'nothing'))


def read_artifact(store, record, sink_argv, sink_name='sink', cwd=None, env=None, on_sink_line=None, decryption=None,
                  progress=None):
    """Stream an artifact into a sink process; raise when size or sha256 differ from the record.

    An encrypted record needs ``decryption`` (an ``_encryption.age.Decryption`` whose identity is one of the
    record's recipients, checked first): age then runs first in the chain, reading its identity from a pipe. A
    failing age stage (ciphertext changed or cut with its checksum fixed up) raises DamagedError before the sink's
    own error is looked at: the sink only got a prefix of the data. Plain records ignore ``decryption``.

    The caller must treat whatever the sink produced as untrusted until this returns.
    Returns the pipeline result; the caller must check ``res['sink'].failed()`` (the sink's own error is the
    one worth reporting; upstream stages then only fail with a broken pipe).
    ``progress``: as for write_artifact; the installed reporter's phase counts stored bytes against the record's size.
    """
    encryption_age.check_identity([record], decryption)
    progress = progress_report.phase(progress, '%s/%s' % (record['component'], record['name']), total=record['size'],
                                     direction='read')
    if not encryption_logic.is_encrypted(record):
        decryption = None
    with store.open_read(record['key']) as reader, _decryption_stage(decryption) as stage:
        res = pipeline.stream_from_store(reader, sink_argv, record['compression'], stage, sink_name=sink_name,
                                         cwd=cwd, env=env, on_sink_line=on_sink_line, expected_size=record['size'],
                                         progress=progress)
    if res['size'] != record['size'] or res['sha256'] != record['sha256']:
        raise LifeboatError(
            'artifact %s failed verification: the store holds %s bytes with sha256 %s, the record says %d bytes '
            'with sha256 %s. It was changed or damaged after the backup; nothing was restored from it'
            % (record['key'], res['size'] if res['size'] <= record['size'] else 'more than %d' % record['size'],
               res['sha256'], record['size'], record['sha256']),
            artifact=record['key'])
    age_stage = res['stages'][0] if decryption is not None else None
    if age_stage is not None and age_stage.failed() and age_stage.rc != -signal.SIGPIPE:  # SIGPIPE: the sink stopped first
        raise DamagedError(encryption_logic.decrypt_failure_message(record, age_stage.rc, age_stage.stderr),
                           artifact=record['key'])
    if res['sink'].failed():
        return res  # the caller reports the sink's own error (it explains more than a broken pipe upstream)
    for r in res['stages'][:-1]:
        if r.failed():
            raise LifeboatError('the %s stage failed while reading %s: %s' % (r.name, record['key'], r.describe()))
    return res


# ---------------------------------------------------------------- small documents (records of things kept outside the store)

def put_small_artifact(store, set_id, host, component, name, kind, fmt_name, fmt_ext, source, data, extra=None):
    """Store ``data`` (small bytes, e.g. a JSON document) as an artifact of an open set, with its record.

    The same rules as write_artifact without the pipeline: the part is declared first and every write is
    exclusive. Raises AlreadyExistsError (PartExistsError) when the part exists already: the caller may find
    it is its own repeated write. Returns the record.
    """
    key = set_format.artifact_key(set_id, host, component, name + fmt_ext)
    heartbeat.raise_if_cancelled('%s was not written' % key)
    lifecycle.require_open(store, set_id, host=host)
    beat = heartbeat.ensure(store, set_id, host)
    lifecycle.declare_part(store, set_id, host, component, name, key,
                           owner={'node': beat.node, 'pid': beat.pid, 'module': beat.module})
    started = set_format.iso(set_format.utcnow())
    store.put_new(key, data)
    info = store.stat(key)
    if info is None or info.size != len(data):
        store.delete(key)
        raise LifeboatError('%s: the stored object %s has %s bytes after writing %d; the artifact was removed'
                            % (store.describe(), key, 'no' if info is None else info.size, len(data)))
    record = set_format.make_record(set_id, host, component, name, kind, key, source, fmt_name, 'none', 'none',
                                    len(data), set_format.sha256_hex(data), started, set_format.iso(set_format.utcnow()),
                                    {}, extra=dict(extra or {}, seconds=0.0))
    lifecycle.put_record(store, record)
    return record


def get_small_artifact(store, record):
    """The bytes of a small artifact, checked against its record (size and sha256)."""
    data = store.get_bytes(record['key'])
    if data is None:
        raise DamagedError('artifact %s of set %s is missing from the %s'
                           % (record['key'], record['set_id'], store.describe()), artifact=record['key'])
    digest = set_format.sha256_hex(data)
    if len(data) != record['size'] or digest != record['sha256']:
        raise DamagedError('artifact %s failed verification: the store holds %d bytes with sha256 %s, the record says '
                           '%d bytes with sha256 %s. It was changed or damaged after the backup; nothing was restored '
                           'from it' % (record['key'], len(data), digest, record['size'], record['sha256']),
                           artifact=record['key'])
    return data


@contextlib.contextmanager
def _decryption_stage(decryption):
    """The age stage of one stream (its identity pipe open for the stream's length), or None for a plain artifact."""
    if decryption is None:
        yield None
        return
    with decryption.stage() as stage:
        yield stage
