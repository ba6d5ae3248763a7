# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lifeboat.backup maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The OpenSearch REST adapter: every HTTP call of the OpenSearch modules goes through Client.call().

HTTP goes through Ansible's own ``module_utils.urls.Request`` (urllib underneath): it needs nothing installed
on the host that runs the module, does TLS with a CA file, client certificates and ``validate_certs`` the way
every Ansible module does, and basic auth. The snapshot API is a handful of JSON calls; opensearch-py or
elasticsearch-py would add a dependency (and two incompatible ones across OpenSearch and Elasticsearch) for
nothing these calls need. AWS SigV4 (Amazon OpenSearch Service) signs each request with botocore's SigV4Auth
when botocore is installed.

Several node URLs may be given: a call that cannot connect to one goes to the next (the one that answered
is tried first next time). HTTP errors are answers, not failover reasons: they become typed errors
(logic.http_error).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import socket
import ssl

from ansible.module_utils.six.moves.urllib.error import HTTPError, URLError
from ansible.module_utils.six.moves.urllib.parse import quote, urlsplit
from ansible.module_utils.urls import ConnectionError as UrlsConnectionError, Request, SSLValidationError

from ansible_collections.lifeboat.backup.plugins.module_utils._errors import ConfigError, DeniedError, UnreachableError
from ansible_collections.lifeboat.backup.plugins.module_utils._opensearch import logic as os_logic

try:
    import botocore.session
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
    HAS_BOTOCORE = True
except ImportError:
    HAS_BOTOCORE = False


def path(*parts):
    """A URL path from parts, each quoted (index and snapshot names may hold characters URLs reserve)."""
    return '/' + '/'.join(quote(str(p), safe=',*-_.') for p in parts if p not in (None, ''))


# ---------------------------------------------------------------- SigV4

def sigv4_credentials(params):
    """botocore Credentials from the options, or from botocore's chain (env, profile, instance role)."""
    if not HAS_BOTOCORE:
        raise ConfigError('auth_type=sigv4 needs botocore (pip install boto3) on the host that runs the module')
    if params.get('aws_access_key'):
        return Credentials(params['aws_access_key'], params['aws_secret_key'], params.get('aws_session_token'))
    session = botocore.session.Session(profile=params.get('aws_profile') or None)
    creds = session.get_credentials()
    if creds is None:
        raise DeniedError('auth_type=sigv4: no AWS credentials found (give aws_access_key/aws_secret_key, '
                          'aws_profile, or run where an instance role is available)')
    return creds.get_frozen_credentials()


def sigv4_headers(method, url, body, headers, credentials, region, service):
    """The headers of a request signed with SigV4 (botocore's SigV4Auth; its clock gives the time)."""
    request = AWSRequest(method=method, url=url, data=body or b'', headers=dict(headers))
    if service == 'aoss':
        # OpenSearch Serverless wants the payload hash as a header
        import hashlib
        request.headers['X-Amz-Content-SHA256'] = hashlib.sha256(body or b'').hexdigest()
    SigV4Auth(credentials, service, region).add_auth(request)
    return dict(request.headers.items())


# ---------------------------------------------------------------- the client

class Client(object):
    """REST calls to one cluster through any of its node URLs."""

    def __init__(self, params, opener=None, log=None):
        hosts = [h.rstrip('/') for h in params.get('hosts') or [] if h and h.strip()]
        if not hosts:
            raise ConfigError('hosts: give at least one node URL, e.g. https://search1:9200')
        for host in hosts:
            parts = urlsplit(host)
            if parts.scheme not in ('http', 'https') or not parts.hostname:
                raise ConfigError('hosts: %r is not an http(s) URL' % host)
        self.hosts = hosts
        self.timeout = int(params.get('request_timeout') or 60)
        self.auth_type = params.get('auth_type') or 'auto'
        if self.auth_type == 'auto':
            self.auth_type = 'basic' if params.get('username') else 'none'
        if self.auth_type == 'basic' and not params.get('username'):
            raise ConfigError('auth_type=basic needs username (and password)')
        self.region = params.get('aws_region')
        self.service = params.get('aws_service') or 'es'
        self.credentials = None
        if self.auth_type == 'sigv4':
            if not self.region:
                raise ConfigError('auth_type=sigv4 needs aws_region')
            self.credentials = sigv4_credentials(params)
        self.request = opener or Request(
            timeout=self.timeout, validate_certs=params.get('validate_certs', True), ca_path=params.get('ca_path'),
            client_cert=params.get('client_cert'), client_key=params.get('client_key'),
            url_username=params.get('username') if self.auth_type == 'basic' else None,
            url_password=params.get('password') if self.auth_type == 'basic' else None,
            force_basic_auth=self.auth_type == 'basic', follow_redirects='none', use_netrc=False,
            http_agent='lifeboat.backup')
        self.log = log or (lambda _msg: None)
        self.last_host = None

    def describe(self):
        return ', '.join(self.hosts)

    def call(self, method, url_path, body=None, query=None, timeout=None, ok_missing=False):
        """One REST call; returns the parsed JSON answer (None for an empty body, or 404 with ``ok_missing``)."""
        what = '%s %s' % (method, url_path.lstrip('/'))
        if query:
            url_path += '?' + '&'.join('%s=%s' % (k, quote(_query_value(v), safe=',*')) for k, v in sorted(query.items())
                                       if v is not None)
        data = None if body is None else json.dumps(body).encode('utf-8')
        order = list(self.hosts)
        if self.last_host in order:
            order.remove(self.last_host)
            order.insert(0, self.last_host)
        errors = []
        for host in order:
            url = host + url_path
            headers = {'Accept': 'application/json'}
            if data is not None:
                headers['Content-Type'] = 'application/json'
            if self.auth_type == 'sigv4':
                headers = sigv4_headers(method, url, data, headers, self.credentials, self.region, self.service)
            try:
                resp = self.request.open(method, url, data=data, headers=headers, timeout=timeout or self.timeout)
                raw = resp.read()
            except HTTPError as e:
                self.last_host = host
                status, parsed = e.code, _parse(_read_error(e))
                if status == 404 and ok_missing:
                    return None
                raise os_logic.http_error(status, parsed, what)
            except (URLError, socket.timeout, ssl.SSLError, UrlsConnectionError, OSError) as e:
                reason = getattr(e, 'reason', None) or e
                if isinstance(e, SSLValidationError) or isinstance(reason, ssl.SSLError) or 'CERTIFICATE' in str(reason).upper():
                    raise UnreachableError('%s: TLS with %s failed: %s (check ca_path, or validate_certs)'
                                           % (what, host, reason))
                errors.append('%s: %s' % (host, reason))
                self.log('OpenSearch node %s did not answer %s: %s' % (host, what, reason))
                continue
            self.last_host = host
            return _parse(raw)
        raise UnreachableError('%s: no OpenSearch node answered (%s)' % (what, '; '.join(errors)), hosts=self.hosts)


def _query_value(value):
    if isinstance(value, bool):
        return 'true' if value else 'false'
    if isinstance(value, (list, tuple)):
        return ','.join(str(v) for v in value)
    return str(value)


def _read_error(err):
    try:
        return err.read()
    except Exception:  # pylint: disable=broad-except
        return b''


def _parse(raw):
    if not raw:
        return None
    try:
        return json.loads(raw.decode('utf-8'))
    except (ValueError, UnicodeDecodeError):
        return raw.decode('utf-8', 'replace')
