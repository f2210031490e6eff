"""Character classes shared by the prefilters, written so RE2 and Python `re` both read them.

A prefilter runs as RE2 over columns (`pyarrow.compute`) and as Python `re` over single
strings, and both must select the same cells; so the classes are explicit character lists
(no `\\p{..}`, no `\\s`, whose meaning differs between the two engines). tests/
test_detect_forms.py checks these lists against `unicodedata` and `normalise.norm_char`.

Also the look-alike tables (letters drawn like Latin letters, like digits, digits drawn like
other digits), the one copy that normalisation, names and prefilters read; tests/
test_lookalike_forms.py checks them against Unicode's confusables list.
"""

from __future__ import annotations

# Every whitespace character (str.isspace, and categories Zs, Zl, Zp).
SPACES = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006"
    "\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
# Whitespace on one line (what may stand between the two parts of a postcode).
LINE_SPACES = "".join(c for c in SPACES if c not in "\n\x0b\x0c\r\x1c\x1d\x1e\x85\u2028\u2029")
# Every dash: category Pd and the minus signs and hyphen look-alikes readers take for one.
DASHES = (
    "-\u058a\u05be\u1400\u1806\u2010\u2011\u2012\u2013\u2014\u2015\u2e17\u2e1a\u2e3a\u2e3b"
    "\u2e40\u2e5d\u301c\u3030\u30a0\ufe31\ufe32\ufe58\ufe63\uff0d\U00010ead"
    "\u2212\u2043\u02d7\u2796"
)


def members(chars: str) -> str:
    """`chars` escaped for use inside a character class, in RE2 and Python `re` alike."""
    return "".join("\\" + c if c in "\\]^-[" else c for c in chars)


SP = f"[{members(SPACES)}]"
LINE_SP = f"[{members(LINE_SPACES)}]"
DASH = f"[{members(DASHES)}]"

# The ideographic full stop: IDNA (UTS 46) maps it to "." in a domain name (`anna@kommun。se`
# is anna@kommun.se to a mail program); its halfwidth and vertical forms reach it by NFKC.
FULL_STOPS = "\u3002"

# Letters of other scripts drawn like a Latin letter in common fonts, and that letter: Cyrillic
# `а`, Greek `Ο`, Armenian `օ`, IPA `ɑ` (each one is in Unicode's confusables list for its Latin
# letter, a test checks; letters that names are written with, such as Turkish `ı`, are not
# here). A copy-paste from another keyboard layout or a deliberate disguise (`Аnna`, `(аt)`)
# reads as the Latin letter to the person looking at it, so the detectors read it so too: the
# one table for normalisation (`normalise.norm_char`) and for names (`persons`). Every one is
# two bytes in UTF-8 (persons finds them in a chunk's bytes by that).
_LOOKALIKE_PAIRS = (
    # Cyrillic
    "АA ВB ЕE ЅS ІI ЈJ КK МM НH ОO РP СC ТT ХX УY ҮY ѴV ӀI ԜW "
    "аa еe іi јj оo рp сc уy хx ѕs ԁd һh ӏl үy ѵv ԛq ԝw "
    # Greek
    "ΑA ΒB ΕE ΖZ ΗH ΙI ΚK ΜM ΝN ΟO ΡP ΤT ΥY ΧX ϹC ͿJ αa οo ιi νv ρp υu ϲc ϳj "
    # Armenian
    "ՕO ՍU ՏS օo սu ոn հh զq ցg "
    # IPA
    "ɑa ɡg"
)
LOOKALIKES: dict[str, str] = {pair[0]: pair[1] for pair in _LOOKALIKE_PAIRS.split()}
LOOKALIKE_FOREIGN = "".join(LOOKALIKES)
LOOKALIKE_LATIN = "".join(LOOKALIKES.values())


def lookalike_class(letters: str) -> str:
    """A character class of `letters` in either case and every letter drawn like one of them
    (for prefilters on raw text, which see the disguise, not the Latin letter)."""
    wanted = {c for letter in letters for c in (letter.lower(), letter.upper())}
    chars = sorted(wanted | {f for f, latin in LOOKALIKES.items() if latin in wanted})
    return f"[{members(''.join(chars))}]"


# Digits of other scripts drawn like another ASCII digit (Unicode's confusables): the Bengali
# four `৪` is read as 4 by its value and as 8 by its look. Both readings are scanned.
DIGIT_GLYPHS = {"৪": "8", "੪": "8", "੧": "9", "୨": "9", "৭": "9", "൭": "9"}
# Letters drawn like a digit (Unicode's confusables: O for 0, l and I for 1, their Cyrillic,
# Greek and Armenian look-alikes folding to them first; Cyrillic З for 3, б for 6, Latin Ƽ for
# 5, Ʒ for 3, Ƨ for 2): `O7O-123 45 67`, `81122З-9874`. Read as digits only in a group of
# digits and such letters that holds a real digit and touches no other letter. The non-ASCII
# ones are two bytes in UTF-8 (normalise reads them as byte pairs).
LETTER_DIGITS = {
    "O": "0", "o": "0", "l": "1", "I": "1",
    "З": "3", "б": "6", "Ƽ": "5", "Ʒ": "3", "Ƨ": "2",
}  # fmt: skip


def digit_class(digits: str) -> str:
    """A character class of ASCII `digits` and the letters drawn like them (`LETTER_DIGITS`
    and their look-alikes), for prefilters on raw text."""
    letters = {c for c, d in LETTER_DIGITS.items() if d in digits}
    letters |= {f for f, latin in LOOKALIKES.items() if latin in letters}
    return f"[{members(digits + ''.join(sorted(letters)))}]"
