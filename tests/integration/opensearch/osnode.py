# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lifeboat.backup maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Real OpenSearch nodes for the tests: the Java launcher in launcher/ (built with Maven), started on loopback.

``build(line)``  builds the launcher of a line (``os2``: OpenSearch 2.19 on Java 17, fs repositories; ``os3``:
                 OpenSearch 3.3 on a Java 21+ JDK, fs and s3 repositories) when it is missing or older than
                 its sources, and returns the java command prefix.
``OsNode``       one node: its own home/config/data/logs, HTTP and transport on free loopback ports, the
                 ``path.repo`` it is given, disk thresholds off, -Xmx512m. ``start()`` waits for yellow.
``cluster(...)`` two (or more) nodes on loopback forming one cluster with a shared repository directory.

Nothing here ever lets the AWS SDK of the repository-s3 plugin look for credentials or a region on the EC2
metadata address: keys and region are always given and the metadata lookups are disabled (docs/opensearch.md).
"""
import glob
import json
import os
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
LAUNCHER = os.path.join(HERE, 'launcher')
sys.path.insert(0, os.path.dirname(HERE))
from awslib import free_port, stop_proc  # noqa: E402  pylint: disable=wrong-import-position

# How long a node may take to be ready: ~10 s on an idle machine, 74 s seen at a load average of 16, more under
# parallel test workers beside other jobs (a session fixture that fails errors every test of its worker). It is a
# wait for a condition: a node that dies while starting fails at once with its log.
START_TIMEOUT = int(os.environ.get('LIFEBOAT_OS_START_TIMEOUT', '600'))

LINES = {
    # line: (minimum Java feature release, what the line is)
    'os2': (17, 'OpenSearch 2.19'),
    'os3': (21, 'OpenSearch 3.3'),
}
HEAP = os.environ.get('LIFEBOAT_OPENSEARCH_HEAP', '512m')


def out_dir():
    return os.path.join(os.environ.get('LIFEBOAT_WORK', '/tmp/lifeboat-work'), 'opensearch-launcher')


def _java_release(home):
    try:
        with open(os.path.join(home, 'release')) as f:
            for line in f:
                if line.startswith('JAVA_VERSION='):
                    return int(line.split('=', 1)[1].strip().strip('"').split('.')[0])
    except (OSError, ValueError):
        return None
    return None


def java_home(line):
    """A JDK for the line: the smallest installed release that is new enough (Java 17 for os2, 21+ for os3)."""
    need = LINES[line][0]
    found = []
    for home in glob.glob('/usr/lib/jvm/*'):
        if os.path.islink(home) or not os.path.exists(os.path.join(home, 'bin', 'javac')):
            continue
        release = _java_release(home)
        if release and release >= need:
            found.append((release, home))
    if not found:
        return None
    return sorted(found)[0][1]


def unavailable(line):
    """Why a node of this line cannot run here (None when it can)."""
    if line not in LINES:
        return 'unknown OpenSearch line %r' % line
    if not shutil.which('mvn'):
        return 'Maven (mvn) is not installed'
    if java_home(line) is None:
        return 'no JDK with Java %d+ under /usr/lib/jvm for %s' % (LINES[line][0], LINES[line][1])
    return None


def _newest_source():
    newest = os.path.getmtime(os.path.join(LAUNCHER, 'pom.xml'))
    for root, _dirs, files in os.walk(os.path.join(LAUNCHER, 'src')):
        for name in files:
            newest = max(newest, os.path.getmtime(os.path.join(root, name)))
    return newest


def build(line):
    """Build the launcher of ``line`` if needed; returns (java_binary, classpath string)."""
    reason = unavailable(line)
    if reason:
        raise RuntimeError(reason)
    target = os.path.join(out_dir(), line)
    jar = os.path.join(target, 'opensearch-test-node-1.jar')
    cp_file = os.path.join(target, 'classpath.txt')
    home = java_home(line)
    if not (os.path.exists(jar) and os.path.exists(cp_file) and os.path.getmtime(jar) >= _newest_source()):
        env = dict(os.environ, JAVA_HOME=home)
        proc = subprocess.run(['mvn', '-q', '-B', '-f', os.path.join(LAUNCHER, 'pom.xml'), '-P', line,
                               '-Dlifeboat.out=' + out_dir(), 'package'],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, check=False,
                              universal_newlines=True)
        if proc.returncode != 0:
            raise RuntimeError('building the OpenSearch test launcher (%s) failed:\n%s' % (line, proc.stdout[-4000:]))
    with open(cp_file) as f:
        classpath = f.read().strip()
    missing = [p for p in classpath.split(':') if p and not os.path.exists(p)]
    if missing:
        raise RuntimeError('the launcher classpath names missing jars (clear %s and build again): %s'
                           % (target, ', '.join(missing[:3])))
    return os.path.join(home, 'bin', 'java'), jar + ':' + classpath


class RestError(Exception):
    def __init__(self, status, body):
        Exception.__init__(self, 'HTTP %s: %s' % (status, json.dumps(body)[:2000]))
        self.status = status
        self.body = body


def rest(url, method='GET', path='/', body=None, timeout=60, ndjson=None):
    """One REST call (test side: a plain urllib client, independent of the collection's own)."""
    data = None
    headers = {}
    if ndjson is not None:
        data = ndjson.encode('utf-8')
        headers['Content-Type'] = 'application/x-ndjson'
    elif body is not None:
        data = json.dumps(body).encode('utf-8')
        headers['Content-Type'] = 'application/json'
    req = urllib.request.Request(url.rstrip('/') + path, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            raw = resp.read()
    except urllib.error.HTTPError as e:
        raw = e.read()
        try:
            parsed = json.loads(raw.decode('utf-8'))
        except ValueError:
            parsed = raw.decode('utf-8', 'replace')
        raise RestError(e.code, parsed)
    return json.loads(raw.decode('utf-8')) if raw else None


class OsNode(object):
    """One OpenSearch node in ``base/<name>``; see the module docstring."""

    def __init__(self, base, name, repo_dirs, line='os2', cluster_name='lifeboat-test', seeds=None, managers=None,
                 secure=None, settings=None):
        self.base = str(base)
        self.name = name
        self.line = line
        self.home = os.path.join(self.base, name)
        self.repo_dirs = [str(d) for d in repo_dirs]
        self.cluster_name = cluster_name
        self.http_port = free_port()
        self.transport_port = free_port()
        self.url = 'http://127.0.0.1:%d' % self.http_port
        self.seeds = seeds
        self.managers = managers
        self.secure = dict(secure or {})
        self.settings = dict(settings or {})
        self.proc = None
        self.log_path = os.path.join(self.home, 'node.log')
        self.started_seconds = None

    # -------------------------------------------------------------- configuration

    def node_settings(self):
        settings = {
            'cluster.name': self.cluster_name,
            'node.name': self.name,
            'network.host': '127.0.0.1',
            'http.port': self.http_port,
            'transport.port': self.transport_port,
            'path.data': os.path.join(self.home, 'data'),
            'path.logs': os.path.join(self.home, 'logs'),
            'path.repo': self.repo_dirs,
            # the test machine's disk may be nearly full: never let watermarks block allocation
            'cluster.routing.allocation.disk.threshold_enabled': False,
            'action.destructive_requires_name': False,
        }
        if self.seeds is None:
            settings['discovery.type'] = 'single-node'
        else:
            settings['discovery.seed_hosts'] = self.seeds
            settings['cluster.initial_cluster_manager_nodes'] = self.managers
        settings.update(self.settings)
        return settings

    def _write_config(self):
        for sub in ('config', 'data', 'logs', 'modules', 'plugins'):
            os.makedirs(os.path.join(self.home, sub), exist_ok=True)
        for d in self.repo_dirs:
            os.makedirs(d, exist_ok=True)
        # JSON is YAML: the node reads config/opensearch.yml
        with open(os.path.join(self.home, 'config', 'opensearch.yml'), 'w') as f:
            json.dump(self.node_settings(), f, indent=1)
        secure = os.path.join(self.home, 'config', 'secure.properties')
        if self.secure:
            with open(secure, 'w') as f:
                for k, v in sorted(self.secure.items()):
                    f.write('%s=%s\n' % (k, v))
            os.chmod(secure, 0o600)
        elif os.path.exists(secure):
            os.unlink(secure)

    # -------------------------------------------------------------- life cycle

    def launch(self):
        """Start the JVM (not waiting)."""
        java, classpath = build(self.line)
        self._write_config()
        conf = os.path.join(self.home, 'config')
        env = {k: v for k, v in os.environ.items() if not k.startswith('AWS_') and k != 'JAVA_TOOL_OPTIONS'}
        env.update({
            'AWS_EC2_METADATA_DISABLED': 'true',   # the SDK must never look for the metadata address
            'AWS_REGION': 'us-east-1',
            'AWS_CONFIG_FILE': '/dev/null',
            'AWS_SHARED_CREDENTIALS_FILE': '/dev/null',
        })
        argv = [java, '-Xms' + HEAP, '-Xmx' + HEAP, '-XX:+UseSerialGC', '-Xss1m',
                '-Djava.awt.headless=true', '-Dfile.encoding=UTF-8',
                '-Dopensearch.path.home=' + self.home,
                '-Dopensearch.path.conf=' + conf,      # repository-s3 reads it (NPE without)
                '-Daws.disableEc2Metadata=true', '-Daws.region=us-east-1',
                '-Dlog4j2.disable.jmx=true', '-Dlog4j.shutdownHookEnabled=false',
                '-Dio.netty.noUnsafe=true', '-Dio.netty.recycler.maxCapacityPerThread=0',
                # the AWS SDK's netty client (repository-s3) sets Netty's processor count first
                '-Dopensearch.set.netty.runtime.available.processors=false']
        if LINES[self.line][0] >= 21:
            argv.append('--enable-native-access=ALL-UNNAMED')
        argv += ['-cp', classpath, 'org.lifeboat.opensearch.TestNode', self.home]
        self._t0 = time.time()
        log = open(self.log_path, 'ab')
        self.proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
                                     cwd=self.home)
        log.close()
        return self

    def wait_ready(self, status='yellow', timeout=START_TIMEOUT):
        deadline = time.time() + timeout
        while True:
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError('OpenSearch node %s exited with %s while starting:\n%s'
                                   % (self.name, self.proc.returncode, self.log_tail()))
            try:
                health = rest(self.url, path='/_cluster/health?wait_for_status=%s&timeout=1s' % status, timeout=5)
                if not health.get('timed_out'):
                    if self.started_seconds is None:
                        self.started_seconds = round(time.time() - self._t0, 1)
                    return health
            except (OSError, RestError, ValueError):
                pass
            if time.time() > deadline:
                raise RuntimeError('OpenSearch node %s was not %s within %d s:\n%s'
                                   % (self.name, status, timeout, self.log_tail()))
            time.sleep(0.5)

    def start(self, timeout=START_TIMEOUT):
        self.launch()
        try:
            self.wait_ready(timeout=timeout)
        except Exception:
            self.stop()
            raise
        return self

    def stop(self):
        stop_proc(self.proc, grace=30)
        self.proc = None

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def destroy(self):
        self.stop()
        shutil.rmtree(self.home, ignore_errors=True)

    def log_tail(self, chars=6000):
        try:
            with open(self.log_path, 'rb') as f:
                return f.read().decode('utf-8', 'replace')[-chars:]
        except OSError:
            return '(no log)'

    # -------------------------------------------------------------- REST

    def rest(self, method='GET', path='/', body=None, **kw):
        return rest(self.url, method, path, body, **kw)


class OsCluster(object):
    """Several nodes on loopback forming one cluster (all cluster-manager eligible, data on every node)."""

    def __init__(self, base, names, repo_dirs, line='os2', cluster_name='lifeboat-pair', settings=None):
        self.nodes = [OsNode(base, n, repo_dirs, line=line, cluster_name=cluster_name, settings=settings) for n in names]
        seeds = ['127.0.0.1:%d' % n.transport_port for n in self.nodes]
        for n in self.nodes:
            n.seeds = seeds
            n.managers = list(names)

    @property
    def url(self):
        return self.nodes[0].url

    @property
    def urls(self):
        return [n.url for n in self.nodes]

    def start(self, timeout=START_TIMEOUT):
        try:
            for n in self.nodes:
                n.launch()
            for n in self.nodes:
                n.wait_ready(timeout=timeout)
            want = len(self.nodes)
            rest(self.url, path='/_cluster/health?wait_for_nodes=%d&wait_for_status=green&timeout=%ds' % (want, timeout),
                 timeout=timeout + 10)
        except Exception:
            self.stop()
            raise
        return self

    def stop(self):
        for n in self.nodes:
            n.stop()

    def destroy(self):
        for n in self.nodes:
            n.destroy()


def main(argv):
    """``python osnode.py build``: build the launcher of every line this machine can run (scripts/test.sh)."""
    if argv[1:] != ['build']:
        sys.stderr.write('usage: osnode.py build\n')
        return 2
    for line in sorted(LINES):
        reason = unavailable(line)
        if reason:
            print('OpenSearch test node %s (%s): not built: %s' % (line, LINES[line][1], reason))
            continue
        started = time.time()
        build(line)
        print('OpenSearch test node %s (%s): ready (%.0f s)' % (line, LINES[line][1], time.time() - started))
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
