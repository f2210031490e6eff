"""frictionless-py's own test data and validation tests, as cases both engines run.

The corpus is frictionless-py 5.21.0's source distribution from PyPI (sha256-pinned: its
`data/` folder and its `frictionless/**/__spec__/test_*.py`), downloaded once into
`.cache/frictionless-5.21.0/` (gitignored; nothing of it is committed) by
`python tests/frictionless_corpus.py` (a step of scripts/test.sh) or by the first test that
needs it. Without a network that download fails, and so does the test: it never skips.

Cases, each a resource descriptor frictionless itself normalised (`infer`: schema, dialect,
encoding, format), so every engine is given the same descriptor; distinct descriptors only:

- every file in `data/` that frictionless takes as a table;
- every resource a test spec builds (`Resource(...)`, `TableResource(...)`,
  `.from_descriptor(...)`) or validates (`validate(x)` with no options beyond schema, dialect,
  control, format, encoding), rebuilt by evaluating the call after the simple assignments
  before it in its test (a schema, a dialect, a format control, inline data), with only
  frictionless' metadata constructors in reach (`_safe`); local paths only.

frictionless' own outcome for each case (the reference) is recorded in the workspace beside
the corpus, keyed by frictionless' version and this file's bytes (`prepare`).
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
import tarfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

VERSION = "5.21.0"
# The sdist's sha256 on PyPI: the corpus' test code is evaluated (its resource constructors),
# so only these bytes are used.
SDIST_SHA256 = "4d9848570bc682943375824a4be7633e8bbdeff228affee763cab346e48000b4"
ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / ".cache"
CORPUS = CACHE / f"frictionless-{VERSION}"
_TABLE_SUFFIXES = (
    ".csv", ".tsv", ".txt", ".xlsx", ".xls", ".ods", ".json", ".jsonl", ".ndjson", ".parquet",
    ".parq", ".gz", ".zip", ".bz2", ".xz", ".yaml", ".yml", ".html", ".csv2k", ".csvformat",
    ".bad",
)  # fmt: skip
_SKIP_DIRS = {"cassettes", "fixtures", "profiles"}


def fetch() -> Path:
    """The unpacked corpus (downloaded from PyPI with pip the first time)."""
    marker = CORPUS / ".complete"
    if marker.is_file():
        return CORPUS
    sdist_dir = CACHE / "sdist"
    sdist = sdist_dir / f"frictionless-{VERSION}.tar.gz"
    if not sdist.is_file():
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
             "--no-binary", ":all:", f"frictionless=={VERSION}", "-d", str(sdist_dir)],
            check=True,
        )  # fmt: skip
    import hashlib

    digest = hashlib.sha256(sdist.read_bytes()).hexdigest()
    if digest != SDIST_SHA256:
        sdist.unlink()
        raise RuntimeError(f"{sdist.name}: sha256 {digest}, expected {SDIST_SHA256}")
    prefix = f"frictionless-{VERSION}/"
    with tarfile.open(sdist) as archive:
        members = []
        for member in archive.getmembers():
            name = member.name
            if not name.startswith(prefix) or ".." in Path(name).parts:
                continue
            rest = name[len(prefix) :]
            wanted = rest.startswith("data/") or (
                rest.startswith("frictionless/") and "/__spec__/" in rest
            )
            if wanted and (member.isfile() or member.isdir()):
                members.append(member)
        archive.extractall(CACHE, members=members, filter="data")
    marker.write_text("ok\n", encoding="utf-8")
    return CORPUS


@dataclass
class CorpusCase:
    id: str
    descriptor: dict[str, Any]  # a resource descriptor, paths relative to the corpus root
    files: list[str] = field(default_factory=list)  # corpus-relative files it needs


def data_tables(root: Path) -> list[str]:
    out = []
    for path in sorted((root / "data").rglob("*")):
        rel = path.relative_to(root).as_posix()
        if not path.is_file() or set(path.relative_to(root / "data").parts[:-1]) & _SKIP_DIRS:
            continue
        if path.name.endswith(_TABLE_SUFFIXES):
            out.append(rel)
    return out


# -- cases from the test specs --------------------------------------------------------------

_CONSTRUCTORS = {"Resource", "TableResource"}


def _literal(node: ast.AST) -> Any:
    """A literal argument; `Schema.from_descriptor(...)`, `Dialect.from_descriptor(...)` and
    `Schema(...)`/`Dialect(...)` wrappers around literals are unwrapped."""
    if isinstance(node, ast.Call):
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        owner = func.value.id if isinstance(func, ast.Attribute) and isinstance(
            func.value, ast.Name
        ) else None  # fmt: skip
        if name == "from_descriptor" and owner in {"Schema", "Dialect"} and node.args:
            return _literal(node.args[0])
        raise ValueError("call")
    return ast.literal_eval(node)


def _resource_call(node: ast.Call) -> dict[str, Any] | None:
    func = node.func
    if isinstance(func, ast.Name) and func.id in _CONSTRUCTORS:
        kind = "init"
    elif (
        isinstance(func, ast.Attribute)
        and func.attr == "from_descriptor"
        and isinstance(func.value, ast.Name)
        and func.value.id in _CONSTRUCTORS
    ):
        kind = "descriptor"
    else:
        return None
    try:
        if kind == "descriptor":
            if len(node.args) != 1 or node.keywords:
                return None
            value = _literal(node.args[0])
            return value if isinstance(value, dict) else None
        desc: dict[str, Any] = {}
        if node.args:
            if len(node.args) != 1:
                return None
            first = _literal(node.args[0])
            if isinstance(first, dict):
                desc.update(first)
            elif isinstance(first, str):
                desc["path"] = first
            elif isinstance(first, list):
                desc["data"] = first
            else:
                return None
        for keyword in node.keywords:
            if keyword.arg is None:
                return None
            if keyword.arg not in {"path", "data", "schema", "dialect", "format", "encoding",
                                   "name"}:  # fmt: skip
                return None
            desc[keyword.arg] = _literal(keyword.value)
        return desc
    except (ValueError, SyntaxError, TypeError):
        return None


# What a spec may call while its resource is rebuilt here: frictionless' own constructors of
# metadata, nothing that opens, writes or validates (the namespace has no builtins either).
_SAFE_CALLS = {"Schema", "Dialect", "Resource", "TableResource", "from_descriptor"}
_VALIDATE_OPTIONS = {"schema", "dialect", "control", "format", "encoding", "name", "type"}


def _callee(node: ast.Call) -> str:
    func = node.func
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")


def _safe(node: ast.AST) -> bool:
    for sub in ast.walk(node):
        if isinstance(sub, ast.Lambda | ast.NamedExpr | ast.Await | ast.Yield | ast.Starred):
            return False
        if isinstance(sub, ast.Call):
            name = _callee(sub)
            if name not in _SAFE_CALLS and not name.endswith(("Control", "Field")):
                return False
    return True


def _namespace() -> dict[str, Any]:
    from frictionless import Dialect, Resource, Schema, fields, formats
    from frictionless.resources import TableResource

    return {
        "__builtins__": {},
        "Resource": Resource,
        "TableResource": TableResource,
        "Schema": Schema,
        "Dialect": Dialect,
        "formats": formats,
        "fields": fields,
        **{n: getattr(formats, n) for n in dir(formats) if n.endswith("Control")},
        **{n: getattr(fields, n) for n in dir(fields) if n.endswith("Field")},
    }


def _eval(node: ast.expr, env: dict[str, Any]) -> Any:
    """An expression `_safe` allowed, in the spec's namespace (frictionless' constructors)."""
    return eval(compile(ast.Expression(node), "<spec>", "eval"), env)


def _local_path(value: object) -> bool:
    return isinstance(value, str) and value.startswith("data/") and "://" not in value


def _build(node: ast.Call, env: dict[str, Any]) -> dict[str, Any] | None:
    """The descriptor of the resource this call builds (None: not one this corpus can use)."""
    from frictionless import Resource

    name = _callee(node)
    if name == "validate" and isinstance(node.func, ast.Name):
        if len(node.args) != 1 or not _safe(node):
            return None
        options = {}
        for keyword in node.keywords:
            if keyword.arg not in _VALIDATE_OPTIONS:
                return None  # checks, pick/skip/limit options: another validation than ours
            options[keyword.arg] = _eval(keyword.value, env)
        if options.pop("type", "resource") != "resource":
            return None
        source = _eval(node.args[0], env)
        if not isinstance(source, str | dict | list):
            return None
        resource = Resource(source, **options)
    elif name == "validate":
        return None  # a method: resource.validate(), package.validate()
    elif name in _CONSTRUCTORS or (name == "from_descriptor" and _resource_call(node)):
        if not _safe(node) or any(k.arg == "basepath" for k in node.keywords):
            return None
        try:
            resource = _eval(node, env)
        except Exception:
            # A descriptor frictionless refuses outright is a case too (opengov must refuse).
            return _resource_call(node)
    else:
        return None
    if not isinstance(resource, Resource):
        return None
    descriptor = resource.to_descriptor()
    if descriptor.get("scheme") in {"buffer", "stream"}:
        return None  # bytes or a stream in memory: nothing a descriptor can point at
    paths = [descriptor.get("path"), *(descriptor.get("extrapaths") or [])]
    if "data" not in descriptor and not all(_local_path(p) for p in paths):
        return None
    try:
        json.dumps(descriptor)
    except (TypeError, ValueError):
        return None  # bytes or objects: no descriptor a file could hold
    return dict(descriptor)


def _statements(body: list[ast.stmt]) -> list[ast.stmt]:
    """The statements of a test in order, `with` blocks opened (pytest.raises, tmp files)."""
    out: list[ast.stmt] = []
    for stmt in body:
        out.append(stmt)
        if isinstance(stmt, ast.With):
            out.extend(_statements(stmt.body))
    return out


def spec_resources(root: Path) -> list[tuple[str, dict[str, Any]]]:
    """(test id, resource descriptor) for every resource a spec builds from literals and
    from the simple assignments before it (a schema, a dialect or control, inline data), and
    for every `validate(...)` of one resource without extra options. Detector options are
    not part of a descriptor, so not of the case."""
    out: list[tuple[str, dict[str, Any]]] = []
    base = _namespace()
    for path in sorted((root / "frictionless").rglob("__spec__/**/test_*.py")):
        rel = path.relative_to(root / "frictionless").as_posix()
        if rel.startswith(("formats/sql/", "portals/", "schemes/remote/", "schemes/aws/")):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for func in tree.body:
            if not isinstance(func, ast.FunctionDef) or not func.name.startswith("test_"):
                continue
            env = dict(base)
            number = 0
            for stmt in _statements(func.body):
                for node in ast.walk(stmt):
                    if not isinstance(node, ast.Call):
                        continue
                    try:
                        desc = _build(node, env)
                    except Exception:
                        desc = None
                    if desc:
                        out.append((f"{rel}::{func.name}#{number}", desc))
                        number += 1
                if (
                    isinstance(stmt, ast.Assign)
                    and len(stmt.targets) == 1
                    and isinstance(stmt.targets[0], ast.Name)
                ):
                    target = stmt.targets[0].id
                    env.pop(target, None)
                    if _safe(stmt.value):
                        try:
                            env[target] = _eval(stmt.value, env)
                        except Exception:
                            pass
    return out


# -- cases, normalised by frictionless ---------------------------------------------------------

_NOT_TABLE = object()


def _normalise(root: Path, desc: dict[str, Any]) -> dict[str, Any] | None:
    """The descriptor after frictionless' `infer` (schema, dialect, encoding, format), or the
    literal one (named) when frictionless refuses it: that refusal is a case too. None when
    frictionless does not take it as a table at all (a package or schema descriptor)."""
    from frictionless import FrictionlessException, Resource
    from frictionless.resources import TableResource

    named = {"name": "case", **desc}
    try:
        resource = Resource.from_descriptor(named, basepath=str(root))
    except FrictionlessException:
        return named
    except Exception:  # frictionless' own bugs: a case where opengov must not crash either
        return named
    if not isinstance(resource, TableResource):
        return None
    try:
        resource.infer()
    except FrictionlessException:
        return named
    except Exception:
        return named
    out = resource.to_descriptor()
    out["name"] = "case"
    return dict(out)


@dataclass
class Case:
    id: str  # where it came from: data/<file> or <spec file>::<test>#<n>
    descriptor: dict[str, Any]
    sources: list[str] = field(default_factory=list)  # every id that gave the same descriptor


def all_cases(root: Path) -> list[Case]:
    """Every distinct normalised descriptor, in a stable order."""
    raw: list[tuple[str, dict[str, Any]]] = [(rel, {"path": rel}) for rel in data_tables(root)]
    raw += spec_resources(root)
    by_key: dict[str, Case] = {}
    for case_id, desc in raw:
        norm = _normalise(root, desc)
        if norm is None:
            continue
        key = json.dumps(norm, sort_keys=True, default=str)
        if key in by_key:
            by_key[key].sources.append(case_id)
        else:
            by_key[key] = Case(case_id, norm, [case_id])
    return list(by_key.values())


def workspace() -> Path:
    """A package folder holding the corpus' data/ (hard links where the disk allows): case
    descriptors are written beside it, so every path resolves inside the package."""
    corpus = fetch()
    work = CACHE / f"frictionless-{VERSION}-parity"
    marker = work / ".complete"
    if not marker.is_file():
        import os
        import shutil

        shutil.rmtree(work, ignore_errors=True)

        def link(src: str, dst: str) -> object:
            try:
                os.link(src, dst)
                return dst
            except OSError:
                return shutil.copy2(src, dst)

        shutil.copytree(corpus / "data", work / "data", copy_function=link)
        marker.write_text("ok\n", encoding="utf-8")
    return work


# -- running one case ------------------------------------------------------------------------


@dataclass
class Outcome:
    valid: bool
    rows: int | None  # rows read (None when the source could not be read)
    kinds: set[str]  # error types (frictionless names; opengov's refusals mapped to them)
    crash: str | None = None  # an exception no one should raise on a file (exit 70)
    refusal: str | None = None  # opengov's error class and message, for the record


LIMIT_ERRORS = 2**31 - 1
PLACEHOLDER_SCHEMA = {"fields": [{"name": "placeholder", "type": "any"}], "fieldsMatch": "partial"}


def run_frictionless(root: Path, desc: dict[str, Any]) -> Outcome:
    from frictionless import FrictionlessException, Resource

    try:
        resource = Resource.from_descriptor(desc, basepath=str(root))
        report = resource.validate(limit_errors=LIMIT_ERRORS)
    except FrictionlessException as exc:
        return Outcome(False, None, {exc.error.type})
    except Exception as exc:
        return Outcome(False, None, set(), crash=f"{type(exc).__name__}: {exc}"[:300])
    kinds = {e.type for e in report.errors}
    rows = None
    for task in report.tasks:
        kinds |= {e.type for e in task.errors}
        rows = task.stats.get("rows")
    return Outcome(report.valid, rows, kinds)


def run_opengov(root: Path, desc: dict[str, Any], engine: str, number: int) -> Outcome:
    from opengov.errors import OpengovError
    from opengov.validate import validate

    bare = set(desc) <= {"name", "path"} and isinstance(desc.get("path"), str)
    if not bare and "schema" not in desc:
        # frictionless could not open the source to infer a schema; opengov asks for a schema
        # before it opens anything, so it is given one that any table matches by name and the
        # case asks what it asks of frictionless: can the source be read at all?
        desc = {**desc, "schema": PLACEHOLDER_SCHEMA}
    if bare:
        # frictionless could not infer a schema: give opengov the bare file, as a user would
        # (`opengov validate FILE` drafts a schema as `opengov init` does).
        target = root / desc["path"]
    else:
        target = root / f"case-{number:04d}.json"
        target.write_text(
            json.dumps({"name": "corpus", "resources": [desc]}, default=str), encoding="utf-8"
        )
    try:
        report = validate(target, engine=engine, samples=1)
    except OpengovError as exc:
        kind = type(exc).__name__
        return Outcome(False, None, {kind}, refusal=f"{kind}: {exc.message}"[:300])
    except Exception as exc:
        return Outcome(False, None, set(), crash=f"{type(exc).__name__}: {exc}"[:300])
    finally:
        if not bare:
            target.unlink(missing_ok=True)
    result = report.results[0]
    return Outcome(result.error_count == 0, result.rows, {t for _, t in result.totals})


# -- the reference, recorded once per frictionless version and version of this file ---------


def _stamp() -> str:
    import hashlib

    import frictionless

    own = Path(__file__).read_bytes()
    return hashlib.sha256(f"{VERSION} {frictionless.__version__} ".encode() + own).hexdigest()


def _outcome_json(outcome: Outcome) -> dict[str, Any]:
    return {**outcome.__dict__, "kinds": sorted(outcome.kinds)}


def _outcome_from(data: dict[str, Any]) -> Outcome:
    return Outcome(**{**data, "kinds": set(data["kinds"])})


def prepare() -> tuple[Path, list[Case], dict[str, Outcome]]:
    """The workspace, the cases and frictionless' own outcome for each (the reference).

    Normalising and validating with frictionless takes minutes on the corpus' larger tables
    (about two on one core), so both are recorded in the workspace the first time, keyed by
    frictionless' version and this file's bytes: any change to either records them again.
    """
    root = workspace()
    record = root / "reference.json"
    stamp = _stamp()
    if record.is_file():
        saved = json.loads(record.read_text(encoding="utf-8"))
        if saved.get("stamp") == stamp:
            cases = [Case(**c) for c in saved["cases"]]
            return root, cases, {k: _outcome_from(v) for k, v in saved["reference"].items()}
    cases = all_cases(fetch())
    reference = {case.id: run_frictionless(root, case.descriptor) for case in cases}
    payload = {
        "stamp": stamp,
        "cases": [case.__dict__ for case in cases],
        "reference": {k: _outcome_json(v) for k, v in reference.items()},
    }
    partial = record.with_suffix(".part")
    partial.write_text(json.dumps(payload, default=str), encoding="utf-8")
    partial.replace(record)
    return root, cases, reference


if __name__ == "__main__":
    import warnings

    warnings.simplefilter("ignore")  # frictionless' deprecation notes on its own test data
    where, all_, ref = prepare()
    corpus = fetch()
    print(
        f"frictionless {VERSION} corpus in {corpus}: {len(data_tables(corpus))} data files, "
        f"{len(spec_resources(corpus))} literal resources in the specs, {len(all_)} distinct "
        f"cases, {sum(o.valid for o in ref.values())} valid to frictionless"
    )
