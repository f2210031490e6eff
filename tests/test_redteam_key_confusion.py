"""Red team 4: keys mixed up, and key files that never end.

- `--key-file keys/kommun.key.pub` (the signing key's published statement) or the private
  signing key PEM as the *pseudonym* key: both passed the strength check (their base64 looks
  random) and the publish went through. With the public statement, anyone holding the portal's
  keys.json could recompute every pseudonym from a name list. Refused now, exit 31.
- `--trust /dev/zero`, `--signing-key /dev/zero`, `key show /dev/zero`, `--trust-store
  /dev/zero`: a stat said 0 bytes and the read never ended (the process was killed for memory).
  Every key or store file is now read with its bound.
- A pipe in a package's `approvals/` blocked the publish for ever; it is no approval.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner
from helpers import PackageFactory
from hypothesis import given
from hypothesis import strategies as st
from signing_helpers import make_key

from opengov import errors
from opengov.approvals import read_envelopes
from opengov.cli import cli
from opengov.redact.keys import KEY_ENV, check_strength, load_key


@pytest.fixture
def signing_key(tmp_path: Path) -> Path:
    return make_key(tmp_path / "keys", "Exempelby kommun")


@pytest.mark.parametrize("which", ["public statement", "private PEM"])
def test_a_signing_key_file_is_not_a_pseudonym_key(
    tmp_path: Path, make_package: PackageFactory, signing_key: Path, which: str
) -> None:
    key_file = Path(f"{signing_key}.pub") if which == "public statement" else signing_key
    package, portal = make_package(), tmp_path / "portal"
    result = CliRunner().invoke(
        cli, ["publish", str(package), "--to", str(portal), "--key-file", str(key_file)],
        env={KEY_ENV: ""},
    )  # fmt: skip
    assert result.exit_code == errors.WeakKey.exit_code, result.output
    assert "not a pseudonym key" in result.output
    assert key_file.read_text(encoding="utf-8")[40:80] not in result.output
    assert not portal.exists()


def test_the_same_in_the_environment(monkeypatch: pytest.MonkeyPatch, signing_key: Path) -> None:
    monkeypatch.setenv(KEY_ENV, Path(f"{signing_key}.pub").read_text(encoding="utf-8"))
    with pytest.raises(errors.WeakKey, match="not a pseudonym key"):
        load_key()


@given(
    start=st.sampled_from(["-----BEGIN PRIVATE KEY-----\n", "-----BEGIN PUBLIC KEY-----\n",
                           '{\n  "payload": "', "ed25519:", "  {", "[", "ssh-ed25519 "]),
    body=st.binary(min_size=32, max_size=64).map(lambda b: b.hex()),
)  # fmt: skip
def test_key_file_shapes_are_refused_however_random_the_rest(start: str, body: str) -> None:
    with pytest.raises(errors.WeakKey, match="not a pseudonym key"):
        check_strength((start + body).encode(), "in test")


def test_a_random_key_is_still_a_key() -> None:
    check_strength(os.urandom(32).hex().encode(), "in test")


def _bounded(args: list[str]) -> tuple[int, str]:
    """The CLI in a thread, given 60 s: an unbounded read of a device must fail the test, not
    take the machine's memory (the read is bounded long before that)."""
    box: dict[str, object] = {}

    def run() -> None:
        box["result"] = CliRunner().invoke(cli, args)

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(60)
    assert not worker.is_alive(), f"{args} did not end"
    result = box["result"]
    return result.exit_code, result.output  # type: ignore[attr-defined]


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="needs /dev/zero")
@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["key", "show", "/dev/zero"], errors.SigningKeyError.exit_code),
        (["verify", "{dataset}", "--trust", "/dev/zero"], errors.SigningKeyError.exit_code),
        (["verify", "{dataset}", "--trust", "{pub}", "--trust-store", "/dev/zero"],
         errors.LimitExceeded.exit_code),
        (["publish", "{package}", "--to", "{portal}", "--signing-key", "/dev/zero"],
         errors.SigningKeyError.exit_code),
    ],
)  # fmt: skip
def test_a_device_as_a_key_or_store_file_is_refused_with_a_bound(
    tmp_path: Path,
    make_package: PackageFactory,
    key: str,
    signing_key: Path,
    args: list[str],
    code: int,
) -> None:
    from opengov.targets.static import publish_static

    package, portal = make_package(), tmp_path / "portal"
    publish_static(package, portal, signing_key=signing_key)
    names = {"dataset": str(portal / package.name), "pub": f"{signing_key}.pub",
             "package": str(package), "portal": str(portal)}  # fmt: skip
    got, output = _bounded([a.format(**names) for a in args])
    assert got == code, output
    assert "too large" in output or "larger than" in output


def test_a_pipe_in_approvals_is_no_approval(make_package: PackageFactory) -> None:
    package = make_package()
    (package / "approvals").mkdir()
    os.mkfifo(package / "approvals" / "deadbeef.json")
    box: dict[str, object] = {}
    worker = threading.Thread(target=lambda: box.update(r=read_envelopes(package)), daemon=True)
    worker.start()
    worker.join(20)
    assert not worker.is_alive(), "reading approvals blocked on a pipe"
    assert box["r"] == [("approvals/deadbeef.json", None)]


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="needs /dev/zero")
@pytest.mark.parametrize("which", ["config", "token_file"])
def test_a_device_as_ckan_config_or_token_file_is_refused_with_a_bound(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, which: str
) -> None:
    from opengov.targets.ckan.settings import TOKEN_ENV, ckan_settings

    monkeypatch.delenv(TOKEN_ENV, raising=False)
    config = Path("/dev/zero")
    if which == "token_file":
        config = tmp_path / "opengov.toml"
        config.write_text('[ckan]\nurl = "https://ckan.example.se"\norg = "kommunen"\n'
                          'token_file = "/dev/zero"\n', encoding="utf-8")  # fmt: skip
    box: dict[str, BaseException] = {}

    def run() -> None:
        try:
            ckan_settings(config=config)
        except BaseException as exc:  # handed to the test thread
            box["error"] = exc

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(60)
    assert not worker.is_alive(), "the read did not end"
    assert isinstance(box.get("error"), errors.LimitExceeded), box
