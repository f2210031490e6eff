"""Hostile data files get a clear message and their own exit code: no hang, no unbounded memory.

XLSX bombs, a record over the record limit, a declared encoding the bytes do not match, and a
file that changes encoding half-way.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from opengov import errors
from opengov.cli import cli
from opengov.sources import limits


def _package(root: Path, data_name: str, data: bytes, extra: dict | None = None) -> Path:  # type: ignore[type-arg]
    root.mkdir(parents=True, exist_ok=True)
    (root / data_name).write_bytes(data)
    schema = {"fields": [{"name": "a", "type": "string"}, {"name": "b", "type": "string"}]}
    resource = {"name": "d", "path": data_name, "schema": schema, **(extra or {})}
    (root / "datapackage.json").write_text(
        json.dumps({"name": "p", "resources": [resource]}), encoding="utf-8"
    )
    rules = {"version": 1, "resources": {"d": {"fields": {"a": "public", "b": "public"}}}}
    (root / "rules.yaml").write_text(yaml.safe_dump(rules), encoding="utf-8")
    return root


def _run(args: list[str]) -> tuple[int, str]:
    result = CliRunner().invoke(cli, args)
    assert "Traceback" not in result.output
    return result.exit_code, result.output


def _bomb(entry: str, size: int) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr(entry, b"<x>" + b"A" * size + b"</x>")
    return buffer.getvalue()


@pytest.mark.parametrize(
    "entry", ["xl/worksheets/sheet1.xml", "xl/sharedStrings.xml", "xl/media/image1.xml"]
)
@pytest.mark.parametrize("command", ["validate", "publish"])
def test_xlsx_bomb_is_refused_before_openpyxl(tmp_path: Path, entry: str, command: str) -> None:
    data = _bomb(entry, 300 << 20)
    assert len(data) < 1 << 20  # under a megabyte on disk
    root = _package(tmp_path / "p", "d.xlsx", data)
    args = [command, str(root)] + (
        ["--to", str(tmp_path / "portal")] if command == "publish" else []
    )
    code, output = _run(args)
    assert code == errors.LimitExceeded.exit_code, output
    assert "expands" in output or "MiB" in output
    assert not (tmp_path / "portal" / "p").exists()


def test_a_record_over_the_limit_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(limits, "MAX_RECORD_BYTES", 1 << 20)
    from opengov.sources import csv as csv_source
    from opengov.sources import dialect

    monkeypatch.setattr(dialect, "MAX_RECORD_BYTES", 1 << 20)
    monkeypatch.setattr(csv_source, "MAX_RECORD_BYTES", 1 << 20)
    for where in ("header", "data"):
        huge = b"x" * (3 << 20)
        data = huge + b",b\n1,2\n" if where == "header" else b"a,b\n1," + huge + b"\n2,3\n"
        root = _package(tmp_path / where, "d.csv", data)
        code, output = _run(["publish", str(root), "--to", str(tmp_path / "portal")])
        assert code == errors.LimitExceeded.exit_code, (where, output)
        assert "MiB" in output and "xxxx" not in output


def test_utf16_declared_on_utf8_is_refused(tmp_path: Path) -> None:
    root = _package(tmp_path / "p", "d.csv", "a,b\nÅsa,Öberg\n".encode(), {"encoding": "utf-16"})
    code, output = _run(["validate", str(root)])
    assert code == errors.InputError.exit_code, output
    assert "utf-16" in output and "UTF-8" in output


@pytest.mark.parametrize("declared", [None, "utf-8", "windows-1252"])
@pytest.mark.parametrize("first", ["utf-8", "cp1252"])
def test_a_file_that_changes_encoding_is_refused(
    tmp_path: Path, declared: str | None, first: str
) -> None:
    second = "cp1252" if first == "utf-8" else "utf-8"
    head = "a,b\n" + "".join(f"Åsa {i},Öberg\n" for i in range(50_000))
    tail = "".join(f"Håkan {i},Ärlig\n" for i in range(10))
    data = head.encode(first) + tail.encode(second)
    extra = {"encoding": declared} if declared else {}
    root = _package(tmp_path / "p", "d.csv", data, extra)
    code, output = _run(["publish", str(root), "--to", str(tmp_path / "portal")])
    assert code == errors.InputError.exit_code, output
    assert not (tmp_path / "portal" / "p").exists()


@settings(max_examples=300, deadline=None)
@given(
    value=st.one_of(
        st.text(alphabet='ab.-_@+"åé1 \n', max_size=20),
        st.from_regex(r"[a-z]{1,5}(\.[a-z]{1,3})?@[a-z]{1,4}\.[a-z]{2,3}", fullmatch=True),
        st.uuids().map(str),
        st.from_regex(r"[a-z][a-z0-9+.\-]{0,5}:[a-z/]{0,8}", fullmatch=True),
    ),
    fmt=st.sampled_from(["email", "uri", "uuid"]),
)
def test_string_formats_through_re2_agree_with_frictionless(value: str, fmt: str) -> None:
    import pyarrow as pa
    from frictionless import Field

    from opengov.sources.cast import cast_field

    if not value:
        return  # "" is a missing value, not a format error
    field = {"name": "a", "type": "string", "format": fmt}
    reader = Field.from_descriptor(field).create_value_reader()
    result = cast_field(pa.array([value, value.upper()]), field)
    assert [not i for i in result.invalid.to_pylist()] == [
        reader(value) is not None,
        reader(value.upper()) is not None,
    ]
