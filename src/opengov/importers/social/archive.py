"""Reading an export safely, whether the platform's ZIP or the folder it unpacks to.

Nothing is ever extracted to disk: entries are read into memory one at a time, and only the
few JSON/JS files the importers ask for. Before anything is read the whole ZIP directory is
checked, because an archive with one hostile entry is hostile as a whole:

- zip slip: names with `..`, absolute paths, drive letters or NUL bytes;
- zip bombs: entries whose declared size is far beyond their compressed size;
- duplicate names (two entries for one path make "which one was read" ambiguous), compared
  as the path an unzip tool writes: Windows tools' backslashes as `/`, `//` and `./` dropped,
  and data files (`.js`, `.json`, `.csv`) also without regard to case, since Windows and macOS
  unpack `Tweets.js` and `tweets.js` to one file. Entries are known by that path, so a ZIP
  made with backslashes (PowerShell's Compress-Archive) reads as the folder it unpacks to.

While reading, the bytes actually decompressed are counted against a total budget, so a
lying central directory cannot get past the limit either. Media files (photos, videos) are
never decompressed, which is why the budget counts what is read and not the declared total of
every entry: a real export with videos is often larger than the budget.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
import struct
import unicodedata
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from opengov.errors import ImportFailed, InputError, UnsafeArchive

MB = 1024 * 1024
_CHUNK = MB
_DRIVE = re.compile(r"^[A-Za-z]:")
# Media names are ids in which case matters (X: `...-F3xYzAbCdE.jpg`); data files' names are not.
_CASE_BLIND = (".js", ".json", ".csv")


@dataclass(frozen=True)
class ArchiveLimits:
    """Bounds on what an export may make opengov decompress."""

    max_unpacked_bytes: int = 500 * MB
    # JSON compresses 5-20x; 100x and more on a large entry is a bomb, not an export.
    max_ratio: float = 100.0
    # Small entries may compress extremely well (a file of spaces) and harm no one.
    ratio_min_bytes: int = MB
    max_entries: int = 500_000


@dataclass(frozen=True)
class FileRead:
    """Provenance of one file read from an export."""

    path: str
    sha256: str
    bytes: int

    def to_dict(self) -> dict[str, object]:
        return {"path": self.path, "sha256": self.sha256, "bytes": self.bytes}


@dataclass
class Export:
    """Files of an export by their path inside it (POSIX separators), readable once each."""

    label: str
    limits: ArchiveLimits
    _names: list[str]
    _zip: zipfile.ZipFile | None = None
    _entries: dict[str, zipfile.ZipInfo] = field(default_factory=dict)
    _root: Path | None = None
    _budget_used: int = 0
    files_read: dict[str, FileRead] = field(default_factory=dict)

    def names(self) -> list[str]:
        return list(self._names)

    def read(self, name: str) -> bytes:
        """The bytes of one file, counted against the budget and recorded with its hash."""
        data = self._read_zip(name) if self._zip is not None else self._read_folder(name)
        self.files_read[name] = FileRead(name, hashlib.sha256(data).hexdigest(), len(data))
        return data

    def _charge(self, amount: int, name: str) -> None:
        self._budget_used += amount
        if self._budget_used > self.limits.max_unpacked_bytes:
            raise UnsafeArchive(
                f"{self.label}: reading {name} goes past the limit of "
                f"{self.limits.max_unpacked_bytes} unpacked bytes; refusing to continue"
            )

    def _read_zip(self, name: str) -> bytes:
        assert self._zip is not None
        info = self._entries[name]
        parts: list[bytes] = []
        size = 0
        try:
            with self._zip.open(info) as fh:
                for chunk in iter(lambda: fh.read(_CHUNK), b""):
                    size += len(chunk)
                    if size > info.file_size:
                        raise UnsafeArchive(f"{self.label}: {name} unpacks beyond its stated size")
                    self._charge(len(chunk), name)
                    parts.append(chunk)
        except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError):
            raise ImportFailed(f"{self.label}: {name} is damaged or truncated in the ZIP") from None
        return b"".join(parts)

    def _read_folder(self, name: str) -> bytes:
        assert self._root is not None
        path = self._root / name
        size = path.stat().st_size
        self._charge(size, name)
        try:
            return path.read_bytes()
        except OSError as exc:
            raise InputError(f"{self.label}: cannot read {name}: {exc.strerror}") from None


def check_entry_name(name: str) -> str | None:
    """Why an entry name is unsafe to honour, or None when it stays inside the export."""
    normal = name.replace("\\", "/")
    if "\x00" in normal:
        return "contains a NUL byte"
    if normal.startswith("/"):
        return "is an absolute path"
    if _DRIVE.match(normal):
        return "starts with a drive letter"
    if ".." in PurePosixPath(normal).parts:
        return "climbs out of the archive with '..'"
    return None


def entry_path(name: str) -> str:
    """The path an unzip tool writes an entry to: `/` for Windows tools' `\\`, no empty or `.`
    parts."""
    return "/".join(p for p in name.replace("\\", "/").split("/") if p not in ("", "."))


def _same_file_key(path: str) -> str:
    if not path.lower().endswith(_CASE_BLIND):
        return path
    return unicodedata.normalize("NFC", path).casefold()


def _check_zip(
    zf: zipfile.ZipFile, label: str, limits: ArchiveLimits
) -> dict[str, zipfile.ZipInfo]:
    infos = zf.infolist()
    if len(infos) > limits.max_entries:
        raise UnsafeArchive(
            f"{label}: {len(infos)} entries, more than the limit {limits.max_entries}"
        )
    seen: dict[str, int] = {}
    entries: dict[str, zipfile.ZipInfo] = {}
    for position, info in enumerate(infos, start=1):
        # The name may be the attack, so it is not echoed; the position identifies it.
        problem = check_entry_name(info.filename)
        if problem:
            raise UnsafeArchive(f"{label}: entry {position} {problem} (zip slip); refusing it")
        path = entry_path(info.filename)
        key = _same_file_key(path)
        if key in seen:
            raise UnsafeArchive(
                f"{label}: entry {position} unpacks to the same file as entry {seen[key]}; "
                "refusing an archive whose contents depend on which one is read"
            )
        seen[key] = position
        if info.is_dir() or not path:
            continue
        if info.file_size >= limits.ratio_min_bytes:
            ratio = info.file_size / max(info.compress_size, 1)
            if ratio > limits.max_ratio:
                raise UnsafeArchive(
                    f"{label}: entry {position} expands {ratio:.0f} times (limit "
                    f"{limits.max_ratio:.0f}): a zip bomb, not an export"
                )
        if info.flag_bits & 0x1:
            raise ImportFailed(f"{label}: {path} is encrypted; export without a password")
        entries[path] = info
    return dict(sorted(entries.items()))


def _folder_names(root: Path, label: str, limits: ArchiveLimits) -> list[str]:
    resolved_root = root.resolve()
    names: list[str] = []
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if path.is_symlink():
            try:
                target = path.resolve(strict=True)
            except (OSError, RuntimeError):  # RuntimeError: a link loop before Python 3.13
                raise ImportFailed(
                    f"{label}: {rel} is a link to nothing; the export is incomplete"
                ) from None
            if not target.is_relative_to(resolved_root):
                raise UnsafeArchive(f"{label}: {rel} is a link pointing outside the export folder")
        try:
            mode = path.stat().st_mode
        except OSError as exc:
            raise InputError(f"{label}: cannot read {rel}: {exc.strerror}") from None
        if stat.S_ISREG(mode):
            names.append(rel)
        elif not stat.S_ISDIR(mode):
            # A pipe would hang the read, a device never end it: not a file an export holds.
            raise UnsafeArchive(f"{label}: {rel} is not a regular file (a pipe, socket or device)")
        if len(names) > limits.max_entries:
            raise UnsafeArchive(f"{label}: more than {limits.max_entries} files")
    return names


def _declared_entries(path: Path) -> int | None:
    """The entry count the archive's end record declares, read before the central directory:
    ZipFile builds an object per entry on opening (600,000 empty entries, 49 MB of ZIP, took
    320 MB), so the limit must be checked first. None when the record cannot be read (the
    ZipFile that follows says why); the count of what ZipFile then holds is checked again."""
    try:
        # zipfile's own reader of the end record (private, but in every Python 3).
        end_record: Any = getattr(zipfile, "_EndRecData")  # noqa: B009
        with path.open("rb") as handle:
            end = end_record(handle)
        return None if end is None else int(end[getattr(zipfile, "_ECD_ENTRIES_TOTAL")])  # noqa: B009
    except (OSError, IndexError, TypeError, ValueError, zipfile.BadZipFile):
        return None


# A central directory header: signature, then fixed fields up to the three lengths (name,
# extra field, comment) at bytes 28-33, 46 bytes in all (APPNOTE 4.3.12).
_CENTRAL_HEADER = 46


def _central_entries_beyond(path: Path, limit: int) -> bool:
    """Whether the central directory holds more than `limit` entries, counted by walking its
    headers as ZipFile will (by the directory's size, whatever count the end record declares),
    without an object per entry. False when it cannot be walked: ZipFile then says why."""
    try:
        # zipfile's own names for the end record's fields (private, but in every Python 3).
        z: Any = zipfile
        with path.open("rb") as handle:
            end = z._EndRecData(handle)
            if end is None:
                return False
            size = int(end[z._ECD_SIZE])
            # Where ZipFile looks for the directory: right before the end record, whatever
            # offset the record states (data prepended to an archive shifts it).
            start = int(end[z._ECD_LOCATION]) - size
            if end[z._ECD_SIGNATURE] == z.stringEndArchive64:
                start -= z.sizeEndCentDir64 + z.sizeEndCentDir64Locator
            if start < 0:
                return False
            handle.seek(start)
            walked = count = 0
            while walked < size:
                head = handle.read(_CENTRAL_HEADER)
                if len(head) < _CENTRAL_HEADER or head[:4] != b"PK\x01\x02":
                    return False
                name, extra, comment = struct.unpack("<HHH", head[28:34])
                handle.seek(name + extra + comment, os.SEEK_CUR)
                walked += _CENTRAL_HEADER + name + extra + comment
                count += 1
                if count > limit:
                    return True
    except (OSError, IndexError, TypeError, ValueError, struct.error, zipfile.BadZipFile):
        return False
    return False


@contextmanager
def open_export(path: Path, limits: ArchiveLimits | None = None) -> Iterator[Export]:
    """Open a ZIP or folder export after checking every entry; `ImportFailed` if neither."""
    limits = limits or ArchiveLimits()
    label = path.name or str(path)
    if path.is_dir():
        yield Export(label, limits, _folder_names(path, label, limits), _root=path)
        return
    if not path.exists():
        raise InputError(f"export {label} does not exist")
    if path.stat().st_size == 0:
        raise ImportFailed(f"{label} is an empty file, not an export")
    if not zipfile.is_zipfile(path):
        raise ImportFailed(f"{label} is neither a folder nor a ZIP archive")
    declared = _declared_entries(path)
    if declared is not None and declared > limits.max_entries:
        raise UnsafeArchive(
            f"{label}: {declared} entries, more than the limit {limits.max_entries}"
        )
    if _central_entries_beyond(path, limits.max_entries):
        raise UnsafeArchive(
            f"{label}: more than {limits.max_entries} entries (the limit) in its central "
            f"directory, though its end record declares {declared}"
        )
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError):
        raise ImportFailed(f"{label} is a damaged or truncated ZIP archive") from None
    with zf:
        entries = _check_zip(zf, label, limits)
        yield Export(label, limits, list(entries), _zip=zf, _entries=entries)
