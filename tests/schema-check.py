#!/usr/bin/env python3
# schema-check.py - validate JSON documents against smtprobe's JSON Schemas
# (schema/*.json, draft 2020-12), all in this one process.
#
# schema-check.py [options] SCHEMA-DIR [SPOOL-FILE...]
#   --enums FILE     the code's closed sets (tests/schema-enums): every
#                    list must equal the enum of the same name in
#                    schema/defs.json ($defs), and every schema id must be
#                    the $id of a file
#   --classes FILE   probe/judge/verdict-rules.awk: its class list must
#                    equal $defs/verdict_class
#   --expect-invalid every document must be REFUSED (to show that the
#                    validation can fail); exit 1 when one is accepted
#   --max-errors N   errors to print (default 20)
#   --strict         also refuse members a schema does not name: every
#                    object schema with "properties" and no
#                    "additionalProperties" is closed for this run. The
#                    files stay open, so that a consumer holding the
#                    schema of an earlier release of the same major
#                    version accepts the fields added since; the tests
#                    are strict, so that a field the code adds without
#                    its schema fails them.
#
# A spool file (tests/spool.sh) holds where its documents came from on
# the first line, then one JSON document or several (JSON lines). Each
# document names its schema in its top-level "schema" field.
#
# Exit status: 0 every check passed, 1 some failed (the first errors are
# printed: spool file, origin, document number, JSON path, message), 2
# usage or a missing validator.
import glob
import json
import os
import re
import sys

try:
    import jsonschema
    from jsonschema import Draft202012Validator
except ImportError:
    print("schema-check: python3-jsonschema is not installed "
          "(scripts/install-deps.sh --test)", file=sys.stderr)
    sys.exit(2)


def load_schemas(d):
    """every schema of directory d, by $id; checked against the
    meta-schema"""
    schemas = {}
    problems = []
    for path in sorted(glob.glob(os.path.join(d, "*.json"))):
        with open(path, encoding="utf-8") as f:
            try:
                s = json.load(f)
            except ValueError as e:
                problems.append("%s: not JSON: %s" % (path, e))
                continue
        sid = s.get("$id")
        if not isinstance(sid, str):
            problems.append("%s: no $id" % path)
            continue
        if sid in schemas:
            problems.append("%s: $id %s used twice" % (path, sid))
        if s.get("$schema") != \
                "https://json-schema.org/draft/2020-12/schema":
            problems.append("%s: $schema is not draft 2020-12" % path)
        try:
            Draft202012Validator.check_schema(s)
        except jsonschema.exceptions.SchemaError as e:
            problems.append("%s: not a valid schema: %s at %s" % (
                path, e.message, "/".join(str(p) for p in e.path)))
        schemas[sid] = (path, s)
    return schemas, problems


def close_objects(node):
    """--strict: additionalProperties false wherever a schema lists
    properties and says nothing of the others"""
    if isinstance(node, dict):
        if isinstance(node.get("properties"), dict) and \
                "additionalProperties" not in node and \
                "unevaluatedProperties" not in node:
            node["additionalProperties"] = False
        for v in node.values():
            close_objects(v)
    elif isinstance(node, list):
        for v in node:
            close_objects(v)


def make_validators(schemas):
    """a validator per schema that resolves $ref between the files:
    through referencing (jsonschema >= 4.18) or RefResolver (4.10,
    Debian 12)"""
    out = {}
    try:
        from referencing import Registry, Resource
        from referencing.jsonschema import DRAFT202012
        reg = Registry().with_resources(
            (sid, Resource.from_contents(s, default_specification=DRAFT202012))
            for sid, (_, s) in schemas.items())
        for sid, (_, s) in schemas.items():
            out[sid] = Draft202012Validator(s, registry=reg)
    except ImportError:
        store = {sid: s for sid, (_, s) in schemas.items()}
        for sid, (_, s) in schemas.items():
            res = jsonschema.RefResolver(sid, s, store=store)
            out[sid] = Draft202012Validator(s, resolver=res)
    return out


def documents(path):
    """(origin, [(n, doc or exception)]) of a spool file"""
    with open(path, encoding="utf-8", errors="replace") as f:
        origin = f.readline().rstrip("\n")
        text = f.read()
    dec = json.JSONDecoder()
    docs = []
    i, n = 0, 0
    while True:
        while i < len(text) and text[i] in " \t\r\n":
            i += 1
        if i >= len(text):
            break
        n += 1
        try:
            doc, i = dec.raw_decode(text, i)
        except ValueError as e:
            docs.append((n, ValueError("not JSON: %s" % e)))
            break
        docs.append((n, doc))
    return origin, docs


def where(err):
    p = "".join("[%d]" % x if isinstance(x, int) else "." + str(x)
                for x in err.absolute_path)
    return p or "(top)"


def short(v):
    s = json.dumps(v)
    return s if len(s) <= 80 else s[:77] + "..."


def check_enums(schemas, enums_file, classes_file):
    problems = []
    defs = None
    for sid, (path, s) in schemas.items():
        if os.path.basename(path) == "defs.json":
            defs = s.get("$defs", {})
    if defs is None:
        return ["schema/defs.json is missing"]

    def enum_of(name):
        d = defs.get(name)
        if d is None:
            return None
        if "enum" in d:
            return d["enum"]
        for alt in d.get("anyOf", []) + d.get("oneOf", []):
            if "enum" in alt:
                return alt["enum"]
        return None

    # explain.json repeats the verdict's members inline (--strict closes
    # objects, so it cannot extend $defs/verdict through allOf): hold
    # its reply and item forms to the verdict's members
    verdict = set(defs.get("verdict", {}).get("properties", {}))
    for sid, (path, s) in schemas.items():
        if os.path.basename(path) != "explain.json":
            continue
        forms = [s.get("oneOf", [])[0]] if s.get("oneOf") else []
        items = [f["properties"]["items"]["items"] for f in s.get("oneOf", [])
                 if "items" in f.get("properties", {})]
        for f in forms + items:
            missing = verdict - set(f.get("properties", {}))
            if missing:
                problems.append("explain.json: a verdict form lacks %s of "
                                "defs.json $defs/verdict" % sorted(missing))
    if enums_file:
        with open(enums_file, encoding="utf-8") as f:
            code = json.load(f)
        for sid in code.pop("ids"):
            if sid not in schemas:
                problems.append("include/schema.h names %s, but no file "
                                "in schema/ has that $id" % sid)
        for name, values in code.items():
            e = enum_of(name)
            if e is None:
                problems.append("schema/defs.json has no $defs/%s enum "
                                "(the code has %s)" % (name, values))
            elif sorted(e, key=str) != sorted(values, key=str):
                problems.append(
                    "schema/defs.json $defs/%s is %s, the code's table %s "
                    "(missing: %s, extra: %s)" % (
                        name, e, values,
                        [v for v in values if v not in e],
                        [v for v in e if v not in values]))
    if classes_file:
        with open(classes_file, encoding="utf-8") as f:
            src = f.read()
        start = src.find("nclass = split(")
        end = src.find("classlist", start)
        if start < 0 or end < 0:
            problems.append("%s: no class list found" % classes_file)
        else:
            words = "".join(re.findall(r'"([^"]*)"',
                                       src[start:end])).split()
            e = enum_of("verdict_class")
            if e is None or sorted(e) != sorted(words):
                problems.append("schema/defs.json $defs/verdict_class is "
                                "%s, verdict-rules.awk's classes %s" %
                                (e, words))
    return problems


def main(argv):
    enums = classes = None
    expect_invalid = strict = False
    max_errors = 20
    args = []
    it = iter(argv)
    for a in it:
        if a == "--enums":
            enums = next(it)
        elif a == "--classes":
            classes = next(it)
        elif a == "--strict":
            strict = True
        elif a == "--expect-invalid":
            expect_invalid = True
        elif a == "--max-errors":
            max_errors = int(next(it))
        elif a.startswith("--"):
            print("schema-check: unknown option %s" % a, file=sys.stderr)
            return 2
        else:
            args.append(a)
    if not args:
        print("usage: schema-check.py [options] "
              "SCHEMA-DIR [SPOOL-FILE...]", file=sys.stderr)
        return 2
    schemas, problems = load_schemas(args[0])
    for p in problems:
        print("schema: %s" % p)
    if problems:
        return 1
    problems = check_enums(schemas, enums, classes)
    for p in problems:
        print("check: %s" % p)
    if strict:
        for _, s in schemas.values():
            close_objects(s)
    validators = make_validators(schemas)

    nerr = ndocs = naccepted = 0
    by_schema = {}
    seen = {}
    for path in args[1:]:
        origin, docs = documents(path)
        for n, doc in docs:
            ndocs += 1
            errs = []
            if isinstance(doc, Exception):
                errs = [str(doc)]
            elif not isinstance(doc, dict):
                errs = ["not an object"]
            elif not isinstance(doc.get("schema"), str):
                errs = ['no top-level "schema" field']
            elif doc["schema"] not in validators:
                errs = ['"schema" names %s, which is no schema in %s' %
                        (doc["schema"], args[0])]
            else:
                v = validators[doc["schema"]]
                found = sorted(v.iter_errors(doc),
                               key=lambda e: list(e.absolute_path))
                errs = ["at %s: %s" % (where(e), e.message[:300])
                        for e in found]
                name = doc["schema"].rsplit("/", 1)[-1]
                by_schema[name] = by_schema.get(name, 0) + 1
            if expect_invalid:
                if not errs:
                    naccepted += 1
                    print("accepted, but should be refused: %s (%s), "
                          "document %d" % (origin, path, n))
                else:
                    print("refused as it should be: %s: %s" %
                          (origin, errs[0]))
                continue
            for e in errs:
                nerr += 1
                # the same error in many documents (a member the schema
                # lacks, in every batch line) is shown once, counted
                key = re.sub(r"\[\d+\]", "[]", e)
                if key in seen:
                    seen[key][1] += 1
                    continue
                seen[key] = ["%s: document %d %s\n    (spooled in %s)" %
                             (origin, n, e, os.path.basename(path)), 1]
    shown = 0
    for text, count in seen.values():
        shown += 1
        if shown > max_errors:
            break
        print(text + ("" if count == 1 else
                      "\n    (and in %d more places)" % (count - 1)))
    if expect_invalid:
        print("%d document(s), %d wrongly accepted" % (ndocs, naccepted))
        return 1 if naccepted or problems or ndocs == 0 else 0
    if len(seen) > max_errors:
        print("... and %d more kinds of error" % (len(seen) - max_errors))
    print("%d document(s) in %d file(s): %d error(s); by schema: %s" % (
        ndocs, len(args) - 1, nerr,
        ", ".join("%s %d" % kv for kv in sorted(by_schema.items()))
        or "none"))
    return 1 if nerr or problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
