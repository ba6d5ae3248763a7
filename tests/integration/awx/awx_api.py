# -*- coding: utf-8 -*-
"""A small stand-in for AWX's REST API (/api/v2/), written for the tests: no AWX server can run here.

It answers the requests the awx.awx modules of playbooks/awx_configure.yml make, the way AWX 24 answers them:
token login with basic auth, list views with exact and ``or__`` filters and ``count``/``next``/``results``,
create (201), detail, PATCH (200), DELETE (204), association sub-lists (POST ``{id}`` / ``{id, disassociate}``,
204), survey specs, ``unified_job_templates``, ``$encrypted$`` for secret credential inputs, the
``X-API-Product-*`` headers. It validates what AWX validates and what a wrong configuration would trip over:
required fields, unique names, references to objects that exist, a job template's playbook among its project's
playbooks, credential type inputs and injectors (templates may only use defined fields), credential inputs
against their type, one credential per type on a template, survey specs, and schedules' rrules (parsed with
dateutil, DTSTART with a time zone, computing ``next_run`` as AWX does). Every object and every request is
recorded so the tests can check objects, relations and idempotence.
"""
import base64
import datetime
import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlparse

import jinja2
import jinja2.sandbox

API = '/api/v2/'
ENCRYPTED = '$encrypted$'

# endpoint -> object type
TYPES = {
    'organizations': 'organization',
    'projects': 'project',
    'inventories': 'inventory',
    'credential_types': 'credential_type',
    'credentials': 'credential',
    'execution_environments': 'execution_environment',
    'job_templates': 'job_template',
    'workflow_job_templates': 'workflow_job_template',
    'workflow_job_template_nodes': 'workflow_job_template_node',
    'schedules': 'schedule',
    'notification_templates': 'notification_template',
    'labels': 'label',
    'instance_groups': 'instance_group',
}
NOTIFICATIONS = ('notification_templates_started', 'notification_templates_success', 'notification_templates_error')
# object type -> association name -> endpoint of the associated objects
ASSOCIATIONS = {
    'job_template': dict({'credentials': 'credentials', 'labels': 'labels', 'instance_groups': 'instance_groups'},
                         **dict.fromkeys(NOTIFICATIONS, 'notification_templates')),
    'workflow_job_template': dict({'labels': 'labels', 'notification_templates_approvals': 'notification_templates'},
                                  **dict.fromkeys(NOTIFICATIONS, 'notification_templates')),
    'workflow_job_template_node': {'success_nodes': 'workflow_job_template_nodes',
                                   'failure_nodes': 'workflow_job_template_nodes',
                                   'always_nodes': 'workflow_job_template_nodes',
                                   'credentials': 'credentials', 'labels': 'labels', 'instance_groups': 'instance_groups'},
    'schedule': {'credentials': 'credentials', 'labels': 'labels', 'instance_groups': 'instance_groups'},
}
# fields holding the id of another object, and where it lives
REFERENCES = {
    'organization': 'organizations', 'project': 'projects', 'inventory': 'inventories',
    'credential_type': 'credential_types', 'execution_environment': 'execution_environments',
    'workflow_job_template': 'workflow_job_templates', 'webhook_credential': 'credentials',
}
UNIFIED = ('job_templates', 'workflow_job_templates', 'projects')
SURVEY_TYPES = ('text', 'textarea', 'password', 'integer', 'float', 'multiplechoice', 'multiselect')
RRULE_FREQ = ('MINUTELY', 'HOURLY', 'DAILY', 'WEEKLY', 'MONTHLY', 'YEARLY')


class ApiError(Exception):
    def __init__(self, code, body):
        super().__init__(code, body)
        self.code = code
        self.body = body


def _bad(field, message):
    raise ApiError(400, {field: [message]})


class AwxState(object):
    """The objects (by endpoint and id), associations, survey specs and the request log."""

    def __init__(self, username, password, project_playbooks):
        self.username = username
        self.password = password
        self.project_playbooks = project_playbooks      # project name -> playbook paths AWX found in it
        self.lock = threading.Lock()
        self.objects = {endpoint: {} for endpoint in TYPES}
        self.assoc = {}                                   # (endpoint, id, name) -> [ids] in order
        self.surveys = {}                                 # (endpoint, id) -> spec
        self.tokens = {}
        self.requests = []
        self.next_id = 1

    # -- objects --------------------------------------------------------------------------------------------
    def _new_id(self):
        self.next_id += 1
        return self.next_id

    def find(self, endpoint, **fields):
        return [obj for obj in self.objects[endpoint].values()
                if all(obj.get(key) == value for key, value in fields.items())]

    def one(self, endpoint, **fields):
        found = self.find(endpoint, **fields)
        assert len(found) == 1, (endpoint, fields, found)
        return found[0]

    def associated(self, endpoint, obj_id, name):
        return list(self.assoc.get((endpoint, obj_id, name), []))

    def seed(self, endpoint, **fields):
        """Create an object as if an admin had made it in AWX before (organization, project, inventory...)."""
        with self.lock:
            return self._create(endpoint, fields)

    def _url(self, endpoint, obj_id):
        return '%s%s/%d/' % (API, endpoint, obj_id)

    def _render(self, endpoint, obj):
        out = dict(obj)
        kind = TYPES[endpoint]
        out['related'] = {name: out['url'] + name + '/' for name in ASSOCIATIONS.get(kind, {})}
        if kind in ('job_template', 'workflow_job_template'):
            out['related']['survey_spec'] = out['url'] + 'survey_spec/'
        if kind == 'credential':
            ctype = self.objects['credential_types'][obj['credential_type']]
            secret = {f['id'] for f in ctype['inputs'].get('fields', []) if f.get('secret')}
            out['inputs'] = {key: (ENCRYPTED if key in secret and value != '' else value)
                             for key, value in obj.get('inputs', {}).items()}
        out['summary_fields'] = {}
        for field, target in REFERENCES.items():
            if out.get(field) is not None and out[field] in self.objects[target]:
                ref = self.objects[target][out[field]]
                out['summary_fields'][field] = {'id': ref['id'], 'name': ref.get('name')}
        return out

    # -- validation as AWX does it --------------------------------------------------------------------------
    def _check_references(self, fields):
        for field, target in REFERENCES.items():
            value = fields.get(field)
            if value not in (None, '') and value not in self.objects[target]:
                _bad(field, 'Invalid pk "%s" - object does not exist.' % value)
        template = fields.get('unified_job_template')
        if template is not None and not any(template in self.objects[ep] for ep in UNIFIED):
            _bad('unified_job_template', 'Invalid pk "%s" - object does not exist.' % template)

    def _check_unique(self, endpoint, obj_id, merged):
        kind = TYPES[endpoint]
        if kind == 'workflow_job_template_node':
            key = ('workflow_job_template', 'identifier')
        elif kind == 'schedule':
            key = ('unified_job_template', 'name')
        elif kind in ('credential_type', 'organization', 'instance_group'):
            key = ('name',)
        elif kind == 'credential':
            key = ('organization', 'credential_type', 'name')
        else:
            key = ('organization', 'name')
        for other in self.objects[endpoint].values():
            if other['id'] != obj_id and all(other.get(k) == merged.get(k) for k in key):
                raise ApiError(400, {'__all__': ['%s with this %s already exists.' % (kind, ' and '.join(key))]})

    def _check(self, endpoint, obj_id, merged):
        kind = TYPES[endpoint]
        if kind != 'workflow_job_template_node' and not merged.get('name'):
            _bad('name', 'This field is required.')
        self._check_references(merged)
        self._check_unique(endpoint, obj_id, merged)
        for field in ('extra_vars', 'extra_data'):
            if isinstance(merged.get(field), str) and merged[field]:
                try:
                    json.loads(merged[field])
                except ValueError:
                    _bad(field, 'Must be valid JSON or YAML.')
        check = getattr(self, '_check_' + kind, None)
        if check:
            check(merged)

    def _check_job_template(self, jt):
        if jt.get('project') is None:
            _bad('project', 'This field is required.')
        if not jt.get('playbook'):
            _bad('playbook', 'This field is required.')
        project = self.objects['projects'][jt['project']]
        if jt['playbook'] not in self.project_playbooks.get(project['name'], []):
            _bad('playbook', 'Playbook not found for project.')
        if jt.get('inventory') is None and not jt.get('ask_inventory_on_launch'):
            _bad('inventory', 'Job Template must provide \'inventory\' or allow prompting for it.')
        if int(jt.get('job_slice_count') or 1) < 1:
            _bad('job_slice_count', 'Ensure this value is greater than or equal to 1.')

    def _check_credential_type(self, ctype):
        if ctype.get('managed'):
            return                                        # AWX's own types (Machine, Amazon Web Services...)
        if ctype.get('kind') not in ('cloud', 'net'):
            _bad('kind', 'Must be cloud or net for a custom credential type.')
        fields = ctype.get('inputs', {}).get('fields', [])
        ids = []
        for field in fields:
            if not re.match(r'^[a-zA-Z_][a-zA-Z0-9_]*$', field.get('id', '')) or not field.get('label'):
                _bad('inputs', 'every field needs an id (a variable name) and a label: %r' % (field,))
            if field.get('type', 'string') not in ('string', 'boolean'):
                _bad('inputs', 'field type must be string or boolean: %r' % (field,))
            ids.append(field['id'])
        if len(set(ids)) != len(ids):
            _bad('inputs', 'field ids must be unique')
        injectors = ctype.get('injectors', {})
        if set(injectors) - {'env', 'extra_vars', 'file'}:
            _bad('injectors', 'unknown injector types %s' % sorted(set(injectors) - {'env', 'extra_vars', 'file'}))
        env = jinja2.sandbox.ImmutableSandboxedEnvironment(undefined=jinja2.StrictUndefined)
        namespace = dict.fromkeys(ids, 'x')
        namespace['tower'] = namespace['awx'] = {'filename': '/tmp/x'}
        for section in ('env', 'extra_vars'):
            for name, template in injectors.get(section, {}).items():
                if not re.match(r'^[a-zA-Z_][a-zA-Z0-9_]*$', name):
                    _bad('injectors', '%s is not a valid variable name' % name)
                self._render_template(env, template, namespace)

    def _render_template(self, env, template, namespace):
        if isinstance(template, dict):
            for value in template.values():
                self._render_template(env, value, namespace)
            return
        try:
            env.from_string(str(template)).render(**namespace)
        except jinja2.TemplateError as e:
            _bad('injectors', 'Syntax error rendering template for %s: %s' % (template, e))

    def _check_credential(self, cred):
        ctype = self.objects['credential_types'].get(cred.get('credential_type'))
        if ctype is None:
            _bad('credential_type', 'This field is required.')
        known = {f['id'] for f in ctype['inputs'].get('fields', [])}
        unknown = set(cred.get('inputs', {})) - known
        if unknown:
            _bad('inputs', 'Additional properties are not allowed (%s were unexpected)' % ', '.join(sorted(unknown)))

    def _check_workflow_job_template_node(self, node):
        if node.get('workflow_job_template') is None:
            _bad('workflow_job_template', 'This field is required.')

    def _check_schedule(self, schedule):
        if schedule.get('unified_job_template') is None:
            _bad('unified_job_template', 'This field is required.')
        schedule.update(rrule_facts(schedule.get('rrule', '')))

    # -- verbs ----------------------------------------------------------------------------------------------
    def _create(self, endpoint, fields):
        obj_id = self._new_id()
        obj = dict(fields, id=obj_id, type=TYPES[endpoint], url=self._url(endpoint, obj_id))
        if endpoint == 'credential_types':
            obj.setdefault('inputs', {})
            obj.setdefault('injectors', {})
        self._check(endpoint, obj_id, obj)
        self.objects[endpoint][obj_id] = obj
        return obj

    def create(self, endpoint, fields):
        return self._render(endpoint, self._create(endpoint, fields))

    def update(self, endpoint, obj_id, fields):
        obj = self._get(endpoint, obj_id)
        merged = dict(obj)
        for key, value in fields.items():
            if key in ('id', 'type', 'url'):
                continue
            if key == 'inputs' and endpoint == 'credentials':
                # AWX keeps a secret whose new value is $encrypted$
                value = {k: (obj.get('inputs', {}).get(k) if v == ENCRYPTED else v) for k, v in value.items()}
            merged[key] = value
        self._check(endpoint, obj_id, merged)
        self.objects[endpoint][obj_id] = merged
        return self._render(endpoint, merged)

    def _get(self, endpoint, obj_id):
        obj = self.objects.get(endpoint, {}).get(obj_id)
        if obj is None:
            raise ApiError(404, {'detail': 'Not found.'})
        return obj

    def detail(self, endpoint, obj_id):
        return self._render(endpoint, self._get(endpoint, obj_id))

    def delete(self, endpoint, obj_id):
        self._get(endpoint, obj_id)
        del self.objects[endpoint][obj_id]
        for key in [k for k in self.assoc if k[:2] == (endpoint, obj_id)]:
            del self.assoc[key]

    def listing(self, endpoint, query):
        if endpoint == 'unified_job_templates':
            pool = [(ep, obj) for ep in UNIFIED for obj in self.objects[ep].values()]
        else:
            pool = [(endpoint, obj) for obj in self.objects[endpoint].values()]
        rendered = [self._render(ep, obj) for ep, obj in pool]
        exact = {k: v for k, v in query.items() if not k.startswith('or__') and k not in ('page_size', 'page', 'order_by')}
        either = {k[4:]: v for k, v in query.items() if k.startswith('or__')}

        def matches(obj, field, value):
            have = obj.get(field)
            if isinstance(have, bool):
                return str(have).lower() == value.lower()
            return have is not None and str(have) == value

        results = [obj for obj in rendered
                   if all(matches(obj, k, v) for k, v in exact.items())
                   and (not either or any(matches(obj, k, v) for k, v in either.items()))]
        results.sort(key=lambda obj: obj['id'])
        return {'count': len(results), 'next': None, 'previous': None, 'results': results}

    def association_list(self, endpoint, obj_id, name):
        self._get(endpoint, obj_id)
        target = ASSOCIATIONS[TYPES[endpoint]][name]
        ids = self.assoc.get((endpoint, obj_id, name), [])
        results = [self._render(target, self.objects[target][i]) for i in ids if i in self.objects[target]]
        return {'count': len(results), 'next': None, 'previous': None, 'results': results}

    def associate(self, endpoint, obj_id, name, body):
        self._get(endpoint, obj_id)
        target = ASSOCIATIONS[TYPES[endpoint]][name]
        other = body.get('id')
        if other not in self.objects[target]:
            raise ApiError(400, {'msg': 'Object with id %s not found' % other})
        ids = self.assoc.setdefault((endpoint, obj_id, name), [])
        if body.get('disassociate'):
            if other in ids:
                ids.remove(other)
            return
        if target == 'credentials' and other not in ids:
            kind = self.objects['credentials'][other]['credential_type']
            if any(self.objects['credentials'][i]['credential_type'] == kind for i in ids):
                ctype = self.objects['credential_types'][kind]['name']
                raise ApiError(400, {'error': 'Cannot assign multiple %s credentials.' % ctype})
        if target == 'workflow_job_template_nodes':
            node = self.objects['workflow_job_template_nodes'][other]
            if node['workflow_job_template'] != self.objects[endpoint][obj_id]['workflow_job_template']:
                raise ApiError(400, {'Error': 'Relationships across workflows are not allowed.'})
            if other == obj_id:
                raise ApiError(400, {'Error': 'Cycle detected.'})
        if other not in ids:
            ids.append(other)

    def survey(self, endpoint, obj_id, method, body):
        self._get(endpoint, obj_id)
        if method == 'GET':
            return self.surveys.get((endpoint, obj_id), {})
        if method == 'DELETE':
            self.surveys.pop((endpoint, obj_id), None)
            return {}
        check_survey(body)
        self.surveys[(endpoint, obj_id)] = body
        return {}


def check_survey(spec):
    if not isinstance(spec.get('name'), str) or not isinstance(spec.get('description'), str):
        raise ApiError(400, {'error': "'name' and 'description' missing from survey spec."})
    if not isinstance(spec.get('spec'), list) or not spec['spec']:
        raise ApiError(400, {'error': "'spec' must be a non-empty list of questions."})
    seen = set()
    for index, question in enumerate(spec['spec']):
        for key in ('question_name', 'variable', 'type', 'required'):
            if key not in question:
                raise ApiError(400, {'error': "'%s' missing from survey question %d." % (key, index)})
        if question['type'] not in SURVEY_TYPES:
            raise ApiError(400, {'error': "'%s' in survey question %d is not one of %s." % (
                question['type'], index, ', '.join(SURVEY_TYPES))})
        if question['variable'] in seen:
            raise ApiError(400, {'error': "'variable' '%s' duplicated in survey question %d." % (question['variable'], index)})
        seen.add(question['variable'])
        default = question.get('default', '')
        if question['type'] in ('multiplechoice', 'multiselect'):
            choices = question.get('choices')
            if isinstance(choices, str):
                choices = choices.split('\n')
            if not isinstance(choices, list) or not choices:
                raise ApiError(400, {'error': "'choices' missing from survey question %d." % index})
            wanted = default.split('\n') if isinstance(default, str) and question['type'] == 'multiselect' else [default]
            if default not in ('', None) and not set(wanted) <= set(choices):
                raise ApiError(400, {'error': "Default choice must be answered from the choices listed (question %d)." % index})
        elif question['type'] == 'integer' and default not in ('', None) and not isinstance(default, int):
            raise ApiError(400, {'error': "Value %s for '%s' expected to be an integer." % (default, question['variable'])})
        elif question['type'] in ('text', 'textarea', 'password') and not isinstance(default, str):
            raise ApiError(400, {'error': "Value %s for '%s' expected to be a string." % (default, question['variable'])})


def rrule_facts(rrule, now=None):
    """Validate an AWX rrule string and compute dtstart, timezone and next_run as AWX's Schedule does."""
    from dateutil import rrule as du_rrule
    from dateutil import tz

    match = re.match(r'^DTSTART(?:;TZID=([^:]+))?:(\d{8}T\d{6}Z?) (RRULE:.+)$', rrule or '')
    if not match:
        raise ApiError(400, {'rrule': ['Valid DTSTART required in rrule. Value should start with: DTSTART:YYYYMMDDTHHMMSSZ']})
    zone_name, start, rule = match.groups()
    if zone_name and start.endswith('Z'):
        raise ApiError(400, {'rrule': ['A DTSTART with TZID must not end in Z.']})
    zone = tz.gettz(zone_name) if zone_name else tz.UTC
    if zone is None:
        raise ApiError(400, {'rrule': ['Unknown time zone %s.' % zone_name]})
    parts = dict(item.split('=', 1) for item in rule[len('RRULE:'):].split(';'))
    if parts.get('FREQ') not in RRULE_FREQ:
        raise ApiError(400, {'rrule': ['FREQ must be one of %s.' % ', '.join(RRULE_FREQ)]})
    if 'COUNT' in parts and 'UNTIL' in parts:
        raise ApiError(400, {'rrule': ['RRULE may not contain both COUNT and UNTIL']})
    dtstart = datetime.datetime.strptime(start.rstrip('Z'), '%Y%m%dT%H%M%S').replace(tzinfo=zone)
    try:
        rule_set = du_rrule.rrulestr(rule, dtstart=dtstart, forceset=True)
    except ValueError as e:
        raise ApiError(400, {'rrule': [str(e)]})
    now = now or datetime.datetime.now(tz.UTC)
    upcoming = rule_set.after(now)
    return {
        'dtstart': dtstart.astimezone(tz.UTC).strftime('%Y-%m-%dT%H:%M:%SZ'),
        'timezone': zone_name or 'UTC',
        'next_run': upcoming.astimezone(tz.UTC).strftime('%Y-%m-%dT%H:%M:%SZ') if upcoming else None,
    }


class _Handler(BaseHTTPRequestHandler):
    server_version = 'awx-stand-in'
    # one request per connection (what AWX's nginx does for these clients is not the point of the tests)
    protocol_version = 'HTTP/1.0'

    def log_message(self, *args):
        pass

    @property
    def state(self):
        return self.server.state

    def _reply(self, code, body=None):
        data = b'' if body is None else json.dumps(body).encode()
        self.send_response(code)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(data)))
        self.send_header('X-API-Product-Name', 'AWX')
        self.send_header('X-API-Product-Version', '24.6.1')
        self.end_headers()
        self.wfile.write(data)

    def _authorized(self):
        header = self.headers.get('Authorization', '')
        if header.startswith('Bearer '):
            return header[7:] in self.state.tokens.values()
        if header.startswith('Basic '):
            user, _sep, password = base64.b64decode(header[6:]).decode().partition(':')
            return (user, password) == (self.state.username, self.state.password)
        return False

    def _body(self):
        length = int(self.headers.get('Content-Length') or 0)
        raw = self.rfile.read(length) if length else b''
        try:
            return json.loads(raw) if raw else {}
        except ValueError:
            raise ApiError(400, {'detail': 'JSON parse error'})

    def _handle(self, method):
        url = urlparse(self.path)
        query = dict(parse_qsl(url.query, keep_blank_values=True))
        try:
            body = self._body() if method in ('POST', 'PATCH', 'PUT') else {}
        except ApiError as e:
            self._reply(e.code, e.body)
            return
        with self.state.lock:
            self.state.requests.append((method, url.path, dict(query)))
            try:
                code, body = self._route(method, url.path, query, body)
            except ApiError as e:
                code, body = e.code, e.body
        self._reply(code, body)

    def _route(self, method, path, query, body):
        if not path.startswith(API):
            raise ApiError(404, {'detail': 'Not found.'})
        parts = [p for p in path[len(API):].split('/') if p]
        if parts == ['ping']:
            return 200, {'version': '24.6.1', 'active_node': 'stand-in'}
        if not self._authorized():
            # the basic-auth request that asks for a token fails here too when the password is wrong
            raise ApiError(401, {'detail': 'Authentication credentials were not provided.'})
        if parts[0] == 'tokens':
            if method == 'POST' and len(parts) == 1:
                token_id = self.state._new_id()
                self.state.tokens[token_id] = 'token-%d' % token_id
                return 201, {'id': token_id, 'token': self.state.tokens[token_id]}
            if method == 'DELETE' and len(parts) == 2:
                self.state.tokens.pop(int(parts[1]), None)
                return 204, None
        if parts == ['unified_job_templates'] and method == 'GET':
            return 200, self.state.listing('unified_job_templates', query)
        endpoint = parts[0]
        if endpoint not in TYPES:
            raise ApiError(404, {'detail': 'Not found.'})
        if len(parts) == 1:
            if method == 'GET':
                return 200, self.state.listing(endpoint, query)
            if method == 'POST':
                return 201, self.state.create(endpoint, body)
            raise ApiError(405, {'detail': 'Method not allowed.'})
        obj_id = int(parts[1])
        if len(parts) == 2:
            if method == 'GET':
                return 200, self.state.detail(endpoint, obj_id)
            if method in ('PATCH', 'PUT'):
                return 200, self.state.update(endpoint, obj_id, body)
            if method == 'DELETE':
                self.state.delete(endpoint, obj_id)
                return 204, None
            raise ApiError(405, {'detail': 'Method not allowed.'})
        sub = parts[2]
        if sub == 'survey_spec' and TYPES[endpoint] in ('job_template', 'workflow_job_template'):
            return 200, self.state.survey(endpoint, obj_id, method, body)
        if sub in ASSOCIATIONS.get(TYPES[endpoint], {}):
            if method == 'GET':
                return 200, self.state.association_list(endpoint, obj_id, sub)
            if method == 'POST':
                self.state.associate(endpoint, obj_id, sub, body)
                return 204, None
        raise ApiError(404, {'detail': 'Not found.'})

    def do_GET(self):
        self._handle('GET')

    def do_POST(self):
        self._handle('POST')

    def do_PATCH(self):
        self._handle('PATCH')

    def do_PUT(self):
        self._handle('PUT')

    def do_DELETE(self):
        self._handle('DELETE')


class AwxStandIn(object):
    """The stand-in server on 127.0.0.1 (a free port), in a thread; ``stop()`` ends it."""

    def __init__(self, username='admin', password='stand-in-password', project_playbooks=None):
        self.state = AwxState(username, password, project_playbooks or {})
        self.server = ThreadingHTTPServer(('127.0.0.1', 0), _Handler)
        self.server.daemon_threads = True
        self.server.state = self.state
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = 'http://127.0.0.1:%d' % self.server.server_address[1]

    def writes(self):
        """The requests that changed something (token logins and logouts left out)."""
        return [(method, path) for method, path, _body in self.state.requests
                if method != 'GET' and not path.startswith(API + 'tokens/')]

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
