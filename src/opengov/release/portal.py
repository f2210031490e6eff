"""A static portal's settings: title, publisher, contact and public URL, kept in portal.json at
the portal's root and used by every publish, so the catalogue and dcat.rdf never depend on
whether this particular publish was given `--base-url`.

`opengov portal init PORTAL` writes them (again, to change them); the first publish with
`--base-url` records the URL. A publish with a different `--base-url` than the recorded one is
refused: the URL is part of every dataset's identifier in dcat.rdf, so changing it must be a
deliberate `opengov portal init --base-url`.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

from opengov.errors import ConfigError, LimitExceeded
from opengov.limits import load_json, read_limited
from opengov.paths import make_folder, replace_file

SETTINGS = "portal.json"
DEFAULT_TITLE = "Öppna data"
DEFAULT_DESCRIPTION = (
    "Öppna data: allt som inte omfattas av sekretess, med redovisning av vad som inte publiceras."
)
MAX_TEXT = 500
# Six settings of at most 500 characters each; anything far larger is not a settings file.
MAX_SETTINGS_BYTES = 64 * 1024
_EMAIL = re.compile(r"^[^@\s<>\"]+@[^@\s<>\"]+\.[^@\s<>\"]+$")


@dataclass(frozen=True)
class PortalSettings:
    title: str = DEFAULT_TITLE
    description: str = DEFAULT_DESCRIPTION
    publisher: str | None = None
    publisher_uri: str | None = None
    contact_email: str | None = None
    base_url: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def with_changes(self, **changes: str | None) -> PortalSettings:
        """These settings with every given (not None) value replaced, each checked."""
        given = {k: v for k, v in changes.items() if v is not None}
        return check(replace(self, **given))


def check(settings: PortalSettings) -> PortalSettings:
    """The settings, or a `ConfigError` naming the setting that is wrong."""
    from opengov.release.pages import safe_url

    for name in ("title", "description", "publisher"):
        value = getattr(settings, name)
        if value is None:
            continue
        if not isinstance(value, str) or not value.strip() or len(value) > MAX_TEXT:
            raise ConfigError(f"portal {name} must be text of 1 to {MAX_TEXT} characters")
        if any(ord(c) < 32 for c in value):
            raise ConfigError(f"portal {name} must not contain control characters")
    if settings.base_url is not None:
        url = settings.base_url
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise ConfigError(
                "the portal's base URL must be an absolute http(s) URL, as citizens reach it "
                "(for example https://data.exempelby.se/)"
            )
        if safe_url(url) is None or "?" in url or "#" in url:
            raise ConfigError(
                "the portal's base URL must be a plain http(s) URL with a host, without "
                "spaces, query or fragment"
            )
    if settings.publisher_uri is not None and (
        not isinstance(settings.publisher_uri, str)
        or safe_url(settings.publisher_uri) is None
        or settings.publisher_uri.lower().startswith("mailto:")
    ):
        raise ConfigError("the publisher URI must be an absolute http(s) URL")
    if settings.contact_email is not None and (
        not isinstance(settings.contact_email, str) or not _EMAIL.match(settings.contact_email)
    ):
        raise ConfigError("the contact must be an e-mail address (name@example.se)")
    return settings


def load(portal: Path) -> PortalSettings:
    """The portal's settings; the defaults when it has no portal.json."""
    path = portal / SETTINGS
    if not path.is_file():
        return PortalSettings()
    try:
        raw = read_limited(path, MAX_SETTINGS_BYTES, str(path))
        data = load_json(raw.decode("utf-8"), str(path))
    except (OSError, ValueError):
        raise ConfigError(f"{path} is not readable JSON; fix it or write it again with "
                          "`opengov portal init`") from None  # fmt: skip
    except LimitExceeded as exc:
        raise ConfigError(f"{exc.message}; fix it or write it again with `opengov portal init`"
                          ) from None  # fmt: skip
    if not isinstance(data, dict):
        raise ConfigError(f"{path} must hold a JSON object")
    known = {f.name for f in fields(PortalSettings)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ConfigError(f"{path}: unknown setting(s) {', '.join(map(repr, unknown))}; "
                          f"known: {', '.join(sorted(known))}")  # fmt: skip
    for key, value in data.items():
        if value is not None and not isinstance(value, str):
            raise ConfigError(f"{path}: {key} must be text")
    try:
        return check(PortalSettings(**data))
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc.message}") from None


def save(portal: Path, settings: PortalSettings) -> Path:
    make_folder(portal, "the portal folder")
    data = {k: v for k, v in settings.to_dict().items() if v is not None}
    text = json.dumps(data, ensure_ascii=False, indent=2) + "\n"
    return replace_file(portal, SETTINGS, text.encode("utf-8"), what="portal settings",
                        error=ConfigError)  # fmt: skip


def for_publish(portal: Path, base_url: str | None, *, write: bool) -> PortalSettings:
    """The settings a publish uses: the portal's, with `base_url` recorded the first time.

    A different `base_url` than the recorded one is refused (see the module docstring).
    """
    settings = load(portal)
    if not base_url and not settings.base_url:
        # A portal published before portal.json existed: its dcat.rdf knows the URL.
        base_url = base_url_of_dcat(portal)
    if not base_url:
        return settings
    if settings.base_url and _same_url(settings.base_url, base_url):
        return settings
    if settings.base_url:
        raise ConfigError(
            f"--base-url {base_url} differs from the portal's base URL {settings.base_url} "
            f"({portal / SETTINGS}); it is part of every dataset's identifier in dcat.rdf, so "
            "change it deliberately with `opengov portal init --base-url`"
        )
    settings = settings.with_changes(base_url=base_url)
    if write:
        save(portal, settings)
    return settings


def base_url_of_dcat(portal: Path) -> str | None:
    """The base URL an existing dcat.rdf was written for (its catalogue's IRI), or None.

    Read from the start of the file as opengov writes it, without an XML parser: the file is
    the portal's, but need not be trusted."""
    path = portal / "dcat.rdf"
    try:
        with path.open("rb") as handle:
            head = handle.read(64 * 1024).decode("utf-8", errors="replace")
    except OSError:
        return None
    match = re.search(r'<dcat:Catalog rdf:about="(https?://[^"<>\s]+/)dcat\.rdf"', head)
    if not match:
        return None
    url = match.group(1)
    try:
        check(PortalSettings(base_url=url))
    except ConfigError:
        return None
    return url


def _same_url(a: str, b: str) -> bool:
    return a.rstrip("/") == b.rstrip("/")
