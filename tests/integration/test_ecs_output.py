#!/usr/bin/env python3
"""--json-format ecs: every field written outside our own top-level objects
(smtp, smtpsleuth) is an Elastic Common Schema field of the published list
(tests/data/ecs_fields.tsv, from elastic/ecs v9.4.0) and its value has that
field's type; the categorization fields hold allowed values; our own objects
do not take the name of an ECS field set. And the documents carry the same
sessions as the native JSON: same order, same SMTP facts, same verdict, the
client as source, the server as destination. Runs on the bundled captures
(always present) and on the corpus when SLEUTH_CORPUS is set."""
import glob
import ipaddress
import json
import os
import re
import subprocess
import sys
from datetime import datetime

BIN = os.environ.get("SMTPSLEUTH")
SRC = os.environ.get("SLEUTH_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
CORPUS = os.environ.get("SLEUTH_CORPUS", "")
OURS = {"smtp", "smtpsleuth"}


def load_fields():
    fields, allowed, fieldsets = {}, {}, set()
    with open(os.path.join(SRC, "tests", "data", "ecs_fields.tsv")) as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            row = line.rstrip("\n").split("\t")
            if row[0] == "field":
                fields[row[1]] = row[2]
            elif row[0] == "allowed":
                allowed[row[1]] = set(row[2].split(","))
            elif row[0] == "fieldset":
                fieldsets.add(row[1])
    return fields, allowed, fieldsets


def leaves(obj, prefix=""):
    """(dotted name, value) of every leaf; array elements keep the array's name."""
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from leaves(v, f"{prefix}.{k}" if prefix else k)
    elif isinstance(obj, list):
        for v in obj:
            yield from leaves(v, prefix)
    else:
        yield prefix, obj


def type_ok(ecs_type, v):
    if ecs_type in ("keyword", "match_only_text", "wildcard", "text"):
        return isinstance(v, str)
    if ecs_type == "long":
        return isinstance(v, int) and not isinstance(v, bool)
    if ecs_type in ("float", "scaled_float"):
        return isinstance(v, (int, float)) and not isinstance(v, bool)
    if ecs_type == "boolean":
        return isinstance(v, bool)
    if ecs_type == "ip":
        try:
            ipaddress.ip_address(v)
            return True
        except (ValueError, TypeError):
            return False
    if ecs_type == "date":
        try:
            datetime.strptime(v, "%Y-%m-%dT%H:%M:%S.%fZ")
            return True
        except (ValueError, TypeError):
            return False
    return False


def run(path, fmt):
    p = subprocess.run([BIN, "analyze", "--json-format", fmt, path], capture_output=True, timeout=120)
    assert p.returncode in (0, 1), p.stderr
    return [json.loads(l) for l in p.stdout.splitlines()]


def check_file(path, fields, allowed, fieldsets):
    ecs, native = run(path, "ecs"), run(path, "native")
    assert len(ecs) == len(native), f"{path}: {len(ecs)} ECS documents, {len(native)} native objects"
    seen = set()
    for doc, nat in zip(ecs, native):
        for top in doc:
            if top in OURS:
                assert top not in fieldsets, f"our object {top} takes the name of an ECS field set"
        for name, v in leaves(doc):
            top = name.split(".")[0]
            if top in OURS or v is None:
                continue
            assert name in fields, f"{path}: {name} is not in the ECS field list"
            assert type_ok(fields[name], v), f"{path}: {name}={v!r} is not of ECS type {fields[name]}"
            if name in allowed:
                assert v in allowed[name], f"{path}: {name}={v!r} is not an allowed value"
            seen.add(name)
        if nat["type"] == "summary":
            assert doc["event"]["kind"] == "metric"
            nat_s = dict(nat)
            assert doc["smtpsleuth"]["summary"] == nat_s
            continue
        assert doc["smtpsleuth"]["id"] == nat["id"]
        assert doc["smtp"] == nat["smtp"]
        assert doc["smtpsleuth"]["verdict"] == nat["verdict"]
        assert doc["smtpsleuth"]["tcp"] == nat["tcp"]
        assert doc["source"]["ip"] == nat["client"]["ip"] and doc["source"]["port"] == nat["client"]["port"]
        assert doc["destination"]["ip"] == nat["server"]["ip"]
        assert doc["destination"]["port"] == nat["server"]["port"]
        assert doc["source"]["bytes"] == nat["tcp"]["bytes"]["client"]
        assert doc["network"]["community_id"] == nat["community_id"]
        assert doc["@timestamp"] == nat["start"] and doc["event"]["end"] == nat["end"]
        assert doc["event"]["action"] == nat["verdict"]["cause"]
        tls = nat["smtp"]["tls"]
        if tls and tls["server_hello"]:
            # an IANA suite name, or the code when OpenSSL does not know it
            assert re.match(r"^(TLS_[A-Z0-9_]+|0x[0-9A-F]{4})$", doc["tls"]["cipher"]), doc["tls"]
            assert doc["tls"].get("version") or tls["version"] not in (0x301, 0x302, 0x303, 0x304)
        want = {"completed": "success", "encrypted": "unknown", "capture_incomplete": "unknown",
                "unknown": "unknown"}.get(nat["verdict"]["cause"], "failure")
        assert doc["event"]["outcome"] == want, (doc["event"]["outcome"], nat["verdict"]["cause"])
    return seen


def main():
    if not BIN:
        print("skip: SMTPSLEUTH not set")
        return 77
    fields, allowed, fieldsets = load_fields()
    files = sorted(glob.glob(os.path.join(SRC, "captures", "*.pcap")))
    if os.path.isdir(CORPUS):
        files += sorted(glob.glob(os.path.join(CORPUS, "*.pcap*")))
    seen = set()
    for path in files:
        seen |= check_file(path, fields, allowed, fieldsets)
    # the list holds no field the output never writes (it is the subset we use)
    unused = set(fields) - seen
    assert not unused, f"ecs_fields.tsv lists fields never written: {sorted(unused)}"
    print(f"ok: {len(files)} captures, {len(seen)} ECS fields checked by name and type")
    return 0


if __name__ == "__main__":
    sys.exit(main())
