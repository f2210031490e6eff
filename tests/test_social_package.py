"""The package an import writes: determinism, merging, rules.yaml, schemas, the example."""

from __future__ import annotations

import importlib.util
import json
import shutil
from pathlib import Path
from types import ModuleType

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from social_support import EXAMPLE, FB_PAGE, FB_PERSONAL, X_2024, key_env, rows, snapshot  # noqa: F401

from opengov.errors import ImportFailed, InputError
from opengov.importers.social import PackageInfo, classify, import_facebook, import_twitter
from opengov.importers.social.package import KEY_ENV
from opengov.importers.social.records import (
    COMMENT_FIELDS,
    POST_FIELDS,
    field_names,
    read_csv,
    schema_bytes,
    table_schema,
    write_csv,
)
from opengov.importers.social.rules_yaml import render_rules, rules_data

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).parent / "fixtures" / "social"
PAGE = FB_PAGE
PERSONAL = FB_PERSONAL
TWITTER = X_2024

pytestmark = pytest.mark.usefixtures("key_env")


def build_all(out: Path) -> None:
    import_facebook(PAGE, account="Sida", account_type="official", out=out)
    import_twitter(TWITTER, account="X-konto", account_type="official", out=out)
    import_facebook(PERSONAL, account="Privat", out=out)


def publishable(package: Path) -> dict[str, list[dict[str, str]]]:
    """Apply the package's own rules.yaml row rules, as the publisher would, to its rows."""
    rules = yaml.safe_load((package / "rules.yaml").read_text(encoding="utf-8"))
    published: dict[str, list[dict[str, str]]] = {}
    for name in ("posts", "comments"):  # posts first: comments refer to them
        kept = rows(package / f"{name}.csv")
        for rule in rules["resources"][name]["rows"]:
            cond = rule["drop_when"]
            field = cond["field"]
            if "not_in" in cond:
                kept = [r for r in kept if r[field] in cond["not_in"]]
            elif "not_in_published" in cond:
                other, other_field = cond["not_in_published"].split(".")
                allowed = {r[other_field] for r in published[other]}
                kept = [r for r in kept if r[field] in allowed]
            else:
                raise AssertionError(f"unexpected condition {cond}")
        published[name] = kept
    return published


# --- determinism -------------------------------------------------------------------------


def test_importing_twice_gives_byte_identical_packages(tmp_path: Path) -> None:
    build_all(tmp_path / "a" / "pkg")
    build_all(tmp_path / "b" / "pkg")
    first = snapshot(tmp_path / "a" / "pkg")
    assert first == snapshot(tmp_path / "b" / "pkg")
    assert set(first) == {
        "datapackage.json",
        "posts.csv",
        "comments.csv",
        "rules.yaml",
        "schemas/social-media-post.json",
        "schemas/social-media-comment.json",
    }


def test_reimporting_the_same_export_changes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "pkg"
    build_all(out)
    before = snapshot(out)
    again = import_facebook(PAGE, account="Sida", account_type="official", out=out)
    assert snapshot(out) == before
    assert (again.posts.added, again.posts.updated, again.comments.added) == (0, 0, 0)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pkg"]  # no staging left behind


def test_descriptor(tmp_path: Path) -> None:
    out = tmp_path / "Kommunens Sociala Medier"
    build_all(out)
    desc = json.loads((out / "datapackage.json").read_text(encoding="utf-8"))
    assert desc["name"] == "kommunens-sociala-medier"
    assert desc["licenses"] == [
        {
            "name": "CC0-1.0",
            "path": "http://creativecommons.org/publicdomain/zero/1.0/",
            "title": "CC0 1.0",
        }
    ]
    posts, comments = desc["resources"]
    assert (posts["name"], posts["path"], posts["schema"]) == (
        "posts",
        "posts.csv",
        "schemas/social-media-post.json",
    )
    assert (comments["name"], comments["schema"]) == (
        "comments",
        "schemas/social-media-comment.json",
    )
    assert posts["encoding"] == "utf-8" and posts["dialect"]["delimiter"] == ","
    paths = {s["path"] for s in desc["sources"]}
    assert "this_profile's_activity_across_facebook/posts/profile_posts_1.json" in paths
    assert "data/deleted-tweets.js" in paths
    assert all(len(s["sha256"]) == 64 and s["bytes"] > 0 and s["title"] for s in desc["sources"])
    # Only the files that were read: no media, no messages, no viewer.
    assert not any(p.endswith((".jpg", ".mp4", ".html", "direct-messages.js")) for p in paths)
    assert desc["own_accounts"] == ["ExempelbyKC"]


def test_info_sets_texts_and_later_imports_keep_them(tmp_path: Path) -> None:
    out = tmp_path / "pkg"
    info = PackageInfo(name="min-sida", title="Min titel", description="Min beskrivning")
    import_facebook(PAGE, account="Sida", account_type="official", out=out, info=info)
    desc = json.loads((out / "datapackage.json").read_text(encoding="utf-8"))
    desc["keywords"] = ["sociala medier"]
    (out / "datapackage.json").write_text(json.dumps(desc), encoding="utf-8")
    import_twitter(TWITTER, account="X", account_type="official", out=out)
    after = json.loads((out / "datapackage.json").read_text(encoding="utf-8"))
    assert (after["name"], after["title"], after["description"]) == (
        "min-sida",
        "Min titel",
        "Min beskrivning",
    )
    assert after["keywords"] == ["sociala medier"]


# --- schemas and validation --------------------------------------------------------------


def test_committed_schemas_match_the_code() -> None:
    hint = "regenerate: python -c 'from opengov.importers.social.records import schema_bytes; ...'"
    assert (ROOT / "schemas" / "social-media-post.json").read_bytes() == schema_bytes("post"), hint
    assert (ROOT / "schemas" / "social-media-comment.json").read_bytes() == schema_bytes(
        "comment"
    ), hint


def test_schema_contents() -> None:
    post = table_schema("post")
    comment = table_schema("comment")
    assert post["primaryKey"] == ["record_id"] == comment["primaryKey"]
    assert comment["foreignKeys"] == [
        {"fields": ["post_record_id"], "reference": {"resource": "posts", "fields": ["record_id"]}}
    ]
    fields = {f["name"]: f for f in post["fields"]}
    assert fields["classification"]["constraints"]["enum"] == ["official", "private", "undecided"]
    assert fields["account_type"]["constraints"]["enum"] == ["official", "personal"]
    assert fields["platform"]["constraints"]["enum"] == ["facebook", "twitter"]
    assert fields["created_at"]["type"] == "datetime"
    assert {f["name"]: f for f in comment["fields"]}["direction"]["constraints"]["enum"] == [
        "own_comment",
        "received_comment",
        "received_post",
    ]
    for name in ("title", "in_reply_to_account", "in_reply_to_external"):
        assert name in fields
    for f in post["fields"] + comment["fields"]:
        assert " / " in f["title"] and " — " in f["description"], f["name"]  # Swedish / English


def test_package_schemas_are_copies(tmp_path: Path) -> None:
    build_all(tmp_path / "pkg")
    for name in ("social-media-post.json", "social-media-comment.json"):
        assert (tmp_path / "pkg" / "schemas" / name).read_bytes() == (
            ROOT / "schemas" / name
        ).read_bytes()


def test_frictionless_validates_the_package(tmp_path: Path) -> None:
    from frictionless import validate

    build_all(tmp_path / "pkg")
    report = validate(str(tmp_path / "pkg" / "datapackage.json"))
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type"])


def test_frictionless_catches_a_broken_foreign_key(tmp_path: Path) -> None:
    from frictionless import validate

    out = tmp_path / "pkg"
    import_facebook(PAGE, account="Sida", account_type="official", out=out)
    posts = rows(out / "posts.csv")
    kept = [r for r in posts if r["record_id"] != posts[0]["record_id"]]
    (out / "posts.csv").write_bytes(write_csv(kept, field_names(POST_FIELDS)))
    desc = json.loads((out / "datapackage.json").read_text(encoding="utf-8"))
    for res in desc["resources"]:
        res.pop("hash"), res.pop("bytes")
    (out / "datapackage.json").write_text(json.dumps(desc), encoding="utf-8")
    report = validate(str(out / "datapackage.json"))
    assert "foreign-key" in {e[0] for e in report.flatten(["type"])}


def test_the_lead_loader_accepts_package_and_rules(tmp_path: Path) -> None:
    package_mod = pytest.importorskip("opengov.package")
    rules_mod = pytest.importorskip("opengov.rules")
    build_all(tmp_path / "pkg")
    package = package_mod.load_package(tmp_path / "pkg")
    rules = rules_mod.load_for_package(package, required=True)
    assert set(rules.resources) == {"posts", "comments"}
    assert rules.resources["comments"].fields["author"].action == "pseudonymize"
    assert rules.resources["posts"].own_accounts == ("ExempelbyKC",)


# --- rules.yaml --------------------------------------------------------------------------


@pytest.mark.parametrize("own", [(), ("ExempelbyKommun",), ("b_konto", "A.konto", "123456")])
def test_rules_yaml_parses_to_the_intended_rules(own: tuple[str, ...]) -> None:
    for pseudonymize in (False, True):
        text = render_rules(pseudonymize, own).decode("utf-8")
        assert yaml.safe_load(text) == rules_data(pseudonymize, own)


def test_rules_classify_every_field(tmp_path: Path) -> None:
    build_all(tmp_path / "pkg")
    rules = yaml.safe_load((tmp_path / "pkg" / "rules.yaml").read_text(encoding="utf-8"))
    posts, comments = rules["resources"]["posts"], rules["resources"]["comments"]
    assert list(posts["fields"]) == field_names(POST_FIELDS)
    assert list(comments["fields"]) == field_names(COMMENT_FIELDS)
    assert posts["own_accounts"] == comments["own_accounts"] == ["ExempelbyKC"]
    # Private persons' names and addresses too, now that opengov detects them (issue 11).
    scan = ["personnummer", "samordningsnummer", "email", "phone", "name", "address", "handle"]
    for free_text in ("text", "title", "attachments"):
        assert posts["fields"][free_text] == {"class": "public", "scan": scan}
    assert comments["fields"]["text"] == {"class": "public", "scan": scan}
    for handles_only in ("mentions", "in_reply_to_account"):
        assert posts["fields"][handles_only] == {"class": "public", "scan": ["handle"]}
    assert posts["fields"]["in_reply_to_external"]["action"] == "drop"
    for identifiers in ("record_id", "platform_post_id", "in_reply_to", "urls", "source_sha256"):
        assert posts["fields"][identifiers]["identifier_column"]["reason"], identifiers
    for identifiers in ("record_id", "post_record_id", "source_sha256"):
        assert comments["fields"][identifiers]["identifier_column"]["reason"], identifiers
    # The key was at hand (Facebook ids need it), so commenters are pseudonymised.
    assert comments["fields"]["author"]["action"] == "pseudonymize"
    assert comments["fields"]["author"]["basis"] == "21 kap. 7 § OSL"
    assert posts["rows"][0]["drop_when"] == {"field": "classification", "not_in": ["official"]}
    assert comments["rows"][1]["drop_when"] == {
        "field": "post_record_id",
        "not_in_published": "posts.record_id",
    }
    assert all(rule["basis"] for r in (posts, comments) for rule in r["rows"])


def test_key_at_import_time_pseudonymizes_commenters(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = import_facebook(PAGE, account="Sida", account_type="official", out=tmp_path / "p")
    assert result.author_action == "pseudonymize"
    rules = yaml.safe_load((tmp_path / "p" / "rules.yaml").read_text(encoding="utf-8"))
    author = rules["resources"]["comments"]["fields"]["author"]
    assert (author["class"], author["action"], author["basis"]) == (
        "personal",
        "pseudonymize",
        "21 kap. 7 § OSL",
    )
    import os

    assert os.environ[KEY_ENV] not in (tmp_path / "p" / "rules.yaml").read_text(encoding="utf-8")
    again = import_facebook(
        PAGE,
        account="Sida",
        account_type="official",
        out=tmp_path / "p",
        pseudonymize_authors=False,
    )
    assert again.author_action == "drop"  # a generated file follows the choice


def test_own_handles_given_and_found_are_kept_across_imports(tmp_path: Path) -> None:
    out = tmp_path / "pkg"
    first = import_facebook(
        PAGE,
        account="Sida",
        account_type="official",
        out=out,
        own_handles=("@ExempelbyKommun", "100064123456789"),
    )
    assert first.own_accounts == ("100064123456789", "ExempelbyKommun")
    second = import_twitter(TWITTER, account="X", account_type="official", out=out)
    assert second.own_accounts == ("100064123456789", "ExempelbyKC", "ExempelbyKommun")
    assert second.rules == "written"  # still as generated: rewritten with the new handle
    rules = yaml.safe_load((out / "rules.yaml").read_text(encoding="utf-8"))
    assert rules["resources"]["posts"]["own_accounts"] == list(second.own_accounts)
    with pytest.raises(InputError, match="own handles"):
        import_twitter(TWITTER, account="X", out=out, own_handles=("inte ett handtag",))


def test_edited_rules_are_kept(tmp_path: Path) -> None:
    out = tmp_path / "pkg"
    import_facebook(PAGE, account="Sida", account_type="official", out=out)
    edited = (out / "rules.yaml").read_text(encoding="utf-8") + "# granskad av registrator\n"
    (out / "rules.yaml").write_text(edited, encoding="utf-8")
    result = import_twitter(TWITTER, account="X", account_type="official", out=out)
    assert result.rules == "kept" and result.author_action is None
    assert (out / "rules.yaml").read_text(encoding="utf-8") == edited


def test_publishable_set_holds_no_private_or_undecided(tmp_path: Path) -> None:
    out = tmp_path / "pkg"
    build_all(out)
    all_posts = rows(out / "posts.csv")
    published = publishable(out)
    assert published["posts"], "the official posts are published"
    assert {r["classification"] for r in published["posts"]} == {"official"}
    assert {r["classification"] for r in published["comments"]} == {"official"}
    assert not [r for r in published["posts"] if r["account"] == "Privat"]
    texts = " ".join(r["text"] for r in published["posts"] + published["comments"])
    assert "Fin kväll med familjen" not in texts and "begagnad cykel" not in texts
    assert "Grattis till invigningen" not in texts  # own comment on another page's post
    assert "Hela albumet" not in texts  # a comment on the album, which is no post
    post_ids = {r["record_id"] for r in published["posts"]}
    assert all(c["post_record_id"] in post_ids for c in published["comments"])
    assert len(published["comments"]) == 4
    assert len(all_posts) > len(published["posts"])


# --- merging -----------------------------------------------------------------------------


def newer_personal_export(tmp_path: Path) -> Path:
    """The personal export a month later: one new post in a third file."""
    export = tmp_path / "personal-newer"
    shutil.copytree(PERSONAL, export)
    new_post = [{"timestamp": 1699000000, "data": [{"post": "Ny vecka, nya m\u00c3\u00b6ten"}]}]
    target = export / "your_facebook_activity/posts/your_posts__check_ins__photos_and_videos_3.json"
    target.write_text(json.dumps(new_post), encoding="utf-8")
    return export


def test_reimport_keeps_decisions_and_adds_new_records(tmp_path: Path) -> None:
    out = tmp_path / "pkg"
    import_facebook(PERSONAL, account="Privat", out=out)
    first = rows(out / "posts.csv")
    decisions = tmp_path / "decisions.csv"
    decisions.write_text(
        "record_id,classification,classified_by,reason\n"
        f"{first[0]['record_id']},private,Registrator,Familjebild\n"
        f"{first[1]['record_id']},official,Registrator,Om kommunstyrelsens beslut\n",
        encoding="utf-8",
    )
    classify(out, decisions)
    decided = {r["record_id"]: r for r in rows(out / "posts.csv")}
    result = import_facebook(newer_personal_export(tmp_path), account="Privat", out=out)
    assert (result.posts.read, result.posts.added, result.posts.updated) == (8, 1, 0)
    assert result.to_dict()["files_by_status"]["read"] == 4
    after = {r["record_id"]: r for r in rows(out / "posts.csv")}
    for record_id in (first[0]["record_id"], first[1]["record_id"]):
        assert after[record_id] == decided[record_id]
    new = [r for r in after.values() if r["record_id"] not in decided]
    assert [r["text"] for r in new] == ["Ny vecka, nya möten"]
    assert new[0]["classification"] == "undecided"
    assert result.posts.by_classification == {"official": 1, "private": 1, "undecided": 6}


def test_records_missing_from_a_newer_export_are_kept(tmp_path: Path) -> None:
    out = tmp_path / "pkg"
    import_twitter(TWITTER, account="X", account_type="official", out=out)
    smaller = tmp_path / "smaller"
    (smaller / "data").mkdir(parents=True)
    shutil.copy(TWITTER / "data" / "tweets-part1.js", smaller / "data" / "tweets-part1.js")
    result = import_twitter(smaller, account="X", account_type="official", out=out)
    assert (result.posts.read, result.posts.total) == (2, 15)


# --- nothing written on failure ----------------------------------------------------------


def test_failed_import_leaves_existing_package_untouched(tmp_path: Path) -> None:
    out = tmp_path / "pkg"
    build_all(out)
    before = snapshot(out)
    broken = tmp_path / "broken"
    (broken / "data").mkdir(parents=True)
    (broken / "data" / "tweets.js").write_text("window.YTD.tweets.part0 = [{", encoding="utf-8")
    with pytest.raises(ImportFailed):
        import_twitter(broken, account="X", account_type="official", out=out)
    assert snapshot(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["broken", "pkg"]


def test_out_that_is_not_our_package_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "somewhere"
    out.mkdir()
    (out / "notes.txt").write_text("viktigt", encoding="utf-8")
    with pytest.raises(InputError, match="not empty"):
        import_facebook(PAGE, account="Sida", out=out)
    assert [p.name for p in out.iterdir()] == ["notes.txt"]
    other = tmp_path / "other"
    other.mkdir()
    (other / "datapackage.json").write_text('{"resources": [{"name": "x"}]}', encoding="utf-8")
    with pytest.raises(InputError, match="not a social-media package"):
        import_facebook(PAGE, account="Sida", out=other)


def test_other_files_in_the_package_survive(tmp_path: Path) -> None:
    out = tmp_path / "pkg"
    import_facebook(PAGE, account="Sida", account_type="official", out=out)
    (out / "README.md").write_text("Läs mig", encoding="utf-8")
    import_twitter(TWITTER, account="X", account_type="official", out=out)
    assert (out / "README.md").read_text(encoding="utf-8") == "Läs mig"


# --- CSV ---------------------------------------------------------------------------------


@settings(max_examples=200)
@given(st.lists(st.text(), min_size=1, max_size=4))
def test_csv_round_trip(values: list[str]) -> None:
    columns = [f"c{i}" for i in range(len(values))]
    header, back = read_csv(write_csv([dict(zip(columns, values, strict=True))], columns))
    assert header == columns
    assert back == [dict(zip(columns, values, strict=True))]


# --- the example package -----------------------------------------------------------------


def load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "make_social_example", ROOT / "scripts" / "make_social_example.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_example_package_is_up_to_date(tmp_path: Path) -> None:
    script = load_script()
    out = tmp_path / "kommunchef-sociala-medier"
    assert script.main(["--out", str(out)]) == 0
    assert snapshot(out) == snapshot(EXAMPLE), "run scripts/make_social_example.py"


def test_example_package_content() -> None:
    from frictionless import validate

    desc = json.loads((EXAMPLE / "datapackage.json").read_text(encoding="utf-8"))
    assert desc["name"] == "kommunchef-sociala-medier"
    assert desc["title"] == "Kommunchefens sociala medier i Exempelby kommun"
    assert validate(str(EXAMPLE / "datapackage.json")).valid
    rules = yaml.safe_load((EXAMPLE / "rules.yaml").read_text(encoding="utf-8"))
    assert rules["resources"]["comments"]["fields"]["author"]["action"] == "drop"
    assert rules["resources"]["posts"]["own_accounts"] == [
        "100064123456789",
        "ExempelbyKC",
        "ExempelbyKommun",
    ]
    posts = {r["record_id"]: r for r in rows(EXAMPLE / "posts.csv")}
    decided = {r["record_id"]: r for r in rows(FIXTURES / "decisions.csv")}
    assert set(decided) <= set(posts) | {r["record_id"] for r in rows(EXAMPLE / "comments.csv")}
    for record_id, decision in decided.items():
        if record_id in posts:
            row = posts[record_id]
            assert row["classification"] == decision["classification"]
            assert row["classified_at"] == "2024-11-04T09:30:00Z"
    published = publishable(EXAMPLE)
    published_ids = {r["record_id"] for r in published["posts"]}
    official = [k for k, d in decided.items() if d["classification"] == "official"]
    assert official and set(official) <= published_ids  # the personal post decided official
    for record_id, decision in decided.items():
        if decision["classification"] != "official":
            assert record_id not in published_ids
    assert not [r for r in published["posts"] if r["classification"] != "official"]


def _edited_export(tmp_path: Path, edits: dict[str, tuple[str, str]]) -> Path:
    """The X export with some tweets changed: id -> (field, new value)."""
    export = tmp_path / f"x-edited-{len(list(tmp_path.iterdir()))}"
    shutil.copytree(TWITTER, export)
    for name in ("tweets.js", "tweets-part1.js"):
        path = export / "data" / name
        prefix, _, body = path.read_text(encoding="utf-8").partition("= ")
        tweets = json.loads(body)
        for item in tweets:
            tweet = item["tweet"]
            if tweet["id_str"] in edits:
                field, value = edits[tweet["id_str"]]
                tweet[field] = value
        path.write_text(prefix + "= " + json.dumps(tweets, ensure_ascii=False), encoding="utf-8")
    return export


def test_a_decision_is_reopened_when_the_records_content_changes(tmp_path: Path) -> None:
    """A decision is about what a person read: a post edited since (same id, new text) is
    undecided again, whichever way it was decided, and is not published; a post whose likes
    changed keeps its decision. Importing the edited export again changes nothing."""
    out = tmp_path / "pkg"
    import_twitter(TWITTER, account="X", account_type="official", out=out)
    first = {r["platform_post_id"]: r for r in rows(out / "posts.csv")}
    exported = "".join(
        (TWITTER / "data" / name).read_text(encoding="utf-8")
        for name in ("tweets.js", "tweets-part1.js")
    )
    ids = sorted(pid for pid in first if f'"id_str": "{pid}"' in exported)[:3]
    assert len(ids) == 3
    decisions = tmp_path / "decisions.csv"
    decisions.write_text(
        "record_id,classification,classified_by,reason\n"
        f"{first[ids[0]]['record_id']},private,Registrator,Privat hälsning\n"
        f"{first[ids[1]]['record_id']},official,Registrator,Om nämndens beslut\n"
        f"{first[ids[2]]['record_id']},private,Registrator,Privat\n",
        encoding="utf-8",
    )
    classify(out, decisions)
    edited = _edited_export(
        tmp_path,
        {
            ids[0]: ("full_text", "Ändrad text efter beslutet, ring 070-123 45 67"),
            ids[1]: ("full_text", "Ny text som ingen har läst"),
            ids[2]: ("favorite_count", "99"),
        },
    )
    result = import_twitter(edited, account="X", account_type="official", out=out)
    assert result.posts.reopened == 2
    assert result.to_dict()["posts"]["reopened"] == 2
    after = {r["platform_post_id"]: r for r in rows(out / "posts.csv")}
    for pid in ids[:2]:
        assert after[pid]["classification"] == "undecided"
        assert not after[pid]["classified_by"].startswith("opengov import")
        assert "Registrator" in after[pid]["reason"]
    assert after[ids[2]]["classification"] == "private"  # only its likes changed
    assert after[ids[2]]["favorite_count"] == "99"
    published = {r["platform_post_id"] for r in publishable(out)["posts"]}
    assert not published & set(ids)
    # Again, and once more: the reopened records wait for a person, byte for byte the same.
    before = snapshot(out)
    again = import_twitter(edited, account="X", account_type="official", out=out)
    assert again.posts.reopened == 0
    assert snapshot(out) == before
