"""Writing, or updating, the data package an import produces.

The package is rebuilt in full in a sibling folder and swapped in at the end, so a failed
import leaves `out` exactly as it was, and everything written is a pure function of its
inputs (sorted keys, stable row order, no wall-clock time): importing the same export twice
gives byte-identical files.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import os
import secrets
import shutil
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from opengov.errors import InputError
from opengov.importers.social.archive import FileRead
from opengov.importers.social.common import Parsed
from opengov.importers.social.records import (
    ACCOUNT_TYPES,
    CLASSIFICATIONS,
    COMMENT_FIELDS,
    COMMENT_SCHEMA_FILE,
    POST_FIELDS,
    POST_SCHEMA_FILE,
    REOPENED_BY,
    AccountType,
    FieldSpec,
    Row,
    field_names,
    is_import_default,
    json_bytes,
    read_csv,
    schema_bytes,
    sort_rows,
    write_csv,
)
from opengov.importers.social.report import FileReport, counts_by_status
from opengov.importers.social.rules_yaml import render_rules
from opengov.limits import MAX_DESCRIPTOR_BYTES, load_json, read_limited
from opengov.paths import (
    RESERVED_PACKAGE_NAMES,
    inside,
    make_folder,
    name_problem,
    shown,
    slug,
)

DESCRIPTOR = "datapackage.json"
POSTS_CSV = "posts.csv"
COMMENTS_CSV = "comments.csv"
RULES = "rules.yaml"
KEY_ENV = "OPENGOV_PSEUDONYM_KEY"
# Package-level key listing the handles of the authority's own accounts (rules keep them).
OWN_ACCOUNTS = "own_accounts"
CLASSIFICATION_KEYS = ("classification", "classified_by", "classified_at", "reason")

CC0 = {
    "name": "CC0-1.0",
    "path": "http://creativecommons.org/publicdomain/zero/1.0/",
    "title": "CC0 1.0",
}
DEFAULT_TITLE = "Sociala medier: inlägg och kommentarer (kandidater till allmänna handlingar)"
DEFAULT_DESCRIPTION = (
    "Inlägg och kommentarer från myndighetens och tjänstepersoners konton i sociala medier, "
    "importerade med opengov. Varje post har en klassificering (official, private, undecided) "
    "med vem som beslutade, när och varför; bara poster klassificerade som official publiceras, "
    "och kommentatorers namn publiceras inte. — Posts and comments from the authority's and "
    "officials' social-media accounts, each classified as a public record or not."
)
_PLATFORM_TITLES = {"facebook": "Facebook-export", "twitter": "X/Twitter-arkiv"}


@dataclass(frozen=True)
class PackageInfo:
    """Optional descriptor texts; unset values keep what the package already says."""

    name: str | None = None
    title: str | None = None
    description: str | None = None


@dataclass(frozen=True)
class ResourceCounts:
    """Records of one resource: from this export, and in the package afterwards."""

    read: int
    added: int
    updated: int
    total: int
    by_classification: dict[str, int]
    # Records a person had decided whose content this export changed (an edited post): the
    # decision was about text that is gone, so they are undecided again (REOPENED_BY).
    reopened: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "read": self.read,
            "added": self.added,
            "updated": self.updated,
            "reopened": self.reopened,
            "total": self.total,
            "by_classification": dict(self.by_classification),
        }


@dataclass(frozen=True)
class ImportResult:
    """What an import did; `to_dict()` is exactly what `--json` prints."""

    platform: str
    account: str
    account_type: str
    export: str
    out: str
    name: str  # the dataset's name (datapackage.json), which a publish names the dataset by
    files_read: tuple[FileRead, ...]
    files: tuple[FileReport, ...]  # every file of the export: read, known, not understood
    posts: ResourceCounts
    comments: ResourceCounts
    own_accounts: tuple[str, ...]  # handles the rules keep (the authority's own accounts)
    author_action: str | None  # drop | pseudonymize; None when rules.yaml was kept
    rules: str  # "written" or "kept" (an edited rules.yaml is never overwritten)
    outputs: dict[str, str]

    def to_dict(self) -> dict[str, Any]:
        return {
            "platform": self.platform,
            "account": self.account,
            "account_type": self.account_type,
            "export": self.export,
            "out": self.out,
            "name": self.name,
            "files_read": [f.to_dict() for f in self.files_read],
            "files": [f.to_dict() for f in self.files],
            "files_by_status": counts_by_status(self.files),
            "posts": self.posts.to_dict(),
            "comments": self.comments.to_dict(),
            "own_accounts": list(self.own_accounts),
            "author_action": self.author_action,
            "rules": self.rules,
            "outputs": dict(self.outputs),
        }


@dataclass
class Existing:
    """What `out` already holds, checked to be a package this importer wrote."""

    descriptor: dict[str, Any] | None
    posts: dict[str, Row]
    comments: dict[str, Row]
    rules: bytes | None


def check_account(account: str, account_type: str) -> str:
    if account_type not in ACCOUNT_TYPES:
        raise InputError(f"account type must be one of {', '.join(ACCOUNT_TYPES)}")
    cleaned = account.strip() if isinstance(account, str) else ""
    if not cleaned or "\n" in cleaned:
        raise InputError("the account name must be one non-empty line")
    return cleaned


def output_paths(out: Path) -> dict[str, str]:
    return {
        "datapackage": str(out / DESCRIPTOR),
        "posts": str(out / POSTS_CSV),
        "comments": str(out / COMMENTS_CSV),
        "rules": str(out / RULES),
        "post_schema": str(out / POST_SCHEMA_FILE),
        "comment_schema": str(out / COMMENT_SCHEMA_FILE),
    }


# --- reading what is there ---------------------------------------------------------------


def read_existing(out: Path) -> Existing:
    empty = Existing(None, {}, {}, None)
    if not out.exists():
        return empty
    if not out.is_dir():
        raise InputError(f"output {out.name} exists and is not a folder")
    descriptor_path = out / DESCRIPTOR
    if not descriptor_path.is_file():
        if any(out.iterdir()):
            raise InputError(
                f"output folder {out} is not empty and has no {DESCRIPTOR}; "
                "choose a new or empty folder, or an earlier import's package"
            )
        return empty
    descriptor = _read_descriptor(descriptor_path)
    rules_path = out / RULES
    return Existing(
        descriptor=descriptor,
        posts=_read_rows(out / POSTS_CSV, POST_FIELDS),
        comments=_read_rows(out / COMMENTS_CSV, COMMENT_FIELDS),
        rules=rules_path.read_bytes() if rules_path.is_file() else None,
    )


def _read_descriptor(path: Path) -> dict[str, Any]:
    try:
        raw = read_limited(path, MAX_DESCRIPTOR_BYTES, f"{path.parent.name}/{DESCRIPTOR}")
        data = load_json(raw.decode("utf-8-sig"), f"{path.parent.name}/{DESCRIPTOR}")
    except ValueError:
        raise InputError(f"{path.parent.name}/{DESCRIPTOR} is not readable JSON") from None
    resources = data.get("resources") if isinstance(data, dict) else None
    names = [r.get("name") for r in resources or [] if isinstance(r, dict)]
    if not isinstance(data, dict) or names != ["posts", "comments"]:
        raise InputError(
            f"{path.parent.name} is not a social-media package (resources posts, comments)"
        )
    return data


def _read_rows(path: Path, specs: Sequence[FieldSpec]) -> dict[str, Row]:
    """Rows by record_id. Columns may lack fields added later (read as empty), never add any."""
    if not path.is_file():
        raise InputError(f"{path.parent.name}/{path.name} is missing")
    try:
        header, rows = read_csv(path.read_bytes())
    except (UnicodeDecodeError, ValueError):
        raise InputError(f"{path.name} is not UTF-8 CSV") from None
    known = field_names(specs)
    unknown = [h for h in header if h not in known]
    if unknown or "record_id" not in header:
        raise InputError(f"{path.name} has columns the social-media schema does not know")
    out: dict[str, Row] = {}
    for number, row in enumerate(rows, start=2):
        full = {name: row.get(name) or "" for name in known}
        if full["record_id"] in out:
            raise InputError(f"{path.name}: row {number} repeats an earlier record_id")
        out[full["record_id"]] = full
    return out


# --- merging -----------------------------------------------------------------------------


# What a person reads to decide whether a record is a public record: when any of these
# changed under the same id (X lets posts be edited), the decision is not carried over.
# Counts, the deletion flag and the export file it came from change without changing that.
DECIDED_ON = (
    "text", "title", "author", "attachments", "urls", "mentions", "hashtags",
    "in_reply_to_account", "in_reply_to_external", "is_retweet", "direction",
)  # fmt: skip


@dataclass(frozen=True)
class Merged:
    rows: list[Row]
    added: int
    updated: int
    reopened: int


def merge_rows(existing: Mapping[str, Row], new: Iterable[Row]) -> Merged:
    """Existing rows, with new records added and re-imported ones refreshed.

    A classification somebody decided (anything not set by the importer) survives while the
    record's content is what they decided on; records whose content changed become
    `undecided` again (fail closed: a post decided official and edited since must not publish
    its new text unread, nor a post decided private fall back to an official account's
    default). Records missing from the newer export stay, since removal from the platform is
    not disposal.
    """
    merged = dict(existing)
    added = updated = reopened = 0
    for row in new:
        old = merged.get(row["record_id"])
        if old is None:
            added += 1
        else:
            if not is_import_default(old):
                unchanged = all(old.get(k) == row.get(k) for k in DECIDED_ON)
                if unchanged or old.get("classified_by") == REOPENED_BY:
                    # The decision stands, or the record already waits for a new one.
                    row = {**row, **{key: old[key] for key in CLASSIFICATION_KEYS}}
                else:
                    row = {**row, **reopened_classification(old, row)}
                    reopened += 1
            updated += row != old
        merged[row["record_id"]] = row
    return Merged(sort_rows(merged.values()), added, updated, reopened)


def reopened_classification(old: Mapping[str, str], row: Mapping[str, str]) -> dict[str, str]:
    """`undecided`, saying whose decision on which content was set aside. The time is the
    record's own (as the importer's defaults), so importing the same export twice gives the
    same bytes."""
    return {
        "classification": "undecided",
        "classified_by": REOPENED_BY,
        "classified_at": str(row.get("updated_at") or row.get("created_at") or ""),
        "reason": (
            f"Innehållet har ändrats sedan {old.get('classified_by', '')} bedömde posten som "
            f"{old.get('classification', '')} ({old.get('classified_at', '')}); bedöm den igen"
        ),
    }


def merge_sources(
    descriptor: Mapping[str, Any] | None, parsed: Parsed, account: str
) -> list[dict[str, Any]]:
    sources = {_source_key(s): s for s in (descriptor or {}).get("sources", []) if _is_source(s)}
    prefix = _PLATFORM_TITLES[parsed.platform]
    for f in parsed.files:
        entry = {
            "title": f"{prefix} ({account}): {f.path}",
            "path": f.path,
            "sha256": f.sha256,
            "bytes": f.bytes,
        }
        sources[_source_key(entry)] = entry
    return [sources[key] for key in sorted(sources)]


def _is_source(value: Any) -> bool:
    return isinstance(value, dict) and isinstance(value.get("title"), str)


def _source_key(source: Mapping[str, Any]) -> tuple[str, str, str]:
    return (str(source.get("title")), str(source.get("path")), str(source.get("sha256")))


def count_by_classification(rows: Iterable[Row]) -> dict[str, int]:
    counts = Counter(row["classification"] for row in rows)
    return {name: counts.get(name, 0) for name in CLASSIFICATIONS}


# --- what is written ---------------------------------------------------------------------


def package_name(out: Path) -> str:
    """The name of a new package without a `name` given: made from the folder's name (a package
    keeps the name it has on later imports, wherever its folder is moved)."""
    try:
        folder = out.resolve().name
    except (OSError, RuntimeError):  # a link loop (RuntimeError before Python 3.13): mkdir says
        folder = Path(os.path.abspath(out)).name
    return slug(folder, default="sociala-medier")


def check_name(name: str) -> str:
    """A dataset name given for the package (`--name`): it becomes the published folder's name
    and part of every identifier, so it must be a valid one; InputError else."""
    problem = name_problem(name)
    if problem is None and name in RESERVED_PACKAGE_NAMES:
        problem = "it is the name of a file at the top of a portal"
    if problem is not None:
        raise InputError(
            f"the dataset name {shown(name)} is not usable: {problem}; use lower-case letters, "
            f"digits, '.', '_' and '-' (for example {slug(name, default='sociala-medier')!r})"
        )
    return name


def dataset_name(existing: Mapping[str, Any] | None, info: PackageInfo, out: Path) -> str:
    """The name given, else the one the package has, else one made from the folder's name."""
    if info.name is not None:
        return check_name(info.name)
    had = (existing or {}).get("name")
    return had if isinstance(had, str) and had else package_name(out)


def build_descriptor(
    existing: Mapping[str, Any] | None,
    info: PackageInfo,
    out: Path,
    sources: list[dict[str, Any]],
    posts_csv: bytes,
    comments_csv: bytes,
    own_accounts: Sequence[str] = (),
) -> dict[str, Any]:
    """Our keys set, the user's other keys (keywords, contributors, ...) kept."""
    base = dict(existing or {})
    if own_accounts:
        base[OWN_ACCOUNTS] = list(own_accounts)
    base["name"] = dataset_name(existing, info, out)
    base["title"] = info.title or base.get("title") or DEFAULT_TITLE
    base["description"] = info.description or base.get("description") or DEFAULT_DESCRIPTION
    base["licenses"] = [CC0]
    base["resources"] = [
        _resource(
            "posts", POSTS_CSV, POST_SCHEMA_FILE, posts_csv,
            "Inlägg / Posts", "Kontots egna inlägg. — The account's own posts.",
        ),
        _resource(
            "comments", COMMENTS_CSV, COMMENT_SCHEMA_FILE, comments_csv,
            "Kommentarer / Comments",
            "Kommentarer från kontot och mottagna kommentarer. — Comments written from the "
            "account and comments received on its posts.",
        ),
    ]  # fmt: skip
    if "sources" in base or sources:
        base["sources"] = sources
    return base


def _resource(
    name: str, path: str, schema: str, data: bytes, title: str, description: str
) -> dict[str, Any]:
    return {
        "name": name,
        "title": title,
        "description": description,
        "path": path,
        "format": "csv",
        "mediatype": "text/csv",
        "encoding": "utf-8",
        "dialect": {"delimiter": ",", "header": True},
        "schema": schema,
        "hash": "sha256:" + hashlib.sha256(data).hexdigest(),
        "bytes": len(data),
    }


def package_files(
    descriptor_base: Mapping[str, Any] | None,
    info: PackageInfo,
    out: Path,
    sources: list[dict[str, Any]],
    posts: Sequence[Row],
    comments: Sequence[Row],
    own_accounts: Sequence[str] = (),
) -> dict[str, bytes]:
    """Every file of the package but rules.yaml, as bytes."""
    posts_csv = write_csv(posts, field_names(POST_FIELDS))
    comments_csv = write_csv(comments, field_names(COMMENT_FIELDS))
    descriptor = build_descriptor(
        descriptor_base, info, out, sources, posts_csv, comments_csv, own_accounts
    )
    return {
        DESCRIPTOR: json_bytes(descriptor),
        POSTS_CSV: posts_csv,
        COMMENTS_CSV: comments_csv,
        POST_SCHEMA_FILE: schema_bytes("post"),
        COMMENT_SCHEMA_FILE: schema_bytes("comment"),
    }


def replace_files(out: Path, files: Mapping[str, bytes]) -> None:
    """Write `files` into a copy of `out` beside it, then swap the copy in.

    Other files in `out` (a README, an edited rules.yaml) are carried over. A failure before
    the swap leaves `out` untouched; the staging folder is removed.
    """
    make_folder(out.parent, "the folder of --out")
    token = secrets.token_hex(6)
    staging = out.parent / f".{out.name}.{token}.tmp"
    staging.mkdir()  # not mkdtemp: that is mode 0700 and the package would keep it
    try:
        if out.exists():
            shutil.copytree(out, staging, symlinks=True, dirs_exist_ok=True)
        for rel, data in files.items():
            target = inside(staging, rel, what=rel, within=str(out), follow_links=False)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        if out.exists():
            backup = out.parent / f".{out.name}.{token}.old"
            os.rename(out, backup)
            os.rename(staging, out)
            shutil.rmtree(backup, ignore_errors=True)
        else:
            os.rename(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


# --- the whole import --------------------------------------------------------------------


def existing_own_accounts(descriptor: Mapping[str, Any] | None) -> tuple[str, ...]:
    value = (descriptor or {}).get(OWN_ACCOUNTS)
    if not isinstance(value, list):
        return ()
    return tuple(v for v in value if isinstance(v, str))


def merge_own_accounts(*groups: Iterable[str]) -> tuple[str, ...]:
    """Handles without "@", one per account whatever its case, sorted."""
    seen: dict[str, str] = {}
    for group in groups:
        for handle in group:
            cleaned = handle.strip().lstrip("@")
            if cleaned:
                seen.setdefault(cleaned.lower(), cleaned)
    return tuple(sorted(seen.values(), key=str.lower))


def write_import(
    parsed: Parsed,
    *,
    export: Path,
    account: str,
    account_type: AccountType,
    out: Path,
    pseudonymize_authors: bool | None = None,
    info: PackageInfo | None = None,
    own_handles: Iterable[str] = (),
) -> ImportResult:
    """Merge a parsed export into `out` (created if missing) and say what happened.

    Own accounts (kept by the handle scan) are the handles given, and, for an official account,
    the handles its export names.
    """
    from opengov.redact.detectors.handles import normalise_own

    with one_writer_at_a_time(out):
        return _merge_into(
            parsed, export=export, account=account, account_type=account_type, out=out,
            pseudonymize_authors=pseudonymize_authors, info=info, own_handles=own_handles,
            normalise_own=normalise_own,
        )  # fmt: skip


@contextlib.contextmanager
def one_writer_at_a_time(out: Path) -> Iterator[None]:
    """Hold the folder `out` is in while the package is read, merged and swapped in (by an
    import or by `classify`).

    Two imports into one package at once each read it before the other's swap, and the later
    swap dropped the earlier one's records, both with exit 0; an import beside `classify`
    dropped its decisions (a record decided private back to its default). The lock is on the
    parent folder itself (no lock file to leave behind or to race over), and it waits: imports
    are short.
    """
    make_folder(out.parent, "the folder of --out")
    fd = os.open(out.parent, os.O_RDONLY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
        except OSError as exc:
            # A file system without locks (some network mounts): as before, unlocked.
            if exc.errno not in (errno.ENOLCK, errno.EOPNOTSUPP, errno.EINVAL, errno.EBADF):
                raise
        yield
    finally:
        os.close(fd)  # releases the lock


def _merge_into(
    parsed: Parsed,
    *,
    export: Path,
    account: str,
    account_type: AccountType,
    out: Path,
    pseudonymize_authors: bool | None,
    info: PackageInfo | None,
    own_handles: Iterable[str],
    normalise_own: Callable[[Iterable[str]], tuple[str, ...]],
) -> ImportResult:
    existing = read_existing(out)
    name = dataset_name(existing.descriptor, info or PackageInfo(), out)
    try:
        given = normalise_own(own_handles)
    except ValueError:
        raise InputError("own handles take letters, digits, _ and . (at most 50)") from None
    before = existing_own_accounts(existing.descriptor)
    own = merge_own_accounts(
        before, given, parsed.own_handles if account_type == "official" else ()
    )
    pseudonymize = (
        bool(os.environ.get(KEY_ENV)) if pseudonymize_authors is None else (pseudonymize_authors)
    )
    merged_posts = merge_rows(existing.posts, (p.to_row() for p in parsed.posts))
    merged_comments = merge_rows(existing.comments, (c.to_row() for c in parsed.comments))
    posts, comments = merged_posts.rows, merged_comments.rows
    sources = merge_sources(existing.descriptor, parsed, account)
    files = package_files(
        existing.descriptor, info or PackageInfo(), out, sources, posts, comments, own
    )
    rules = render_rules(pseudonymize, own)
    generated = {
        render_rules(pseudonymize_, before, account_names=names)
        for pseudonymize_ in (True, False)
        for names in (True, False)
    }
    rules_state = "kept"
    if existing.rules is None or existing.rules in generated:
        files[RULES] = rules
        rules_state = "written"
    replace_files(out, files)
    return ImportResult(
        platform=parsed.platform,
        account=account,
        account_type=account_type,
        export=str(export),
        out=str(out),
        name=name,
        files_read=tuple(parsed.files),
        files=tuple(parsed.reports),
        posts=ResourceCounts(
            len(parsed.posts),
            merged_posts.added,
            merged_posts.updated,
            len(posts),
            count_by_classification(posts),
            merged_posts.reopened,
        ),
        comments=ResourceCounts(
            len(parsed.comments),
            merged_comments.added,
            merged_comments.updated,
            len(comments),
            count_by_classification(comments),
            merged_comments.reopened,
        ),
        own_accounts=own,
        author_action=None
        if rules_state == "kept"
        else ("pseudonymize" if pseudonymize else "drop"),
        rules=rules_state,
        outputs=output_paths(out),
    )
