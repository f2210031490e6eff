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
    datastore = true                          # optional: load the DataStore (default: when
                                              # the portal has it); --[no-]datastore wins

The top-level keys `ckan_url`, `org` and `token_file` are accepted too.
Precedence: argument, then environment (`OPENGOV_CKAN_URL`, `OPENGOV_CKAN_ORG`), then config.
"""

from __future__ import annotations

import logging
import math
import os
import re
import stat
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from opengov.errors import ConfigError
from opengov.limits import read_limited

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
    # None: load the DataStore when the portal has the plugin; True: insist; False: never.
    datastore: bool | None = None

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
        raw = read_limited(path, MAX_CONFIG_BYTES, f"config file {path}")
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


def check_url(url: str, source: str = "", *, warn: bool = True) -> str:
    """The CKAN URL without trailing slashes; `ConfigError` naming `source` when it is unusable.

    The message never repeats the URL: it may hold credentials (which are refused here).
    `warn` logs that a plain-http URL to a remote host sends the token unencrypted.
    """
    where = f"CKAN URL from {source}" if source else "CKAN URL"
    if not isinstance(url, str):
        raise ConfigError(f"{where} must be a string http(s)://host[:port][/path]")
    url = url.strip().rstrip("/")
    if any(not c.isprintable() or c.isspace() for c in url):
        raise ConfigError(f"{where} contains spaces or control characters")
    try:
        parts = urlsplit(url)
        hostname = parts.hostname
        port = parts.port
    except ValueError:
        # urlsplit and .port raise on an unclosed [IPv6] bracket or a port that is not a
        # number in 0-65535 (http://host:99999, http://host:80a).
        raise ConfigError(
            f"{where} is not a valid URL (check the [brackets] of an IPv6 address and the "
            "port, a number from 1 to 65535)"
        ) from None
    if parts.scheme not in ("http", "https") or not hostname:
        raise ConfigError(f"{where} must be http(s)://host[:port][/path]")
    if port == 0:
        raise ConfigError(f"{where} has port 0; the port must be a number from 1 to 65535")
    if parts.query or parts.fragment or parts.username or parts.password:
        raise ConfigError(f"{where} must not contain a query, fragment or credentials")
    if warn and parts.scheme == "http" and hostname not in _LOOPBACK:
        # Allowed (an internal portal may have no TLS) but the token then travels in clear.
        log.warning("the CKAN URL is plain http: the API token is sent unencrypted")
    return url


def check_token(token: str, source: str) -> str:
    """The token without a byte-order mark and surrounding whitespace; `ConfigError` else.

    An HTTP header can carry only ASCII: a token with anything else (a BOM an editor wrote,
    a pasted typographic character) would fail deep inside http.client. Messages name the
    source (variable or file), never the token.
    """
    token = token.strip().removeprefix("\ufeff").strip()
    if any(c.isspace() for c in token):
        raise ConfigError(f"the CKAN API token from {source} contains whitespace")
    if not all("!" <= c <= "~" for c in token):
        raise ConfigError(
            f"the CKAN API token from {source} contains characters other than printable "
            "ASCII; copy it again from the CKAN user page (API tokens)"
        )
    return token


# Read with these bounds, not whole: `--config /dev/zero` took all the memory there was.
MAX_CONFIG_BYTES = 1024 * 1024
MAX_TOKEN_BYTES = 64 * 1024


def _read_token_file(path: Path) -> str:
    try:
        info = path.stat()
        text = read_limited(path, MAX_TOKEN_BYTES, f"token file {path}").decode("utf-8")
    except FileNotFoundError:
        raise ConfigError(f"token file {path} not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or "not UTF-8 text"
        raise ConfigError(f"cannot read token file {path}: {reason}") from None
    if info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        log.warning("token file %s is readable by other users; chmod 600 it", path)
    return check_token(text, str(path))


def ckan_settings(
    url: str | None = None,
    org: str | None = None,
    config: Path | str | None = None,
    *,
    require_token: bool = True,
    datastore: bool | None = None,
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
    url_value = check_url(url_value, url_source)

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
    env_token = check_token(os.environ.get(TOKEN_ENV, ""), TOKEN_ENV)
    if env_token:
        token, token_source = env_token, TOKEN_ENV
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

    max_upload: float | None = None
    if os.environ.get(MAX_UPLOAD_ENV):
        raw_max: object = os.environ[MAX_UPLOAD_ENV]
        max_source = MAX_UPLOAD_ENV
    else:
        raw_max, max_source = cfg.get("max_upload_mb"), f"{where}: [ckan] max_upload_mb"
    if raw_max not in (None, ""):
        try:
            if isinstance(raw_max, bool):
                raise ValueError(raw_max)
            max_upload = float(str(raw_max).strip())
        except ValueError:
            raise ConfigError(f"{max_source} must be a number of megabytes") from None
        # nan would compare false with every size and so silently disable the check.
        if not math.isfinite(max_upload) or max_upload <= 0:
            raise ConfigError(f"{max_source} must be a finite positive number of megabytes")

    def seconds(key: str, default: float, *, positive: bool, high: float) -> float:
        value = cfg.get(key, default)
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)  # TOML has nan and inf
            or not (value > 0 if positive else value >= 0)
            or value > high
        ):
            low = "more than 0" if positive else "0"
            raise ConfigError(
                f"{where}: [ckan] {key} must be a number of seconds from {low} to {high:g}"
            )
        return float(value)

    if datastore is None and "datastore" in cfg:
        if not isinstance(cfg["datastore"], bool):
            raise ConfigError(f"{where}: [ckan] datastore must be true or false")
        datastore = cfg["datastore"]

    retries = cfg.get("retries", 4)
    if isinstance(retries, bool) or not isinstance(retries, int) or not 0 <= retries <= 20:
        raise ConfigError(f"{where}: [ckan] retries must be a whole number from 0 to 20")

    return CkanSettings(
        url=url_value,
        org=org_value,
        token=token,
        token_source=token_source,
        # socket timeouts beyond about 1e9 s overflow; a day is more than any request needs.
        timeout=seconds("timeout", 60.0, positive=True, high=86400.0),
        retries=retries,
        backoff=seconds("backoff", 0.5, positive=False, high=60.0),
        max_upload_mb=max_upload,
        datastore=datastore,
    )
