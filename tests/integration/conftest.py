"""Fixtures for the integration tests against the real CKAN portal.

The portal is started by ``./scripts/test.sh`` (through ``scripts/ckan-portal.sh start``),
which exports the ``OPENGOV_TEST_CKAN_*`` variables read here. Without them these tests
FAIL rather than skip, so that CI can never pass while silently leaving CKAN untested.

Every test in this directory is marked ``ckan``: run only them with
``./scripts/test.sh -m ckan``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import ckanapi
import pytest

_HERE = Path(__file__).parent.resolve()

_ENV_VARS = (
    "OPENGOV_TEST_CKAN_URL",
    "OPENGOV_TEST_CKAN_TOKEN_FILE",
    "OPENGOV_TEST_CKAN_ORG",
    "OPENGOV_TEST_CKAN_VERSION",
    "OPENGOV_TEST_CKAN_STORAGE",
)


@dataclass(frozen=True)
class CkanPortal:
    """Where the test portal is and how to act on it as its sysadmin."""

    url: str
    # repr=False: a failing test's report must never show the token.
    token: str = field(repr=False)
    org: str
    storage_path: Path
    version: str


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # This hook sees every collected item, not only this directory's.
    for item in items:
        if item.path.is_relative_to(_HERE):
            item.add_marker(pytest.mark.ckan)


@pytest.fixture(scope="session")
def ckan() -> CkanPortal:
    missing = [name for name in _ENV_VARS if not os.environ.get(name)]
    if missing:
        pytest.fail(
            "No CKAN test portal: " + ", ".join(missing) + " not set. Run the tests with "
            "./scripts/test.sh (it starts CKAN), or start the portal by hand with "
            "scripts/ckan-portal.sh start && set -a && source .ckan/env && set +a",
            pytrace=False,
        )
    token_file = Path(os.environ["OPENGOV_TEST_CKAN_TOKEN_FILE"])
    try:
        token = token_file.read_text().strip()
    except OSError as exc:
        pytest.fail(
            f"Cannot read the CKAN token file {token_file} ({exc.strerror}): is the portal "
            "still running? Restart it with scripts/ckan-portal.sh start",
            pytrace=False,
        )
    return CkanPortal(
        url=os.environ["OPENGOV_TEST_CKAN_URL"].rstrip("/"),
        token=token,
        org=os.environ["OPENGOV_TEST_CKAN_ORG"],
        storage_path=Path(os.environ["OPENGOV_TEST_CKAN_STORAGE"]),
        version=os.environ["OPENGOV_TEST_CKAN_VERSION"],
    )


@pytest.fixture(scope="session")
def ckan_admin(ckan: CkanPortal) -> ckanapi.RemoteCKAN:
    """A client acting as the portal's sysadmin (``opengov-admin``)."""
    return ckanapi.RemoteCKAN(ckan.url, apikey=ckan.token)


def purge_dataset(admin: ckanapi.RemoteCKAN, name_or_id: str) -> None:
    """Remove a dataset and its resources for good; a missing one is fine."""
    try:
        admin.action.dataset_purge(id=name_or_id)
    except ckanapi.NotFound:
        pass


@pytest.fixture
def dataset_purge(ckan_admin: ckanapi.RemoteCKAN) -> Iterator[Callable[[str], str]]:
    """Register datasets (name or id) that a test creates; they are purged afterwards.

    Usage: ``name = dataset_purge("opengov-test-x")`` before creating it, so that a
    test failing half-way still leaves the portal clean for the next one.
    """
    names: list[str] = []

    def register(name_or_id: str) -> str:
        names.append(name_or_id)
        return name_or_id

    yield register
    for name in reversed(names):
        purge_dataset(ckan_admin, name)
