"""The load stage: a package, its rules, the pseudonym key, and one fingerprint of all of them.

Everything that can fail before any data is read fails here, so a wrong rule or a missing key
never costs a pass over the data. The fingerprint decides "unchanged": the same inputs and the
same key give the same release, so a target that already holds it needs nothing more. It is
computed only when asked for: a target with a release to compare against hashes the data files
first (the floor of an unchanged re-publish); a first publish hashes them while reading them.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from opengov.errors import KeyMissing, RulesError
from opengov.package import Package, load_package
from opengov.paths import inside
from opengov.redact.keys import KEY_ENV, PseudonymKey, load_key
from opengov.release import provenance
from opengov.rules import Rules, load_for_package

if TYPE_CHECKING:
    from opengov.signing import Signer


@dataclass(frozen=True)
class Loaded:
    package: Package
    rules: Rules
    key: PseudonymKey | None
    # The publishing key, when the release is to be signed (set by the pipeline, not load):
    # a target whose release is signed by another key is not "unchanged".
    signer: Signer | None = None

    @property
    def name(self) -> str:
        return self.package.name

    @functools.cached_property
    def fingerprint(self) -> str:
        """One hash of every input file and the key's fingerprint."""
        return provenance.inputs_fingerprint(self.package, self.key)


def load(package_path: Path | str, *, key_file: Path | str | None = None) -> Loaded:
    package = load_package(package_path)
    rules = load_for_package(package, required=True)
    assert rules is not None
    if key_file is None and rules.pseudonym_key_file:
        # Named by the package, so read from inside it, like its data (a --key-file is the
        # user's own choice and may be anywhere).
        key_file = inside(
            package.root, rules.pseudonym_key_file, what="rules.yaml: pseudonym_key_file",
            error=RulesError,
        )  # fmt: skip
    # Loaded whenever one is given, not only for pseudonyms: provenance keys its digests of
    # unpublished inputs with it (docs/provenance.md).
    key = load_key(key_file)
    if rules.needs_key() and key is None:
        raise KeyMissing(
            f"rules.yaml pseudonymises fields; set {KEY_ENV} or pass --key-file "
            "(the key stays with the municipality and is never published)"
        )
    loaded = Loaded(package, rules, key)
    if key is None:
        # Without a key the fingerprint is the inputs' identity on disk, so it is taken before
        # any data is read: a file replaced after the read would otherwise be fingerprinted
        # as published (and a later publish call it unchanged). With a key it is their bytes,
        # hashed as they are read.
        _ = loaded.fingerprint
    return loaded
