"""Every error a user can cause, each with its own exit code.

One place decides how a failure leaves the program: the CLI catches `OpengovError`, prints
`str(error)` (no traceback unless `--debug`) and exits with `error.exit_code`.

Messages are user-facing and may be logged or shown in CI output, so they name files,
resources, fields, rows and error types, never a cell value, a key or a token. Raise sites
are responsible for that; `tests/test_errors.py` pins the codes.
"""

from __future__ import annotations

from collections.abc import Iterable


class OpengovError(Exception):
    """A failure the user can act on."""

    exit_code = 70
    title = "error"

    def __init__(self, message: str, *, details: Iterable[str] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.details = list(details)

    def __str__(self) -> str:
        if not self.details:
            return self.message
        return self.message + "\n" + "\n".join(f"  - {d}" for d in self.details)

    def to_dict(self) -> dict[str, object]:
        return {
            "error": type(self).__name__,
            "title": self.title,
            "exit_code": self.exit_code,
            "message": self.message,
            "details": self.details,
        }


class ValidationFailed(OpengovError):
    """The data does not satisfy its Table Schema (and no waiver covers it)."""

    exit_code = 1
    title = "data invalid"


# Exit code 2 is click's: wrong options or arguments on the command line.


class SchemaError(OpengovError):
    """A datapackage.json or Table Schema is missing, not JSON, or not a valid descriptor."""

    exit_code = 3
    title = "schema error"


class RulesError(OpengovError):
    """rules.yaml is malformed: unknown action, missing basis, unknown field or resource."""

    exit_code = 4
    title = "rules error"


class UnclassifiedFields(OpengovError):
    """A published field has no classification in rules.yaml (fail closed)."""

    exit_code = 5
    title = "unclassified fields"


class InputError(OpengovError):
    """A data file is missing, empty, unreadable, wrongly encoded or outside its package."""

    exit_code = 6
    title = "input error"


class PublishError(OpengovError):
    """Publishing to a target failed; the target was left as it was before."""

    exit_code = 7
    title = "publish failed"


class VerifyFailed(OpengovError):
    """Published bytes do not match their provenance."""

    exit_code = 8
    title = "verification failed"


class DisclosureBlocked(OpengovError):
    """The last scan before writing found personal data in a published column."""

    exit_code = 9
    title = "disclosure blocked"


class KeyMissing(OpengovError):
    """A pseudonymise rule needs OPENGOV_PSEUDONYM_KEY or a key file, and there is none."""

    exit_code = 10
    title = "pseudonym key missing"


class CkanAuthError(OpengovError):
    """CKAN refused the API token (HTTP 403)."""

    exit_code = 11
    title = "CKAN refused the token"


class CkanOrgMissing(OpengovError):
    """The CKAN organisation named for publishing does not exist."""

    exit_code = 12
    title = "CKAN organisation missing"


class CkanNameConflict(OpengovError):
    """A dataset of that name exists in CKAN but was not published by opengov for this org."""

    exit_code = 13
    title = "CKAN name conflict"


class CkanUploadTooLarge(OpengovError):
    """CKAN rejected an upload as larger than its ckan.max_resource_size."""

    exit_code = 14
    title = "CKAN upload too large"


class ImportFailed(OpengovError):
    """A social-media export is empty, truncated, of the wrong platform or not parseable."""

    exit_code = 15
    title = "import failed"


class UnsafeArchive(OpengovError):
    """A ZIP holds entries escaping its folder, or unpacks to more than the size limit."""

    exit_code = 16
    title = "unsafe archive"


class ReidentificationRisk(OpengovError):
    """A quasi-identifier combination occurs fewer than k times."""

    exit_code = 17
    title = "re-identification risk"


class ConfigError(OpengovError):
    """A setting needed for the command (URL, organisation, token source) is missing or bad."""

    exit_code = 18
    title = "configuration error"


# 40-49: authenticity (signed releases, trust, approvals). A block of its own, so that error
# classes added elsewhere in the meantime cannot collide with these numbers.


class ChainBroken(OpengovError):
    """The release chain has a gap: a missing or mismatched history entry, release numbers not
    contiguous from 1, or a release after the first without a link to its predecessor."""

    exit_code = 40
    title = "release chain broken"


class UnlistedFiles(OpengovError):
    """The dataset holds a file that no release in the chain names (in history/ too)."""

    exit_code = 41
    title = "files not named by the chain"


class DescriptorMismatch(OpengovError):
    """datapackage.json states a hash or size for a resource that differs from provenance."""

    exit_code = 42
    title = "datapackage.json disagrees with provenance"


class Unsigned(OpengovError):
    """A release in the chain carries no signature (verify fails closed; --allow-unsigned)."""

    exit_code = 43
    title = "release not signed"


class SignatureInvalid(OpengovError):
    """A signature does not match the bytes it claims to sign (changed after signing)."""

    exit_code = 44
    title = "signature invalid"


class UntrustedKey(OpengovError):
    """Signed by a key the auditor does not trust, or a key change no rotation statement covers."""

    exit_code = 45
    title = "untrusted signing key"


class ReplayDetected(OpengovError):
    """An older (or different) release than one already verified, or another dataset's release."""

    exit_code = 46
    title = "replayed or rolled-back release"


class ApprovalsMissing(OpengovError):
    """rules.yaml requires approvals from listed keys, and not enough valid ones are there."""

    exit_code = 47
    title = "approvals missing"


class SigningKeyError(OpengovError):
    """A signing key or public key file is missing, unreadable or malformed."""

    exit_code = 48
    title = "signing key error"


class KeyFileExists(OpengovError):
    """`opengov key new` was given a file that exists: a key file is never overwritten."""

    exit_code = 19
    title = "key file exists"

    @classmethod
    def at(cls, path: object) -> KeyFileExists:
        return cls(
            f"{path} exists, and a key file is never overwritten (pseudonyms, keyed digests and "
            "signatures made with the old key depend on it): give another file with --out, or "
            "move the old key away first if it is really no longer needed"
        )


class SystemRefused(OpengovError):
    """The operating system refused to read or write a file: a full disk or quota, a file-size
    limit (`ulimit -f`), a read-only file system, an I/O error, a closed or full output. The
    machine's state, not a bug and not the data's fault."""

    exit_code = 20
    title = "the system refused a file operation"


class Interrupted(OpengovError):
    """Stopped by Ctrl-C (SIGINT): what was being built was removed, the target left as it was.
    128 + 2, as a shell reports a process that SIGINT ended."""

    exit_code = 130
    title = "interrupted (Ctrl-C)"


class Terminated(OpengovError):
    """Stopped by SIGTERM (`kill`, `timeout`, a service manager or CI stopping the job), cleaned
    up as after Ctrl-C. 128 + 15, as a shell reports a process that SIGTERM ended."""

    exit_code = 143
    title = "terminated (SIGTERM)"


# 30-39: hostile input and weak secrets (docs/security.md). A block of its own, like 40-49.


class LimitExceeded(OpengovError):
    """An input is larger, deeper or more repetitive than opengov reads (docs/security.md)."""

    exit_code = 30
    title = "input exceeds a safety limit"


class OutOfMemory(OpengovError):
    """The process ran out of the memory it may use (an address-space limit, `ulimit -v`; a
    small container) while reading or writing an input: not a bug of the input's making."""

    exit_code = 32
    title = "out of memory"


class WeakKey(OpengovError):
    """The pseudonym key is not random enough to keep pseudonyms and keyed digests secret."""

    exit_code = 31
    title = "pseudonym key too weak"


# 50-59: importing exports (social media). A block of its own, as 40-49, so that error classes
# added elsewhere in the meantime cannot collide with these numbers.


class UnreadExportFiles(OpengovError):
    """An export holds files that look like posts or comments and that opengov did not read."""

    exit_code = 50
    title = "export files not read"


# 60-69: drafting packages and importing from databases (opengov init, opengov import sql). A
# block of its own, like 40-49 and 50-59, so codes added elsewhere in the meantime cannot collide.


class DatabaseUrlError(OpengovError):
    """A database URL that opengov cannot use: unknown scheme, no database, unknown option."""

    exit_code = 60
    title = "bad database URL"


class PasswordInUrl(OpengovError):
    """A password given on the command line (in the URL); it belongs in the environment or the
    driver's own files (PGPASSWORD, ~/.pgpass)."""

    exit_code = 61
    title = "password in the URL"


class DatabaseUnreachable(OpengovError):
    """The database server cannot be reached, or the database or file does not exist."""

    exit_code = 62
    title = "database unreachable"


class DatabaseAuthFailed(OpengovError):
    """The database server refused the credentials (wrong or missing password, unknown role)."""

    exit_code = 63
    title = "database refused the credentials"


class TableNotFound(OpengovError):
    """The table named with --table does not exist (or is not visible to the role)."""

    exit_code = 64
    title = "table not found"


class QueryFailed(OpengovError):
    """The database refused or could not finish the query (syntax, permission, data error)."""

    exit_code = 65
    title = "query failed"


class UnsupportedColumnType(OpengovError):
    """A column has a database type with no Table Schema equivalent."""

    exit_code = 66
    title = "column type not supported"


class SheetChoiceNeeded(OpengovError):
    """A workbook has several sheets (or not the one named) and none was chosen with --sheet."""

    exit_code = 67
    title = "choose a sheet"


EXIT_CODES: dict[int, str] = {
    0: "ok",
    1: ValidationFailed.title,
    2: "usage error (bad options or arguments)",
    3: SchemaError.title,
    4: RulesError.title,
    5: UnclassifiedFields.title,
    6: InputError.title,
    7: PublishError.title,
    8: VerifyFailed.title,
    9: DisclosureBlocked.title,
    10: KeyMissing.title,
    11: CkanAuthError.title,
    12: CkanOrgMissing.title,
    13: CkanNameConflict.title,
    14: CkanUploadTooLarge.title,
    15: ImportFailed.title,
    16: UnsafeArchive.title,
    17: ReidentificationRisk.title,
    18: ConfigError.title,
    19: KeyFileExists.title,
    20: SystemRefused.title,
    30: LimitExceeded.title,
    31: WeakKey.title,
    32: OutOfMemory.title,
    40: ChainBroken.title,
    41: UnlistedFiles.title,
    42: DescriptorMismatch.title,
    43: Unsigned.title,
    44: SignatureInvalid.title,
    45: UntrustedKey.title,
    46: ReplayDetected.title,
    47: ApprovalsMissing.title,
    48: SigningKeyError.title,
    50: UnreadExportFiles.title,
    60: DatabaseUrlError.title,
    61: PasswordInUrl.title,
    62: DatabaseUnreachable.title,
    63: DatabaseAuthFailed.title,
    64: TableNotFound.title,
    65: QueryFailed.title,
    66: UnsupportedColumnType.title,
    67: SheetChoiceNeeded.title,
    70: "internal error (a bug: run with --debug and report it)",
    130: Interrupted.title,
    143: Terminated.title,
}
