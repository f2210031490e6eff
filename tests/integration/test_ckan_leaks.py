"""The leak test against what the CKAN portal serves: every resource an anonymous citizen can
download, and the dataset's package_show metadata, for every example with planted secrets."""

from __future__ import annotations

import io
import json
import shutil
import zipfile
from collections.abc import Callable
from pathlib import Path

import ckanapi
import pyarrow.parquet as pq
import pytest
import requests
from helpers import EXAMPLES
from test_leaks import examples, leaks, plant

from .conftest import CkanPortal
from .test_ckan_publish import anonymous, publish


@pytest.mark.parametrize("example", examples(), ids=lambda p: p.name)
def test_planted_secrets_never_reach_the_portal(
    example: Path,
    ckan: CkanPortal,
    ckan_admin: ckanapi.RemoteCKAN,
    dataset_purge: Callable[[str], str],
    tmp_path: Path,
    key: str,
) -> None:
    work = tmp_path / "datapackages" / example.name
    shutil.copytree(example, work)
    shutil.copytree(EXAMPLES.parent / "schemas", tmp_path / "schemas")
    assert plant(work) > 0
    name = dataset_purge(json.loads((work / "datapackage.json").read_text("utf-8"))["name"])
    result = publish(work, ckan)
    assert result.status == "published"
    metadata = anonymous(ckan).action.package_show(id=name)
    assert leaks(json.dumps(metadata, ensure_ascii=False)) == []
    assert len(metadata["resources"]) >= 6
    for resource in metadata["resources"]:
        response = requests.get(resource["url"], timeout=60)
        assert response.status_code == 200, resource["url"]
        if resource["url"].endswith(".parquet"):
            table = pq.read_table(io.BytesIO(response.content))
            text = "\n".join(str(v) for c in table.columns for v in c.to_pylist())
        elif resource["url"].endswith(".xlsx"):
            # A ZIP of XML: every part, unpacked (compressed bytes would hide a planted value).
            with zipfile.ZipFile(io.BytesIO(response.content)) as book:
                text = "\n".join(book.read(n).decode("utf-8") for n in book.namelist())
        else:
            text = response.content.decode("utf-8")
        assert leaks(text) == [], resource["name"]
