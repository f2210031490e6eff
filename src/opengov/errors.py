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
    70: "internal error (a bug: run with --debug and report it)",
}
