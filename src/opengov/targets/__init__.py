"""Publish targets behind one protocol (`targets.base.Target`), found by name.

`--to` names a registered target (`ckan`) or, failing that, a portal folder (the static
target, the default). `opengov verify` dispatches the same way. A new target is a module with
a class implementing `Target` and one `register` call below.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from opengov.targets.base import Target


@dataclass(frozen=True)
class TargetOptions:
    """Everything the CLI knows that some target needs; each target takes what it uses."""

    base_url: str | None = None
    ckan_url: str | None = None
    org: str | None = None
    config: Path | None = None
    progress: bool = False
    datastore: bool | None = None  # CKAN: load the DataStore (None: when the portal has it)


def _static(to: str, options: TargetOptions) -> Target:
    from opengov.targets.static import StaticTarget

    return StaticTarget(Path(to), base_url=options.base_url)


def _ckan(to: str, options: TargetOptions) -> Target:
    from opengov.targets.ckan.settings import ckan_settings
    from opengov.targets.ckan.target import CkanTarget

    settings = ckan_settings(
        url=options.ckan_url, org=options.org, config=options.config, datastore=options.datastore
    )
    return CkanTarget(settings)


Factory = Callable[[str, TargetOptions], Target]
_REGISTRY: dict[str, Factory] = {}
FOLDER = "static"


def register(name: str, factory: Factory) -> None:
    _REGISTRY[name] = factory


def names() -> list[str]:
    return sorted(_REGISTRY)


def target_for(to: str, options: TargetOptions | None = None) -> Target:
    """The target `--to` names: a registered name, else a portal folder."""
    factory = _REGISTRY.get(to, _REGISTRY[FOLDER])
    return factory(to, options or TargetOptions())


register(FOLDER, _static)
register("ckan", _ckan)
