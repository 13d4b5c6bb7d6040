"""An XLSX file as a zip archive of XML parts, opened trusting nothing it says about itself.

- Every byte inflated from the archive is charged to a budget (``IMPORT_XLSX_MAX_EXPANDED_BYTES``
  and a compression ratio, ``IMPORT_XLSX_MAX_RATIO``): padding and zip bombs stop there.
- Every zip fault (bad CRC, truncation, a damaged deflate stream, a part named twice, an
  encrypted or unknown compression) is an :class:`ImportFileError` with a plain message.
- XML with a document type declaration (entity definitions) is refused: Excel never writes one,
  and no entity is ever expanded.
- The worksheet read is the first one Excel *shows*: hidden and very hidden sheets are skipped.
"""

from __future__ import annotations

import io
import posixpath
import zipfile
import zlib
from typing import IO, Any

from lxml import etree
from openpyxl.styles.numbers import BUILTIN_FORMATS, is_date_format
from openpyxl.utils.datetime import MAC_EPOCH, WINDOWS_EPOCH

from .limits import ImportFileError, ReadBound, SheetLimitError, SheetLimits

_MAX_ENTRIES = 2_000
_SMALL_PART_BYTES = 16 * 1024 * 1024  # workbook.xml, rels, styles: read whole, within the budget
_MIN_BUDGET = 1024 * 1024
_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_STRICT_REL_NS = "http://purl.oclc.org/ooxml/officeDocument/relationships"
#: The worksheet namespaces (transitional and strict): elements of any other are not cells.
MAIN_NAMESPACES = (
    "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    "http://purl.oclc.org/ooxml/spreadsheetml/main",
)
#: What reading a damaged archive raises, from zipfile, zlib and the file underneath.
ZIP_FAULTS = (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError, RuntimeError)

DAMAGED = (
    "The file could not be read as a spreadsheet: it may be damaged, password-protected or saved "
    "in another format. Save it again as CSV UTF-8 or XLSX."
)


def local_name(tag: Any) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


class Budget:
    """Bytes that may still be inflated from the archive (and, read in a web request, the
    bytes after which the worker takes over)."""

    def __init__(self, limit: int, bound: ReadBound | None = None) -> None:
        self.limit = limit
        self.bound = bound
        self.used = 0

    def spend(self, n: int) -> None:
        self.used += n
        if self.used > self.limit:
            raise SheetLimitError(
                "The workbook expands to more data than a spreadsheet of its size can hold "
                f"(over {self.limit:,} bytes of XML): it is padded or damaged. Open it in your "
                "spreadsheet program and save it again, or export it as CSV."
            )
        if self.bound is not None:
            self.bound.check(0, self.used)


class MeteredPart(io.RawIOBase):
    """A member of the archive, read in chunks charged to the budget; zip faults become
    :class:`ImportFileError`."""

    def __init__(self, raw: IO[bytes], budget: Budget, name: str) -> None:
        self.raw = raw
        self.budget = budget
        self.name = name

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        try:
            data = self.raw.read(65536 if size is None or size < 0 else min(size, 65536))
        except ZIP_FAULTS as exc:
            raise ImportFileError(f"The workbook is damaged (its part {self.name}).") from exc
        self.budget.spend(len(data))
        return data

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        try:
            self.raw.close()
        finally:
            super().close()


def xml_parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


def refuse_doctype(tree: Any, name: str) -> None:
    docinfo = tree.docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:
        raise ImportFileError(
            f"The workbook's {name} declares a document type (XML entities), which spreadsheet "
            "programs never write: the file was refused."
        )


class XlsxArchive:
    """The parts of a workbook: where its first visible worksheet, texts and styles are."""

    def __init__(
        self,
        fileobj: IO[bytes],
        *,
        size: int,
        limits: SheetLimits,
        bound: ReadBound | None = None,
    ) -> None:
        try:
            self.zip = zipfile.ZipFile(fileobj)
        except (*ZIP_FAULTS, ValueError) as exc:
            raise ImportFileError(DAMAGED) from exc
        self.bound = bound
        try:
            self._check_members(size, limits)
            self._locate_parts()
        except BaseException:
            self.zip.close()
            raise

    def _check_members(self, size: int, limits: SheetLimits) -> None:
        members = self.zip.infolist()
        if len(members) > _MAX_ENTRIES:
            raise SheetLimitError("The workbook has too many parts to be a spreadsheet export.")
        limit = max(
            _MIN_BUDGET, min(limits.xlsx_max_expanded_bytes, limits.xlsx_max_ratio * max(size, 1))
        )
        self.budget = Budget(limit, self.bound)
        if sum(m.file_size for m in members) > limit:
            self.budget.spend(sum(m.file_size for m in members))  # refuses with its message
        self.names: dict[str, zipfile.ZipInfo] = {}
        for member in members:
            name = member.filename.lstrip("/")
            if name in self.names:
                raise ImportFileError(f"The workbook is damaged (its part {name} appears twice).")
            self.names[name] = member

    def close(self) -> None:
        self.zip.close()

    def open(self, name: str, budget: Budget | None = None) -> IO[bytes]:
        member = self.names.get(name)
        if member is None:
            raise ImportFileError(f"The workbook is incomplete: its part {name} is missing.")
        try:
            raw = self.zip.open(member)
        except (*ZIP_FAULTS, ValueError) as exc:
            raise ImportFileError(
                "The workbook is damaged or encrypted (password-protected workbooks cannot be "
                "imported). Save it again without a password."
            ) from exc
        return io.BufferedReader(MeteredPart(raw, budget or self.budget, name))

    def parse_small(self, name: str) -> Any:
        with self.open(name) as part:
            data = part.read(_SMALL_PART_BYTES + 1)
        if len(data) > _SMALL_PART_BYTES:
            raise SheetLimitError(f"The workbook's part {name} is too large.")
        try:
            root = etree.fromstring(data, xml_parser())
        except etree.LxmlError as exc:
            raise ImportFileError(f"The workbook is damaged ({name} is not valid XML).") from exc
        refuse_doctype(root.getroottree(), name)
        return root

    def relationships(self, part: str) -> dict[str, tuple[str, str]]:
        """``{rId: (type suffix, target path)}`` of a part's relationships, if it has any."""
        folder, base = posixpath.split(part)
        rels = posixpath.join(folder, "_rels", base + ".rels")
        if rels not in self.names:
            return {}
        out: dict[str, tuple[str, str]] = {}
        for rel in self.parse_small(rels):
            if local_name(rel.tag) != "Relationship" or rel.get("TargetMode") == "External":
                continue
            target = rel.get("Target", "")
            path = target.lstrip("/") if target.startswith("/") else posixpath.join(folder, target)
            out[rel.get("Id", "")] = (
                rel.get("Type", "").rsplit("/", 1)[-1],
                posixpath.normpath(path),
            )
        return out

    def _locate_parts(self) -> None:
        workbook = next(
            (p for t, p in self.relationships("").values() if t == "officeDocument"),
            "xl/workbook.xml",
        )
        root = self.parse_small(workbook)
        rels = self.relationships(workbook)
        sheet_rid = None
        self.epoch = WINDOWS_EPOCH
        for el in root.iter():
            name = local_name(el.tag)
            if name == "workbookPr" and el.get("date1904") in ("1", "true"):
                self.epoch = MAC_EPOCH
            elif (
                name == "sheet"
                and sheet_rid is None
                and el.get("state", "visible") not in ("hidden", "veryHidden")
            ):
                sheet_rid = el.get(f"{{{_REL_NS}}}id") or el.get(f"{{{_STRICT_REL_NS}}}id")
        if sheet_rid is None or sheet_rid not in rels:
            raise ImportFileError("The workbook has no visible worksheet.")
        self.sheet_part = rels[sheet_rid][1]
        by_type = {t: p for t, p in rels.values()}
        self.shared_strings_part = by_type.get("sharedStrings")
        self.date_styles = self._date_styles(by_type.get("styles"))

    def _date_styles(self, part: str | None) -> frozenset[int]:
        """Indexes of the cell formats that show numbers as dates."""
        if part is None or part not in self.names:
            return frozenset()
        root = self.parse_small(part)
        custom: dict[int, str] = {}
        formats: list[int] = []
        for el in root.iter():
            name = local_name(el.tag)
            if name == "numFmt":
                try:
                    custom[int(el.get("numFmtId", ""))] = el.get("formatCode", "")
                except ValueError:
                    continue
            elif name == "cellXfs":
                for xf in el:
                    if local_name(xf.tag) == "xf":
                        try:
                            formats.append(int(xf.get("numFmtId", "0")))
                        except ValueError:
                            formats.append(0)
        dates = set()
        for index, fmt_id in enumerate(formats):
            code = custom.get(fmt_id) or BUILTIN_FORMATS.get(fmt_id, "")
            if code and is_date_format(code):
                dates.add(index)
        return frozenset(dates)

    def inflated_size(self) -> int:
        """What the worksheet and its texts say they inflate to (for progress estimates)."""
        parts = [self.sheet_part, self.shared_strings_part]
        return sum(self.names[p].file_size for p in parts if p and p in self.names)
