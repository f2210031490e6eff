"""Pseudonym keys: where the secret comes from, how strong it must be, and what is keyed with it.

The key is the municipality's only secret. Everything opengov publishes that is derived from a
withheld value is keyed with it (pseudonyms, fingerprints of masked values in reports, digests
of unpublished inputs in provenance), and the key's own fingerprint (an HMAC of a fixed label)
is published. A key a person chose (`exempelby-kommun-2024`) can be guessed offline against
that fingerprint and then every pseudonym inverted, so a key that is not random enough is
refused when loaded; `write_new_key` (`opengov key new`) makes one that is.

Every use is domain-separated: a pseudonym, a report fingerprint and a provenance digest of the
same text are unrelated, so none can be joined to another.
"""

from __future__ import annotations

import collections
import hashlib
import hmac
import math
import os
import re
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from opengov import limits
from opengov.errors import InputError, KeyFileExists, KeyMissing, WeakKey
from opengov.redact.canonical import canonical as canonical_form

KEY_ENV = "OPENGOV_PSEUDONYM_KEY"
MIN_KEY_BYTES = 16
# Estimated bits of randomness a key must carry (see `key_strength`). 256 random bits written
# as 64 hex digits (what `write_new_key` makes) estimate at 150 and more.
REQUIRED_BITS = 100
HOW_TO_MAKE_ONE = (
    "make a random key with `opengov key new --out FILE` (256 random bits in a file only you "
    "can read) or `openssl rand -hex 32`; a key is generated, never chosen"
)


@dataclass(frozen=True)
class PseudonymKey:
    secret: bytes = field(repr=False)

    @property
    def fingerprint(self) -> str:
        """Identifies the key in provenance without revealing it."""
        return hmac.new(self.secret, b"opengov key fingerprint v1", hashlib.sha256).hexdigest()[:16]

    def fingerprint_of(self, domain: str, value: str) -> str:
        """A short keyed digest of `value` for one purpose (`domain`), unlinkable to others."""
        message = domain.encode() + b"\x00" + value.encode("utf-8")
        return hmac.new(self.secret, message, hashlib.sha256).hexdigest()[:12]

    def mac(self, domain: str, *parts: str) -> str:
        """A full HMAC-SHA256 over `parts` for one purpose; each part is length-prefixed, so no
        two different lists of parts give the same message."""
        message = bytearray(b"opengov mac v1\x00" + domain.encode() + b"\x00")
        for part in parts:
            data = part.encode("utf-8")
            message += len(data).to_bytes(4, "big") + data
        return hmac.new(self.secret, bytes(message), hashlib.sha256).hexdigest()

    def pseudonym(self, value: str, *, scope: str = "municipality", canonical: str = "auto") -> str:
        """The published stand-in for `value`: the same person gives the same pseudonym within
        `scope` (`dataset:<name>` unless a rule widens it), whichever way the value is written.

        Raises ValueError when `canonical` is `personnummer` and `value` is not one.
        """
        form = canonical_form(value, canonical)
        if form is None:
            raise ValueError("not a personnummer or samordningsnummer")
        return "p-" + self.mac("pseudonym", scope, form)[:20]

    def __repr__(self) -> str:
        return f"PseudonymKey(fingerprint={self.fingerprint})"


@dataclass(frozen=True)
class Strength:
    bits: float
    weakness: str | None  # what makes it guessable, for the message; None when strong enough


_VOWELS = frozenset("aeiouyåäöéüæø")
_TOKENS = re.compile(r"[A-ZÅÄÖ]?[a-zåäöéü]+|[A-ZÅÄÖ]+(?![a-zåäöéü])|\d+|[^\W\d_]+|[\W_]+")


def _shannon_bits(symbols: str | bytes) -> float:
    counts = collections.Counter(symbols)
    n = len(symbols)
    return -n * sum(c / n * math.log2(c / n) for c in counts.values()) if n else 0.0


def _alphabet_bits(text: str) -> float:
    """Bits a character of `text` can carry at most, from the kinds of characters it uses."""
    if re.fullmatch(r"[0-9a-f]+|[0-9A-F]+", text):
        return 4.0
    size = sum(
        n
        for pattern, n in ((r"[a-z]", 26), (r"[A-Z]", 26), (r"[0-9]", 10), (r"[^A-Za-z0-9]", 33))
        if re.search(pattern, text)
    )
    return math.log2(max(size, 2))


def _wordlike(token: str) -> bool:
    """A run of letters that reads as a word of some language (cased as words are, with vowels
    as words have them); random text rarely makes long ones."""
    if len(token) < 3 or not token.isalpha():
        return False
    if not (token.islower() or token.isupper() or token.istitle()):
        return False
    share = sum(c.lower() in _VOWELS for c in token) / len(token)
    return 0.2 <= share <= 0.7


# A word costs at most what picking it from a large vocabulary costs (2**16 word forms, more
# than a municipality's own words and names): a passphrase is guessed word by word, not letter
# by letter. At 1.5 bits a letter, five long office words ("Förvaltning-Registrator-...-2021")
# counted as 109 bits and passed.
WORD_BITS = 16.0


def _unmatched_bits(
    segment: str, per_char: float, seen: set[str] | None = None
) -> tuple[float, bool]:
    """Bits of a segment no pattern explains; word-like runs cost what language carries.

    `seen` holds the words and separators met earlier in the key: a repeat costs only the
    choice among them ("Kommun-...-Kommun", the same "-" between every word)."""
    seen = set() if seen is None else seen
    bits, words = 0.0, False
    for token in _TOKENS.findall(segment):
        key = token.lower()
        if key in seen and (_wordlike(token) or not any(c.isalnum() for c in token)):
            bits += math.log2(len(seen) + 1)
            continue
        if _wordlike(token):
            # natural language: about 1.5 bits a letter, and no more than a word's choice
            bits += min(1.5 * len(token), WORD_BITS)
            words = words or len(token) >= 4
            seen.add(key)
        elif token.isdigit():
            bits += min(per_char, math.log2(10)) * len(token)
        elif not any(c.isalnum() for c in token):
            bits += min(per_char, 2.0) * len(token)  # separators between words say little
            seen.add(key)
        else:
            bits += per_char * len(token)
    return bits, words


def key_strength(secret: bytes) -> Strength:
    """A conservative estimate of how many guesses the key would take, in bits.

    The least of: the empirical entropy of its characters (catches short alphabets and one
    repeated character), and a sum over the key as zxcvbn splits it into patterns (repeats,
    sequences, dates, keyboard walks, dictionary words: each costs what guessing it costs),
    where the parts no pattern explains cost what their alphabet allows, or 1.5 bits a letter
    where they read as words of a language zxcvbn has no dictionary for (Swedish).
    """
    try:
        text = secret.decode("utf-8")
    except UnicodeDecodeError:
        bits = _shannon_bits(secret)
        return Strength(bits, None if bits >= REQUIRED_BITS else "too few different bytes")
    from zxcvbn import zxcvbn

    head = text[:256]  # enough to judge; zxcvbn's cost grows with length
    per_char = _alphabet_bits(head)
    bits, reasons = 0.0, set()
    seen: set[str] = set()
    for start in range(0, len(head), 64):
        for match in zxcvbn(head[start : start + 64])["sequence"]:
            if match["pattern"] == "bruteforce":
                segment_bits, words = _unmatched_bits(match["token"], per_char, seen)
                bits += segment_bits
                if words:
                    reasons.add("it is made of words")
            else:
                guess_bits = math.log2(max(float(match["guesses"]), 1.0))
                bits += min(guess_bits, per_char * len(match["token"]))
                reasons.add(_PATTERNS.get(match["pattern"], "it has a guessable pattern"))
    # The same key read as a passphrase, token by token over its whole length: zxcvbn cuts
    # words it does not know into pieces ("Registrator" as "R", "egi", "strato", "r"), and the
    # pieces cost more than the word. A guesser takes the cheaper reading.
    phrase, words = _unmatched_bits(head, per_char)
    if words and phrase < bits:
        bits = phrase
        reasons.add("it is made of words")
    shannon = _shannon_bits(head)
    if shannon < bits:
        bits = shannon
        reasons.add("it uses few different characters")
    if len(text) > len(head):
        bits += _shannon_bits(text[len(head) :])
    if bits >= REQUIRED_BITS:
        return Strength(bits, None)
    return Strength(bits, "; ".join(sorted(reasons)) or "it is too short")


_PATTERNS = {
    "dictionary": "it holds dictionary words or common passwords",
    "repeat": "it repeats a character or a block",
    "sequence": "it holds a sequence (abcd, 1234)",
    "spatial": "it holds a keyboard pattern",
    "date": "it holds a date or a year",
    "regex": "it holds a recent year",
}


# What a signing key file or a published key looks like: a PEM key (`key new --signing` writes
# the private key so), a JSON key statement or envelope (`FILE.pub`, keys.json), a bare public key.
_KEY_FILE_STARTS = (b"-----BEGIN", b"{", b"[", b"ed25519:", b"ssh-")


def check_strength(secret: bytes, where: str) -> None:
    """`WeakKey` (never quoting the key) unless `secret` is long and random enough, and not a
    signing key file: its base64 looks random, but a public key is published (anyone could
    recompute every pseudonym from a name list) and a private signing key is another secret."""
    if secret.lstrip().startswith(_KEY_FILE_STARTS):
        raise WeakKey(
            f"the pseudonym key {where} is a signing key or a published key statement (a PEM "
            "key, FILE.pub, an ed25519: line), not a pseudonym key: a published key would let "
            f"anyone recompute the pseudonyms; {HOW_TO_MAKE_ONE}"
        )
    if len(secret) < MIN_KEY_BYTES:
        raise WeakKey(f"the pseudonym key {where} is shorter than {MIN_KEY_BYTES} bytes; "
                      + HOW_TO_MAKE_ONE)  # fmt: skip
    strength = key_strength(secret)
    if strength.weakness is not None:
        raise WeakKey(
            f"the pseudonym key {where} is not random enough to keep pseudonyms secret "
            f"({strength.weakness}: about {strength.bits:.0f} bits of guessing, "
            f"{REQUIRED_BITS} needed); {HOW_TO_MAKE_ONE}"
        )


def load_key(key_file: Path | str | None = None) -> PseudonymKey | None:
    """The key from a file (first) or OPENGOV_PSEUDONYM_KEY; None if neither is set.

    A key that is too short or not random enough is refused (`WeakKey`).
    """
    if key_file is not None:
        path = Path(key_file)
        try:
            secret = limits.read_limited(path, limits.MAX_KEY_BYTES, f"key file {path}").strip()
        except OSError as exc:
            raise KeyMissing(f"cannot read the pseudonym key file {path}: {exc.strerror}") from None
        check_strength(secret, f"in {path}")
        return PseudonymKey(secret)
    env = os.environ.get(KEY_ENV)
    if env:
        secret = env.strip().encode()
        check_strength(secret, f"in {KEY_ENV}")
        return PseudonymKey(secret)
    return None


def write_new_key(path: Path | str) -> PseudonymKey:
    """Write a new random 256-bit key, as 64 hex digits, to a new file only its owner can read.

    Refuses to replace an existing file (a lost key cannot be made again, and every pseudonym
    and keyed digest made with it would no longer match). The file is created with mode 600 in
    one call, so it is never readable by others, not even for a moment.
    """
    path = Path(path)
    secret = secrets.token_hex(32).encode()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise KeyFileExists.at(path) from None
    except OSError as exc:
        raise InputError(f"cannot create the key file {path}: {exc.strerror}") from None
    try:
        os.fchmod(fd, 0o600)  # the umask may have taken bits away, never added: make it exact
        os.write(fd, secret + b"\n")
        os.fsync(fd)
    except OSError as exc:
        os.close(fd)
        path.unlink(missing_ok=True)
        raise InputError(f"cannot write the key file {path}: {exc.strerror}") from None
    os.close(fd)
    return PseudonymKey(secret)
