"""Red team 4: a JSON escape of half a UTF-16 pair (`"\\ud800"`). JSON's grammar admits it,
Python keeps it as a lone surrogate, and the first UTF-8 write of that string failed: a
Facebook or X export, or a datapackage.json title, ended as "internal error
(UnicodeEncodeError)", exit 70. Every JSON document is read through `opengov.limits`, which now
refuses such a string as invalid JSON (its position named, the text not quoted), so each caller
reports it with its own exit code."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from helpers import PackageFactory
from hypothesis import given
from hypothesis import strategies as st
from social_support import FB_2023, X_2024, key_env  # noqa: F401  (a fixture)

from opengov.cli import cli
from opengov.errors import ImportFailed, SchemaError
from opengov.limits import load_json, raw_decode_json

lone = st.integers(0xD800, 0xDFFF).map(lambda c: f"\\u{c:04x}")
text = st.text(st.characters(exclude_categories=("Cs",), exclude_characters='"\\'), max_size=20)


def _escaped(s: str) -> str:
    return json.dumps(s)[1:-1]


@given(before=text, surrogate=lone, after=text, upper=st.booleans(), as_key=st.booleans())
def test_a_lone_surrogate_escape_is_invalid_json(
    before: str, surrogate: str, after: str, upper: bool, as_key: bool
) -> None:
    if upper:
        surrogate = "\\u" + surrogate[2:].upper()
    string = f'"{_escaped(before)}{surrogate}{_escaped(after)}"'
    doc = f'{{{string}: 1}}' if as_key else f'{{"post": [{string}]}}'  # fmt: skip
    with pytest.raises(json.JSONDecodeError, match="lone UTF-16 surrogate") as caught:
        load_json(doc, "export")
    assert caught.value.pos <= doc.index(surrogate)
    with pytest.raises(json.JSONDecodeError, match="lone UTF-16 surrogate"):
        load_json(doc.encode(), "export")
    with pytest.raises(json.JSONDecodeError, match="lone UTF-16 surrogate"):
        raw_decode_json("window.YTD.tweets.part0 = " + doc, 26, "export")


@given(char=st.integers(0x10000, 0x10FFFF).map(chr), before=text)
def test_paired_escapes_and_escaped_backslashes_still_read(char: str, before: str) -> None:
    pair = json.dumps(char)  # "\ud83d\ude00": ensure_ascii writes the pair
    assert re.fullmatch(r'"\\u[dD][89abAB][0-9a-f]{2}\\u[dD][c-fC-F][0-9a-f]{2}"', pair)
    doc = f'["{_escaped(before)}", {pair}, "\\\\ud800"]'  # the last is a backslash and "ud800"
    assert load_json(doc, "export") == [before, char, "\\ud800"]


def _sub(path: Path, pattern: str, replacement: str) -> None:
    text = path.read_text(encoding="utf-8")
    changed = re.sub(pattern, replacement, text, count=1)
    assert changed != text
    path.write_text(changed, encoding="utf-8")


@pytest.mark.usefixtures("key_env")
def test_a_facebook_export_with_a_lone_surrogate_fails_as_a_broken_export(tmp_path: Path) -> None:
    export = shutil.copytree(FB_2023, tmp_path / "export")
    posts = next(export.rglob("your_posts*.json"))
    _sub(posts, r'"post": "', r'"post": "\\udc80')
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["import", "facebook", str(export), "--account", "Kommunen",
                                      "--account-type", "official", "--out", str(out)])  # fmt: skip
    assert result.exit_code == ImportFailed.exit_code, result.output
    assert "lone UTF-16 surrogate" in result.output
    assert not out.exists()


@pytest.mark.usefixtures("key_env")
@pytest.mark.parametrize("where", ["tweets.js", "tweets-part1.js"])
@pytest.mark.parametrize("half", ["\\ud83d", "\\udc80", "\\uD83D\\uD83D"])
def test_an_x_archive_with_half_an_emoji_imports_it_replaced_and_reported(
    tmp_path: Path, where: str, half: str
) -> None:
    """X cuts texts at 140 characters and can cut an emoji in two: the archive holds half of
    it, a lone surrogate. The steward cannot mend X's export, so the broken character becomes
    U+FFFD, every post is imported, and the file's report says how many were replaced."""
    export = shutil.copytree(X_2024, tmp_path / "export")
    # re.sub reads backslashes in the replacement: each is written doubled.
    _sub(export / "data" / where, r'"full_text": "', r'"full_text": "' + half.replace("\\", r"\\"))
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["import", "twitter", str(export), "--account", "Kommunen",
                                      "--account-type", "official", "--out", str(out),
                                      "--json"])  # fmt: skip
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    clean = json.loads(CliRunner().invoke(cli, ["import", "twitter", str(X_2024), "--account",
                                                "Kommunen", "--account-type", "official",
                                                "--out", str(tmp_path / "clean"), "--json"]
                                          ).output)  # fmt: skip
    assert report["posts"]["read"] == clean["posts"]["read"]
    replaced = half.count("\\u")
    notes = {f["path"]: f.get("note") for f in report["files"]}
    assert f"{replaced} broken character(s) replaced" in str(notes[f"data/{where}"])
    texts = (out / "posts.csv").read_text(encoding="utf-8")
    assert texts.count("\ufffd") == replaced


@pytest.mark.parametrize("where", ["title", "description", "field title"])
def test_a_descriptor_with_a_lone_surrogate_is_a_schema_error(
    tmp_path: Path, make_package: PackageFactory, key: str, where: str
) -> None:
    package = make_package()
    descriptor = package / "datapackage.json"
    data = json.loads(descriptor.read_text(encoding="utf-8"))
    if where == "field title":
        data["resources"][0]["schema"]["fields"][0]["title"] = "\ud800"
    else:
        data["resources"][0][where] = "Bidrag \udfff"
    descriptor.write_text(json.dumps(data), encoding="utf-8")
    portal = tmp_path / "portal"
    result = CliRunner().invoke(cli, ["publish", str(package), "--to", str(portal)])
    assert result.exit_code == SchemaError.exit_code, result.output
    assert "lone UTF-16 surrogate" in result.output
    assert not (portal / package.name).exists()


# Identifiers (Luhn-valid personnummer, PTS fiction-range phone numbers, an e-mail address)
# that the last scan must find whatever character X broke inside them.
_IDENTIFIERS = ("811228-9874", "19811228-9874", "070-123 45 67", "08-123 456 78", "anna@exempel.se")


@given(
    identifier=st.sampled_from(_IDENTIFIERS),
    at=st.integers(1, 20),
    half=st.sampled_from(["\\ud83d", "\\udc80", "\\uD83D\\uD83D"]),
    before=st.sampled_from(["", "Kontakt ", "ring "]),
)
def test_half_an_emoji_inside_an_identifier_does_not_hide_it(
    identifier: str, at: int, half: str, before: str
) -> None:
    """The repair writes U+FFFD, a box to every reader, where X cut a character: inside a
    personnummer it was refused before the repair; now the last scan reads through it as it
    reads through a zero-width space, and the replaced span covers it."""
    import pyarrow as pa

    from opengov.redact.detectors import DEFAULT_LAST_SCAN, scan_replace

    at = min(at, len(identifier) - 1)
    broken = identifier[:at] + half + identifier[at:]
    repaired = [0]
    value, _ = raw_decode_json(f'["{before}{broken} idag"]', 0, "export", repaired=repaired)
    assert repaired[0] >= 1 and "\ufffd" in value[0]
    result = scan_replace(pa.array(value), list(DEFAULT_LAST_SCAN))
    out = result.array.to_pylist()[0]
    assert "\ufffd" not in out, out
    assert out.startswith(before) and out.endswith(" idag"), out
    assert re.search(r"\[[a-z-]+ borttage[nt]\]", out), out
