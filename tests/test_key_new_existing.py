"""`opengov key new` over a file that exists: the same refusal for either kind of key.

Found by a README walkthrough: a signing key gave exit 48 (signing key error), a pseudonym key
exit 6 (bad input), for the same mistake. Whatever is at the path (a key, any file, a link, a
dangling link, a folder) stays as it was, and the message says how to go on.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from opengov import errors
from opengov.cli import cli
from opengov.redact.keys import write_new_key
from opengov.signing import new_signing_key

KINDS = {
    "pseudonym": [],
    "signing": ["--signing", "--name", "Exempelby kommun"],
}


def _plant(path: Path, what: str, tmp_path: Path) -> None:
    if what == "a key":
        write_new_key(path)
    elif what == "a file":
        path.write_text("kvitto 2024", encoding="utf-8")
    elif what == "a link":
        (tmp_path / "elsewhere").write_text("the steward's own file", encoding="utf-8")
        path.symlink_to(tmp_path / "elsewhere")
    elif what == "a dangling link":
        path.symlink_to(tmp_path / "nowhere")
    else:
        path.mkdir()


def _state(tmp_path: Path) -> dict[str, object]:
    out: dict[str, object] = {}
    for p in sorted(tmp_path.rglob("*")):
        if p.is_symlink():
            out[str(p)] = ("link", os.readlink(p))
        elif p.is_file():
            out[str(p)] = p.read_bytes()
        else:
            out[str(p)] = "folder"
    return out


@pytest.mark.parametrize("what", ["a key", "a file", "a link", "a dangling link", "a folder"])
@pytest.mark.parametrize("kind", sorted(KINDS))
@pytest.mark.parametrize("as_json", [False, True], ids=["text", "json"])
def test_an_existing_file_is_refused_alike_for_both_kinds(
    tmp_path: Path, kind: str, what: str, as_json: bool
) -> None:
    out = tmp_path / "nyckel.key"
    _plant(out, what, tmp_path)
    before = _state(tmp_path)
    args = ["key", "new", "--out", str(out), *KINDS[kind], *(["--json"] if as_json else [])]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == errors.KeyFileExists.exit_code == 19, result.output
    assert "never overwritten" in result.output and "another file with --out" in result.output
    assert "Traceback" not in result.output
    assert _state(tmp_path) == before


def test_a_signing_keys_public_half_existing_is_refused_alike(tmp_path: Path) -> None:
    out = tmp_path / "nyckel.key"
    Path(f"{out}.pub").write_text("{}", encoding="utf-8")
    result = CliRunner().invoke(cli, ["key", "new", "--out", str(out), *KINDS["signing"]])
    assert result.exit_code == errors.KeyFileExists.exit_code, result.output
    assert f"{out}.pub exists" in result.output
    assert not out.exists()


def test_the_library_refuses_with_the_same_class(tmp_path: Path) -> None:
    out = tmp_path / "nyckel.key"
    new_signing_key(out, name="Exempelby kommun")
    with pytest.raises(errors.KeyFileExists):
        new_signing_key(out, name="Exempelby kommun")
