"""Text encodings of CSV files: naming them, guessing them, and checking them while streaming.

Swedish offices export UTF-8 or Windows-1252, and some systems UTF-16 (Excel's "Unicode text",
Göteborg's supplier ledger) with a byte order mark. A byte order mark decides first (UTF-32
before UTF-16: a UTF-32-LE mark starts with the UTF-16-LE one). Otherwise a file is read once
for publishing, so the encoding is settled from its first megabyte where that can tell
(non-ASCII text decides), and the stream itself checks the rest: pyarrow refuses invalid UTF-8,
and `HashingReader` refuses a Windows-1252 file that turns into UTF-8 half-way. Only a file
whose first megabyte is plain ASCII and whose encoding is not declared is read ahead once to
decide. What none of this can tell (zero bytes without a byte order mark, bytes that are neither
UTF-8 nor Windows-1252) is an error naming the encodings to declare (`ENCODING_CHOICES`).
"""

from __future__ import annotations

import codecs
import hashlib
import io
import re
from pathlib import Path
from typing import Any

from opengov.errors import InputError
from opengov.sources.limits import HEAD_BYTES

# A UTF-8 encoded Latin-1 letter (Å, ä, é ...) is "Ã" and a byte 0x80-0xBF: what Windows-1252
# text never holds in practice (it would read "Ã¥"), and what UTF-8 text holds in every Swedish
# word with å, ä or ö.
_UTF8_LATIN = re.compile(rb"\xc3[\x80-\xbf]")
_SINGLE_BYTE = frozenset({"cp1252", "latin-1", "iso8859-15", "iso8859-1", "cp1257", "cp850"})
_WIDE = ("utf-16", "utf-32")
# Byte order marks, longest first: the UTF-32-LE mark begins with the UTF-16-LE one.
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# Bytes Windows-1252 leaves undefined: a file holding them is in neither of the two encodings.
_NOT_CP1252 = re.compile(rb"[\x81\x8d\x8f\x90\x9d]")
ENCODING_CHOICES = "utf-8, utf-8-sig, windows-1252, iso-8859-1, utf-16, utf-16-le, utf-32"


# What a file named .csv holds when it is not text: a compressed file, or a workbook saved
# under the wrong name (an .xlsx is a zip archive; an .xls an OLE2 compound file).
_BINARY_STARTS = (
    (b"\x1f\x8b", "a gzip-compressed file"),
    (b"PK\x03\x04", "a zip archive (an .xlsx workbook is one)"),
    (b"\xfd7zXZ\x00", "an xz-compressed file"),
    (b"\x28\xb5\x2f\xfd", "a zstd-compressed file"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an Excel 97-2003 workbook (.xls)"),
)


_BZIP2 = re.compile(rb"BZh[1-9]1AY&SY")


def refuse_binary(head: bytes, path: Path, what: str) -> None:
    """A file that starts like a known binary format is refused by name: read as text it
    ended in a misleading encoding error ("zero bytes: UTF-16?")."""
    starts = [*_BINARY_STARTS]
    if _BZIP2.match(head):
        starts.append((head[:10], "a bzip2-compressed file"))
    for start, kind in starts:
        if head.startswith(start):
            raise InputError(
                f"{what}: file {path.name} is not a text table: it is {kind}; unpack it or "
                "save the table as CSV (or give the workbook its own name, .xlsx)"
            )


def bom_encoding(head: bytes) -> str | None:
    """The encoding a byte order mark names (the codec skips the mark), or None."""
    for bom, name in _BOMS:
        if head.startswith(bom):
            return name
    return None


def undetectable(path: Path, what: str, why: str) -> InputError:
    return InputError(
        f"{what}: cannot tell the encoding of file {path.name} ({why}); save it as UTF-8, or "
        f"declare its encoding ('encoding' in datapackage.json, or --encoding): one of "
        f"{ENCODING_CHOICES}"
    )


def normalise_encoding(name: str, what: str) -> str:
    try:
        return codecs.lookup(name).name
    except LookupError:
        raise InputError(f"{what}: unknown encoding {name!r}") from None


def arrow_encoding(encoding: str | None) -> str:
    """The name pyarrow is given: it skips a UTF-8 BOM itself and transcodes anything else
    through Python's codecs."""
    name = codecs.lookup(encoding or "utf-8").name
    return "utf8" if name in {"utf-8", "utf-8-sig"} else name


def _head(path: Path) -> bytes:
    with path.open("rb") as fh:
        return fh.read(HEAD_BYTES)


def _utf8_prefix_ok(head: bytes, complete: bool) -> bool:
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        decoder.decode(head, final=complete)
    except UnicodeDecodeError:
        return False
    return True


def detect_encoding(path: Path, what: str) -> str:
    """UTF-8 (with or without BOM) or Windows-1252, from the first megabyte where it decides.

    A head with non-ASCII UTF-8 is UTF-8 (a later byte that is not: an error while streaming);
    a head that is not UTF-8 is Windows-1252 (a later UTF-8 letter: an error while streaming).
    A plain-ASCII head decides nothing, so only then is the whole file decoded ahead.
    """
    with path.open("rb") as fh:
        head = fh.read(HEAD_BYTES)
        refuse_binary(head, path, what)
        marked = bom_encoding(head)
        if marked is not None:
            return marked
        if b"\x00" in head[:4096]:
            # Text without zero bytes is never UTF-16 or UTF-32; these have no byte order mark
            # to say which byte order.
            raise undetectable(path, what, "zero bytes and no byte order mark: UTF-16 or UTF-32?")
        complete = len(head) < HEAD_BYTES
        if not head.isascii():
            if _utf8_prefix_ok(head, complete):
                return "utf-8"
            _refuse_mixed(head, 0, path, what)
            _refuse_undefined(head, path, what)
            return "cp1252"
        if complete:
            return "utf-8"
        decoder = codecs.getincrementaldecoder("utf-8")()
        decoder.decode(head)
        offset = len(head)
        for block in iter(lambda: fh.read(1 << 22), b""):
            try:
                decoder.decode(block)
            except UnicodeDecodeError:
                # An ASCII start, then bytes that are not UTF-8: Windows-1252 throughout, unless
                # UTF-8 letters follow too (checked while streaming).
                _refuse_mixed(block, offset, path, what)
                _refuse_undefined(block, path, what)
                return "cp1252"
            offset += len(block)
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return "cp1252"
    return "utf-8"


def _refuse_undefined(block: bytes, path: Path, what: str) -> None:
    if _NOT_CP1252.search(block) is not None:
        raise undetectable(path, what, "not UTF-8, and bytes Windows-1252 does not define")


def check_declared(path: Path, encoding: str, what: str) -> None:
    """Cheap checks of a declared encoding against the file's first bytes.

    The full check happens while streaming (pyarrow validates UTF-8; `HashingReader` the rest).
    UTF-16 and UTF-32 decode almost any byte string into nonsense without an error, so a file
    declared as such must look like it: a byte order mark, or zero bytes in its text.
    """
    head = _head(path)
    refuse_binary(head, path, what)
    if encoding.startswith(_WIDE):
        boms = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE, codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)
        if not head.startswith(boms) and b"\x00" not in head[:4096]:
            guess = "UTF-8" if _utf8_prefix_ok(head, len(head) < HEAD_BYTES) else "Windows-1252"
            raise InputError(
                f"{what}: file {path.name} is declared {encoding}, but its bytes are not "
                f"{encoding} (no byte order mark and no zero bytes; it looks like {guess}); "
                "declare the right 'encoding'"
            )
    try:
        codecs.getincrementaldecoder(encoding)().decode(head, final=len(head) < HEAD_BYTES)
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{what}: file {path.name} is not valid {encoding} (byte offset {exc.start}); "
            "declare the right 'encoding' (for example windows-1252 or utf-8-sig)"
        ) from None
    except UnicodeError:
        # Python's utf-16 and utf-32 codecs need a byte order mark to know the byte order.
        raise InputError(
            f"{what}: file {path.name} is declared {encoding} but has no byte order mark to "
            f"say its byte order; declare {encoding}-le or {encoding}-be"
        ) from None
    if encoding in _SINGLE_BYTE:
        _refuse_mixed(head, 0, path, what)


def _refuse_mixed(block: bytes, offset: int, path: Path, what: str) -> None:
    found = _UTF8_LATIN.search(block)
    if found is not None:
        raise InputError(
            f"{what}: file {path.name} mixes encodings: it is not UTF-8, yet holds UTF-8 text "
            f"at byte offset {offset + found.start()}; save it in one encoding (UTF-8)"
        )


class HashingReader(io.RawIOBase):
    """A file read once: every byte handed to the parser is hashed on the way.

    So the sha256 recorded for provenance is of exactly the bytes parsed, whatever happens to
    the file on disk meanwhile. For single-byte encodings it also refuses a file that turns
    into UTF-8 half-way (pyarrow would decode that silently into mojibake).
    """

    def __init__(self, path: Path, what: str, encoding: str | None = None) -> None:
        super().__init__()
        self.path = path
        self.what = what
        self._fh = path.open("rb")
        self.digest = hashlib.sha256()
        self.size = 0
        self._mixed_check = (encoding or "") in _SINGLE_BYTE
        self._tail = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        n: int = self._fh.readinto(buffer)
        if n:
            view = memoryview(buffer)[:n]
            self.digest.update(view)
            if self._mixed_check:
                chunk = self._tail + bytes(view)
                _refuse_mixed(chunk, self.size - len(self._tail), self.path, self.what)
                self._tail = chunk[-1:]
            self.size += n
        return n

    def drain(self) -> None:
        """Hash whatever the parser did not read (it stops at the last record it needed)."""
        for block in iter(lambda: self._fh.read(1 << 20), b""):
            self.digest.update(block)
            self.size += len(block)

    def sha256(self) -> str:
        return self.digest.hexdigest()

    def close(self) -> None:
        self._fh.close()
        super().close()
