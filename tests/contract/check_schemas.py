#!/usr/bin/env python3
"""Independent cross-check of the body schemas against the contract corpus.

Usage: check_schemas.py REPO_ROOT

Uses Python's jsonschema (Draft 7), not the daemon's validator, so the corpus
(tests/contract/cases.json) is checked by a second implementation:

  * every schemas/operations/*.schema.json is a valid draft-07 schema, uses only the
    keywords the three validators (RapidJSON 1.1.0 / valijson / jsonschema) agree on,
    declares $schema, $id (urn:sfmc-relay:schema:body:<operation>:1) and title, and
    gives every property a description; "required" names only declared properties;
  * there is one body schema per operation of schemas/event.schema.json;
  * for every case: the whole event is valid against schemas/event.schema.json, the
    body's verdict equals "schema_valid", and the schema errors are exactly at
    "schema_pointers".

Pointer matching: a reported error is at its instance path (e.g. /body/recipients/0/to),
except an additionalProperties error, which validators report at the object: it is at
<object path>/<unexpected member> for each unexpected member.  A missing required member
is reported at the object that lacks it.  The set of these pointers must equal the
case's schema_pointers (so every listed pointer is a reported error, and nothing else is
reported).

Prints a one-line summary; exits 1 on any disagreement, naming the case.
"""

import json
import pathlib
import sys

try:
    import jsonschema
    from jsonschema import Draft7Validator
except ImportError:  # pragma: no cover
    sys.exit("check_schemas.py needs the jsonschema package (see run-check-schemas)")

ALLOWED = {"type", "properties", "required", "additionalProperties", "items", "minItems", "maxItems",
           "minLength", "maxLength", "enum", "description", "title", "$schema", "$id"}
ROOT_ONLY = {"$schema", "$id"}


def pointer_token(name):
    return str(name).replace("~", "~0").replace("/", "~1")


def to_pointer(base, path):
    return base + "".join("/" + pointer_token(p) for p in path)


def walk_schema(node, where, problems, is_root=False):
    """Checks one schema node (and its sub-schemas) for keywords and descriptions."""
    if not isinstance(node, dict):
        problems.append(f"{where}: a schema must be an object")
        return
    for key in node:
        if key not in ALLOWED:
            problems.append(f"{where}: keyword {key!r} is not allowed")
        elif key in ROOT_ONLY and not is_root:
            problems.append(f"{where}: {key} belongs at the root only")
    props = node.get("properties", {})
    if not isinstance(props, dict):
        problems.append(f"{where}/properties: must be an object")
        props = {}
    for name, sub in props.items():
        sub_where = f"{where}/properties/{pointer_token(name)}"
        if not isinstance(sub, dict) or not isinstance(sub.get("description"), str) or not sub["description"].strip():
            problems.append(f"{sub_where}: every property needs a description")
        walk_schema(sub, sub_where, problems)
    for name in node.get("required", []):
        if name not in props:
            problems.append(f"{where}/required: {name!r} is not a declared property")
    if "items" in node:
        walk_schema(node["items"], f"{where}/items", problems)
    if isinstance(node.get("additionalProperties"), dict):
        walk_schema(node["additionalProperties"], f"{where}/additionalProperties", problems)
    if "enum" in node and not isinstance(node["enum"], list):
        problems.append(f"{where}/enum: must be an array")


def error_pointers(validator, instance, base):
    pointers = set()
    for error in validator.iter_errors(instance):
        at = to_pointer(base, error.absolute_path)
        if error.validator == "additionalProperties" and error.validator_value is False:
            declared = set(error.schema.get("properties", {}))
            for name in error.instance:
                if name not in declared:
                    pointers.add(at + "/" + pointer_token(name))
        else:
            pointers.add(at)
    return pointers


def main(argv):
    if len(argv) != 2:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    root = pathlib.Path(argv[1])
    problems = []

    event_schema = json.loads((root / "schemas" / "event.schema.json").read_text(encoding="utf-8"))
    Draft7Validator.check_schema(event_schema)
    event_validator = Draft7Validator(event_schema)
    operations = event_schema["properties"]["operation"]["enum"]

    validators = {}
    for op in operations:
        path = root / "schemas" / "operations" / f"{op}.schema.json"
        if not path.is_file():
            problems.append(f"missing body schema {path.relative_to(root)}")
            continue
        schema = json.loads(path.read_text(encoding="utf-8"))
        try:
            Draft7Validator.check_schema(schema)
        except jsonschema.exceptions.SchemaError as e:
            problems.append(f"{path.name}: not a valid draft-07 schema: {e.message}")
            continue
        where = path.name
        walk_schema(schema, where, problems, is_root=True)
        if schema.get("$schema") != "http://json-schema.org/draft-07/schema#":
            problems.append(f"{where}: $schema must be draft-07")
        if schema.get("$id") != f"urn:sfmc-relay:schema:body:{op}:1":
            problems.append(f"{where}: $id must be urn:sfmc-relay:schema:body:{op}:1")
        if not schema.get("title"):
            problems.append(f"{where}: needs a title")
        validators[op] = Draft7Validator(schema)
    for extra in sorted((root / "schemas" / "operations").glob("*.schema.json")):
        if extra.name[: -len(".schema.json")] not in operations:
            problems.append(f"{extra.name}: no such operation in event.schema.json")

    cases = json.loads((root / "tests" / "contract" / "cases.json").read_text(encoding="utf-8"))
    names = set()
    counts = {"valid": 0, "invalid": 0}
    for i, case in enumerate(cases):
        name = case.get("name", f"#{i}")
        label = f"case {name!r}"
        if name in names:
            problems.append(f"{label}: duplicate name")
        names.add(name)
        missing = {"name", "event", "schema_valid", "schema_pointers", "errors"} - set(case)
        if missing:
            problems.append(f"{label}: missing {sorted(missing)}")
            continue
        event = case["event"]
        envelope = sorted(to_pointer("", e.absolute_path) + ": " + e.message for e in event_validator.iter_errors(event))
        if envelope:
            problems.append(f"{label}: the event envelope is invalid: {envelope}")
        op = event.get("operation")
        if op not in validators:
            problems.append(f"{label}: no body schema for operation {op!r}")
            continue
        got = error_pointers(validators[op], event.get("body"), "/body")
        expected = set(case["schema_pointers"])
        if len(expected) != len(case["schema_pointers"]):
            problems.append(f"{label}: schema_pointers repeats a pointer")
        if (not got) != case["schema_valid"]:
            problems.append(f"{label}: jsonschema says the body is {'valid' if not got else 'invalid'} "
                            f"({sorted(got)}), the case says schema_valid={case['schema_valid']}")
        elif got != expected:
            problems.append(f"{label}: schema errors at {sorted(got)}, the case lists {sorted(expected)}")
        for e in case["errors"]:
            if set(e) != {"pointer", "message"} or not str(e["pointer"]).startswith("/body"):
                problems.append(f"{label}: malformed rule error {e}")
        counts["valid" if case["schema_valid"] else "invalid"] += 1

    for p in problems:
        print("check_schemas: " + p, file=sys.stderr)
    status = "FAILED" if problems else "ok"
    print(f"check_schemas: {status}: {len(validators)} body schemas, {len(cases)} cases "
          f"({counts['valid']} schema-valid, {counts['invalid']} schema-invalid), {len(problems)} problems "
          f"(jsonschema {jsonschema_version()})")
    return 1 if problems else 0


def jsonschema_version():
    try:
        from importlib.metadata import version
        return version("jsonschema")
    except Exception:  # pragma: no cover
        return "?"


if __name__ == "__main__":
    sys.exit(main(sys.argv))
