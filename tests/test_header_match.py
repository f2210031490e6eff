"""Header matching without frictionless when the labels are the field names, in order.

`match_header` decides that case itself under every `fieldsMatch`: importing frictionless and
building its schema costs about half a second, a third of publishing a small table. The decision
must be the one frictionless' own header makes: the same fields, in the same order, with the same
descriptors, missing values and supported constraints, and no label problem.
"""

from __future__ import annotations

import copy
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from helpers import STAFF_ROWS, STAFF_SCHEMA, PackageFactory
from hypothesis import given, settings
from hypothesis import strategies as st

from opengov.package import ResourceSpec
from opengov.sources.dialect import CsvDialect
from opengov.sources.header import _frictionless_header, match_header

FIELDS_MATCH = [None, "exact", "equal", "subset", "superset", "partial"]
_TYPES = ["string", "integer", "number", "date", "boolean", "datetime", "year", "any"]

field_names = st.lists(
    st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=8),
    min_size=1,
    max_size=6,
    unique=True,
)


def _resource(schema: dict[str, Any]) -> ResourceSpec:
    return ResourceSpec(name="r", format="csv", schema=schema, descriptor={"name": "r"})


def _compared(header: Any) -> list[tuple[Any, ...]]:
    return [
        (e.number, e.name, e.descriptor.get("type"), e.missing_values, sorted(e.supported))
        for e in header.expected
    ]


@settings(max_examples=60, deadline=None)
@given(
    names=field_names,
    types=st.lists(st.sampled_from(_TYPES), min_size=6, max_size=6),
    fields_match=st.sampled_from(FIELDS_MATCH),
    missing=st.sampled_from([None, [""], ["", "-"], ["NA"]]),
)
def test_labels_equal_to_the_names_match_as_frictionless_matches_them(
    names: list[str], types: list[str], fields_match: str | None, missing: list[str] | None
) -> None:
    fields = [{"name": n, "type": t} for n, t in zip(names, types, strict=False)]
    fields[0]["missingValues"] = ["x"]  # a field's own list wins over the schema's
    schema: dict[str, Any] = {"fields": fields}
    if fields_match is not None:
        schema["fieldsMatch"] = fields_match
    if missing is not None:
        schema["missingValues"] = missing
    resource = _resource(schema)
    dialect = CsvDialect()
    ours = match_header(resource, list(names), dialect)
    theirs = _frictionless_header(resource, list(names), dialect)
    assert theirs.problems == [] and ours.problems == []
    assert _compared(ours) == _compared(theirs)


@pytest.mark.parametrize(
    ("labels", "fields_match", "by_name"),
    [
        (["id", "Namn"], "superset", True),  # another case: frictionless' rules decide
        (["namn", "id"], "equal", True),  # another order: matched by name
        (["id"], "subset", True),  # a field left out
        (["id", "namn", "extra"], "exact", False),  # a label the schema lacks
    ],
)
def test_other_labels_still_go_to_frictionless(
    labels: list[str], fields_match: str, by_name: bool
) -> None:
    fields = [{"name": "id", "type": "integer"}, {"name": "namn", "type": "string"}]
    resource = _resource({"fields": fields, "fieldsMatch": fields_match})
    header = match_header(resource, labels, CsvDialect())
    assert header.exact is False  # frictionless' header decided
    assert header.by_name is by_name


_SCRIPT = """
import atexit, json, sys
out, args = sys.argv[1], sys.argv[2:]
atexit.register(lambda: open(out, "w").write(json.dumps(sorted(sys.modules))))
sys.argv = ["opengov", *args]
from opengov.cli import main
main()
"""


@pytest.mark.parametrize("fields_match", ["superset", "subset", "equal", "partial"])
def test_validating_a_matching_header_imports_no_frictionless(
    make_package: PackageFactory, tmp_path: Path, fields_match: str
) -> None:
    schema = copy.deepcopy(STAFF_SCHEMA)
    schema["fieldsMatch"] = fields_match
    package = make_package(schema=schema, rows=STAFF_ROWS, rules=None)
    out = tmp_path / "modules.json"
    run = subprocess.run(
        [sys.executable, "-c", _SCRIPT, str(out), "validate", str(package)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    import json

    modules = json.loads(out.read_text())
    assert "opengov.validate.arrow_engine" in modules
    assert not [m for m in modules if m == "frictionless" or m.startswith("frictionless.")]
