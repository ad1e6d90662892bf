"""Bounds on one import, checked before (or while) a file is parsed: file size, rows, cells,
line and cell lengths, a workbook's unzipped size, and the wall-clock time."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ImportLimits:
    """Bounds on one import, checked before (or while) a file is parsed, so a crafted or
    mistaken file can hold neither the server's memory nor its time for long. The sizes
    leave room for a year of a national service's appointments in one file (about 1.5
    million rows of 60 bytes) while a decompression or dimension bomb is refused at once."""

    max_file_bytes: int = 256 * 1024 * 1024  # the upload itself (Streamlit allows 200 MB)
    max_rows: int = 2_000_000  # data rows, not counting the header
    max_cells_per_row: int = 64  # the widest format has 10 columns (+2 in a rejects file)
    max_cell_chars: int = 1024 * 1024  # one CSV cell; any longer stops the read at once
    max_line_chars: int = 4 * 1024 * 1024  # one physical CSV line, read in bounded pieces
    max_xlsx_uncompressed_bytes: int = 512 * 1024 * 1024  # all parts of a workbook unzipped
    max_xlsx_ratio: int = 200  # unzipped / zipped size of one part (real sheets: 5-20)
    max_xlsx_parts: int = 1_000  # files inside the workbook's zip
    max_seconds: float = 900.0  # wall clock for one import, checking and writing together
    chunk_chars: int = 32 * 1024 * 1024  # text held per chunk of rows, whatever its rows

    def lines(self) -> list[str]:
        """The bounds in words, for the reference page."""
        mb = 1024 * 1024
        return [
            f"a file of at most {self.max_file_bytes // mb} MB;",
            f"at most {self.max_rows:,} data rows and {self.max_cells_per_row} values per "
            "row;",
            f"a CSV cell of at most {self.max_cell_chars // mb} MB and a physical line of "
            f"at most {self.max_line_chars // mb} MB (both stop the read at once, naming "
            "the row);",
            "an XLSX workbook whose parts unzip to at most "
            f"{self.max_xlsx_uncompressed_bytes // mb} MB in all, none more than "
            f"{self.max_xlsx_ratio} times its zipped size, at most {self.max_xlsx_parts:,} "
            "parts, and whose sheet declares (in its `dimension`) and uses at most that "
            "many rows and columns: all checked from the zip directory and the sheet's "
            "first bytes before any cell is read;",
            f"at most {self.max_seconds / 60:g} minutes of wall-clock time for checking and "
            "writing together; a slower import is stopped and writes nothing.",
        ]


LIMITS = ImportLimits()
