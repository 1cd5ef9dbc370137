#!/usr/bin/env python3
"""Writes opus-testkit/fixtures/opendata/<api>.json: for every open-data
endpoint of the OpenAPI files the SDK serves, a `data` value built from the
schema (required fields, the spec's examples where they fit, the first enum
value, the minimum number of items) and checked against the schema.

Run from the repository root: python3 tools/gen_opendata_fixtures.py
"""
import copy
import json
import os
import re
from urllib.parse import urlparse

import jsonschema
import yaml

SPECS = os.path.join(os.path.dirname(__file__), '..', '..', 'shared', 'specs', 'openapi')
OUT = os.path.join(os.path.dirname(__file__), '..', 'opus-testkit', 'fixtures', 'opendata')
APIS = ['channels', 'products-services', 'opendata-accounts', 'opendata-creditcards',
        'opendata-financings', 'opendata-invoicefinancings', 'opendata-loans', 'opendata-unarranged']

CANDIDATES = ['Texto de exemplo', 'NA', 'https://www.banco-azul.com.br', '11222333000181',
              'BRL', '2026-11-29', '2026-11-29T12:00:00Z', '0.0150', '1.00', '100.00',
              '55', '11', '3003-0000', '01310100', '3550308', 'SP', 'Av. Paulista, 1000',
              '123', '0001', 'X']


def convert(node):
    """OpenAPI 3.0 `nullable` to JSON Schema."""
    if isinstance(node, dict):
        if node.pop('nullable', False) is True and 'type' in node:
            node['type'] = [node['type'], 'null']
        for v in node.values():
            convert(v)
    elif isinstance(node, list):
        for v in node:
            convert(v)


def fits(schema, value):
    try:
        jsonschema.validate(value, {k: v for k, v in schema.items()
                                    if k in ('type', 'pattern', 'maxLength', 'minLength', 'enum',
                                             'minimum', 'maximum', 'format')},
                            format_checker=jsonschema.FormatChecker())
        return True
    except Exception:
        return False


class Gen:
    def __init__(self, doc):
        self.doc = doc

    def resolve(self, s):
        while '$ref' in s:
            path = s['$ref'].lstrip('#/').split('/')
            node = self.doc
            for p in path:
                node = node[p]
            s = {**node, **{k: v for k, v in s.items() if k != '$ref'}}
        return s

    def merged(self, s):
        s = self.resolve(s)
        if 'allOf' in s:
            out = {k: v for k, v in s.items() if k != 'allOf'}
            props = dict(out.get('properties', {}))
            req = list(out.get('required', []))
            for part in s['allOf']:
                part = self.merged(part)
                props.update(part.get('properties', {}))
                req += part.get('required', [])
                for k, v in part.items():
                    if k not in ('properties', 'required'):
                        out.setdefault(k, v)
            out['properties'] = props
            out['required'] = req
            return out
        if 'oneOf' in s or 'anyOf' in s:
            return self.merged((s.get('oneOf') or s.get('anyOf'))[0])
        return s

    def value(self, s):
        s = self.merged(s)
        t = s.get('type')
        if isinstance(t, list):
            t = [x for x in t if x != 'null'][0]
        if 'enum' in s:
            return s['enum'][0]
        if t == 'object' or 'properties' in s:
            out = {}
            for name in s.get('required', []):
                prop = s.get('properties', {}).get(name, {'type': 'string'})
                out[name] = self.value(prop)
            return out
        if t == 'array':
            n = max(1, s.get('minItems', 1))
            return [self.value(s.get('items', {'type': 'string'})) for _ in range(n)]
        if t in ('number', 'integer'):
            ex = s.get('example')
            if isinstance(ex, (int, float)) and fits(s, ex):
                return ex
            return s.get('minimum', 1)
        if t == 'boolean':
            return s.get('example', True) if isinstance(s.get('example', True), bool) else True
        ex = s.get('example')
        if isinstance(ex, str) and fits(s, ex):
            return ex
        for c in CANDIDATES:
            if fits(s, c):
                return c
        return 'X'


def main():
    os.makedirs(OUT, exist_ok=True)
    for api in APIS:
        folder = os.path.join(SPECS, api)
        name = sorted(f for f in os.listdir(folder) if f.endswith('.yml'))[-1]
        doc = yaml.safe_load(open(os.path.join(folder, name)))
        convert(doc)
        gen = Gen(doc)
        base = urlparse(doc['servers'][0]['url']).path.rstrip('/')
        out = {}
        for path, item in doc['paths'].items():
            schema = item['get']['responses']['200']['content']['application/json']['schema']
            body = gen.value(schema)
            root = copy.deepcopy(doc)
            root['$ref'] = schema['$ref']
            jsonschema.Draft202012Validator(root, format_checker=jsonschema.FormatChecker()).validate(body)
            out[base + path] = body['data']
        with open(os.path.join(OUT, api + '.json'), 'w') as f:
            json.dump(out, f, ensure_ascii=False, indent=1)
        print(api, len(out))


main()
