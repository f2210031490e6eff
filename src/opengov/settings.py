"""Where to publish: the CKAN portal's URL, organisation and API token.

The token is a credential of the municipality's publishing account. It comes only from the
environment (`CKAN_API_TOKEN`) or from a file named in the config, never from a command-line
argument (which `ps` and shell histories show to anyone on the machine). `CkanSettings` keeps
it out of its repr and str, so a settings object can be logged or shown in a traceback.

Config file (TOML), given with `--config` or `OPENGOV_CONFIG`:

    [ckan]
    url = "https://data.exempelby.se"
    org = "exempelby-kommun"
    token_file = "/etc/opengov/ckan-token"   # relative paths: relative to this file
    max_upload_mb = 50                        # optional: the portal's ckan.max_resource_size

The top-level keys `ckan_url`, `org` and `token_file` are accepted too.
Precedence: argument, then environment (`OPENGOV_CKAN_URL`, `OPENGOV_CKAN_ORG`), then config.
"""

from __future__ import annotations

import logging
import os
import re
import stat
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .errors import ConfigError

TOKEN_ENV = "CKAN_API_TOKEN"  # noqa: S105 - the name of a variable, not a secret
URL_ENV = "OPENGOV_CKAN_URL"
ORG_ENV = "OPENGOV_CKAN_ORG"
CONFIG_ENV = "OPENGOV_CONFIG"
MAX_UPLOAD_ENV = "OPENGOV_CKAN_MAX_UPLOAD_MB"

log = logging.getLogger("opengov")

# CKAN's own rule for organisation and dataset names (ckan.logic.validators.name_validator).
_NAME = re.compile(r"^[a-z0-9_-]{2,100}$")
_LOOPBACK = {"localhost", "127.0.0.1", "::1"}


@dataclass(frozen=True)
class CkanSettings:
    url: str
    org: str
    # repr=False and the custom __str__: the token must never reach a log, a message or a
    # failing test's report.
    token: str | None = field(default=None, repr=False, compare=False)
    token_source: str = ""
    timeout: float = 60.0
    retries: int = 4
    backoff: float = 0.5
    max_upload_mb: float | None = None

    def __str__(self) -> str:
        source = self.token_source or "no token"
        return f"CKAN {self.url} (organisation {self.org}, token from {source})"

    @property
    def has_token(self) -> bool:
        return bool(self.token)


def load_config(path: Path | str | None) -> tuple[dict[str, Any], Path | None]:
    """The `[ckan]` settings of a TOML config file, merged with the accepted top-level keys."""
    if path is None:
        env = os.environ.get(CONFIG_ENV)
        if not env:
            return {}, None
        path = env
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"config file {path} not found") from None
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from None
    section = data.get("ckan", {})
    if not isinstance(section, dict):
        raise ConfigError(f"config file {path}: [ckan] must be a table")
    merged: dict[str, Any] = {}
    for top, key in (("ckan_url", "url"), ("org", "org"), ("token_file", "token_file")):
        if top in data:
            merged[key] = data[top]
    merged.update(section)
    if "token" in merged or "api_token" in merged or "apikey" in merged:
        # A token pasted into a config that is often committed or shared by mistake.
        raise ConfigError(
            f"config file {path} contains a token; put it in a file of its own (mode 600) "
            f"and name that file with token_file, or set {TOKEN_ENV}"
        )
    return merged, path


def _check_url(url: str, source: str) -> str:
    url = url.strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"CKAN URL from {source} must be http(s)://host[:port][/path]")
    if parts.query or parts.fragment or parts.username or parts.password:
        raise ConfigError(
            f"CKAN URL from {source} must not contain a query, fragment or credentials"
        )
    if parts.scheme == "http" and parts.hostname not in _LOOPBACK:
        # Allowed (an internal portal may have no TLS) but the token then travels in clear.
        log.warning("the CKAN URL is plain http: the API token is sent unencrypted")
    return url


def _read_token_file(path: Path) -> str:
    try:
        info = path.stat()
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"token file {path} not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or "not UTF-8 text"
        raise ConfigError(f"cannot read token file {path}: {reason}") from None
    if info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        log.warning("token file %s is readable by other users; chmod 600 it", path)
    return text.strip()


def ckan_settings(
    url: str | None = None,
    org: str | None = None,
    config: Path | str | None = None,
    *,
    require_token: bool = True,
) -> CkanSettings:
    """Settings for publishing to CKAN; `ConfigError` naming what is missing and where to set it."""
    cfg, cfg_path = load_config(config)
    where = f"config file {cfg_path}" if cfg_path else "config"

    if url:
        url_value, url_source = url, "--ckan-url"
    elif os.environ.get(URL_ENV):
        url_value, url_source = os.environ[URL_ENV], URL_ENV
    elif cfg.get("url"):
        url_value, url_source = str(cfg["url"]), f"{where} [ckan] url"
    else:
        raise ConfigError(
            f"no CKAN URL: pass --ckan-url, set {URL_ENV}, or set url in the [ckan] table of "
            "a config file (--config)"
        )
    url_value = _check_url(url_value, url_source)

    if org:
        org_value = org
    elif os.environ.get(ORG_ENV):
        org_value = os.environ[ORG_ENV]
    elif cfg.get("org"):
        org_value = str(cfg["org"])
    else:
        raise ConfigError(
            f"no CKAN organisation: pass --org, set {ORG_ENV}, or set org in the [ckan] table "
            "of a config file (--config)"
        )
    org_value = org_value.strip()
    if not _NAME.match(org_value):
        raise ConfigError(
            f"CKAN organisation {org_value!r} is not a CKAN name (2-100 characters: lowercase "
            "letters, digits, - and _); use the organisation's name from its URL, not its title"
        )

    token: str | None = None
    token_source = ""
    if os.environ.get(TOKEN_ENV, "").strip():
        token, token_source = os.environ[TOKEN_ENV].strip(), TOKEN_ENV
    elif cfg.get("token_file"):
        token_path = Path(str(cfg["token_file"])).expanduser()
        if not token_path.is_absolute() and cfg_path is not None:
            token_path = cfg_path.parent / token_path
        token = _read_token_file(token_path)
        token_source = str(token_path)
        if not token:
            raise ConfigError(f"token file {token_path} is empty")
    if require_token and not token:
        raise ConfigError(
            f"no CKAN API token: set {TOKEN_ENV}, or name a file holding it with token_file in "
            "the [ckan] table of a config file (--config). Tokens are never accepted as "
            "command-line arguments"
        )
    if token and any(c.isspace() for c in token):
        raise ConfigError(f"the CKAN API token from {token_source} contains whitespace")

    max_upload: float | None = None
    raw_max = os.environ.get(MAX_UPLOAD_ENV) or cfg.get("max_upload_mb")
    if raw_max not in (None, ""):
        try:
            max_upload = float(str(raw_max))
        except ValueError:
            raise ConfigError(
                f"max_upload_mb must be a number of megabytes, not {raw_max!r}"
            ) from None
        if max_upload <= 0:
            raise ConfigError("max_upload_mb must be positive")

    def number(key: str, default: float) -> float:
        value = cfg.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise ConfigError(f"{where}: [ckan] {key} must be a non-negative number")
        return float(value)

    return CkanSettings(
        url=url_value,
        org=org_value,
        token=token,
        token_source=token_source,
        timeout=number("timeout", 60.0),
        retries=int(number("retries", 4)),
        backoff=number("backoff", 0.5),
        max_upload_mb=max_upload,
    )
