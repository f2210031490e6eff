"""The DataStore of the real portal, as an anonymous citizen reads it (datastore_search and
datastore_search_sql): types, data dictionary, previews, incremental sends, privacy until
complete, failures mid-load, and verify.

The test portal runs the datastore plugin with its own database and read-only role, and
datatables_view (scripts/ckan-portal.sh)."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import ckanapi
import pytest
import requests
from click.testing import CliRunner

from opengov.cli import cli
from opengov.errors import PublishError
from opengov.targets.ckan import datastore
from opengov.targets.ckan.client import CkanSession
from opengov.targets.ckan.verify import verify_ckan

from .conftest import CkanPortal
from .test_ckan_publish import CONSISTENCY, anonymous, publish, settings_for, unique

SCHEMA: dict[str, Any] = {
    "fields": [
        {"name": "arende", "type": "integer", "title": "Ärendenummer",
         "description": "Diariets löpnummer för ärendet"},
        {"name": "ort", "type": "string", "title": "Ort", "description": "Sökandens hemort"},
        {"name": "pnr", "type": "string"},
        {"name": "belopp", "type": "number", "title": "Belopp (kr)",
         "description": "Beviljat belopp i kronor"},
        {"name": "beslutsdag", "type": "date", "title": "Beslutsdag"},
        {"name": "registrerad", "type": "datetime", "title": "Registrerad"},
        {"name": "beviljad", "type": "boolean", "title": "Beviljad"},
        {"name": "detaljer", "type": "object", "title": "Detaljer"},
        {"name": "ar", "type": "year", "title": "År"},
    ],
    "primaryKey": ["arende"],
}  # fmt: skip
PUBLIC = [f["name"] for f in SCHEMA["fields"] if f["name"] != "pnr"]
TYPES = ["int8", "text", "numeric", "date", "timestamp", "bool", "json", "int8"]
SECRET_PNR = "19121212-1212"
RULES = """\
version: 1
decided_by: "Testkommun, registrator"
resources:
  bidrag:
    fields:
      arende: {class: public}
      ort: {class: public}
      pnr: {class: personal, action: drop, basis: "21 kap. 7 § OSL"}
      belopp: {class: public}
      beslutsdag: {class: public}
      registrerad: {class: public}
      beviljad: {class: public}
      detaljer: {class: public}
      ar: {class: public}
  orter:
    fields:
      kod: {class: public}
      namn: {class: public}
"""


def bidrag_row(i: int, bump: float = 0.0) -> dict[str, Any]:
    return {
        "arende": i,
        "ort": ["Åsele", "Östersund", "Malmö", ""][i % 4],
        "belopp": round(1000 * i + 0.25 + bump, 2),
        "beslutsdag": f"2024-0{1 + i % 9}-1{i % 10}",
        "registrerad": f"2024-03-0{1 + i % 9}T1{i % 10}:0{i % 6}:05.250000Z",
        "beviljad": i % 3 != 0,
        "detaljer": {"handlingar": i % 5, "typ": ["a", "b"][i % 2]},
        "ar": 2020 + i % 5,
    }


def csv_cell(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        text = json.dumps(value, ensure_ascii=False)
        return '"' + text.replace('"', '""') + '"'
    return str(value)


def write_package(
    root: Path, name: str, bidrag: list[dict[str, Any]], orter: list[tuple[str, str]],
    schema: dict[str, Any] | None = None,
) -> Path:  # fmt: skip
    (root / "data").mkdir(parents=True, exist_ok=True)
    schema = schema or SCHEMA
    header = [f["name"] for f in schema["fields"]]
    lines = [",".join(header)]
    for row in bidrag:
        full = {**row, "pnr": SECRET_PNR}
        lines.append(",".join(csv_cell(full[h]) for h in header))
    (root / "data" / "bidrag.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (root / "data" / "orter.csv").write_text(
        "kod,namn\n" + "".join(f"{k},{n}\n" for k, n in orter), encoding="utf-8"
    )
    descriptor = {
        "name": name,
        "title": "Bidrag (DataStore-test)",
        "licenses": [{"name": "CC0-1.0", "path": "http://creativecommons.org/publicdomain/zero/1.0/"}],
        "resources": [
            {"name": "bidrag", "title": "Beviljade bidrag", "path": "data/bidrag.csv",
             "format": "csv", "schema": schema},
            {"name": "orter", "path": "data/orter.csv", "format": "csv",
             "schema": {"fields": [{"name": "kod", "type": "string", "title": "Kod"},
                                   {"name": "namn", "type": "string", "title": "Namn"}]}},
        ],
    }  # fmt: skip
    (root / "datapackage.json").write_text(
        json.dumps(descriptor, ensure_ascii=False, indent=2), encoding="utf-8"
    )
    (root / "rules.yaml").write_text(RULES, encoding="utf-8")
    return root


ORTER = [("A", "Åsele"), ("B", "Östersund"), ("C", "Malmö")]


def resources(ckan: CkanPortal, name: str) -> dict[str, dict[str, Any]]:
    ds = anonymous(ckan).action.package_show(id=name)
    return {r["opengov_path"]: r for r in ds["resources"]}


def citizen_rows(ckan: CkanPortal, rid: str) -> list[dict[str, Any]]:
    """Every row, as an anonymous citizen pages through datastore_search."""
    out: list[dict[str, Any]] = []
    while True:
        page = anonymous(ckan).action.datastore_search(
            resource_id=rid, limit=2, offset=len(out), sort="_id"
        )
        out += page["records"]
        if len(page["records"]) < 2:
            return [{k: _plain(v) for k, v in r.items() if k != "_id"} for r in out]


def _plain(value: Any) -> Any:
    """A json column arrives as its JSON value: written back as compact, sorted text. CKAN 2.12
    shows timestamps with milliseconds (2.11 to the second): whole seconds are compared."""
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True, separators=(",", ":"))
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000", value):
        return value.removesuffix(".000")
    return value


def as_citizen_sees(row: dict[str, Any]) -> dict[str, Any]:
    """A published bidrag row as datastore_search shows it (independent of opengov's code)."""
    seconds = row["registrerad"].split(".")[0]
    return {
        "arende": row["arende"],
        "ort": row["ort"] or None,
        "belopp": row["belopp"],
        "beslutsdag": row["beslutsdag"],
        "registrerad": seconds,
        "beviljad": row["beviljad"],
        "detaljer": json.dumps(row["detaljer"], sort_keys=True, separators=(",", ":")),
        "ar": row["ar"],
    }


def same_rows(got: list[dict[str, Any]], rows: list[dict[str, Any]]) -> bool:
    def key(r: dict[str, Any]) -> str:
        return json.dumps(r, sort_keys=True, default=str)

    return sorted(map(key, got)) == sorted(key(as_citizen_sees(r)) for r in rows)


@pytest.fixture
def small_requests(monkeypatch: pytest.MonkeyPatch) -> None:
    """Two rows per request, so that a seven-row table loads in several."""
    monkeypatch.setattr(datastore, "FIRST_ROWS", 2)
    monkeypatch.setattr(datastore, "MIN_ROWS", 2)
    monkeypatch.setattr(datastore, "MAX_ROWS", 2)


def stats(result: Any) -> dict[str, Any]:
    return dict(result.stats["datastore"])


# ----------------------------------------------------------------------------- types


def test_tables_are_typed_and_described_for_a_citizen(
    ckan: CkanPortal,
    ckan_admin: ckanapi.RemoteCKAN,
    dataset_purge: Callable[[str], str],
    tmp_path: Path,
) -> None:
    name = dataset_purge(unique("og-ds"))
    bidrag = [bidrag_row(i) for i in range(1, 8)]
    result = publish(write_package(tmp_path / "p", name, bidrag, ORTER), ckan)
    assert result.status == "published"
    assert stats(result)["tables"] == {"data/bidrag.csv": "load", "data/orter.csv": "load"}
    assert stats(result)["rows_sent"] == len(bidrag) + len(ORTER)

    res = resources(ckan, name)
    rid = res["data/bidrag.csv"]["id"]
    assert res["data/bidrag.csv"]["datastore_active"] is True
    assert res["data/bidrag.parquet"]["datastore_active"] is False
    found = anonymous(ckan).action.datastore_search(resource_id=rid, limit=0)
    fields = [f for f in found["fields"] if f["id"] != "_id"]
    assert [f["id"] for f in fields] == PUBLIC  # pnr was dropped, and is not there
    assert [f["type"] for f in fields] == TYPES
    info = {f["id"]: f["info"] for f in fields}
    assert info["arende"]["label"] == "Ärendenummer"
    assert info["arende"]["notes"].startswith("Diariets löpnummer för ärendet")
    assert "primärnyckel" in info["arende"]["notes"]
    assert info["belopp"] == {"label": "Belopp (kr)", "notes": "Beviljat belopp i kronor"}
    assert "UTC" in info["registrerad"]["notes"]
    assert found["total"] == len(bidrag)
    assert same_rows(citizen_rows(ckan, rid), bidrag)

    # Typed: numbers add up, dates compare, booleans filter, in SQL as a citizen.
    def sql(query: str) -> dict[str, Any]:
        return dict(anonymous(ckan).action.datastore_search_sql(sql=query)["records"][0])

    totals = sql(f'SELECT sum(belopp) AS s, max(beslutsdag) AS d FROM "{rid}"')
    assert math.isclose(float(totals["s"]), sum(r["belopp"] for r in bidrag))
    assert str(totals["d"]).startswith(max(r["beslutsdag"] for r in bidrag))
    granted = sql(f'SELECT count(*) AS b FROM "{rid}" WHERE beviljad')
    assert granted["b"] == sum(1 for r in bidrag if r["beviljad"])
    keyed = anonymous(ckan).action.datastore_search(resource_id=rid, filters={"arende": 2})
    assert [r["ort"] for r in keyed["records"]] == ["Malmö"]

    # The dataset page previews the table.
    views = anonymous(ckan).action.resource_view_list(id=rid)
    assert [v["view_type"] for v in views] == ["datatables_view"]
    page = requests.get(f"{ckan.url}/dataset/{name}/resource/{rid}", timeout=30)
    assert page.status_code == 200

    verified = verify_ckan(ckan.url, name, trust=CONSISTENCY)
    assert verified.ok, [str(m) for m in verified.mismatches]
    ok = CliRunner().invoke(cli, ["verify", name, "--ckan-url", ckan.url, "--allow-unsigned"])
    assert ok.exit_code == 0, ok.output


def test_a_table_without_a_key_is_loaded_whole_when_it_changes(
    ckan: CkanPortal, dataset_purge: Callable[[str], str], tmp_path: Path
) -> None:
    name = dataset_purge(unique("og-ds"))
    schema = json.loads(json.dumps(SCHEMA))
    del schema["primaryKey"]
    bidrag = [bidrag_row(i) for i in range(1, 8)]
    pkg = write_package(tmp_path / "p", name, bidrag, ORTER, schema=schema)
    publish(pkg, ckan)
    rid = resources(ckan, name)["data/bidrag.csv"]["id"]
    bidrag[2] = bidrag_row(3, bump=1.0)
    result = publish(write_package(pkg, name, bidrag, ORTER, schema=schema), ckan)
    assert stats(result)["tables"]["data/bidrag.csv"] == "reload"
    assert stats(result)["rows_sent"] == len(bidrag)
    assert same_rows(citizen_rows(ckan, rid), bidrag)
    assert anonymous(ckan).action.datastore_search(resource_id=rid, limit=0)["total"] == 7
    fields = anonymous(ckan).action.datastore_search(resource_id=rid, limit=0)["fields"]
    assert "primärnyckel" not in json.dumps(fields, ensure_ascii=False)
    assert verify_ckan(ckan.url, name, trust=CONSISTENCY).ok


# ----------------------------------------------------------------------------- incremental


def test_only_changed_rows_are_sent(
    ckan: CkanPortal,
    ckan_admin: ckanapi.RemoteCKAN,
    dataset_purge: Callable[[str], str],
    tmp_path: Path,
) -> None:
    name = dataset_purge(unique("og-ds"))
    bidrag = [bidrag_row(i) for i in range(1, 41)]
    pkg = write_package(tmp_path / "p", name, bidrag, ORTER)
    publish(pkg, ckan)
    rid = resources(ckan, name)["data/bidrag.csv"]["id"]

    session = CkanSession()
    again = publish(pkg, ckan, session=session)
    assert again.status == "unchanged"
    assert stats(again)["rows_sent"] == 0
    assert session.stats.api_calls <= 3, session.stats.actions

    def step(rows: list[dict[str, Any]], orter: list[tuple[str, str]] = ORTER) -> dict[str, Any]:
        write_package(pkg, name, rows, orter)
        result = publish(pkg, ckan)
        assert result.status == "published"
        assert same_rows(citizen_rows(ckan, rid), rows)
        verified = verify_ckan(ckan.url, name, trust=CONSISTENCY)
        assert verified.ok, [str(m) for m in verified.mismatches]
        return stats(result)

    bidrag[16] = bidrag_row(17, bump=0.5)  # one changed row
    one = step(bidrag)
    assert one["tables"] == {"data/bidrag.csv": "update", "data/orter.csv": "keep"}
    assert (one["rows_sent"], one["rows_deleted"]) == (1, 0)

    bidrag.append(bidrag_row(99))  # one added
    added = step(bidrag)
    assert (added["rows_sent"], added["rows_deleted"]) == (1, 0)

    removed_row = bidrag.pop(3)  # one removed
    gone = step(bidrag)
    assert (gone["rows_sent"], gone["rows_deleted"]) == (0, 1)
    assert removed_row["arende"] not in {r["arende"] for r in citizen_rows(ckan, rid)}

    both = step([bidrag_row(1, bump=1.0), *bidrag[1:5], bidrag_row(500)])
    assert both["rows_deleted"] == len(bidrag) - 5
    assert both["rows_sent"] == 2

    # A table without a key is sent whole when it changes, and only then.
    orter = [*ORTER, ("D", "Kiruna")]
    whole = step([bidrag_row(1, bump=1.0), *bidrag[1:5], bidrag_row(500)], orter)
    assert whole["tables"] == {"data/bidrag.csv": "keep", "data/orter.csv": "reload"}
    assert whole["rows_sent"] == len(orter)


def test_a_new_title_changes_the_dictionary_and_sends_no_rows(
    ckan: CkanPortal, dataset_purge: Callable[[str], str], tmp_path: Path
) -> None:
    name = dataset_purge(unique("og-ds"))
    bidrag = [bidrag_row(i) for i in range(1, 6)]
    publish(write_package(tmp_path / "p", name, bidrag, ORTER), ckan)
    schema = json.loads(json.dumps(SCHEMA))
    schema["fields"][1]["title"] = "Hemort"
    result = publish(write_package(tmp_path / "p", name, bidrag, ORTER, schema=schema), ckan)
    assert stats(result)["tables"]["data/bidrag.csv"] == "dictionary"
    assert stats(result)["rows_sent"] == 0
    rid = resources(ckan, name)["data/bidrag.csv"]["id"]
    fields = anonymous(ckan).action.datastore_search(resource_id=rid, limit=0)["fields"]
    assert next(f for f in fields if f["id"] == "ort")["info"]["label"] == "Hemort"
    assert verify_ckan(ckan.url, name, trust=CONSISTENCY).ok


def test_with_the_datastore_off_a_changed_table_is_removed_not_left_stale(
    ckan: CkanPortal, dataset_purge: Callable[[str], str], tmp_path: Path
) -> None:
    name = dataset_purge(unique("og-ds"))
    bidrag = [bidrag_row(i) for i in range(1, 6)]
    pkg = write_package(tmp_path / "p", name, bidrag, ORTER)
    off = settings_for(ckan, datastore=False)
    first = publish(pkg, ckan, settings=off)
    assert first.stats["datastore"]["enabled"] is False
    assert not any(r.get("datastore_active") for r in resources(ckan, name).values())
    publish(pkg, ckan)  # on (the portal has it): both tables loaded, files unchanged
    assert resources(ckan, name)["data/orter.csv"]["datastore_active"] is True
    write_package(pkg, name, [bidrag_row(1, bump=2.0), *bidrag[1:]], ORTER)
    result = publish(pkg, ckan, settings=off)
    assert stats(result)["tables"] == {"data/bidrag.csv": "drop", "data/orter.csv": "keep"}
    res = resources(ckan, name)
    assert res["data/bidrag.csv"]["datastore_active"] is False
    assert res["data/orter.csv"]["datastore_active"] is True
    assert verify_ckan(ckan.url, name, trust=CONSISTENCY).ok


# ----------------------------------------------------------------------------- faults


class CrashAfterWrite(CkanSession):
    """The publisher dies right after its k-th DataStore write got its answer."""

    WRITES = ("datastore_create", "datastore_upsert", "datastore_delete")

    def __init__(self, k: int) -> None:
        super().__init__(backoff=0.01)
        self.k, self.n = k, 0

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        response = super().send(request, **kwargs)
        if (request.url or "").rsplit("/", 1)[-1] in self.WRITES:
            self.n += 1
            if self.n == self.k:
                raise KeyboardInterrupt(f"crash after DataStore write {self.k}")
        return response


class FailWrite(CkanSession):
    """Answers 500 to chosen DataStore writes without sending them (the action did not run,
    but nothing tells the publisher so)."""

    def __init__(self, failing: set[int], action: str = "datastore_upsert") -> None:
        super().__init__(backoff=0.01)
        self.failing, self.action, self.n = failing, action, 0

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        if (request.url or "").endswith("/" + self.action):
            self.n += 1
            if self.n in self.failing:
                response = requests.Response()
                response.status_code = 500
                response._content = b'{"success": false, "error": {"message": "Internal"}}'
                response._content_consumed = True  # type: ignore[attr-defined]
                response.request, response.url = request, request.url or ""
                return response
        return super().send(request, **kwargs)


def invisible(ckan: CkanPortal, admin: ckanapi.RemoteCKAN, name: str) -> None:
    """Neither the dataset nor any of its DataStore tables can be seen anonymously."""
    with pytest.raises(ckanapi.NotAuthorized):
        anonymous(ckan).action.package_show(id=name)
    try:
        ds = admin.action.package_show(id=name)
    except ckanapi.NotFound:
        return
    for res in ds["resources"]:
        if res.get("datastore_active"):
            with pytest.raises(ckanapi.NotAuthorized):
                anonymous(ckan).action.datastore_search(resource_id=res["id"])
            with pytest.raises(ckanapi.NotAuthorized):
                anonymous(ckan).action.datastore_search_sql(sql=f'SELECT 1 FROM "{res["id"]}"')


def test_a_new_dataset_stays_private_until_its_tables_are_complete(
    ckan: CkanPortal,
    ckan_admin: ckanapi.RemoteCKAN,
    dataset_purge: Callable[[str], str],
    tmp_path: Path,
    small_requests: None,
) -> None:
    """A crash after every DataStore write of a first publish (tables loaded two rows per
    request), then a plain re-run: private throughout, complete and verified at the end."""
    bidrag = [bidrag_row(i) for i in range(1, 8)]
    probe = dataset_purge(unique("og-dsp"))
    session = CkanSession()
    publish(write_package(tmp_path / "probe", probe, bidrag, ORTER), ckan, session=session)
    writes = sum(1 for a in session.stats.actions if a in CrashAfterWrite.WRITES)
    assert writes >= 6  # 4 requests for 7 keyed rows, 2 for 3 rows without a key
    for k in range(1, writes + 1):
        name = dataset_purge(unique(f"og-dsc{k}"))
        pkg = write_package(tmp_path / f"k{k}", name, bidrag, ORTER)
        with pytest.raises(KeyboardInterrupt):
            publish(pkg, ckan, session=CrashAfterWrite(k))
        invisible(ckan, ckan_admin, name)
        result = publish(pkg, ckan)
        assert result.status == "published", k
        # The keyed table resumes from what it holds; the other is loaded again whole.
        assert stats(result)["rows_sent"] <= len(bidrag) + len(ORTER)
        rid = resources(ckan, name)["data/bidrag.csv"]["id"]
        assert same_rows(citizen_rows(ckan, rid), bidrag), k
        verified = verify_ckan(ckan.url, name, trust=CONSISTENCY)
        assert verified.ok, (k, [str(m) for m in verified.mismatches])
        assert publish(pkg, ckan).status == "unchanged", k


def test_an_insert_without_an_answer_is_not_sent_twice(
    ckan: CkanPortal,
    ckan_admin: ckanapi.RemoteCKAN,
    dataset_purge: Callable[[str], str],
    tmp_path: Path,
    small_requests: None,
) -> None:
    """A 500 to an insert leaves open whether it ran. A keyed table sends the same rows again
    as an upsert (idempotent); a table without a key stops the run, still private, and the
    next run loads it whole."""
    bidrag = [bidrag_row(i) for i in range(1, 8)]
    name = dataset_purge(unique("og-dsf"))
    pkg = write_package(tmp_path / "a", name, bidrag, ORTER)
    session = FailWrite({2})  # the second insert of the keyed table
    result = publish(pkg, ckan, session=session)
    assert result.status == "published"
    rid = resources(ckan, name)["data/bidrag.csv"]["id"]
    assert same_rows(citizen_rows(ckan, rid), bidrag)
    assert verify_ckan(ckan.url, name, trust=CONSISTENCY).ok

    other = dataset_purge(unique("og-dsf"))
    pkg = write_package(tmp_path / "b", other, bidrag, ORTER)
    # bidrag: 7 rows, 2 per request, a create and 3 inserts; orter: a create and 1 insert.
    with pytest.raises(PublishError) as info:
        publish(pkg, ckan, session=FailWrite({4}))  # orter's only insert
    assert info.value.exit_code == 7
    assert "may have been carried out" in str(info.value)
    invisible(ckan, ckan_admin, other)
    again = publish(pkg, ckan)
    assert stats(again)["tables"]["data/orter.csv"] == "reload"
    assert verify_ckan(ckan.url, other, trust=CONSISTENCY).ok


def previous_or_next(
    got: list[dict[str, Any]], old: list[dict[str, Any]], new: list[dict[str, Any]]
) -> bool:
    """The states an update may show: the old rows, the old rows without those the new release
    removes (after the delete request), or the new rows."""
    new_keys = {r["arende"] for r in new}
    return (
        same_rows(got, old)
        or same_rows(got, [r for r in old if r["arende"] in new_keys])
        or same_rows(got, new)
    )


def test_an_update_of_a_public_table_is_never_half_applied(
    ckan: CkanPortal,
    ckan_admin: ckanapi.RemoteCKAN,
    dataset_purge: Callable[[str], str],
    tmp_path: Path,
) -> None:
    """A crash after every DataStore write of an update that adds, changes and removes rows:
    the public table always shows one of the states the update passes through (each request
    is one transaction), and a re-run converges."""
    name = dataset_purge(unique("og-dsu"))
    old = [bidrag_row(i) for i in range(1, 9)]
    pkg = write_package(tmp_path / "p", name, old, ORTER)
    publish(pkg, ckan)
    rid = resources(ckan, name)["data/bidrag.csv"]["id"]
    version = 0

    def next_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        nonlocal version
        version += 1
        kept = [r for r in rows if r["arende"] != rows[0]["arende"]]  # one removed
        kept[0] = bidrag_row(kept[0]["arende"], bump=version)  # one changed
        return [*kept, bidrag_row(100 + version)]  # one added

    for k in range(1, 5):
        new = next_rows(old)
        write_package(pkg, name, new, ORTER)
        try:
            publish(pkg, ckan, session=CrashAfterWrite(k))
            crashed = False
        except KeyboardInterrupt:
            crashed = True
        assert anonymous(ckan).action.package_show(id=name)["private"] is False
        assert previous_or_next(citizen_rows(ckan, rid), old, new), k
        result = publish(pkg, ckan)
        assert result.status in ("published", "unchanged")
        assert same_rows(citizen_rows(ckan, rid), new)
        verified = verify_ckan(ckan.url, name, trust=CONSISTENCY)
        assert verified.ok, (k, [str(m) for m in verified.mismatches])
        old = new
        if not crashed:
            break
    assert k >= 2


# ----------------------------------------------------------------------------- verify


def test_verify_finds_a_datastore_changed_behind_opengovs_back(
    ckan: CkanPortal,
    ckan_admin: ckanapi.RemoteCKAN,
    dataset_purge: Callable[[str], str],
    tmp_path: Path,
) -> None:
    name = dataset_purge(unique("og-dsv"))
    bidrag = [bidrag_row(i) for i in range(1, 6)]
    pkg = write_package(tmp_path / "p", name, bidrag, ORTER)
    publish(pkg, ckan)
    rid = resources(ckan, name)["data/bidrag.csv"]["id"]

    def problems() -> list[tuple[str, str]]:
        return [
            (m.path, m.problem) for m in verify_ckan(ckan.url, name, trust=CONSISTENCY).mismatches
        ]

    ckan_admin.action.datastore_upsert(
        resource_id=rid, force=True, method="upsert", records=[{"arende": 2, "ort": "Hemlig"}]
    )
    assert problems() == [("data/bidrag.csv (DataStore)", "changed")]
    result = CliRunner().invoke(cli, ["verify", name, "--ckan-url", ckan.url, "--allow-unsigned"])
    assert result.exit_code == 8 and "data/bidrag.csv (DataStore)" in result.output
    ckan_admin.action.datastore_delete(resource_id=rid, force=True, filters={"arende": 2})
    assert problems() == [("data/bidrag.csv (DataStore)", "changed")]
    ckan_admin.action.datastore_create(
        resource_id=rid, force=True,
        fields=[{"id": "ort", "type": "text", "info": {"label": "Fel", "notes": ""}}],
    )  # fmt: skip
    assert ("data/bidrag.csv (DataStore)", "metadata") in problems()
    ckan_admin.action.datastore_delete(resource_id=rid, force=True)
    assert problems() == [("data/bidrag.csv (DataStore)", "missing")]
    # A dropped table is seen by the next publish (the resource is no longer active).
    assert stats(publish(pkg, ckan))["tables"]["data/bidrag.csv"] == "load"
    assert verify_ckan(ckan.url, name, trust=CONSISTENCY).ok
