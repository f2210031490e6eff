"""HTTP to CKAN: counted, retried, streamed, and never leaking the API token.

`CkanSession` is the `requests.Session` that ckanapi's `RemoteCKAN` and opengov's own downloads
go through. It
- counts requests, bytes sent and received (the numbers `publish` reports and the tests and
  benchmark check),
- retries connection errors, timeouts, 429 and 5xx with exponential backoff, a bounded number
  of times (honouring Retry-After), rebuilding upload bodies for every attempt; a call that
  must not run twice (a DataStore insert) is retried only when it surely never ran (the
  connection was never made, or 429/503 refused it) and otherwise ends in `NoAnswer`,
- streams multipart uploads from disk with a known Content-Length (requests' own `files=`
  would read every file into memory first), with a progress bar on a TTY.

Tests inject faults by subclassing it and overriding `send` (every HTTP attempt passes there).

`CkanClient` turns CKAN's answers into opengov's errors with messages that never contain the
token and never echo request data back (CKAN's validation errors may quote what was sent).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import re
import secrets
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import urlsplit

import ckanapi
import requests
import urllib3.exceptions

from opengov.errors import (
    CkanAuthError,
    CkanNameConflict,
    CkanOrgMissing,
    CkanUploadTooLarge,
    OpengovError,
    PublishError,
)
from opengov.targets.ckan.settings import check_token, check_url

log = logging.getLogger("opengov.ckan")

RETRY_STATUS = frozenset({429, 500, 502, 503, 504})
# Answers that say the request was turned away before it ran: safe to send again, always.
REFUSED_STATUS = frozenset({429, 503})
CHUNK = 1 << 20
MB = 1 << 20


@dataclass(frozen=True)
class Upload:
    """A file to send as one multipart part, read from disk only while the request is sent."""

    path: Path
    filename: str
    content_type: str = "application/octet-stream"

    @property
    def size(self) -> int:
        return self.path.stat().st_size


class Progress:
    """A one-line upload counter on stderr, drawn only when stderr is a terminal."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled and sys.stderr.isatty()
        self.total = 0
        self.done = 0
        self._last = 0.0

    def start(self, total: int) -> None:
        self.total, self.done, self._last = total, 0, 0.0

    def advance(self, n: int) -> None:
        self.done += n
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self._last < 0.1 and self.done < self.total:
            return
        self._last = now
        pct = 100 * self.done / self.total if self.total else 100.0
        width = 30
        filled = int(width * pct / 100)
        sys.stderr.write(
            f"\r  uploading [{'#' * filled}{'.' * (width - filled)}] "
            f"{self.done / MB:7.1f} / {self.total / MB:.1f} MB ({pct:3.0f}%)"
        )
        if self.done >= self.total:
            sys.stderr.write("\n")
        sys.stderr.flush()


class MultipartBody:
    """multipart/form-data read piece by piece: form fields in memory, files from disk.

    It has a length (so requests sends Content-Length, which CKAN's server needs) and is an
    iterator with `read`, which urllib3 streams in blocks.
    """

    def __init__(
        self,
        fields: list[tuple[str, bytes]],
        files: list[tuple[str, Upload]],
        progress: Progress | None = None,
    ) -> None:
        self.boundary = "opengov-" + secrets.token_hex(16)
        self._parts: list[bytes | Upload] = []
        b = self.boundary.encode()
        for name, value in fields:
            self._parts.append(
                b"--" + b + b"\r\n"
                b'Content-Disposition: form-data; name="'
                + _quote(name)
                + b'"\r\n\r\n'
                + value
                + b"\r\n"
            )
        for name, upload in files:
            self._parts.append(
                b"--" + b + b"\r\n"
                b'Content-Disposition: form-data; name="'
                + _quote(name)
                + b'"; filename="'
                + _quote(upload.filename)
                + b'"\r\n'
                b"Content-Type: " + upload.content_type.encode("ascii") + b"\r\n\r\n"
            )
            self._parts.append(upload)
            self._parts.append(b"\r\n")
        self._parts.append(b"--" + b + b"--\r\n")
        self._length = sum(len(p) if isinstance(p, bytes) else p.size for p in self._parts)
        self._index = 0
        self._buffer = b""
        self._file: BinaryIO | None = None
        self._progress = progress

    @property
    def content_type(self) -> str:
        return f"multipart/form-data; boundary={self.boundary}"

    @property
    def file_bytes(self) -> int:
        return sum(p.size for p in self._parts if isinstance(p, Upload))

    def __len__(self) -> int:
        return self._length

    def __iter__(self) -> Iterator[bytes]:
        while True:
            block = self.read(CHUNK)
            if not block:
                return
            yield block

    def read(self, size: int = -1) -> bytes:
        if size is None or size < 0:
            size = self._length
        out = bytearray()
        while len(out) < size:
            if self._buffer:
                take = self._buffer[: size - len(out)]
                self._buffer = self._buffer[len(take) :]
                out += take
                continue
            if self._file is not None:
                block = self._file.read(min(CHUNK, size - len(out)))
                if block:
                    out += block
                    if self._progress:
                        self._progress.advance(len(block))
                    continue
                self._file.close()
                self._file = None
                self._index += 1
                continue
            if self._index >= len(self._parts):
                break
            part = self._parts[self._index]
            if isinstance(part, bytes):
                self._buffer = part
                self._index += 1
            else:
                self._file = part.path.open("rb")
        return bytes(out)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


def _quote(text: str) -> bytes:
    # Field and file names are ours (ASCII keys and munged file names); quotes and line breaks
    # would break the part header, so they cannot pass.
    return text.replace('"', "%22").replace("\r", "").replace("\n", "").encode("utf-8")


@dataclass
class Stats:
    requests: int = 0
    api_calls: int = 0
    downloads: int = 0
    retries: int = 0
    bytes_sent: int = 0
    bytes_received: int = 0
    uploads: int = 0
    upload_bytes: int = 0
    actions: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "api_calls": self.api_calls,
            "downloads": self.downloads,
            "retries": self.retries,
            "bytes_sent": self.bytes_sent,
            "bytes_received": self.bytes_received,
            "uploads": self.uploads,
            "upload_bytes": self.upload_bytes,
        }


class CkanSession(requests.Session):
    """Counting, retrying, streaming session (see the module docstring)."""

    def __init__(
        self,
        *,
        retries: int = 4,
        backoff: float = 0.5,
        timeout: float = 60.0,
        progress: bool = False,
    ) -> None:
        super().__init__()
        self.retries = retries
        self.backoff = backoff
        self.timeout = timeout
        self.stats = Stats()
        self.progress = Progress(progress)
        self.last_status: int | None = None
        # False while a call runs that must not run twice (see `CkanClient.call`).
        self.retry_unsure = True
        self.unsure = False  # the last request may have run although no answer said so

    def request(  # type: ignore[override]
        self,
        method: str | bytes,
        url: str | bytes,
        *,
        data: Any = None,
        files: Any = None,
        headers: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> requests.Response:
        headers = dict(headers or {})
        # ckanapi passes timeout=None (wait for ever) unless told otherwise: bound every call.
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self._timeout_for(files)
        attempt = 0
        self.unsure = False
        while True:
            body = data
            stream_body: MultipartBody | None = None
            if files:
                stream_body = _multipart(data, files, self.progress)
                body = stream_body
                headers["Content-Type"] = stream_body.content_type
                self.progress.start(stream_body.file_bytes)
            try:
                response = super().request(method, url, data=body, headers=headers, **kwargs)
            except (requests.ConnectionError, requests.Timeout) as exc:
                unsent = _never_sent(exc)
                if attempt >= self.retries or (not unsent and not self.retry_unsure):
                    self.unsure = not unsent
                    raise
                self._pause(attempt, None)
                attempt += 1
                continue
            finally:
                if stream_body is not None:
                    stream_body.close()
            self.last_status = response.status_code
            if (
                response.status_code in RETRY_STATUS
                and not self.retry_unsure
                and response.status_code not in REFUSED_STATUS
            ):
                self.unsure = True  # a gateway's 502/504 or a 500: the action may have run
                return response
            if response.status_code in RETRY_STATUS and attempt < self.retries:
                self._pause(attempt, response.headers.get("Retry-After"))
                response.close()
                attempt += 1
                continue
            if files and response.status_code == 200:
                self.stats.uploads += len(files)
                self.stats.upload_bytes += stream_body.file_bytes if stream_body else 0
            return response

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        """Every HTTP attempt passes here: count it (tests override this to inject faults)."""
        self.stats.requests += 1
        path = urlsplit(request.url or "").path
        if "/api/" in path:
            self.stats.api_calls += 1
            self.stats.actions.append(path.rsplit("/", 1)[-1])
        else:
            self.stats.downloads += 1
        body = request.body
        if body is not None:
            self.stats.bytes_sent += len(body)
        response = super().send(request, **kwargs)
        if not kwargs.get("stream"):
            self.stats.bytes_received += len(response.content)
        return response

    def _timeout_for(self, files: Any) -> float | tuple[float, float]:
        # An upload's answer comes only after CKAN has stored every file: allow for that.
        return (10.0, max(self.timeout, 300.0)) if files else (10.0, self.timeout)

    def _pause(self, attempt: int, retry_after: str | None) -> None:
        self.stats.retries += 1
        delay = self.backoff * (2**attempt)
        if retry_after:
            try:
                delay = max(delay, float(retry_after))
            except ValueError:
                pass  # an HTTP date; the computed backoff will do
        delay = min(delay, 30.0)
        log.info("CKAN did not answer; retrying in %.1f s", delay)
        time.sleep(delay)


def _never_sent(exc: Exception) -> bool:
    """Whether the request certainly never reached the server (no connection was made)."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return isinstance(reason, urllib3.exceptions.NewConnectionError)


def _multipart(data: Any, files: dict[Any, Any], progress: Progress) -> MultipartBody:
    fields: list[tuple[str, bytes]] = []
    for key, value in (data or {}).items():
        name = key.decode() if isinstance(key, bytes) else str(key)
        raw = value if isinstance(value, bytes) else str(value).encode("utf-8")
        fields.append((name, raw))
    parts: list[tuple[str, Upload]] = []
    for key, value in files.items():
        name = key.decode() if isinstance(key, bytes) else str(key)
        if not isinstance(value, Upload):
            raise TypeError("CkanSession uploads take opengov Upload objects")
        parts.append((name, value))
    return MultipartBody(fields, parts, progress)


# --------------------------------------------------------------------------------------- client


class StaleState(Exception):
    """A conditional package_revise found the dataset changed since it was read."""


class NoAnswer(PublishError):
    """A call that must not run twice got no answer: it may or may not have run."""


_JWT = re.compile(r"eyJ[\w-]{8,}\.[\w-]{8,}\.[\w-]{8,}")


class CkanClient:
    def __init__(
        self,
        url: str,
        token: str | None,
        *,
        org: str = "",
        session: CkanSession | None = None,
    ) -> None:
        # Every way in (publish, verify, the API) passes here: a malformed URL or a token no
        # HTTP header can carry is a ConfigError now, not a ValueError deep in urllib.
        self.url = check_url(url, warn=False)
        self.org = org
        self._token = (check_token(token, "the settings") if token else "") or None
        self.session = session or CkanSession()
        self.remote = ckanapi.RemoteCKAN(
            self.url, apikey=self._token, session=self.session, user_agent="opengov"
        )
        self._origin = _origin(self.url)

    @property
    def stats(self) -> Stats:
        return self.session.stats

    def clean(self, text: str, limit: int = 300) -> str:
        """Text from CKAN or requests fit for a message: no token, short, one line."""
        if self._token:
            text = text.replace(self._token, "[token]")
        text = _JWT.sub("[token]", text)
        text = " ".join(text.split())
        return text if len(text) <= limit else text[: limit - 1] + "…"

    def call(
        self,
        action: str,
        data: dict[str, Any] | None = None,
        *,
        files: dict[str, Upload] | None = None,
        what: str = "",
        once: bool = False,
        timeout: float | None = None,
    ) -> Any:
        """Call an action; return its result, None for NotFound, raise opengov errors else.

        `once`: the action must not run twice (an insert), so it is not sent again after a
        failure that leaves open whether it ran; that failure raises `NoAnswer`.
        `timeout`: seconds to wait for the answer, when the default is too short.
        """
        what = what or action
        kwargs = {"timeout": (10.0, timeout)} if timeout else None
        self.session.retry_unsure = not once
        try:
            return self._call(action, data, files, what, kwargs)
        except PublishError as exc:
            if once and self.session.unsure and not isinstance(exc, NoAnswer):
                raise NoAnswer(f"{exc} (the request may have been carried out)") from None
            raise
        finally:
            self.session.retry_unsure = True

    def _call(
        self,
        action: str,
        data: dict[str, Any] | None,
        files: dict[str, Upload] | None,
        what: str,
        kwargs: dict[str, Any] | None,
    ) -> Any:
        try:
            return self.remote.call_action(action, data or {}, files=files, requests_kwargs=kwargs)
        except ckanapi.NotFound:
            return None
        except ckanapi.NotAuthorized:
            raise CkanAuthError(
                f"CKAN refused {what} (HTTP 403): the API token is wrong, expired or revoked, "
                f"or its user may not edit datasets of organisation {self.org!r}"
            ) from None
        except ckanapi.ValidationError as exc:
            raise self._validation_error(exc, what, files) from None
        except (ckanapi.CKANAPIError, ckanapi.ServerIncompatibleError, KeyError, RecursionError):
            # ckanapi raises ServerIncompatibleError when the JSON answer's "error" is not an
            # object (a gateway's 404 {"error": "Not Found"}, a maintenance page's
            # {"success": false, "error": "..."}), KeyError for {"success": true} without a
            # "result" and RecursionError for absurdly nested JSON. None is a CKAN answer.
            status = self.session.last_status
            if status == 413:
                raise self._too_large(what, files, "HTTP 413") from None
            if status in (401, 403):
                raise CkanAuthError(
                    f"CKAN refused {what} (HTTP {status}): check the API token"
                ) from None
            if status is not None and status >= 500:
                raise PublishError(
                    f"CKAN failed {what} (HTTP {status}) after {self.session.retries} retries; "
                    "run again later (a re-run picks up where this one stopped)"
                ) from None
            raise PublishError(
                f"CKAN gave an unexpected answer to {what} (HTTP {status}); is {self.url} a "
                "CKAN portal (2.9 or later)?"
            ) from None
        except requests.RequestException as exc:
            raise PublishError(
                f"could not reach CKAN at {self.url} for {what}: "
                f"{self.clean(type(exc).__name__ + ': ' + str(exc), 200)}"
            ) from None

    def check_token(self) -> str:
        """The name of the token's user; `CkanAuthError` when CKAN does not know the token.

        CKAN treats an unknown, expired or revoked token as no token at all, so public reads
        succeed with it and an unchanged re-publish (which only reads) would never notice.
        `user_show` without an id answers with the token's own user, and only then: anonymous,
        it is refused (403) or finds nobody (404). A small answer, one call, on every publish.
        """
        refused = CkanAuthError(
            f"CKAN at {self.url} does not accept the API token: it is wrong, expired or "
            "revoked (CKAN takes an unknown token for an anonymous visitor). Create a new "
            "token on the publishing account's page (API tokens) and set it again"
        )
        try:
            user = self.call("user_show", {}, what="user_show (checking the API token)")
        except CkanAuthError:
            raise refused from None
        if not isinstance(user, dict) or not user.get("name"):
            raise refused
        return str(user["name"])

    def _validation_error(
        self, exc: ckanapi.ValidationError, what: str, files: dict[str, Upload] | None
    ) -> Exception:
        err = exc.error_dict if isinstance(exc.error_dict, dict) else {}
        err = {k: v for k, v in err.items() if k != "__type"}
        text = json.dumps(err, ensure_ascii=False)
        if "match" in err:
            return StaleState(what)
        if "upload" in err and "too large" in text.lower():
            return self._too_large(what, files, "ckan.max_resource_size")
        if "owner_org" in err:
            return CkanOrgMissing(
                f"CKAN organisation {self.org!r} does not exist on {self.url} (or the token's "
                "user cannot see it); create it or fix --org / OPENGOV_CKAN_ORG"
            )
        if "name" in err and "already in use" in text:
            return CkanNameConflict(f"{what}: the dataset name is already taken on {self.url}")
        # Name the fields CKAN objected to and its messages, cut short: CKAN may quote values.
        fields = ", ".join(sorted(err)) or "unknown fields"
        return PublishError(f"CKAN rejected {what} ({fields}): {self.clean(text, 300)}")

    def _too_large(
        self, what: str, files: dict[str, Upload] | None, reason: str
    ) -> CkanUploadTooLarge:
        sizes = sorted(((u.size, u.filename) for u in (files or {}).values()), reverse=True)
        details = [f"{name}: {size / MB:.1f} MB" for size, name in sizes[:5]]
        total = sum(s for s, _ in sizes)
        return CkanUploadTooLarge(
            f"CKAN refused {what} as too large ({reason}); {len(sizes)} file(s), "
            f"{total / MB:.1f} MB in all. Raise ckan.max_resource_size on the portal (and the "
            "request size limit of any proxy in front of it), or split the resource",
            details=details,
        )

    # ---------------------------------------------------------------------------- downloads

    def download_url(self, resource: dict[str, Any]) -> str:
        """Where to fetch an uploaded resource, always on the configured CKAN.

        CKAN builds resource URLs from its ckan.site_url; with a token we fetch only from the
        address we were configured with, so the token cannot travel to another host.
        """
        url = str(resource.get("url") or "")
        if resource.get("url_type") == "upload":
            filename = url.rsplit("/", 1)[-1] or "file"
            return (
                f"{self.url}/dataset/{resource.get('package_id')}/resource/{resource.get('id')}"
                f"/download/{filename}"
            )
        return url

    def _download_headers(self, url: str, authenticated: bool) -> dict[str, str]:
        """The token goes only to the configured portal's own origin, never to a redirect target
        or a download URL elsewhere that CKAN happens to advertise."""
        if authenticated and self._token and _same_origin(url, self._origin):
            return {"Authorization": self._token}
        return {}

    def sha256_of(
        self, url: str, *, authenticated: bool = True, what: str = ""
    ) -> tuple[str | None, int]:
        """Download and hash; (None, status) when the file cannot be fetched."""
        return self._hash_download(url, None, authenticated=authenticated, what=what)

    def download_to(
        self, url: str, dest: Path, *, authenticated: bool = True, what: str = ""
    ) -> tuple[str | None, int]:
        """Download into a file and hash on the way; (None, status) when it cannot be fetched."""
        return self._hash_download(url, dest, authenticated=authenticated, what=what)

    def _hash_download(
        self, url: str, dest: Path | None, *, authenticated: bool, what: str
    ) -> tuple[str | None, int]:
        digest = hashlib.sha256()
        headers = self._download_headers(url, authenticated)
        try:
            with self.session.get(url, headers=headers, stream=True) as response:
                if response.status_code != 200:
                    return None, response.status_code
                with contextlib.nullcontext() if dest is None else dest.open("wb") as out:
                    for block in response.iter_content(CHUNK):
                        digest.update(block)
                        if out is not None:
                            out.write(block)
                        self.session.stats.bytes_received += len(block)
        except requests.RequestException as exc:
            raise PublishError(
                f"could not download {what or 'a resource'} from CKAN: "
                f"{self.clean(type(exc).__name__ + ': ' + str(exc), 200)}"
            ) from None
        return digest.hexdigest(), 200

    def fetch(self, url: str, *, authenticated: bool = True, limit: int = 64 * MB) -> bytes | None:
        """A small file's bytes (provenance documents); None when it cannot be fetched."""
        headers = self._download_headers(url, authenticated)
        try:
            with self.session.get(url, headers=headers, stream=True) as response:
                if response.status_code != 200:
                    return None
                out = bytearray()
                for block in response.iter_content(CHUNK):
                    out += block
                    self.session.stats.bytes_received += len(block)
                    if len(out) > limit:
                        return None
                return bytes(out)
        except requests.RequestException as exc:
            reason = self.clean(type(exc).__name__ + ": " + str(exc), 200)
            raise PublishError(f"could not download from CKAN: {reason}") from None


def _origin(url: str) -> tuple[str, str, int | None] | None:
    """(scheme, host, port) of a URL; None when it has none (a bad port, an unclosed bracket)."""
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return None
    return parts.scheme, (parts.hostname or "").lower(), port


def _same_origin(url: str, origin: tuple[str, str, int | None] | None) -> bool:
    return origin is not None and _origin(url) == origin


__all__ = [
    "CkanClient",
    "CkanSession",
    "MultipartBody",
    "NoAnswer",
    "OpengovError",
    "StaleState",
    "Stats",
    "Upload",
]
