"""Issue 9 §7, outside the table readers: descriptors, schemas, rules.yaml, key files and the JSON
of social-media exports that nest too deep, expand too far or are too large end in a clear
message and exit 30, without a traceback, within a time and a peak RSS bound."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from hostile import PLANTED, invoke, run_measured, write_package
from hypothesis import given, settings
from hypothesis import strategies as st

from opengov import limits
from opengov.errors import LimitExceeded
from opengov.redact.keys import write_new_key

SOCIAL = Path(__file__).parent / "fixtures" / "social"
DEPTH = 100_000
TIMEOUT_S = 60.0
MAX_RSS_MB = 400  # a plain `opengov validate` of an example peaks near 120 MB


def _deep_json(depth: int = DEPTH, kind: str = "list") -> str:
    if kind == "list":
        return "[" * depth + "]" * depth
    return '{"a":' * depth + "1" + "}" * depth


def _billion_laughs(levels: int = 9, fan: int = 9, kind: str = "list") -> str:
    lines = ["version: 1", 'l0: &l0 ["lol"]']
    for level in range(1, levels + 1):
        refs = ", ".join([f"*l{level - 1}"] * fan)
        if kind == "list":
            lines.append(f"l{level}: &l{level} [{refs}]")
        else:
            items = ", ".join(f"k{i}: *l{level - 1}" for i in range(fan))
            lines.append(f"l{level}: &l{level} {{{items}}}")
    lines.append(f"resources: {{r: {{fields: *l{levels}}}}}")
    return "\n".join(lines) + "\n"


def _check(args: list[str], what: str) -> None:
    """The hostile run: exit 30, a message naming the limit, no traceback, bounded."""
    run = run_measured(args, timeout=TIMEOUT_S)
    assert run.exit_code == LimitExceeded.exit_code, (run.exit_code, run.stderr[-1500:])
    assert "Traceback" not in run.stderr and "internal error" not in run.stderr
    assert what in run.stderr, run.stderr
    assert PLANTED not in run.stdout + run.stderr
    assert run.max_rss_mb < MAX_RSS_MB, run.max_rss_mb
    assert run.seconds < TIMEOUT_S


def _set_descriptor(pkg: Path, text: str) -> None:
    (pkg / "datapackage.json").write_text(text, encoding="utf-8")


def _with(descriptor: dict[str, Any], anchor: str, extra: str) -> str:
    """The descriptor's JSON with `"x": extra` inserted before the first `anchor` key."""
    return json.dumps(descriptor).replace(f'"{anchor}"', f'"x": {extra}, "{anchor}"', 1)


DESCRIPTOR_CASES = {
    "deep-list": lambda d: _deep_json(),
    "deep-object": lambda d: _deep_json(kind="object"),
    "deep-in-resource": lambda d: _with(d, "dialect", _deep_json()),
    "deep-in-schema": lambda d: _with(d, "fields", _deep_json(kind="object")),
    "just-past-the-limit": lambda d: _with(d, "resources", _deep_json(limits.MAX_JSON_DEPTH)),
    "huge-number": lambda d: _with(d, "resources", "9" * 100_000),
    "oversized": lambda d: _with(d, "resources", '"' + "x" * limits.MAX_DESCRIPTOR_BYTES + '"'),
}
EXPECTED = {"oversized": "larger than", "huge-number": "number longer"}


@pytest.mark.parametrize("case", list(DESCRIPTOR_CASES))
@pytest.mark.parametrize("command", ["publish", "validate"])
def test_hostile_datapackage_json(tmp_path: Path, case: str, command: str) -> None:
    pkg = write_package(tmp_path / "pkg")
    descriptor = json.loads((pkg / "datapackage.json").read_text())
    _set_descriptor(pkg, DESCRIPTOR_CASES[case](descriptor))
    args = [command, str(pkg)] + (
        ["--to", str(tmp_path / "portal")] if command == "publish" else []
    )
    _check(args, EXPECTED.get(case, "nests deeper than"))
    assert not (tmp_path / "portal").exists()


@pytest.mark.parametrize("kind", ["list", "object"])
def test_hostile_schema_file(tmp_path: Path, kind: str) -> None:
    pkg = write_package(tmp_path / "pkg")
    descriptor = json.loads((pkg / "datapackage.json").read_text())
    descriptor["resources"][0]["schema"] = "schema.json"
    _set_descriptor(pkg, json.dumps(descriptor))
    (pkg / "schema.json").write_text(_deep_json(kind=kind))
    _check(["publish", str(pkg), "--to", str(tmp_path / "portal")], "nests deeper than")


def test_single_file_schema_is_limited_too(tmp_path: Path) -> None:
    (tmp_path / "data.csv").write_text("id\n1\n")
    (tmp_path / "schema.json").write_text(_deep_json())
    _check(["validate", str(tmp_path / "data.csv"), "--schema", str(tmp_path / "schema.json")],
           "nests deeper than")  # fmt: skip


RULES_CASES = {
    "laughs-list": (_billion_laughs(), "alias bomb"),
    "laughs-map": (_billion_laughs(kind="map"), "alias bomb"),
    "laughs-wide": (_billion_laughs(levels=4, fan=40), "alias bomb"),
    "merge-keys": (
        "version: 1\nb0: &b0 {a: 1, b: 2, c: 3}\n"
        + "".join(f"b{i}: &b{i} {{<<: *b{i - 1}, x{i}: [{', '.join([f'*b{i - 1}'] * 8)}]}}\n"
                  for i in range(1, 10))
        + "resources: *b9\n",
        "alias bomb",
    ),
    "deep-flow": ("version: 1\nresources: " + "[" * DEPTH + "]" * DEPTH + "\n", "nests deeper"),
    "deep-block": ("version: 1\nresources:\n" + "- " * DEPTH + "x\n", "nests deeper"),
    "deep-map": ("version: 1\nresources: " + "{a: " * DEPTH + "1" + "}" * DEPTH + "\n",
                 "nests deeper"),
    "oversized": ("version: 1\n# " + "x" * (limits.MAX_RULES_BYTES + 1) + "\n", "larger than"),
}  # fmt: skip


@pytest.mark.parametrize("case", list(RULES_CASES))
@pytest.mark.parametrize("command", ["publish", "validate"])
def test_hostile_rules_yaml(tmp_path: Path, case: str, command: str) -> None:
    text, what = RULES_CASES[case]
    pkg = write_package(tmp_path / "pkg")
    (pkg / "rules.yaml").write_text(text, encoding="utf-8")
    args = [command, str(pkg)] + (
        ["--to", str(tmp_path / "portal")] if command == "publish" else []
    )
    _check(args, what)


def test_anchors_for_shared_decisions_still_work(tmp_path: Path) -> None:
    pkg = write_package(tmp_path / "pkg")
    (pkg / "rules.yaml").write_text(
        "version: 1\nresources:\n  r:\n    fields:\n      id: public\n"
        "      namn: &drop {class: personal, action: drop, basis: '21 kap. 7 § OSL'}\n"
        "      personnummer: *drop\n",
        encoding="utf-8",
    )
    run = invoke(["publish", str(pkg), "--to", str(tmp_path / "portal")])
    assert run.exit_code == 0, run.output
    published = (tmp_path / "portal" / "ds" / "data" / "r.csv").read_text()
    assert published.splitlines()[0] == '"id"' or published.splitlines()[0] == "id"


def test_an_oversized_key_file(tmp_path: Path) -> None:
    pkg = write_package(tmp_path / "pkg")
    (tmp_path / "key").write_bytes(b"0123456789abcdef" * (limits.MAX_KEY_BYTES // 8))
    _check(["publish", str(pkg), "--to", str(tmp_path / "portal"), "--key-file",
            str(tmp_path / "key")], "larger than")  # fmt: skip


@pytest.mark.parametrize("kind", ["list", "object"])
def test_deep_tweets_js(tmp_path: Path, kind: str) -> None:
    archive = tmp_path / "archive"
    shutil.copytree(SOCIAL / "twitter-2024", archive)
    (archive / "data" / "tweets.js").write_text(
        "window.YTD.tweets.part0 = " + _deep_json(kind=kind)
    )
    _check(["import", "twitter", str(archive), "--account", "kommunen", "--out",
            str(tmp_path / "out")], "nests deeper than")  # fmt: skip
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("kind", ["list", "object"])
def test_deep_facebook_json(tmp_path: Path, kind: str) -> None:
    export = tmp_path / "export"
    shutil.copytree(SOCIAL / "facebook-page-2025", export)
    posts = export / "this_profile's_activity_across_facebook" / "posts" / "profile_posts_1.json"
    posts.write_text(_deep_json(kind=kind))
    key = tmp_path / "key"
    write_new_key(key)  # Facebook imports key the record ids they derive
    _check(["import", "facebook", str(export), "--account", "kommunen", "--out",
            str(tmp_path / "out"), "--key-file", str(key)], "nests deeper than")  # fmt: skip
    assert not (tmp_path / "out").exists()


# --- the loaders themselves, with generated shapes -----------------------------------------


@given(depth=st.integers(1, 3000), kind=st.sampled_from(["list", "object"]))
@settings(max_examples=80)
def test_json_depth_is_refused_exactly_past_the_limit(depth: int, kind: str) -> None:
    try:
        limits.load_json(_deep_json(depth, kind), "doc")
    except LimitExceeded:
        assert depth > limits.MAX_JSON_DEPTH
    else:
        assert depth <= limits.MAX_JSON_DEPTH


def _expanded(levels: int, fan: int, kind: str) -> int:
    """Values in `_billion_laughs(levels, fan, kind)` with every alias expanded."""
    sizes = [2]  # l0: a list and its one string
    for _ in range(levels):
        child = sizes[-1] + (1 if kind == "map" else 0)  # a map entry adds its key
        sizes.append(1 + fan * child)
    top = 1 + 2 + sum(1 + s for s in sizes) + 1 + 4 + sizes[-1]
    return top


@given(levels=st.integers(1, 12), fan=st.integers(1, 12), kind=st.sampled_from(["list", "map"]))
@settings(max_examples=150, deadline=None)
def test_yaml_expansion_is_counted_before_anything_is_built(
    levels: int, fan: int, kind: str
) -> None:
    try:
        document = limits.load_yaml(_billion_laughs(levels, fan, kind), "rules.yaml")
    except LimitExceeded as exc:
        assert "alias bomb" in exc.message
        assert _expanded(levels, fan, kind) > limits.MAX_YAML_NODES
    else:
        assert _expanded(levels, fan, kind) <= limits.MAX_YAML_NODES
        assert isinstance(document.data, dict)


def _depth(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    return 0


@given(
    st.recursive(
        st.integers() | st.text(max_size=5),
        lambda inner: (
            st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3)
        ),
        max_leaves=40,
    )
)
def test_ordinary_documents_load_unchanged(value: Any) -> None:
    assert limits.load_json(json.dumps(value), "doc") == value
    assert _depth(value) <= limits.MAX_JSON_DEPTH
