"""The record a social-media post or comment becomes, its Table Schema, and its CSV form.

One list of `FieldSpec` per resource is the single source of truth: the dataclasses, the CSV
header, the Table Schemas in `schemas/` and the generated rules.yaml all follow it, and a test
checks that the committed schema files equal what `table_schema()` produces.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from typing import Any, Literal

from opengov.errors import ImportFailed

Classification = Literal["official", "private", "undecided"]
AccountType = Literal["official", "personal"]
Platform = Literal["facebook", "twitter"]
Direction = Literal["own_post", "own_comment", "received_comment", "received_post"]

CLASSIFICATIONS: tuple[Classification, ...] = ("official", "private", "undecided")
ACCOUNT_TYPES: tuple[AccountType, ...] = ("official", "personal")
PLATFORMS: tuple[Platform, ...] = ("facebook", "twitter")
POST_DIRECTIONS: tuple[Direction, ...] = ("own_post",)
COMMENT_DIRECTIONS: tuple[Direction, ...] = ("own_comment", "received_comment", "received_post")

# Classification defaults written by the importer start with this; anything else came from a
# person's decision (opengov classify) and survives a re-import.
IMPORT_DECIDER = "opengov import"
# Who set a decided record back to `undecided` because its content changed since the
# decision (importers/social/package.py). Not IMPORT_DECIDER's prefix: a later import must not
# treat it as a default it may replace (an official account's default would publish it).
REOPENED_BY = "opengov: innehållet ändrat efter beslutet"

POST_SCHEMA_FILE = "schemas/social-media-post.json"
COMMENT_SCHEMA_FILE = "schemas/social-media-comment.json"

Row = dict[str, str]
Attachment = dict[str, str]


@dataclass(frozen=True)
class FieldSpec:
    """One column: its Table Schema type and bilingual documentation."""

    name: str
    type: str
    title: str
    description: str
    required: bool = False
    enum: tuple[str, ...] = ()
    pattern: str | None = None
    minimum: int | None = None

    def to_schema(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name,
            "type": self.type,
            "title": self.title,
            "description": self.description,
        }
        constraints: dict[str, Any] = {}
        if self.required:
            constraints["required"] = True
        if self.enum:
            constraints["enum"] = list(self.enum)
        if self.pattern:
            constraints["pattern"] = self.pattern
        if self.minimum is not None:
            constraints["minimum"] = self.minimum
        if constraints:
            out["constraints"] = constraints
        return out


def _f(name: str, type_: str, sv: str, en: str, desc_sv: str, desc_en: str, **kw: Any) -> FieldSpec:
    return FieldSpec(name, type_, f"{sv} / {en}", f"{desc_sv} — {desc_en}", **kw)


_SHA256 = "^[0-9a-f]{64}$"
_CLASSIFICATION_FIELDS = [
    _f("classification", "string", "Klassificering", "Classification",
       "official = allmän handling som får publiceras efter regler; private = privat, inte "
       "allmän handling; undecided = ännu inte bedömd (publiceras aldrig).",
       "official = public record; private = not a public record; undecided = not yet assessed "
       "(never published).",
       required=True, enum=CLASSIFICATIONS),
    _f("classified_by", "string", "Klassificerad av", "Classified by",
       "Vem som beslutade klassificeringen (delegation), eller opengov import för standardvärdet.",
       "Who decided the classification, or opengov import for the default.", required=True),
    _f("classified_at", "datetime", "Klassificerad", "Classified at",
       "När klassificeringen beslutades (UTC). För standardvärden: postens skapandetid.",
       "When the classification was decided (UTC). For defaults: the record's creation time.",
       required=True),
    _f("reason", "string", "Motivering", "Reason",
       "Varför posten klassificerades så.", "Why the record was classified this way.",
       required=True),
]  # fmt: skip

_COMMON_HEAD = [
    _f("platform", "string", "Plattform", "Platform",
       "Tjänsten posten kommer från.", "The service the record comes from.",
       required=True, enum=PLATFORMS),
]  # fmt: skip

_ACCOUNT_FIELDS = [
    _f("account", "string", "Konto", "Account",
       "Kontot exporten gjordes från, som det angavs vid import.",
       "The account the export was made from, as given at import.", required=True),
    _f("account_type", "string", "Kontotyp", "Account type",
       "official = myndighetens konto; personal = en tjänstepersons privata konto.",
       "official = the authority's account; personal = an official's private account.",
       required=True, enum=ACCOUNT_TYPES),
]  # fmt: skip

_SOURCE_FIELDS = [
    _f("source_file", "string", "Källfil", "Source file",
       "Filen i exporten som posten lästes från.",
       "The file inside the export the record was read from.", required=True),
    _f("source_sha256", "string", "Källfilens SHA-256", "Source file SHA-256",
       "Kontrollsumma för källfilen.", "Checksum of the source file.",
       required=True, pattern=_SHA256),
]  # fmt: skip

_ATTACHMENTS = _f(
    "attachments", "array", "Bilagor", "Attachments",
    "JSON-lista över bilagor: typ, sökväg eller URL, medietyp, platsnamn. IP-adresser, EXIF "
    "och koordinater tas bort vid import.",
    "JSON array of attachments: kind, uri or URL, media type, place name. IP addresses, EXIF "
    "and coordinates are removed at import.",
)  # fmt: skip

POST_FIELDS: tuple[FieldSpec, ...] = (
    _f("record_id", "string", "Post-id", "Record id",
       "Stabilt id: fb- och en nyckelad hash för Facebook (HMAC med kommunens nyckel), tw- och "
       "inläggets id för X/Twitter (twn- och id:t för en lång text vars inlägg saknas).",
       "Stable id: fb- and a keyed digest for Facebook (HMAC with the municipality's key), tw- "
       "and the post id for X/Twitter (twn- and the note id for a long text whose post is "
       "missing).",
       required=True, pattern=r"^(fb-[0-9a-f]{16}(-[0-9]+)?|tw-[0-9]+|twn-[0-9]+)$"),
    *_COMMON_HEAD,
    _f("platform_post_id", "string", "Plattformens id", "Platform id",
       "Inläggets id hos plattformen (saknas i Facebookexporter).",
       "The post's id on the platform (Facebook exports have none)."),
    *_ACCOUNT_FIELDS,
    *_CLASSIFICATION_FIELDS,
    _f("direction", "string", "Riktning", "Direction",
       "own_post = kontots eget inlägg (upprättad handling).",
       "own_post = the account's own post (drawn up by the authority).",
       required=True, enum=POST_DIRECTIONS),
    _f("created_at", "datetime", "Skapad", "Created at",
       "När inlägget publicerades (UTC).", "When the post was published (UTC).", required=True),
    _f("updated_at", "datetime", "Ändrad", "Updated at",
       "När inlägget senast ändrades (UTC), om exporten anger det.",
       "When the post was last edited (UTC), if the export says."),
    _f("text", "string", "Text", "Text",
       "Inläggets text (hela texten, även för långa inlägg).",
       "The text of the post (the full text, long posts included)."),
    _f("title", "string", "Aktivitetsrad", "Activity line",
       "Facebooks rad om vad kontot gjorde (\"… delade en länk.\"); ibland allt inlägget har.",
       "Facebook's line on what the account did (\"… shared a link.\"); sometimes all a post "
       "has."),
    _f("in_reply_to", "string", "Svar på eget inlägg", "In reply to own post",
       "Id för kontots eget inlägg som detta svarar på (tråd).",
       "Platform id of the account's own post this one replies to (a thread)."),
    _f("in_reply_to_account", "string", "Svar till konto", "Reply to account",
       "@användarnamnet för kontot vars inlägg detta svarar på.",
       "@handle of the account whose post this one replies to."),
    _f("in_reply_to_external", "string", "Svar på annans inlägg", "In reply to another's post",
       "Id för ett annat kontos inlägg som detta svarar på; ofta en privatpersons "
       "(personuppgift).",
       "Platform id of another account's post this one replies to; often a private "
       "person's (personal data)."),
    _f("author", "string", "Avsändare", "Author",
       "Kontot som skrev inlägget.", "The account that wrote the post.", required=True),
    _f("is_retweet", "boolean", "Delning", "Repost",
       "Sant om inlägget delar någon annans inlägg (retweet).",
       "True when the post shares someone else's post (retweet).", required=True),
    _ATTACHMENTS,
    _f("urls", "array", "Länkar", "URLs",
       "JSON-lista över länkar (utökade, inte förkortade).",
       "JSON array of links (expanded, not shortened)."),
    _f("mentions", "array", "Omnämnanden", "Mentions",
       "JSON-lista över omnämnda konton (@användarnamn).",
       "JSON array of mentioned accounts (@handles)."),
    _f("hashtags", "array", "Hashtaggar", "Hashtags",
       "JSON-lista över hashtaggar utan #.", "JSON array of hashtags without #."),
    _f("lang", "string", "Språk", "Language",
       "Språkkod som plattformen angav.", "Language code given by the platform."),
    _f("favorite_count", "integer", "Gilla-markeringar", "Likes",
       "Antal gilla-markeringar vid exporten.", "Number of likes at export time.", minimum=0),
    _f("retweet_count", "integer", "Delningar", "Reposts",
       "Antal delningar vid exporten.", "Number of reposts at export time.", minimum=0),
    *_SOURCE_FIELDS,
    _f("deleted", "boolean", "Raderad", "Deleted",
       "Sant om inlägget raderats från plattformen (finns kvar som handling).",
       "True when the post was deleted from the platform (kept as a record).", required=True),
)  # fmt: skip

COMMENT_FIELDS: tuple[FieldSpec, ...] = (
    _f("record_id", "string", "Kommentar-id", "Record id",
       "Stabilt id: fbc- och en nyckelad hash (HMAC med kommunens nyckel) av konto, tid, "
       "avsändare och text.",
       "Stable id: fbc- and a keyed digest (HMAC with the municipality's key) of account, time, "
       "author and text.",
       required=True, pattern=r"^fbc-[0-9a-f]{16}(-[0-9]+)?$"),
    _f("post_record_id", "string", "Inlägg", "Post",
       "record_id för inlägget kommentaren skrevs på, om exporten anger det.",
       "record_id of the post the comment was written on, when the export says."),
    *_COMMON_HEAD,
    *_ACCOUNT_FIELDS,
    *_CLASSIFICATION_FIELDS,
    _f("direction", "string", "Riktning", "Direction",
       "own_comment = skriven från kontot (upprättad); received_comment = skriven av någon "
       "annan på kontots inlägg (inkommen); received_post = inlägg som någon annan skrev på "
       "kontots sida (inkommen).",
       "own_comment = written from the account; received_comment = written by someone else on "
       "the account's post (received); received_post = a post someone else wrote on the "
       "account's page (received).",
       required=True, enum=COMMENT_DIRECTIONS),
    _f("created_at", "datetime", "Skapad", "Created at",
       "När kommentaren skrevs (UTC).", "When the comment was written (UTC).", required=True),
    _f("author", "string", "Kommentator", "Commenter",
       "Namnet på den som kommenterade: ofta en privatperson (personuppgift).",
       "Name of the commenter: often a private person (personal data)."),
    _f("text", "string", "Text", "Text", "Kommentarens text.", "The text of the comment."),
    _ATTACHMENTS,
    *_SOURCE_FIELDS,
)  # fmt: skip


@dataclass(frozen=True)
class Classified:
    """Who classified a record, as what, when and why."""

    classification: Classification
    classified_by: str
    classified_at: str
    reason: str


@dataclass(frozen=True)
class Post:
    record_id: str
    platform: Platform
    platform_post_id: str | None
    account: str
    account_type: AccountType
    classification: Classification
    classified_by: str
    classified_at: str
    reason: str
    direction: Direction
    created_at: str
    updated_at: str | None
    text: str | None
    title: str | None
    in_reply_to: str | None
    in_reply_to_account: str | None
    in_reply_to_external: str | None
    author: str
    is_retweet: bool
    attachments: tuple[Attachment, ...]
    urls: tuple[str, ...]
    mentions: tuple[str, ...]
    hashtags: tuple[str, ...]
    lang: str | None
    favorite_count: int | None
    retweet_count: int | None
    source_file: str
    source_sha256: str
    deleted: bool

    def to_row(self) -> Row:
        return _to_row(self)


@dataclass(frozen=True)
class Comment:
    record_id: str
    post_record_id: str | None
    platform: Platform
    account: str
    account_type: AccountType
    classification: Classification
    classified_by: str
    classified_at: str
    reason: str
    direction: Direction
    created_at: str
    author: str | None
    text: str | None
    attachments: tuple[Attachment, ...]
    source_file: str
    source_sha256: str

    def to_row(self) -> Row:
        return _to_row(self)


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (tuple, list)):
        # Compact, key-sorted JSON so the same record always gives the same bytes.
        return json.dumps(list(value), ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return str(value)


def _to_row(record: Post | Comment) -> Row:
    return {f.name: _cell(getattr(record, f.name)) for f in fields(record)}


def field_names(specs: Sequence[FieldSpec]) -> list[str]:
    return [spec.name for spec in specs]


def table_schema(kind: Literal["post", "comment"]) -> dict[str, Any]:
    """The Table Schema committed as schemas/social-media-<kind>.json."""
    if kind == "post":
        return {
            "title": "Inlägg i sociala medier / Social-media posts",
            "description": (
                "Inlägg från en myndighets eller tjänstepersons konton, med klassificering som "
                "allmän handling. — Posts from an authority's or an official's accounts, "
                "classified as public records or not."
            ),
            "fields": [spec.to_schema() for spec in POST_FIELDS],
            "primaryKey": ["record_id"],
            "missingValues": [""],
        }
    return {
        "title": "Kommentarer i sociala medier / Social-media comments",
        "description": (
            "Kommentarer skrivna från kontot eller mottagna på kontots inlägg. Kommentatorer är "
            "ofta privatpersoner. — Comments written from the account or received on its posts. "
            "Commenters are often private persons."
        ),
        "fields": [spec.to_schema() for spec in COMMENT_FIELDS],
        "primaryKey": ["record_id"],
        "foreignKeys": [
            {
                "fields": ["post_record_id"],
                "reference": {"resource": "posts", "fields": ["record_id"]},
            }
        ],
        "missingValues": [""],
    }


def schema_bytes(kind: Literal["post", "comment"]) -> bytes:
    return json_bytes(table_schema(kind))


def json_bytes(data: object) -> bytes:
    """Canonical JSON: sorted keys, two-space indent, real UTF-8, final newline."""
    return (json.dumps(data, ensure_ascii=False, sort_keys=True, indent=2) + "\n").encode("utf-8")


def write_csv(rows: Iterable[Mapping[str, str]], columns: Sequence[str]) -> bytes:
    """UTF-8 CSV (RFC 4180): comma, header, CRLF line ends, quotes only where needed.

    CRLF and not LF: with an LF terminator the csv module leaves a lone CR in a value unquoted,
    and a reader then splits the row there.
    """
    buffer = io.StringIO(newline="")
    writer = csv.DictWriter(buffer, fieldnames=list(columns), lineterminator="\r\n")
    writer.writeheader()
    for row in rows:
        writer.writerow(row)
    return buffer.getvalue().encode("utf-8")


def read_csv(data: bytes) -> tuple[list[str], list[Row]]:
    """Header and rows of a CSV written by `write_csv` (UnicodeDecodeError/csv.Error propagate)."""
    reader = csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline=""))
    rows = [dict(row) for row in reader]
    return list(reader.fieldnames or []), rows


def sort_rows(rows: Iterable[Row]) -> list[Row]:
    """Stable order: by creation time, then id (ISO UTC strings sort chronologically)."""
    return sorted(rows, key=lambda row: (row["created_at"], row["record_id"]))


def iso_utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def epoch_to_iso(value: object, where: str) -> str:
    """Facebook epoch seconds to `YYYY-MM-DDTHH:MM:SSZ`; anything else is a broken export."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ImportFailed(f"{where}: timestamp is missing or not a whole number of seconds")
    try:
        return iso_utc(datetime.fromtimestamp(value, tz=UTC))
    except (OverflowError, OSError, ValueError):
        raise ImportFailed(f"{where}: timestamp is out of range") from None


def default_classification(
    account_type: AccountType, direction: Direction, created_at: str
) -> Classified:
    """What the importer may decide on its own: official accounts hold public records.

    Nothing on a personal account is guessed: it stays `undecided` until a person decides (the
    content decides, KR Göteborg 6610-17), and undecided records are never published.
    `classified_at` is the record's own time so that importing twice gives the same bytes.
    """
    by = f"{IMPORT_DECIDER} (account type {account_type})"
    if account_type == "personal":
        return Classified(
            "undecided",
            by,
            created_at,
            "Privat konto: innehållet avgör om det är en allmän handling; ännu inte bedömt",
        )
    reasons = {
        "own_post": "Inlägg på myndighetens konto: upprättad allmän handling (2 kap. 10 § TF)",
        "own_comment": "Kommentar från myndighetens konto: upprättad allmän handling "
        "(2 kap. 10 § TF)",
        "received_comment": "Kommentar på myndighetens inlägg: inkommen allmän handling "
        "(2 kap. 9 § TF)",
        "received_post": "Inlägg av någon annan på myndighetens sida: inkommen allmän handling "
        "(2 kap. 9 § TF)",
    }
    return Classified("official", by, created_at, reasons[direction])


def is_import_default(row: Mapping[str, str]) -> bool:
    return row.get("classified_by", "").startswith(IMPORT_DECIDER)
