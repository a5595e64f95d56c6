"""Reading export files into an Arrow table of text columns, one per known column.

CSV in UTF-8 (with or without BOM) or GB18030/GBK, detected, delimited by commas, tabs or
pipes (decided on the header line); XLSX (first sheet) read with calamine. In both the header
row is found below title rows, and trailing rows of nothing but separators are dropped. Every
value stays text here: typing and checks are the validator's job, so an ID keeps its leading
zeros and a bad value can be reported as the file showed it; what the text cannot say, that an
XLSX cell of an ID column was a number, travels beside it (`RawTable.number_cells`). Problems
that make the file unreadable raise FileRejected.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import re
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from wealthscore.kernel.messages import Message, msg

from .kinds import ALIASES, KINDS, PII_ALIASES, normalise_header

CHUNK = 32 * 1024 * 1024
# A worksheet may not claim more than this many cells, nor its zip parts more bytes: a
# declared size is what a reader allocates before it finds out whether it was honest.
MAX_XLSX_CELLS = 60_000_000
MAX_XLSX_UNCOMPRESSED = 2 * 1024**3
MAX_XLSX_RATIO = 200
# Our widest kind has 9 columns; an export may carry others that are ignored, never hundreds.
MAX_XLSX_COLUMNS = 512
HEADER_SEARCH_ROWS = 30
# pyarrow reads a CSV in blocks of this size and cannot read a field longer than a block; no
# column of ours takes more than a few thousand characters, so such a field is refused.
CSV_BLOCK = 16 * 1024 * 1024


class FileRejected(Exception):
    """The file cannot be read as a table; `errors` say why, as row errors do."""

    def __init__(self, message: Message | str, errors: list[dict] | None = None):
        # A code with parameters (crm/messages.py), rendered when the batch is read.
        super().__init__(message)
        self.message = message
        self.errors = errors or [{"row": None, "column": None, "value": None, "reason": message}]


@dataclass
class RawTable:
    kind: str
    table: pa.Table  # canonical column name -> text
    row_numbers: np.ndarray  # the row number the file shows for each data row
    headers: dict[str, str]  # canonical name -> header as written in the file
    encoding: str
    dropped_columns: list[str] = field(default_factory=list)
    invalid_rows: list[dict] = field(default_factory=list)
    # ID column -> which of its cells were numbers in the workbook (XLSX only): an ID typed
    # as a number has lost its leading zeros, and the validator refuses it (issue 15).
    number_cells: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def num_rows(self) -> int:
        return self.table.num_rows


def sniff_format(path: Path) -> str:
    with open(path, "rb") as handle:
        head = handle.read(8)
    if head.startswith(b"PK\x03\x04"):
        return "xlsx"
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise FileRejected(msg("old_xls"))
    return "csv"


# ---------------------------------------------------------------- header matching
def match_header(cells: list[str], kind: str | None) -> tuple[str, dict[int, str], list[str]]:
    """Map header cells to a kind's columns. kind None: the kind that fits best ('auto')."""
    normalised = [normalise_header(cell) for cell in cells]
    candidates = [kind] if kind else list(KINDS)
    best: tuple[int, str] | None = None
    for candidate in candidates:
        aliases = ALIASES[candidate]
        hits = sum(1 for name in normalised if name in aliases)
        required = KINDS[candidate].required
        has_required = all(
            any(aliases.get(name) == column.name for name in normalised) for column in required
        )
        score = hits + (1000 if has_required else 0)
        if best is None or score > best[0]:
            best = (score, candidate)
    assert best is not None
    chosen = best[1]
    aliases = ALIASES[chosen]
    mapping: dict[int, str] = {}
    seen: dict[str, int] = {}
    dropped: list[str] = []
    for index, name in enumerate(normalised):
        canonical = aliases.get(name)
        if canonical is None:
            if name in PII_ALIASES:
                dropped.append(cells[index].strip())
            continue
        if canonical in seen:
            raise FileRejected(
                msg("duplicate_column", a=cells[seen[canonical]], b=cells[index], name=canonical)
            )
        seen[canonical] = index
        mapping[index] = canonical
    missing = [c.name for c in KINDS[chosen].required if c.name not in seen]
    if missing:
        spec = KINDS[chosen]
        names = ", ".join(f"{n} ({spec.column(n).aliases[0]})" for n in missing)
        raise FileRejected(
            msg("missing_columns", kind=chosen, names=names),
            [
                {"row": 1, "column": n, "value": None, "reason": msg("required_column_missing")}
                for n in missing
            ],
        )
    return chosen, mapping, dropped


def header_score(cells: list[str], kind: str | None) -> int:
    kinds = [kind] if kind else list(KINDS)
    normalised = [normalise_header(c) for c in cells]
    return max(sum(1 for n in normalised if n in ALIASES[k]) for k in kinds)


# ---------------------------------------------------------------- CSV
def _looks_utf16(sample: bytes) -> bool:
    """UTF-16 text (Excel's "Unicode text"): a BOM, or a NUL beside most ASCII characters."""
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return True
    pairs = len(sample) // 2
    even, odd = sample[0 : 2 * pairs : 2].count(0), sample[1 : 2 * pairs : 2].count(0)
    # Random bytes hold a NUL in one byte of 256 on either side, not in one pair of four.
    return pairs >= 8 and max(even, odd) > pairs // 4 and min(even, odd) < pairs // 50


def _looks_binary(sample: bytes) -> bool:
    if b"\x00" in sample:
        return True
    controls = sum(1 for b in sample if b < 9 or 13 < b < 32)
    return controls > max(8, len(sample) // 100)


def decode_to_utf8(data: bytes) -> tuple[bytes, str]:
    """Return the text as UTF-8 bytes and the encoding it was in, or reject the file."""
    if data.startswith(codecs.BOM_UTF8):
        body, encoding = data[len(codecs.BOM_UTF8) :], "utf-8-sig"
    else:
        body, encoding = data, "utf-8"
    try:
        codecs.decode(body, "utf-8")
        return body, encoding
    except UnicodeDecodeError as exc:
        utf8_error = exc
    if utf8_error.reason == "unexpected end of data" and not body[: utf8_error.start].isascii():
        # UTF-8 text up to a character cut in half at the very end: the file was cut short.
        line = body.count(b"\n", 0, utf8_error.start) + 1
        raise FileRejected(
            msg("file_cut_short_at", row=line),
            [{"row": line, "column": None, "value": None, "reason": msg("file_cut_short")}],
        )
    if encoding == "utf-8-sig":
        raise FileRejected(_mixed_message(body, utf8_error.start))
    _refuse_mixed(body)
    try:
        text = body.decode("gb18030")
    except UnicodeDecodeError as exc:
        line = body.count(b"\n", 0, exc.start) + 1
        raise FileRejected(
            msg("undecodable_file", row=line),
            [{"row": line, "column": None, "value": None, "reason": msg("undecodable_bytes")}],
        ) from exc
    return text.encode("utf-8"), "gb18030"


def _mixed_message(body: bytes, offset: int) -> Message:
    line = body.count(b"\n", 0, offset) + 1
    return msg("mixed_encodings_from_row", row=line)


_NON_ASCII_LINE = re.compile(rb"^.*[\x80-\xff].*$", re.MULTILINE)


def _refuse_mixed(body: bytes) -> None:
    """A GB18030 file whose non-ASCII rows are partly valid UTF-8 was pasted together.

    GBK text almost never forms valid UTF-8 across a whole row, so a share of such rows
    (not one chance row in a million) means two encodings in one file.
    """
    utf8_rows = other_rows = 0
    first_utf8 = first_other = None
    for number, match in enumerate(_NON_ASCII_LINE.finditer(body[: 8 * 1024 * 1024])):
        try:
            match.group().decode("utf-8")
            utf8_rows += 1
            first_utf8 = first_utf8 if first_utf8 is not None else match.start()
        except UnicodeDecodeError:
            other_rows += 1
            first_other = first_other if first_other is not None else match.start()
        if number > 20000:
            break
    if utf8_rows and other_rows and utf8_rows >= max(2, (utf8_rows + other_rows) // 20):
        row_utf8 = body.count(b"\n", 0, first_utf8) + 1
        row_other = body.count(b"\n", 0, first_other) + 1
        raise FileRejected(msg("mixed_encodings_rows", a=row_utf8, b=row_other))


DELIMITERS = (",", "\t", "|")  # in order of preference when a line reads alike with several


def find_csv_header(utf8: bytes, kind: str | None) -> tuple[int, str]:
    """(0-based line of the header, delimiter): the line and delimiter whose cells name most
    of the kind's columns, among the first lines (title lines may sit above the header, as
    in an XLSX).

    Decided on the header alone: its cells are column names we know, which a data row's are
    not, so a comma inside an amount or a name cannot mislead it as csv.Sniffer's guesses on
    data do. A file with no recognisable header reads its first line with the delimiter it
    holds most of, so that the missing columns are named.
    """
    lines = utf8[: 1 << 20].split(b"\n", HEADER_SEARCH_ROWS)[:HEADER_SEARCH_ROWS]
    best_score, best = 1, None
    for index, line in enumerate(lines):
        text = line.decode("utf-8", "replace").rstrip("\r")
        for delimiter in DELIMITERS:
            if delimiter not in text and delimiter != ",":
                continue
            try:
                cells = next(csv.reader([text], delimiter=delimiter))
            except (csv.Error, StopIteration):
                continue
            score = header_score(cells, kind)
            if score > best_score:
                best_score, best = score, (index, delimiter)
    if best is not None:
        return best
    first = lines[0].decode("utf-8", "replace")
    return 0, max(DELIMITERS, key=lambda d: (first.count(d), d == ","))


def _line_start(utf8: bytes, index: int) -> int:
    start = 0
    for _line in range(index):
        start = utf8.index(b"\n", start) + 1
    return start


def _without_trailing_empty_rows(utf8: bytes, delimiter: str) -> bytes:
    """Drop the rows at the end that hold nothing but separators, spaces or empty quotes
    (`,,,,`: a spreadsheet saved with formatted rows below the table)."""
    empty = b' \t\r"' + delimiter.encode()
    end = len(utf8)
    while (start := utf8.rfind(b"\n", 0, end) + 1) > 0 and not utf8[start:end].strip(empty):
        end = start - 1
    return utf8 if end == len(utf8) else utf8[:end]


def read_csv(path: Path, kind: str | None) -> RawTable:
    data = path.read_bytes()
    if not data.removeprefix(codecs.BOM_UTF8).strip():
        raise FileRejected(msg("file_empty"))
    if _looks_utf16(data[:65536]):
        raise FileRejected(msg("utf16_file"))
    if _looks_binary(data[:65536]):
        raise FileRejected(msg("binary_file"))
    utf8, encoding = decode_to_utf8(data)
    del data
    utf8 = utf8.rstrip(b"\r\n")
    first_line_end = utf8.find(b"\n")
    if first_line_end < 0 and b"\r" in utf8:
        # Old Mac line endings: refused rather than guessed at, since a bare CR is also what
        # a damaged Windows file shows; every current exporter writes CRLF or LF.
        raise FileRejected(msg("mac_line_endings"))
    header_index, delimiter = find_csv_header(utf8, kind)
    utf8 = _without_trailing_empty_rows(utf8, delimiter)
    header_start = _line_start(utf8, header_index)
    header_end = utf8.find(b"\n", header_start)
    header_line = utf8[header_start:] if header_end < 0 else utf8[header_start:header_end]
    header_row = header_index + 1
    try:
        header = next(csv.reader([header_line.decode("utf-8").rstrip("\r")], delimiter=delimiter))
    except csv.Error as exc:
        raise FileRejected(
            msg("unreadable_header", row=header_row, error=exc),
            [{"row": header_row, "column": None, "value": None, "reason": str(exc)}],
        ) from exc
    chosen, mapping, dropped = match_header(header, kind)
    if header_end < 0:
        raise FileRejected(msg("no_data_rows"))

    invalid: list[dict] = []

    def on_invalid_row(row: pacsv.InvalidRow) -> str:
        # Not the row's text: it holds every column of the row, the PII ones that are never
        # stored included (PIPL, minimum necessary). The row number and the count say enough.
        invalid.append(
            {
                "row": row.number,
                "column": None,
                "value": None,
                "reason": msg(
                    "wrong_field_count", got=row.actual_columns, want=row.expected_columns
                ),
            }
        )
        return "skip"

    names = [f"c{i}" for i in range(len(header))]
    keep = {names[i]: canonical for i, canonical in mapping.items()}

    def parse(use_threads: bool) -> pa.Table:
        return pacsv.read_csv(
            io.BytesIO(utf8),
            read_options=pacsv.ReadOptions(
                column_names=names,
                skip_rows=header_row,
                block_size=CSV_BLOCK,
                use_threads=use_threads,
            ),
            parse_options=pacsv.ParseOptions(
                delimiter=delimiter, invalid_row_handler=on_invalid_row, ignore_empty_lines=False
            ),
            convert_options=pacsv.ConvertOptions(
                column_types={n: pa.string() for n in names},
                include_columns=list(keep),
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )

    try:
        table = parse(use_threads=True)
        if any(problem["row"] is None for problem in invalid):
            # Parallel parsing can't number bad rows; parse again in order to name them.
            invalid.clear()
            table = parse(use_threads=False)
    except pa.ArrowInvalid as exc:
        raise _parse_error(exc, utf8, header) from exc
    table = table.rename_columns([keep[n] for n in table.column_names])
    if table.num_rows == 0 and not invalid:
        raise FileRejected(msg("no_data_rows"))
    # Data row i is file row i + 1 + the header's row, less the rows skipped as invalid.
    first = header_row + 1
    row_numbers = np.arange(first, table.num_rows + len(invalid) + first, dtype=np.int64)
    skipped = [problem["row"] for problem in invalid if problem["row"] is not None]
    if skipped and len(skipped) == len(invalid):
        row_numbers = np.setdiff1d(row_numbers, np.array(skipped, dtype=np.int64))
    row_numbers = row_numbers[: table.num_rows]
    return RawTable(
        kind=chosen,
        table=table,
        row_numbers=row_numbers,
        headers={canonical: header[i].strip() for i, canonical in mapping.items()},
        encoding=encoding,
        dropped_columns=dropped,
        invalid_rows=invalid,
    )


def _parse_error(exc: pa.ArrowInvalid, utf8: bytes, header: list[str]) -> FileRejected:
    """pyarrow's parse error as a reason a user can act on, without the row's text."""
    text = str(exc)
    if "straddl" in text:
        row, column = _long_field(utf8, header)
        where = {"row": row, "column": column or "?", "limit": CSV_BLOCK // 1024**2}
        message = msg("value_too_long", **where)
        return FileRejected(
            message, [{"row": row, "column": column, "value": None, "reason": message}]
        )
    # "CSV parse error: Row #12: Expected 8 columns, got 9: <the row>": keep what precedes
    # the row's text (which may hold the PII columns that are never stored).
    found = re.match(r"(.*?(?:got \d+|Row #\d+))", text)
    reason = found.group(1) if found else text.split(":")[0]
    return FileRejected(msg("csv_parse_error", error=reason[:200]))


def _long_field(utf8: bytes, header: list[str]) -> tuple[int | None, str | None]:
    """The file row and header of the first field longer than a parse block."""
    ends = np.flatnonzero(np.frombuffer(utf8, dtype=np.uint8) == 0x0A)
    starts = np.concatenate([[0], ends + 1])
    lengths = np.diff(np.concatenate([starts, [len(utf8)]]))
    long = np.flatnonzero(lengths > CSV_BLOCK)
    if not len(long):
        return None, None
    line = int(long[0])
    start = int(starts[line])
    # The fields that end within the line's first KB come before the long one.
    prefix = utf8[start : start + 1024].decode("utf-8", "replace")
    try:
        fields = next(csv.reader([prefix]))
    except (csv.Error, StopIteration):
        return line + 1, None
    index = len(fields) - 1
    return line + 1, header[index].strip() if 0 <= index < len(header) else None


# ---------------------------------------------------------------- XLSX
_DIMENSION = re.compile(rb'<(?:[\w.-]+:)?dimension ref="([A-Z]+)(\d+)(?::([A-Z]+)(\d+))?"')


def _column_number(letters: bytes) -> int:
    number = 0
    for char in letters:
        number = number * 26 + (char - 64)
    return number


def check_xlsx_container(path: Path) -> str:
    """Refuse zip bombs and impossible declared sizes before reading cells; the first sheet."""
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile as exc:
        raise FileRejected(msg("invalid_xlsx")) from exc
    with archive:
        infos = archive.infolist()
        total = sum(info.file_size for info in infos)
        if total > MAX_XLSX_UNCOMPRESSED or any(
            info.compress_size and info.file_size / info.compress_size > MAX_XLSX_RATIO
            for info in infos
            if info.file_size > 10 * 1024 * 1024
        ):
            raise FileRejected(msg("workbook_too_big", size=total // (1024 * 1024)))
        sheets = sorted(
            (i.filename for i in infos if re.fullmatch(r"xl/worksheets/sheet\d+\.xml", i.filename)),
            key=lambda name: int(re.findall(r"\d+", name)[-1]),
        )
        if not sheets:
            raise FileRejected(msg("no_worksheet"))
        with archive.open(sheets[0]) as sheet:
            head = sheet.read(4096)
            found = _DIMENSION.search(head)
            if found and found.group(3):
                rows = int(found.group(4)) - int(found.group(2)) + 1
                cols = _column_number(found.group(3)) - _column_number(found.group(1)) + 1
                if rows * cols > MAX_XLSX_CELLS:
                    raise FileRejected(msg("worksheet_too_big", rows=rows, cols=cols))
        check_sheet_extent(archive, sheets[0])
    return sheets[0]


# A cell or row reference that may be far: two or more column letters, or seven or more row
# digits. Single quotes and spaces are valid XML too. Looking only for these (a normal sheet
# has none) keeps the scan at inflate speed: 0.28 s for the 88 MB sheet of 200,000 rows,
# against 0.22 s to inflate it and 0.7 s (3 s with the row/cell parsing) to match every
# reference.
_FAR_REF = re.compile(rb"\br\s*=\s*[\"']([A-Za-z]{2,}[0-9]*|[A-Za-z]?[0-9]{7,})[\"']")
_ANY_REF = re.compile(rb"\br\s*=\s*[\"']([A-Za-z]*)([0-9]*)[\"']")
_MERGED = re.compile(rb"<(?:[\w.-]+:)?mergeCell\s+ref\s*=\s*[\"']([^\"']*)[\"']")
_DIMENSION_ANY = re.compile(rb"<(?:[\w.-]+:)?dimension\s+ref\s*=\s*[\"']([^\"']*)[\"']")
_SPLIT_REF = re.compile(r"\$?([A-Za-z]*)\$?([0-9]*)")
# Below a far reference: at most column Z, at most row 999,999.
_NEAR_COLUMNS, _NEAR_ROWS = 26, 999_999


def _column_letters(number: int) -> str:
    letters = ""
    while number > 0:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


class _Extent:
    """The farthest row and column a sheet refers to, and the references that said so."""

    def __init__(self) -> None:
        self.row, self.column = 0, 0

    def add(self, letters: str, digits: str) -> None:
        # A reference of absurd length is capped, not converted digit by digit.
        column = _column_number(letters.upper().encode()[:8]) if letters else 0
        row = int(digits[:12]) if digits else 0
        self.row, self.column = max(self.row, row), max(self.column, column)

    def add_ref(self, text: str) -> None:
        for part in text.split(":"):
            found = _SPLIT_REF.fullmatch(part.strip())
            if found:
                self.add(found.group(1), found.group(2))

    @property
    def cell(self) -> str:
        return f"{_column_letters(self.column)}{self.row}"


def check_sheet_extent(archive: zipfile.ZipFile, sheet: str) -> None:
    """Refuse a sheet whose referenced extent would not fit, before any reader opens it.

    calamine allocates its grid from the farthest cell a sheet names (rows × columns), and
    a workbook need not declare a `<dimension>`: one cell at XFD1048576 in a 1.9 KB file asks
    for 512 GB, and the process aborts. So the sheet's XML is streamed once and every
    reference that could be far (cells, rows, merged ranges, the dimension) is read.
    """
    far, near_seen = _Extent(), False
    with archive.open(sheet) as stream:
        tail = b""
        while chunk := stream.read(CHUNK):
            window = tail + chunk
            for ref in _FAR_REF.findall(window):
                found = _SPLIT_REF.fullmatch(ref.decode("ascii"))
                if found:
                    far.add(found.group(1), found.group(2))
            near_seen = near_seen or b"r=" in window or b"r =" in window
            if b"mergeCell" in window:
                for ref in _MERGED.findall(window):
                    far.add_ref(ref.decode("ascii", "replace"))
            if b"dimension" in window:
                for ref in _DIMENSION_ANY.findall(window):
                    far.add_ref(ref.decode("ascii", "replace"))
            # A reference cut by the chunk boundary is found whole in the next window.
            tail = window[-256:]
    rows = max(far.row, _NEAR_ROWS if near_seen else 0)
    columns = max(far.column, _NEAR_COLUMNS if near_seen else 0)
    if far.column <= MAX_XLSX_COLUMNS and rows * columns > MAX_XLSX_CELLS:
        # The bounds of the near references were too loose for this (wide) sheet: count
        # exactly. Slower (about 3 s per 100 MB of XML), and only for sheets this wide.
        exact = _Extent()
        with archive.open(sheet) as stream:
            tail = b""
            while chunk := stream.read(CHUNK):
                window = tail + chunk
                for letters, digits in set(_ANY_REF.findall(window)):
                    exact.add(letters.decode("ascii"), digits.decode("ascii"))
                tail = window[-256:]
        exact.row, exact.column = max(exact.row, far.row), max(exact.column, far.column)
        far, rows, columns = exact, exact.row, exact.column
    if far.column > MAX_XLSX_COLUMNS:
        raise FileRejected(
            msg("sheet_too_wide", cell=far.cell, n=far.column, limit=MAX_XLSX_COLUMNS)
        )
    if rows * columns > MAX_XLSX_CELLS:
        raise FileRejected(
            msg(
                "sheet_too_large",
                cell=far.cell,
                rows=rows,
                cols=columns,
                limit=f"{MAX_XLSX_CELLS:,}",
            )
        )


# A formula element with a namespace prefix (<x:f>), as some writers spell the sheet XML.
_PREFIXED_FORMULA = re.compile(rb"<[A-Za-z_][\w.-]*:f[\s/>]")


def sheet_has_formulas(path: Path, sheet: str) -> bool:
    with zipfile.ZipFile(path) as archive, archive.open(sheet) as stream:
        tail = b""
        while chunk := stream.read(CHUNK):
            window = tail + chunk
            if b"<f>" in window or b"<f " in window or b"<f/>" in window:
                return True
            if b":f" in window and _PREFIXED_FORMULA.search(window):
                return True
            tail = window[-64:]
    return False


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "Y" if value else "N"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time(0) else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).strip()


def _column_text(
    body: list[list], index: int, find_numbers: bool = False
) -> tuple[pa.Array, np.ndarray | None]:
    """One sheet column as text, and (when asked: ID columns) which cells were numbers;
    None when none were.

    Columns of one cell type take a vectorised path.
    """
    values = [row[index] if index < len(row) else "" for row in body]
    kinds = {type(value) for value in values}
    if kinds == {str}:
        return pc.utf8_trim_whitespace(pa.array(values, pa.string())), None
    numbers_at = None
    if find_numbers and kinds & {int, float}:
        numbers_at = np.fromiter(
            (type(value) in (int, float) for value in values), dtype=bool, count=len(values)
        )
    if kinds == {float}:
        numbers = np.array(values, dtype=np.float64)
        if np.all(np.mod(numbers, 1) == 0) and np.all(np.abs(numbers) < 2**53):
            return pc.cast(pa.array(numbers.astype(np.int64)), pa.string()), numbers_at
    return pa.array([_cell_text(value) for value in values], pa.string()), numbers_at


def read_xlsx(path: Path, kind: str | None) -> RawTable:
    from python_calamine import CalamineWorkbook

    sheet = check_xlsx_container(path)
    # Formulas are looked for while calamine reads: inflating the sheet XML releases the GIL.
    with ThreadPoolExecutor(max_workers=1) as pool:
        formulas = pool.submit(sheet_has_formulas, path, sheet)
        try:
            workbook = CalamineWorkbook.from_path(str(path))
            rows = workbook.get_sheet_by_index(0).to_python(skip_empty_area=False)
        except Exception as exc:  # calamine raises its own types for every kind of damage
            raise FileRejected(msg("unreadable_workbook", error=exc)) from exc
        if formulas.result():
            raise FileRejected(msg("workbook_formulas"))
    header_index = None
    best = 1
    for index, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        score = header_score([_cell_text(v) for v in row], kind)
        if score > best:
            header_index, best = index, score
    if header_index is None:
        raise FileRejected(msg("no_header_row", n=HEADER_SEARCH_ROWS))
    header = [_cell_text(v) for v in rows[header_index]]
    chosen, mapping, dropped = match_header(header, kind)
    body = rows[header_index + 1 :]
    # Trailing empty rows are formatting, not data (cells of spaces or "" included).
    while body and all(_cell_text(v) == "" for v in body[-1]):
        body.pop()
    if not body:
        raise FileRejected(msg("no_data_rows"))
    columns: dict[str, pa.Array] = {}
    number_cells: dict[str, np.ndarray] = {}
    spec = KINDS[chosen]
    for i, canonical in mapping.items():
        is_id = spec.column(canonical).type == "id"
        columns[canonical], numbers_at = _column_text(body, i, find_numbers=is_id)
        if numbers_at is not None:
            number_cells[canonical] = numbers_at
    first_row = header_index + 2  # sheet rows are 1-based and the data starts below the header
    return RawTable(
        kind=chosen,
        table=pa.table(columns),
        row_numbers=np.arange(first_row, first_row + len(body), dtype=np.int64),
        headers={canonical: header[i] for i, canonical in mapping.items()},
        encoding="xlsx",
        dropped_columns=dropped,
        number_cells=number_cells,
    )


def parse_file(path: Path, kind: str | None) -> RawTable:
    """The parse itself, in this process: what the sandbox's child runs."""
    if path.stat().st_size == 0:
        raise FileRejected(msg("file_empty"))
    if sniff_format(path) == "xlsx":
        return read_xlsx(path, kind)
    return read_csv(path, kind)
