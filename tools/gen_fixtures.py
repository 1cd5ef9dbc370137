#!/usr/bin/env python3
"""Builds example records for the synthetic connectors of opus-testkit from
the official OpenAPI schemas: every required property, and every optional one
that has an example, filled with the spec's own examples (or enum values).

    python3 tools/gen_fixtures.py ../shared/specs/openapi opus-testkit/fixtures

The synthetic bank then personalises names, documents and ids at run time.
"""
import json
import sys
from pathlib import Path

import yaml

WANTED = {
    "customers/2.2.1.yml": [
        "PersonalIdentificationData",
        "PersonalQualificationData",
        "PersonalFinancialRelationData",
        "BusinessIdentificationData",
        "BusinessQualificationData",
        "BusinessFinancialRelationData",
    ],
    "credit-cards/2.3.1.yml": [
        "CreditCardAccountsData",
        "CreditCardsAccountsIdentificationData",
        "CreditCardAccountsLimitsData",
        "CreditCardAccountsBillsData",
        "CreditCardAccountsBillsTransactions",
        "CreditCardAccountsTransaction",
    ],
    "loans/2.5.0.yml": [
        "LoansListContract",
        "LoansContract",
        "LoansWarranties",
        "LoansInstalments",
        "LoansPayments",
    ],
    "financings/2.4.0.yml": [
        "FinancingsListContract",
        "FinancingsContract",
        "FinancingsWarranties",
        "FinancingsInstalments",
        "FinancingsPayments",
    ],
    "invoice-financings/2.4.0.yml": [
        "InvoiceFinancingsContractData",
        "InvoiceFinancingsContract",
        "InvoiceFinancingsContractedWarranty",
        "InvoiceFinancingsInstalments",
        "InvoiceFinancingsPayments",
    ],
    "unarranged-accounts-overdraft/2.5.0.yml": [
        "UnarrangedAccountOverdraftContractListData",
        "UnarrangedAccountOverdraftContractData",
        "UnarrangedAccountsOverdraftContractedWarranty",
        "UnarrangedAccountOverdraftInstalmentsData",
        "UnarrangedAccountOverdraftPaymentsData",
    ],
}

DEFAULTS = {"date": "2021-05-21", "date-time": "2021-05-21T08:30:00Z", "uuid": "a7fbb3b6-6b38-4ba2-b3ae-b7c3b3f21d4c"}


def resolve(doc, node):
    while isinstance(node, dict) and "$ref" in node:
        path = node["$ref"].lstrip("#/").split("/")
        node = doc
        for p in path:
            node = node[p]
    return node


def build(doc, schema, depth=0):
    schema = resolve(doc, schema)
    if depth > 12:
        return None
    if "allOf" in schema:
        out = {}
        for part in schema["allOf"]:
            v = build(doc, part, depth + 1)
            if isinstance(v, dict):
                out.update(v)
        return out
    for key in ("oneOf", "anyOf"):
        if key in schema:
            return build(doc, schema[key][0], depth + 1)
    t = schema.get("type")
    if t == "object" or "properties" in schema:
        out = {}
        required = set(schema.get("required", []))
        for name, prop in schema.get("properties", {}).items():
            resolved = resolve(doc, prop)
            if name in required or "example" in resolved or "example" in prop:
                value = build(doc, prop, depth + 1)
                if value is not None:
                    out[name] = value
        return out
    if t == "array":
        item = build(doc, schema.get("items", {}), depth + 1)
        return [] if item is None else [item]
    if "example" in schema:
        return schema["example"]
    if "enum" in schema:
        return schema["enum"][0]
    if t == "string":
        return DEFAULTS.get(schema.get("format"), "NA")
    if t in ("number", "integer"):
        return 1
    if t == "boolean":
        return True
    return None


def main(specs, out):
    for spec, names in WANTED.items():
        doc = yaml.safe_load(Path(specs, spec).read_text())
        api = spec.split("/")[0]
        for name in names:
            value = build(doc, doc["components"]["schemas"][name])
            target = Path(out, api, f"{name}.json")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(json.dumps(value, indent=2, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
