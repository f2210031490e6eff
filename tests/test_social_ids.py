"""Ids derived from content cannot be reversed: a small name list does not recover a dropped
commenter, nor a phone list a redacted number, from a published Facebook id."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from social_support import FB_PAGE, PRIVATE_NAMES, TEST_KEY, key_env, rows  # noqa: F401

from opengov.importers.social import import_facebook
from opengov.importers.social.ids import keyed_id
from opengov.redact.keys import PseudonymKey

pytestmark = pytest.mark.usefixtures("key_env")
ACCOUNT = "Kommunchefen i Exempelby (Facebook)"
# What an attacker tries: common Swedish names, the fixture's people among them.
NAME_LIST = (
    *PRIVATE_NAMES,
    "Maria Johansson",
    "Erik Karlsson",
    "Anna Nilsson",
    "Lars Eriksson",
    "Karin Larsson",
    "Per Olsson",
    "Eva Persson",
    "Mohammed Ali",
    "Ahmed Yusuf",
)


def _unkeyed(*parts: str) -> str:
    """The scheme opengov used before: SHA-256 of the parts joined by |."""
    return hashlib.sha256("|".join(parts).encode("utf-8")).hexdigest()[:16]


@pytest.fixture
def published(tmp_path: Path) -> list[dict[str, str]]:
    out = tmp_path / "pkg"
    import_facebook(FB_PAGE, account=ACCOUNT, account_type="official", out=out)
    return rows(out / "comments.csv")


def test_a_name_list_does_not_recover_a_dropped_commenter(
    published: list[dict[str, str]],
) -> None:
    """Everything but the author is public (time, text, account); try every name."""
    received = [c for c in published if c["direction"] == "received_comment"]
    assert received
    wrong_key = PseudonymKey(b"guessed-key-0000000000000000")
    for comment in received:
        target = comment["record_id"].removeprefix("fbc-")
        created, text = comment["created_at"], comment["text"]
        unkeyed = {_unkeyed("facebook", "comment", ACCOUNT, created, n, text) for n in NAME_LIST}
        guessed = {keyed_id(wrong_key, "comment", ACCOUNT, created, n, text) for n in NAME_LIST}
        assert target not in unkeyed | guessed
        # The test can fail: with the key, the right name is found at once.
        key = PseudonymKey(TEST_KEY.encode())
        found = [
            n
            for n in NAME_LIST
            if keyed_id(key, "comment", ACCOUNT, comment["created_at"], n, comment["text"])
            == target
        ]
        assert found == [comment["author"]]


def test_a_redacted_phone_number_is_not_recovered_from_a_post_id(tmp_path: Path) -> None:
    """A post whose text holds a phone number: the number is redacted on publishing, the id is
    not; trying numbers of the fiction range against the id finds nothing without the key."""
    import json

    export = tmp_path / "export" / "posts"
    export.mkdir(parents=True)
    text = "Ring oss på 070-174 06 50"
    (export / "your_posts_1.json").write_text(
        json.dumps([{"timestamp": 1700000000, "data": [{"post": text}]}]), encoding="utf-8"
    )
    import_facebook(tmp_path / "export", account=ACCOUNT, out=tmp_path / "pkg")
    (post,) = rows(tmp_path / "pkg" / "posts.csv")
    target = post["record_id"].removeprefix("fb-")
    guesses = [f"Ring oss på 070-174 06 {n:02d}" for n in range(100)]
    assert text in guesses
    assert target not in {_unkeyed("facebook", ACCOUNT, post["created_at"], g) for g in guesses}
    key = PseudonymKey(TEST_KEY.encode())
    assert [
        g for g in guesses if keyed_id(key, "post", ACCOUNT, post["created_at"], g) == target
    ] == [text]


@settings(max_examples=100)
@given(st.lists(st.text(max_size=20), min_size=1, max_size=5), st.text(max_size=20))
def test_keyed_ids_never_collide_across_part_boundaries(parts: list[str], extra: str) -> None:
    """("a|b", "c") and ("a", "b|c") are different records: the encoding is unambiguous."""
    key = PseudonymKey(TEST_KEY.encode())
    joined = ["".join(parts), extra]
    split = [*parts, extra]
    if joined != split:
        assert keyed_id(key, *joined) != keyed_id(key, *split)


def test_ids_are_distinct_for_distinct_records(published: list[dict[str, str]]) -> None:
    ids = [c["record_id"] for c in published]
    assert len(ids) == len(set(ids)) == 6
