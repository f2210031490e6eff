"""How much the table readers read: the limits that keep a hostile file from costing unbounded
memory or time (docs/limits.md, "Reading data files").

Each limit ends the read with `LimitExceeded` (exit 30) naming the limit and the file, never
the content.
"""

from __future__ import annotations

# One CSV record (a line, or several lines inside quotes). pyarrow parses in blocks that must hold
# a whole record, so this also bounds the largest block; Python's csv module (header and sniffing)
# gets the same bound per field and per line.
MAX_RECORD_BYTES = 16 << 20
# Text read to sniff a dialect or an encoding before the data is streamed.
HEAD_BYTES = 1 << 20
# An XLSX is a ZIP of XML. openpyxl is handed the ZIP only after its directory has been checked:
# the file itself, the sum of the entries unpacked, and how much any large entry may expand.
MAX_XLSX_BYTES = 256 << 20
MAX_XLSX_UNPACKED = 1 << 30
MAX_XLSX_RATIO = 100  # unpacked / packed, for entries that unpack to more than 1 MiB
XLSX_RATIO_FLOOR = 1 << 20
# openpyxl holds the shared strings of a workbook in memory as Python strings.
MAX_XLSX_SHARED_STRINGS = 64 << 20
