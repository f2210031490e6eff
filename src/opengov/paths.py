"""Names are never paths: the one place a name or a relative path becomes a path on disk.

Package and resource names become folder and file names (`portal/<package>/data/<resource>.csv`),
so they must match the Frictionless name pattern, stricter where the file system needs it.
Every path opengov reads from a package or writes into a target is made by `inside`, which
resolves it and refuses anything that lands outside its root, whatever the source of the name:
`..`, absolute paths, look-alike characters that a later tool might fold to `/` or `.`, and
symbolic links in a target that would redirect a write.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import stat
import tempfile
import unicodedata
from pathlib import Path, PurePosixPath, PureWindowsPath

from opengov.errors import InputError, LimitExceeded, OpengovError, SchemaError

MAX_NAME = 100
# The Data Package spec (v1, `name`): "lower-case and contain only alphanumeric characters along
# with `.`, `_` or `-`". Its JSON Schema also admits `/`; opengov does not, since names become
# paths. A name starts with a letter or digit (not `.`: hidden and staging folders; not `-`:
# read as an option by command-line tools) and does not end with `.` (Windows drops it).
NAME_PATTERN = r"^[a-z0-9](?:[a-z0-9._-]*[a-z0-9_-])?$"
_NAME = re.compile(NAME_PATTERN)
# A dataset folder beside these portal files would clash with them (see release/catalogue.py).
RESERVED_PACKAGE_NAMES = frozenset({"index.html", "catalog.json", "dcat.rdf"})


def shown(text: str, limit: int = 60) -> str:
    """A name as it may appear in a message: ASCII-escaped (no control or look-alike character
    reaches a terminal unescaped) and cut to `limit` characters."""
    if len(text) <= limit:
        return ascii(text)
    return f"{text[:limit]!a}… ({len(text)} characters)"


def slug(text: str, default: str = "dataset") -> str:
    """A valid name made from `text`, to suggest: `Lönelista 2024` -> `lonelista-2024`."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    cleaned = re.sub(r"[^a-z0-9._-]+", "-", ascii_text.lower())
    cleaned = re.sub(r"\.{2,}", ".", cleaned)
    cleaned = re.sub(r"-{2,}", "-", cleaned).strip("-._")
    return cleaned[:MAX_NAME].rstrip(".-") or default


def name_problem(name: str) -> str | None:
    """Why `name` is not a valid package or resource name, or None when it is."""
    if not name:
        return "it is empty"
    if len(name) > MAX_NAME:
        return f"it is longer than {MAX_NAME} characters"
    if name != name.lower() and _NAME.match(name.lower()) and ".." not in name:
        return "it has upper-case letters"
    bad = sorted({c for c in name if not ("a" <= c <= "z" or "0" <= c <= "9" or c in "._-")})
    if bad:
        listed = ", ".join(_describe(c) for c in bad[:5])
        return f"it contains {listed}"
    if ".." in name:
        return "it contains '..'"
    if not _NAME.match(name):
        return "it must start with a letter or digit and must not end with '.'"
    return None


def _describe(char: str) -> str:
    if char in "/\\":
        return f"{char!r} (a path separator)"
    code = f"U+{ord(char):04X}"
    name = unicodedata.name(char, "")
    if char.isprintable() and char.isascii():
        return f"{char!r}"
    return f"{code} {name}".strip()


def check_name(name: object, what: str, *, package: bool = False) -> str:
    """`name` if it is a valid package (or resource) name; `SchemaError` naming why not."""
    if not isinstance(name, str):
        raise SchemaError(f"{what}: the name must be text")
    problem = name_problem(name)
    if problem is None and package and name in RESERVED_PACKAGE_NAMES:
        problem = "it is the name of a portal file"
    if problem is None:
        return name
    raise SchemaError(
        f"{what} {shown(name)} is not a valid name: {problem}. Names become folder and file "
        "names, so they use lower-case a-z, digits, '-', '_' and '.', start with a letter or "
        f"digit, have no '..' and at most {MAX_NAME} characters "
        f"(for example {suggested_name(name, package=package)!r})"
    )


def suggested_name(name: str, *, package: bool = False) -> str:
    """A valid name to suggest for a refused one: never a name that is refused itself (`Index.html`
    and `index.html` suggested `index.html`, a portal file's name)."""
    suggestion = slug(name)
    if package and suggestion in RESERVED_PACKAGE_NAMES:
        suggestion = suggestion.replace(".", "-")
    return suggestion if name_problem(suggestion) is None else "dataset"


def _is_absolute(part: str) -> bool:
    return (
        PurePosixPath(part).is_absolute()
        or PureWindowsPath(part).is_absolute()
        or bool(PureWindowsPath(part).drive)
        or part.startswith(("/", "\\"))
    )


def inside(
    root: Path,
    *parts: str,
    what: str = "path",
    within: str = "the package folder",
    error: type[OpengovError] = InputError,
    follow_links: bool = True,
) -> Path:
    """`root` joined with `parts`, resolved, refused (as `error`) unless it stays inside `root`.

    With `follow_links=False` (every write into a target) no existing part of the path below
    `root` may be a symbolic link, even one that points inside: a link planted in a portal must
    not redirect a dataset's files into another dataset's folder.
    """
    for part in parts:
        if not isinstance(part, str) or not part:
            raise error(f"{what} has no path")
        if "\x00" in part:
            raise error(f"{what} path {shown(part)} contains a NUL character")
        if "://" in part:
            raise error(f"{what} path {shown(part)} is a URL; opengov reads local files only")
        if _is_absolute(part):
            raise error(f"{what} path {shown(part)} is absolute; paths must be inside {within}")
    rel = "/".join(parts)
    if not follow_links and ".." in PurePosixPath(rel).parts:
        raise error(f"{what} path {shown(rel)} contains '..'")
    try:
        base = root.resolve()
        candidate = base.joinpath(*parts)
        if not follow_links:
            _no_links(base, candidate, what, within, error)
        resolved = candidate.resolve()
    except (OSError, ValueError, RuntimeError):
        # RuntimeError: a symlink loop (Python < 3.13).
        raise error(f"{what} path {shown(rel)} cannot be resolved inside {within}") from None
    if not resolved.is_relative_to(base):
        raise error(f"{what} path {shown(rel)} points outside {within}")
    return resolved


# What mkdir says when the path itself is the mistake: a part of it is a file (EEXIST from
# `exist_ok` when the last part is one), a link loop, a name longer than the file system takes.
PATH_MISTAKES = frozenset({errno.EEXIST, errno.ENOTDIR, errno.ELOOP, errno.ENAMETOOLONG})


def make_folder(
    path: Path, what: str = "folder", *, error: type[OpengovError] = InputError
) -> None:
    """`mkdir -p path`, with a path that cannot be a folder reported as `error` (a user's
    mistake: `--out notes.txt/pkg`), not a crash. A full disk or a refused access is left to
    the caller's handling of the machine's refusals."""
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        if exc.errno not in PATH_MISTAKES:
            raise
        reason = os.strerror(exc.errno)
        if exc.errno == errno.EEXIST:
            reason = "a part of it is not a folder"
        raise error(f"cannot create {what} {shown(str(path), 200)}: {reason}") from None


def _no_links(
    base: Path, candidate: Path, what: str, within: str, error: type[OpengovError]
) -> None:
    current = base
    for piece in candidate.relative_to(base).parts:
        current = current / piece
        if os.path.islink(current):
            raise error(
                f"{what}: {shown(str(current.relative_to(base)))} in {within} is a symbolic "
                "link; opengov does not write through links (remove it)"
            )


def read_regular(
    root: Path,
    *parts: str,
    limit: int,
    what: str = "file",
    within: str = "the portal folder",
    error: type[OpengovError] = InputError,
) -> bytes | None:
    """The bytes of a regular file inside `root`, read without following any link; None when it
    does not exist.

    For files opengov reads back from a folder it wrote (a portal's provenance, history, pages):
    someone who can write there could plant a link to a secret elsewhere (a key file) and have
    the next publish copy it into the portal, or a FIFO that blocks the read forever. A link, a
    device or a FIFO is refused as `error`; more than `limit` bytes is `LimitExceeded`.
    """
    path = inside(root, *parts, what=what, within=within, error=error, follow_links=False)
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise error(f"{what} {shown('/'.join(parts))} cannot be read: {exc.strerror}") from None
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            raise error(f"{what} {shown('/'.join(parts))} in {within} is not a regular file")
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise LimitExceeded(f"{what} {shown('/'.join(parts))} is larger than {limit:,} bytes")
    return data


def replace_file(
    root: Path,
    name: str,
    data: bytes,
    *,
    what: str = "file",
    within: str = "the portal folder",
    error: type[OpengovError] = InputError,
    mode: int = 0o644,
) -> Path:
    """Write `root/name` atomically: a new temporary file beside it, then a rename over it.

    `name` is one plain file name. The temporary file is created anew (never opened by a fixed
    name, which a link planted in the folder could redirect to a file outside it), and the
    rename replaces a link planted at `name` itself, never what it points to.
    """
    if not re.fullmatch(r"\.?[A-Za-z0-9][A-Za-z0-9._-]*", name) or ".." in name:
        raise error(f"{what} {shown(name)} is not a plain file name")
    target = root / name
    fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=root)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, OSError):
            raise error(f"cannot write {what} {target}: {exc.strerror}") from None
        raise
    return target
