"""`opengov withdraw` on CKAN: the dataset made private (never deleted), and why, recorded."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from opengov.errors import ConfigError, InputError
from opengov.release import provenance
from opengov.targets.base import WithdrawResult, checked_reason
from opengov.targets.ckan.client import CkanClient, CkanSession
from opengov.targets.ckan.mapping import E_WITHDRAWN, extras_list
from opengov.targets.ckan.remote import check_ours, show

if TYPE_CHECKING:
    from opengov.targets.ckan.target import CkanTarget


def withdraw_ckan(
    target: CkanTarget, dataset: str, *, reason: str, agent: str | None = None
) -> WithdrawResult:
    """Make the dataset private (never deleted) and record why in an extra, in one call.

    A later publish finds it private with visibility "public" recorded and keeps it private,
    as for a dataset hidden by hand. The withdrawal is not yet a release in provenance.json.
    """
    settings = target.settings
    reason = checked_reason(reason)
    if not settings.token:
        raise ConfigError("withdrawing from CKAN needs an API token (CKAN_API_TOKEN or token_file)")
    session = target.session or CkanSession(
        retries=settings.retries, backoff=settings.backoff, timeout=settings.timeout
    )
    client = CkanClient(settings.url, settings.token, org=settings.org, session=session)
    location = f"{settings.url}/dataset/{dataset}"
    remote = show(client, dataset)
    if remote is None:
        raise InputError(f"dataset {dataset!r} is not on {settings.url}")
    check_ours(remote, settings.org, dataset, settings.url)
    if remote.private and E_WITHDRAWN in remote.extras:
        return WithdrawResult(dataset, location, "unchanged", remote.release, reason)
    record = {"reason": reason, "at": provenance.now_utc(),
              "agent": agent or provenance.default_agent()}  # fmt: skip
    extras = {**remote.extras, E_WITHDRAWN: json.dumps(record, ensure_ascii=False, sort_keys=True)}
    client.call(
        "package_patch",
        {"id": remote.id, "private": True, "extras": extras_list(extras)},
        what=f"package_patch (withdraw) of {dataset!r}",
    )
    return WithdrawResult(dataset, location, "withdrawn", remote.release, reason)
