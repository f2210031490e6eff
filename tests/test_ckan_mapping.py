"""The CKAN target's pure parts: licence and tag mapping, the streamed multipart body,
message sanitising. No portal needed (they live here beside the CKAN tests they support).
"""

from __future__ import annotations

import email.parser
import email.policy
from pathlib import Path
from typing import Any

import pytest

from opengov.targets.ckan.client import CkanClient, MultipartBody, Progress, Upload
from opengov.targets.ckan.mapping import ckan_tags, licence_id, wants_private
from opengov.targets.ckan.remote import Remote


@pytest.mark.parametrize(
    ("licence", "expected"),
    [
        ({"name": "CC0-1.0"}, "cc-zero"),
        ({"name": "x", "path": "http://creativecommons.org/publicdomain/zero/1.0/"}, "cc-zero"),
        (
            {"name": "x", "path": "https://creativecommons.org/publicdomain/zero/1.0/legalcode"},
            "cc-zero",
        ),
        ({"name": "CC-BY-4.0"}, "cc-by"),
        ({"path": "https://creativecommons.org/licenses/by/4.0/"}, "cc-by"),
        ({"name": "CC-BY-SA-4.0"}, "cc-by-sa"),
        ({"name": "ODbL-1.0"}, "odc-odbl"),
        ({"name": "PDDL-1.0"}, "odc-pddl"),
        ({"name": "ODC-By-1.0"}, "odc-by"),
        ({"name": "OGL-UK-3.0"}, "uk-ogl"),
        ({"name": "some-local-licence"}, "some-local-licence"),
    ],
)
def test_licence_mapping(licence: dict[str, str], expected: str) -> None:
    assert licence_id({"licenses": [licence]})[0] == expected


def test_no_licence_is_notspecified() -> None:
    assert licence_id({})[0] == "notspecified"
    assert licence_id({"licenses": []})[0] == "notspecified"


def test_tags_are_cleaned_for_ckan() -> None:
    tags = ckan_tags(["öppna data", "ekonomi/budget", "a", "ekonomi/budget", "x" * 150, 2024])
    assert [t["name"] for t in tags] == ["öppna data", "ekonomi budget", "x" * 100, "2024"]


def test_private_flag() -> None:
    assert wants_private({"opengov": {"private": True}})
    assert not wants_private({"opengov": {"private": "yes"}})
    assert not wants_private({})


def test_remote_indexes_managed_duplicate_and_manual_resources() -> None:
    remote = Remote(
        {
            "id": "d1",
            "extras": [{"key": "opengov_state", "value": "complete"}],
            "resources": [
                {"id": "r1", "opengov_path": "a.csv", "hash": "1"},
                {"id": "r2", "opengov_path": "a.csv", "hash": "2"},
                {"id": "r3", "name": "link"},
            ],
        }
    )
    assert remote.complete
    assert remote.hashes() == {"a.csv": "1"}
    assert [r["id"] for r in remote.duplicates] == ["r2"]
    assert [r["id"] for r in remote.unmanaged] == ["r3"]


def parse(body: bytes, content_type: str) -> list[Any]:
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body
    )
    return list(message.iter_parts())


def test_multipart_body_streams_fields_and_files(tmp_path: Path) -> None:
    data = bytes(range(256)) * 5000 + "åäö\r\n--".encode()
    path = tmp_path / "data.bin"
    path.write_bytes(data)
    progress = Progress(False)
    body = MultipartBody(
        [("update", '{"title": "Åre"}'.encode()), ("match", b"{}")],
        [("update__resources__0__upload", Upload(path, "data.csv", "text/csv"))],
        progress,
    )
    progress.start(body.file_bytes)
    chunks = []
    while True:
        block = body.read(65536)
        if not block:
            break
        chunks.append(block)
    raw = b"".join(chunks)
    assert len(raw) == len(body)
    assert progress.done == len(data)
    parts = parse(raw, body.content_type)
    assert [p.get_param("name", header="content-disposition") for p in parts] == [
        "update",
        "match",
        "update__resources__0__upload",
    ]
    assert parts[0].get_payload(decode=True) == '{"title": "Åre"}'.encode()
    assert parts[2].get_filename() == "data.csv"
    assert parts[2].get_content_type() == "text/csv"
    assert parts[2].get_payload(decode=True) == data
    # Iterating gives the same bytes again from a fresh body (what a retry does).
    again = MultipartBody([], [("f", Upload(path, "d.bin"))])
    assert b"".join(iter(again)).count(data) == 1


def test_client_messages_never_carry_the_token() -> None:
    token = "eyJhbGciOiJIUzI1NiJ9.c2VjcmV0LXZhbHVlLXRoYXQ.c2lnbmF0dXJlLXZhbHVl"
    client = CkanClient("http://127.0.0.1:9", token)
    text = client.clean(f"Authorization: {token} and another eyJabcdefghij.klmnopqrst.uvwxyz12345")
    assert token not in text
    assert "eyJabcdefghij" not in text
    assert "[token]" in text
    assert len(client.clean("x" * 1000)) <= 300


def test_download_url_stays_on_the_configured_portal() -> None:
    client = CkanClient("https://data.example.se/ckan", "t")
    url = client.download_url(
        {
            "id": "rid",
            "package_id": "pid",
            "url_type": "upload",
            "url": "http://internal:5000/dataset/pid/resource/rid/download/a.csv",
        }
    )
    assert url == "https://data.example.se/ckan/dataset/pid/resource/rid/download/a.csv"
