"""What `opengov publish` puts in the portal for social-media packages: no private person's
handle, name or post id in any byte; the authority's own handles kept; 2008-2010 status ids
(10 digits, some of them personnummer-shaped) published as the identifiers they are."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from social_support import (
    EXAMPLE,
    PRIVATE_HANDLES,
    PRIVATE_NAMES,
    PRIVATE_POST_IDS,
    X_GRAILBIRD,
    rows,
)

from opengov.cli import cli
from opengov.importers.social import import_twitter
from opengov.redact.detectors import classify

FORBIDDEN = (
    *PRIVATE_NAMES,
    *PRIVATE_HANDLES,
    *PRIVATE_POST_IDS,
    "19811228-9874",
    "640823-3234",
    "070-174 06 50",
    "cecilia.ost@example.com",
    "100001234567890",  # a private person's Facebook id in a tag
)


def _published_text(dataset: Path) -> str:
    """Every byte written, and the decoded values of the Parquet files (compressed pages)."""
    parts: list[str] = []
    for path in sorted(dataset.rglob("*")):
        if not path.is_file():
            continue
        if path.suffix == ".parquet":
            for column in pq.read_table(path).columns:
                parts.extend(str(v) for v in column.to_pylist())
        else:
            parts.append(path.read_bytes().decode("utf-8", errors="replace"))
    return "\n".join(parts)


def _publish(package: Path, portal: Path) -> None:
    result = CliRunner().invoke(cli, ["publish", str(package), "--to", str(portal)], obj={})
    assert result.exit_code == 0, result.output


@pytest.fixture(scope="module")
def example_portal(tmp_path_factory: pytest.TempPathFactory) -> Path:
    portal = tmp_path_factory.mktemp("portal")
    _publish(EXAMPLE, portal)
    return portal / "kommunchef-sociala-medier"


def test_no_private_handle_name_or_post_id_is_published(example_portal: Path) -> None:
    text = _published_text(example_portal)
    assert len(text) > 10_000
    leaked = [value for value in FORBIDDEN if value.lower() in text.lower()]
    assert leaked == []
    # The example really had them: the package (the municipality's copy) holds every one.
    package = "\n".join(p.read_text(encoding="utf-8") for p in EXAMPLE.glob("*.csv"))
    assert all(h in package for h in PRIVATE_HANDLES[:2])
    assert "1690100000000000001" in package and "Dragan Petrović" in package


def test_own_handles_and_official_content_are_published(example_portal: Path) -> None:
    posts = rows(example_portal / "data" / "posts.csv")
    texts = " ".join(r["text"] for r in posts)
    assert "RT @ExempelbyKommun:" in texts
    assert "@[100064123456789:274:Exempelby bibliotek]" in texts
    assert "[användarnamn borttaget]" in texts
    thread = next(r for r in posts if r["record_id"] == "tw-1690212345678901236")
    assert thread["in_reply_to"] == "1690012345678901234"  # a reply to the account's own post
    assert "in_reply_to_external" not in posts[0]
    assert "author" not in rows(example_portal / "data" / "comments.csv")[0]


def test_redactions_say_what_was_replaced_and_which_columns_are_identifiers(
    example_portal: Path,
) -> None:
    manifest = json.loads((example_portal / "redactions.json").read_text(encoding="utf-8"))
    declared = {(c["resource"], c["field"]) for c in manifest["identifier_columns"]}
    assert {("posts", "record_id"), ("posts", "platform_post_id"), ("comments", "record_id")} <= (
        declared
    )
    detectors = {(r["resource"], r["field"]): r.get("detectors") for r in manifest["rules"]}
    assert detectors[("posts", "mentions")]["handle"] >= 2
    assert detectors[("posts", "text")]["handle"] >= 3
    assert "anna_andersson" not in json.dumps(manifest)


def test_an_archive_from_2009_with_personnummer_shaped_ids_publishes(tmp_path: Path) -> None:
    assert classify("2510048719") == "personnummer"  # what blocked such archives before
    package = tmp_path / "x-2009"
    import_twitter(X_GRAILBIRD, account="ExempelbyKC (X)", account_type="official", out=package)
    _publish(package, tmp_path / "portal")
    published = rows(tmp_path / "portal" / "x-2009" / "data" / "posts.csv")
    ids = {r["record_id"]: r for r in published}
    assert ids["tw-2510048719"]["platform_post_id"] == "2510048719"
    assert len(published) == 6
    text = _published_text(tmp_path / "portal" / "x-2009")
    assert "fatima_h" not in text and "15899999999" not in text and "cecilia_ost" not in text
