#!/usr/bin/env python3
"""Generates the connector models of opus-core from the official OFB OpenAPI files.

    python3 tools/gen_connector_models.py [path/to/shared/specs/openapi]

For each data API it writes `opus-core/src/connector/models/<module>.rs`: one
serde struct per object schema reachable from an endpoint's `data`, one enum
per string enum, the field names and optionality exactly as the spec has them.
It also writes `opus-core/tests/fixtures/connector-examples.json`: for every
endpoint's `data` type, an instance assembled from the spec's own property
examples, which `opus-core/tests/connector_models.rs` round-trips through the
generated types.

Strings stay `String` (the transmitter validates formats against the schema),
`number` is `serde_json::Number` (exact round trip), `integer` is `i64`.
Re-run after updating the specs; the output is deterministic.
"""

import json
import os
import re
import sys

import yaml

APIS = [
    # (folder, module, title)
    ("customers", "customers", "Customers"),
    ("credit-cards", "credit_cards", "Credit-card accounts"),
    ("loans", "loans", "Loans"),
    ("financings", "financings", "Financings"),
    ("invoice-financings", "invoice_financings", "Invoice financings"),
    ("unarranged-accounts-overdraft", "unarranged_accounts_overdraft", "Unarranged account overdraft"),
]

RUST_KEYWORDS = {"type", "ref", "match", "move", "self", "loop", "use", "mod", "fn", "impl", "in", "as"}


def snake(name):
    s = re.sub(r"[^0-9a-zA-Z]+", "_", name)
    s = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", s)
    s = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", s).lower().strip("_")
    if s in RUST_KEYWORDS:
        s += "_"
    if s[0].isdigit():
        s = "n_" + s
    return s


def pascal(name):
    parts = re.split(r"[^0-9a-zA-Z]+", name)
    out = "".join(p[:1].upper() + p[1:] for p in parts if p)
    if out[0].isdigit():
        out = "N" + out
    return out


def variant(value):
    v = pascal(value.lower()) if value.isupper() or "_" in value else pascal(value)
    return v or "Empty"


def doc(text, fallback):
    text = (text or "").strip()
    if not text:
        return [fallback]
    text = text.replace("\r", "")
    first = re.split(r"\n\s*\n", text)[0]
    first = " ".join(line.strip() for line in first.splitlines())
    first = first.replace("<", "&lt;").replace(">", "&gt;")
    # Keep markdown links; escape other brackets (rustdoc would read them as
    # intra-doc links) and wrap bare URLs so rustdoc renders them.
    links = []

    def keep(match):
        links.append(match.group(0))
        return "\x00%d\x00" % (len(links) - 1)

    first = re.sub(r"\[[^\]]*\]\(https?://[^)\s]+\)", keep, first)
    first = first.replace("[", "\\[").replace("]", "\\]")
    first = re.sub(r"(https?://[^\s)]+)", r"<\1>", first)
    first = re.sub("\x00(\\d+)\x00", lambda m: links[int(m.group(1))], first)
    first = re.sub(r"\s+", " ", first)
    if len(first) > 300:
        cut = first[:300].rsplit(" ", 1)[0]
        first = cut + "…"
    return [first]


class Generator:
    def __init__(self, spec):
        self.spec = spec
        self.schemas = spec["components"]["schemas"]
        self.items = {}  # name -> rust source
        self.order = []

    def ref_name(self, ref):
        return ref.split("/")[-1]

    def resolve(self, schema):
        while "$ref" in schema:
            schema = self.schemas[self.ref_name(schema["$ref"])]
        return schema

    def type_of(self, schema, context):
        """Rust type for `schema`; emits named items as needed."""
        if "$ref" in schema:
            name = self.ref_name(schema["$ref"])
            return self.named(name)
        if "allOf" in schema:
            parts = schema["allOf"]
            if len(parts) == 1:
                return self.type_of(parts[0], context)
            merged = {"type": "object", "properties": {}, "required": []}
            for part in parts:
                part = self.resolve(part)
                merged["properties"].update(part.get("properties", {}))
                merged["required"] += part.get("required", [])
            merged["description"] = schema.get("description")
            return self.emit_object(context, merged)
        if "oneOf" in schema or "anyOf" in schema:
            return "serde_json::Value"
        t = schema.get("type")
        if t == "string":
            if "enum" in schema:
                return self.emit_enum(context, schema)
            return "String"
        if t == "integer":
            return "i64"
        if t == "number":
            return "serde_json::Number"
        if t == "boolean":
            return "bool"
        if t == "array":
            return "Vec<%s>" % self.type_of(schema.get("items", {}), context)
        if t == "object" or "properties" in schema:
            if not schema.get("properties"):
                return "serde_json::Map<String, serde_json::Value>"
            return self.emit_object(context, schema)
        return "serde_json::Value"

    def named(self, name):
        rust = pascal(name)
        if rust in self.items:
            return rust
        schema = self.schemas[name]
        self.items[rust] = None  # reserve (recursion guard)
        if "enum" in schema:
            self.emit_enum(rust, schema, reserve_ok=True)
        elif schema.get("type") == "string" or schema.get("type") in ("integer", "number", "boolean"):
            base = self.type_of({k: v for k, v in schema.items() if k != "enum"}, rust)
            lines = ["/// " + l for l in doc(schema.get("description"), "`%s`." % name)]
            self.items[rust] = "\n".join(lines + ["pub type %s = %s;" % (rust, base)])
            self.order.append(rust)
        else:
            self.emit_object(rust, schema, reserve_ok=True)
        return rust

    def emit_enum(self, name, schema, reserve_ok=False):
        if name in self.items and not reserve_ok:
            if self.items[name] is not None:
                return name
        lines = ["/// " + l for l in doc(schema.get("description"), "`%s`." % name)]
        lines += [
            "#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]",
            "#[non_exhaustive]",
            "pub enum %s {" % name,
        ]
        seen = set()
        for value in schema["enum"]:
            v = variant(str(value))
            while v in seen:
                v += "_"
            seen.add(v)
            lines.append("    /// `%s`" % value)
            lines.append('    #[serde(rename = "%s")]' % value)
            lines.append("    %s," % v)
        lines.append("}")
        self.items[name] = "\n".join(lines)
        self.order.append(name)
        return name

    def emit_object(self, name, schema, reserve_ok=False):
        if name in self.items and not reserve_ok and self.items[name] is not None:
            return name
        self.items[name] = None
        required = set(schema.get("required", []))
        fields = []
        for prop, sub in schema.get("properties", {}).items():
            rust_type = self.type_of(sub, name + pascal(prop))
            resolved = self.resolve(sub) if "$ref" in sub else sub
            optional = prop not in required or resolved.get("nullable") or sub.get("nullable")
            fdoc = doc(sub.get("description") or resolved.get("description"), "`%s`." % prop)
            fields.append((prop, snake(prop), rust_type, optional, fdoc))
        lines = ["/// " + l for l in doc(schema.get("description"), "`%s`." % name)]
        derives = "Debug, Clone, PartialEq, Serialize, Deserialize"
        lines += ["#[derive(%s)]" % derives, "pub struct %s {" % name]
        for prop, field, rust_type, optional, fdoc in fields:
            lines += ["    /// " + l for l in fdoc]
            if optional:
                lines.append('    #[serde(rename = "%s", default, skip_serializing_if = "Option::is_none")]' % prop)
                lines.append("    pub %s: Option<%s>," % (field, rust_type))
            else:
                lines.append('    #[serde(rename = "%s")]' % prop)
                lines.append("    pub %s: %s," % (field, rust_type))
        lines.append("}")
        self.items[name] = "\n".join(lines)
        self.order.append(name)
        return name

    # ------------------------------------------------------------ examples

    def example(self, schema, depth=0):
        if depth > 12:
            return None
        if "$ref" in schema:
            return self.example(self.resolve(schema), depth + 1)
        if "allOf" in schema:
            out = {}
            for part in schema["allOf"]:
                value = self.example(part, depth + 1)
                if isinstance(value, dict):
                    out.update(value)
            return out
        if "example" in schema and schema.get("type") not in ("object", "array"):
            value = schema["example"]
            if schema.get("type") == "string" and not isinstance(value, str):
                value = str(value)
            if "enum" in schema and value not in schema["enum"]:
                value = schema["enum"][0]
            return value
        t = schema.get("type")
        if t == "string":
            return schema["enum"][0] if "enum" in schema else "texto"
        if t == "integer":
            return 1
        if t == "number":
            return 1.5
        if t == "boolean":
            return True
        if t == "array":
            return [self.example(schema.get("items", {}), depth + 1)]
        if t == "object" or "properties" in schema:
            return {p: self.example(s, depth + 1) for p, s in schema.get("properties", {}).items()}
        return None


def data_schemas(spec):
    """(path, data schema, is_list) for each GET endpoint."""
    schemas = spec["components"]["schemas"]
    responses = spec["components"].get("responses", {})
    out = []
    for path, item in spec["paths"].items():
        op = item.get("get")
        if not op:
            continue
        response = op["responses"]["200"]
        if "$ref" in response:
            response = responses[response["$ref"].split("/")[-1]]
        body = response["content"]["application/json"]["schema"]
        if "$ref" in body:
            body = schemas[body["$ref"].split("/")[-1]]
        data = body["properties"]["data"]
        if data.get("type") == "array":
            out.append((path, data["items"], True))
        else:
            out.append((path, data, False))
    return out


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    specs = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, "..", "shared", "specs", "openapi")
    out_dir = os.path.join(root, "opus-core", "src", "connector", "models")
    os.makedirs(out_dir, exist_ok=True)
    fixtures = {}
    for folder, module, title in APIS:
        files = sorted(f for f in os.listdir(os.path.join(specs, folder)) if f.endswith(".yml"))
        spec_file = files[-1]
        with open(os.path.join(specs, folder, spec_file)) as fh:
            spec = yaml.safe_load(fh)
        gen = Generator(spec)
        roots = []
        for path, schema, is_list in data_schemas(spec):
            context = pascal(path.replace("{", "").replace("}", "")) + "Data"
            rust = gen.type_of(schema, context)
            roots.append((path, rust, is_list))
            fixtures.setdefault(module, {})[rust] = gen.example(schema)
        version = spec["info"]["version"]
        header = [
            "//! %s API %s models (`%s`), generated from the official OpenAPI" % (title, version, folder),
            "//! file by `tools/gen_connector_models.py`. Do not edit by hand.",
            "//!",
            "//! | endpoint | `data` |",
            "//! |---|---|",
        ]
        for path, rust, is_list in roots:
            shown = "[`%s`]" % rust if not rust.startswith("Vec<") else rust
            header.append("//! | `GET %s` | %s%s |" % (path, "list of " if is_list else "", shown))
        body = [
            "",
            "#![allow(clippy::doc_markdown)]",
            "",
            "use serde::{Deserialize, Serialize};",
            "",
        ]
        for name in gen.order:
            body.append(gen.items[name])
            body.append("")
        with open(os.path.join(out_dir, module + ".rs"), "w") as fh:
            fh.write("\n".join(header + body).rstrip() + "\n")
    fixture_dir = os.path.join(root, "opus-core", "tests", "fixtures")
    os.makedirs(fixture_dir, exist_ok=True)
    with open(os.path.join(fixture_dir, "connector-examples.json"), "w") as fh:
        json.dump(fixtures, fh, indent=1, ensure_ascii=False, sort_keys=True)
        fh.write("\n")
    test = [
        "//! Every endpoint's `data` model of the generated connector models reads",
        "//! an instance built from the spec's own property examples and writes it",
        "//! back unchanged: field names, optionality and enum spellings match the",
        "//! OpenAPI files. Generated by `tools/gen_connector_models.py`.",
        "",
        "#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]",
        "",
        "use opus_core::connector::models::*;",
        "",
        "fn examples() -> serde_json::Value {",
        '    serde_json::from_str(include_str!("fixtures/connector-examples.json")).unwrap()',
        "}",
        "",
        "fn round_trip<T: serde::Serialize + serde::de::DeserializeOwned>(module: &str, name: &str) {",
        "    let example = examples()[module][name].clone();",
        '    assert!(!example.is_null(), "no example for {module}::{name}");',
        "    let parsed: T = serde_json::from_value(example.clone())",
        '        .unwrap_or_else(|e| panic!("{module}::{name} does not read its example: {e}"));',
        '    assert_eq!(serde_json::to_value(&parsed).unwrap(), example, "{module}::{name}");',
        "}",
        "",
    ]
    for module in sorted(fixtures):
        for name in sorted(fixtures[module]):
            test += [
                "#[test]",
                "fn %s_%s() {" % (module, snake(name).rstrip("_")),
                '    round_trip::<%s::%s>("%s", "%s");' % (module, name, module, name),
                "}",
                "",
            ]
    with open(os.path.join(root, "opus-core", "tests", "connector_models.rs"), "w") as fh:
        fh.write("\n".join(test).rstrip() + "\n")
    with open(os.path.join(out_dir, "mod.rs"), "w") as fh:
        fh.write("//! Models of the data APIs, generated from the official OpenAPI files\n")
        fh.write("//! by `tools/gen_connector_models.py`. One module per API.\n\n")
        for _, module, _ in APIS:
            fh.write("pub mod %s;\n" % module)


if __name__ == "__main__":
    main()
