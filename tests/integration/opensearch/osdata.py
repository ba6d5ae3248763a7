# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lifeboat.backup maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The OpenSearch test data set: an index template, indices with mappings and aliases, known documents.

``load(url)`` creates it; ``fingerprint(url, indices)`` is what a restore must give back: per index the
document count, a sum over a numeric field, the mapping and the alias names.
"""
import json

from osnode import rest

TEMPLATE = {
    'index_patterns': ['logs-*'],
    'template': {
        'settings': {'number_of_shards': 2, 'number_of_replicas': 0},
        'mappings': {'properties': {'ts': {'type': 'date'}, 'level': {'type': 'keyword'},
                                    'message': {'type': 'text'}, 'n': {'type': 'long'}}},
        'aliases': {'logs': {}},
    },
}

INDICES = {
    'orders': {
        'settings': {'number_of_shards': 3, 'number_of_replicas': 0},
        'mappings': {'properties': {'order_id': {'type': 'keyword'}, 'amount': {'type': 'long'},
                                    'customer': {'type': 'keyword'}, 'placed': {'type': 'date'},
                                    'lines': {'type': 'nested', 'properties': {'sku': {'type': 'keyword'}}}}},
        'aliases': {'orders-current': {}, 'big-orders': {'filter': {'range': {'amount': {'gte': 900}}}}},
        'docs': 3000,
    },
    'customers': {
        'settings': {'number_of_shards': 1, 'number_of_replicas': 0},
        'mappings': {'properties': {'name': {'type': 'text', 'fields': {'raw': {'type': 'keyword'}}},
                                    'n': {'type': 'long'}, 'country': {'type': 'keyword'}}},
        'aliases': {'people': {}},
        'docs': 1500,
    },
}
TEMPLATED = {'logs-2026.11': 2500}


def _doc(index, i):
    if index == 'orders':
        return {'order_id': 'o-%05d' % i, 'amount': (i * 37) % 1000, 'customer': 'c-%04d' % (i % 1500),
                'placed': '2026-11-%02dT10:00:00Z' % (1 + i % 28), 'lines': [{'sku': 's-%d' % (i % 17)}, {'sku': 'x'}]}
    if index == 'customers':
        return {'name': u'Kund\u00e9 %d' % i, 'n': i, 'country': ['de', 'fr', 'jp'][i % 3]}
    return {'ts': '2026-11-%02dT%02d:00:00Z' % (1 + i % 28, i % 24), 'level': ['info', 'warn', 'error'][i % 3],
            'message': 'event number %d' % i, 'n': i}


def bulk(url, index, count, start=0):
    batch = 1000
    for first in range(start, start + count, batch):
        lines = []
        for i in range(first, min(first + batch, start + count)):
            lines.append(json.dumps({'index': {'_index': index, '_id': str(i)}}))
            lines.append(json.dumps(_doc(index, i)))
        answer = rest(url, 'POST', '/_bulk', ndjson='\n'.join(lines) + '\n')
        assert not answer['errors'], json.dumps(answer)[:2000]


def load(url):
    rest(url, 'PUT', '/_index_template/logs-template', TEMPLATE)
    for name, spec in INDICES.items():
        rest(url, 'PUT', '/' + name, {k: spec[k] for k in ('settings', 'mappings', 'aliases')})
        bulk(url, name, spec['docs'])
    for name, count in TEMPLATED.items():
        bulk(url, name, count)
    rest(url, 'POST', '/_refresh')
    rest(url, 'GET', '/_cluster/health?wait_for_status=green&timeout=60s')


NAMES = sorted(list(INDICES) + list(TEMPLATED))
NUMERIC = {'orders': 'amount', 'customers': 'n'}


def fingerprint(url, indices=None):
    out = {}
    for name in indices or NAMES:
        rest(url, 'POST', '/%s/_refresh' % name)
        field = NUMERIC.get(name, 'n')
        query = {'size': 0, 'track_total_hits': True, 'aggs': {'s': {'sum': {'field': field}}}}
        agg = rest(url, 'POST', '/%s/_search' % name, query)
        mapping = rest(url, 'GET', '/%s/_mapping' % name)
        aliases = rest(url, 'GET', '/%s/_alias' % name)
        only = list(mapping.values())[0]
        out[name] = {'hits': agg['hits']['total']['value'], 'sum': agg['aggregations']['s']['value'],
                     'mapping': only['mappings'], 'aliases': sorted(list(aliases.values())[0]['aliases'])}
    return out


def delete_indices(url, pattern):
    rest(url, 'DELETE', '/%s?expand_wildcards=all' % pattern)
