"""Faults while publishing to the real CKAN: a crash after every call, retries, convergence.

A crash is simulated by a session that raises after its k-th HTTP request got its answer:
CKAN has done the work, the client never learns it. After each crash an anonymous reader must
see nothing or a complete dataset, and a plain re-run must converge to a dataset without
duplicate resources that verifies.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import ckanapi
import pytest
import requests

from opengov.targets.ckan.client import CkanSession
from opengov.targets.ckan.verify import verify_ckan
from opengov.trust import Trust

from .conftest import CkanPortal
from .test_ckan_publish import (
    EXPECTED_PATHS,
    assert_never_public_partial,
    datastore_snapshot,
    make_package,
    managed,
    publish,
    unique,
    units_csv,
)

# These releases are unsigned: verify checks their consistency only (signatures:
# tests/test_verify_*.py).
CONSISTENCY = Trust(allow_unsigned=True)


class Crash(Exception):
    """The publishing process dies (not a network error: nothing may retry it)."""


class CrashAfter(CkanSession):
    def __init__(self, k: int, **kw: Any) -> None:
        super().__init__(backoff=0.01, **kw)
        self.k = k
        self.n = 0

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        response = super().send(request, **kwargs)
        self.n += 1
        if self.n == self.k:
            raise Crash(f"crash after request {self.k} ({request.url})")
        return response


class Flaky(CkanSession):
    """Answers 503 or drops the connection on chosen requests, without sending them."""

    def __init__(self, faults: dict[int, str]) -> None:
        super().__init__(backoff=0.01)
        self.faults = faults
        self.n = 0

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        self.n += 1
        fault = self.faults.get(self.n)
        if fault == "connection":
            raise requests.ConnectionError("connection reset (injected)")
        if fault == "timeout":
            raise requests.ReadTimeout("read timed out (injected)")
        if fault is not None:
            response = requests.Response()
            response.status_code = int(fault)
            response._content = b"<html>busy</html>"
            response._content_consumed = True  # type: ignore[attr-defined]
            response.headers["Retry-After"] = "0"
            response.request = request
            response.url = request.url or ""
            return response
        return super().send(request, **kwargs)


def count_requests(path: Path, ckan: CkanPortal) -> int:
    session = CkanSession()
    publish(path, ckan, session=session)
    return session.stats.requests


def assert_converged(ckan: CkanPortal, admin: ckanapi.RemoteCKAN, name: str) -> None:
    ds = admin.action.package_show(id=name)
    assert set(managed(ds)) == EXPECTED_PATHS  # managed() fails on duplicates
    assert len(ds["resources"]) == len(EXPECTED_PATHS)
    assert ds["private"] is False
    result = verify_ckan(ckan.url, name, trust=CONSISTENCY)
    assert result.ok, [str(m) for m in result.mismatches]


def test_crash_after_every_call_of_a_first_publish(
    ckan: CkanPortal,
    ckan_admin: ckanapi.RemoteCKAN,
    dataset_purge: Callable[[str], str],
    tmp_path: Path,
) -> None:
    probe = dataset_purge(unique("og-probe"))
    total = count_requests(make_package(tmp_path / "probe", probe), ckan)
    assert total >= 4
    for k in range(1, total + 1):
        name = dataset_purge(unique(f"og-crash{k}"))
        pkg = make_package(tmp_path / f"k{k}", name)
        with pytest.raises(Crash):
            publish(pkg, ckan, session=CrashAfter(k))
        assert_never_public_partial(ckan, name)
        # A second crash at the same point of the re-run must not hurt either (the re-run
        # may also be done in fewer calls: then it simply finishes).
        try:
            publish(pkg, ckan, session=CrashAfter(k))
        except Crash:
            pass
        assert_never_public_partial(ckan, name)
        result = publish(pkg, ckan)
        # "unchanged" when the crash came after the last call: the work was done.
        assert result.status in ("published", "unchanged"), k
        assert_converged(ckan, ckan_admin, name)
        assert publish(pkg, ckan).status == "unchanged", k


def test_crash_after_every_call_of_an_update(
    ckan: CkanPortal,
    ckan_admin: ckanapi.RemoteCKAN,
    dataset_purge: Callable[[str], str],
    tmp_path: Path,
) -> None:
    name = dataset_purge(unique("og-upd"))
    pkg = make_package(tmp_path / "pkg", name)
    publish(pkg, ckan)
    version = 0

    def change() -> None:
        nonlocal version
        version += 1
        make_package(pkg, name, units=units_csv(f"V{version},Version {version}\n"))

    change()
    session = CkanSession()
    publish(pkg, ckan, session=session)
    total = session.stats.requests
    assert total >= 4
    before = datastore_snapshot(ckan, name)
    assert set(before) == {"data/invoices.csv", "data/units.csv"}
    k = 0
    while True:
        k += 1
        assert k < 3 * total, "the update never finished within the crash budget"
        change()
        try:
            publish(pkg, ckan, session=CrashAfter(k))
        except Crash:
            crashed = True
        else:
            crashed = False  # this update needed fewer than k requests
        # The dataset stays public throughout; what readers get always verifies, but for a
        # DataStore table caught between the states of its update.
        assert_never_public_partial(ckan, name, before)
        anonymous = ckanapi.RemoteCKAN(ckan.url)
        assert anonymous.action.package_show(id=name)["private"] is False
        result = publish(pkg, ckan)
        assert result.status in ("published", "unchanged"), k
        assert_converged(ckan, ckan_admin, name)
        before = datastore_snapshot(ckan, name)
        if not crashed:
            break
    assert k > total // 2
    chain = verify_ckan(ckan.url, name, trust=CONSISTENCY)
    assert chain.chain_length >= k + 2


def test_retries_on_503_429_and_dropped_connections(
    ckan: CkanPortal,
    ckan_admin: ckanapi.RemoteCKAN,
    dataset_purge: Callable[[str], str],
    tmp_path: Path,
) -> None:
    name = dataset_purge(unique("og-retry"))
    pkg = make_package(tmp_path / "pkg", name)
    session = Flaky({1: "503", 3: "connection", 4: "429", 6: "502", 8: "timeout"})
    result = publish(pkg, ckan, session=session)
    assert result.status == "published"
    assert session.stats.retries == 5
    assert_converged(ckan, ckan_admin, name)


def test_retry_of_an_upload_whose_answer_was_lost(
    ckan: CkanPortal,
    ckan_admin: ckanapi.RemoteCKAN,
    dataset_purge: Callable[[str], str],
    tmp_path: Path,
) -> None:
    """CKAN stored the files but the answer never came: the retry must not duplicate."""
    name = dataset_purge(unique("og-lost"))
    pkg = make_package(tmp_path / "pkg", name)

    class LostAnswer(CkanSession):
        def __init__(self) -> None:
            super().__init__(backoff=0.01)
            self.lost = False

        def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
            response = super().send(request, **kwargs)
            if not self.lost and (request.url or "").endswith("/package_revise"):
                self.lost = True
                raise requests.ConnectionError("connection reset after the request (injected)")
            return response

    session = LostAnswer()
    result = publish(pkg, ckan, session=session)
    assert result.status == "published"
    assert session.lost
    assert_converged(ckan, ckan_admin, name)


def test_retries_are_bounded(
    ckan: CkanPortal, dataset_purge: Callable[[str], str], tmp_path: Path
) -> None:
    from opengov.errors import PublishError

    name = dataset_purge(unique("og-down"))
    pkg = make_package(tmp_path / "pkg", name)
    session = Flaky({i: "503" for i in range(1, 100)})
    with pytest.raises(PublishError) as info:
        publish(pkg, ckan, session=session)
    assert "503" in str(info.value)
    assert session.n == session.retries + 1
