"""The leak test against what the CKAN portal serves: every resource an anonymous citizen can
download, the dataset's package_show metadata, and every DataStore table (its rows through
datastore_search and datastore_search_sql, its data dictionary), for every example with
planted secrets."""

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
    assert result.stats["datastore"]["tables"], "the DataStore was not loaded"
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

    tables = [r for r in metadata["resources"] if r.get("datastore_active")]
    assert len(tables) == len(result.stats["datastore"]["tables"])
    for resource in tables:
        rid = resource["id"]
        rows: list[object] = []
        while True:
            page = anonymous(ckan).action.datastore_search(
                resource_id=rid, limit=1000, offset=len(rows), records_format="lists"
            )
            rows += page["records"]
            if len(page["records"]) < 1000:
                break
        assert len(rows) == page["total"]
        text = json.dumps({"fields": page["fields"], "rows": rows}, ensure_ascii=False)
        assert leaks(text) == [], resource["name"]
        sql = anonymous(ckan).action.datastore_search_sql(sql=f'SELECT * FROM "{rid}"')
        assert leaks(json.dumps(sql, ensure_ascii=False)) == [], resource["name"]
        info = anonymous(ckan).action.datastore_info(id=rid)
        assert leaks(json.dumps(info, ensure_ascii=False)) == [], resource["name"]
