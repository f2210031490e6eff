"""The @handle detector: other accounts' handles and profile links go, the authority's own stay,
e-mail addresses are not handles; `scan: [handle]` and `own_accounts` in rules.yaml."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from helpers import PackageFactory
from hypothesis import given, settings
from hypothesis import strategies as st

from opengov.errors import RulesError
from opengov.package import load_package
from opengov.redact import PseudonymKey, redact
from opengov.redact.detectors import TAGS, scan_replace, validate_kinds
from opengov.redact.detectors import handles as h
from opengov.rules import load_rules, parse_rules
from opengov.sources.readers import read_typed

TAG = h.TAG
OWN = ("ExempelbyKommun", "ExempelbyKC")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("@anna_k Tack för frågan!", f"{TAG} Tack för frågan!"),
        ("Hej @ExempelbyKC och @anna_k!", f"Hej @ExempelbyKC och {TAG}!"),
        ("RT @exempelbykommun: Nu öppnar", "RT @exempelbykommun: Nu öppnar"),
        ("@ExempelbyKC2 är inte vi", f"{TAG} är inte vi"),
        ("@ExempelbyKC. Slut", "@ExempelbyKC. Slut"),
        ("@a @b,@c;(@d)", f"{TAG} {TAG},{TAG};({TAG})"),
        ("@anna@erik", f"{TAG}{TAG}"),
        ("följ @kalle@mastodon.social.", f"följ {TAG}."),
        ("mastodon.social/@kalle", f"mastodon.social/{TAG}"),
        ("Mejla anna.k@example.se eller @", "Mejla anna.k@example.se eller @"),
        ("Håll utkik @Håkan_Öberg!", f"Håll utkik {TAG}!"),
        ('["@anna_andersson","@ExempelbyKC"]', f'["{TAG}","@ExempelbyKC"]'),
        ("se https://twitter.com/anna_k/status/1690100000000000001 nu", f"se {TAG} nu"),
        ("se x.com/anna_k och https://mobile.twitter.com/b", f"se {TAG} och {TAG}"),
        ("https://x.com/ExempelbyKC/status/1", "https://x.com/ExempelbyKC/status/1"),
        ("https://www.netflix.com/se och box.com/x", "https://www.netflix.com/se och box.com/x"),
        ('["https://twitter.com/a/status/1"]', f'["{TAG}"]'),
        ("Tack @[100001234567890:274:Dragan Petrović]!", f"Tack {TAG}!"),
        ("", ""),
    ],
)
def test_replace_text(text: str, expected: str) -> None:
    assert h.replace_text(text, OWN) == expected
    assert h.contains_handle(text, OWN) == (text != expected)


def test_own_facebook_pages_by_numeric_id() -> None:
    text = "Tack @[100064123456789:274:Exempelby bibliotek] och @[1:274:Anna]"
    assert h.replace_text(text, ["100064123456789"]) == (
        f"Tack @[100064123456789:274:Exempelby bibliotek] och {TAG}"
    )


def test_columns_keep_nulls_chunks_and_count() -> None:
    column = pa.chunked_array([["@a x", None, "y"], ["@b @c", "@ExempelbyKC"]])
    found = h.scan_replace(column, OWN)
    assert isinstance(found.array, pa.ChunkedArray)
    assert found.array.to_pylist() == [f"{TAG} x", None, "y", f"{TAG} {TAG}", "@ExempelbyKC"]
    assert (found.matches, found.cells) == (3, 2)
    assert h.find_cells(column, OWN).to_pylist() == [True, False, False, True, False]
    assert h.scan_replace(pa.array([None, None], pa.string())).matches == 0
    large = h.scan_replace(pa.array(["@x"], pa.large_string()))
    assert large.array.type == pa.large_string()


def test_private_use_characters_are_just_text() -> None:
    sneaky = "".join(chr(c) for c in range(0xE000, 0xE004)) + " @anna @ExempelbyKC"
    assert h.replace_text(sneaky, OWN).endswith(f" {TAG} @ExempelbyKC")


@pytest.mark.parametrize("bad", ["has space", "", "@", "x" * 51, "a/b", 3])
def test_own_accounts_are_checked(bad: Any) -> None:
    with pytest.raises(ValueError):
        h.normalise_own([bad])


def test_registered_kind_but_only_through_its_module() -> None:
    assert TAGS["handle"] == TAG
    assert validate_kinds(["handle"]) == []
    with pytest.raises(ValueError, match="handle needs its own module"):
        scan_replace(pa.array(["@a"]), ["handle"])


# --- generated text ----------------------------------------------------------------------

_handle = st.from_regex(r"[A-Za-z0-9_]{1,15}", fullmatch=True)
_filler = st.sampled_from(["Hej", "Tack!", "se", "och", "—", "(", ")", ",", ".", "🎉", "\n", ""])


@settings(max_examples=300)
@given(
    others=st.lists(_handle, min_size=1, max_size=4),
    own=st.sampled_from(OWN),
    words=st.lists(_filler, min_size=1, max_size=5),
    link=st.booleans(),
)
def test_recall_every_other_handle_goes_and_own_stay(
    others: list[str], own: str, words: list[str], link: bool
) -> None:
    others = [o for o in others if o.lower() not in {x.lower() for x in OWN}]
    mentioned = [f"https://x.com/{o}/status/1" if link else f"@{o}" for o in others]
    text = " ".join([*words, *mentioned, f"@{own}", *words])
    out = h.replace_text(text, OWN)
    for other in others:
        assert f"@{other}" not in out.replace(f"@{own}", "")
        assert f"x.com/{other}" not in out
    assert f"@{own}" in out
    assert out.count(TAG) >= len(others) if others else TAG not in out


@settings(max_examples=200)
@given(
    local=st.from_regex(r"[a-z][a-z0-9._%+-]{0,20}[a-z0-9]", fullmatch=True),
    domain=st.from_regex(r"[a-z]{2,10}\.(se|com|nu)", fullmatch=True),
)
def test_email_addresses_are_never_handles(local: str, domain: str) -> None:
    text = f"Mejla {local}@{domain} i dag"
    assert h.replace_text(text) == text


# --- rules.yaml and the redaction step ---------------------------------------------------


def _rules(own: Any = None, scan: list[str] | None = None) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "fields": {
            "id": {"class": "public"},
            "text": {"class": "public", "scan": scan or ["handle", "phone"]},
        }
    }
    if own is not None:
        resource["own_accounts"] = own
    return {"version": 1, "resources": {"posts": resource}}


def test_own_accounts_in_rules() -> None:
    rules = parse_rules(_rules(["@ExempelbyKommun", "ExempelbyKC", "100064123456789"]))
    assert rules.resources["posts"].own_accounts == (
        "100064123456789",
        "ExempelbyKC",
        "ExempelbyKommun",
    )
    assert parse_rules(_rules()).resources["posts"].own_accounts == ()


@pytest.mark.parametrize("bad", ["ExempelbyKommun", [""], ["två ord"], [{"a": 1}]])
def test_bad_own_accounts_are_rules_errors(bad: Any) -> None:
    with pytest.raises(RulesError, match="own_accounts"):
        parse_rules(_rules(bad))


def test_scan_handle_in_the_redaction_step(make_package: PackageFactory, tmp_path: Path) -> None:
    root = make_package(
        "posts",
        rows=[
            ["id", "text"],
            ["1", "@anna_k Ring 070-174 06 50, hälsar @ExempelbyKommun"],
            ["2", "Se https://twitter.com/anna_k/status/1690100000000000001"],
            ["3", "Inget här"],
        ],
        schema={"fields": [{"name": "id", "type": "integer"}, {"name": "text", "type": "string"}]},
        rules=_rules(["ExempelbyKommun"]),
    )
    redaction = redact(
        load_package(root), load_rules(root / "rules.yaml"), read_typed, key=PseudonymKey(b"k" * 32)
    )
    texts = redaction.resources[0].table["text"].to_pylist()
    assert texts == [
        f"{TAG} Ring [telefonnummer borttaget], hälsar @ExempelbyKommun",
        f"Se {TAG}",
        "Inget här",
    ]
    manifest = redaction.manifest()
    (scan,) = [r for r in manifest["rules"] if r["rule"] == "posts.text"]
    assert scan["detectors"] == {"phone": 1, "handle": 2}
    assert "anna_k" not in str(manifest)


def test_pathological_cells_stay_linear() -> None:
    import time

    cells = [
        "@" + "a." * 100_000,
        "a" * 200_000 + "@",
        "@a" * 100_000,
        "x.com/" * 50_000,
        "@[1:2:" + "x" * 200_000,
    ]
    start = time.perf_counter()
    found = h.scan_replace(pa.array(cells), OWN)
    assert time.perf_counter() - start < 10
    assert found.array[0].as_py() == TAG + "."
