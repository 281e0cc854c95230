"""Refuse xlsx files whose XML declares a DTD, before any XML parser of openpyxl reads them.

An xlsx file is a zip of XML parts. Excel never writes a document type declaration, but a
crafted file can carry one: entity declarations that expand (a "billion laughs" that eats
memory) or external entities that name local files. openpyxl hands the parts to the standard
library's parser, which expands internal entities and fails with a traceback on external ones.
So every part is read up to its root element with expat, and a part with a DOCTYPE or an entity
declaration makes the whole file refused. Parts that are not XML (pictures) stop the check at
their first byte. Shared by every importer that reads xlsx (``config/roster.py``).
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import IO
from xml.parsers import expat

CHUNK = 64 * 1024
# Excel's parts start their root element within the first hundred bytes; a megabyte of prolog
# is not a spreadsheet, and stops a padded part from being scanned forever.
MAX_PROLOG = 1024 * 1024


class _Declared(Exception):
    pass


class _Root(Exception):
    pass


def _declared(*_args: object) -> None:
    raise _Declared


def _root(*_args: object) -> None:
    raise _Root


def _prolog_problem(fh: IO[bytes]) -> str | None:
    parser = expat.ParserCreate()
    parser.StartDoctypeDeclHandler = _declared
    parser.EntityDeclHandler = _declared
    parser.StartElementHandler = _root
    read = 0
    while chunk := fh.read(CHUNK):
        read += len(chunk)
        try:
            parser.Parse(chunk, False)
        except _Declared:
            return "含有 DTD 或实体声明"
        except _Root:
            return None
        except expat.ExpatError:
            return None  # not XML (a picture, a binary part): no parser of ours reads it as XML
        if read > MAX_PROLOG:
            return "开头过长，不是有效的表格内容"
    return None


def xlsx_problem(path: Path) -> str | None:
    """Why ``path`` must not be parsed as a workbook, in Chinese; None if its XML is plain.
    A file that is not a zip at all is left to the reader, which says so."""
    try:
        with zipfile.ZipFile(path) as zf:
            for info in zf.infolist():
                if info.is_dir():
                    continue
                with zf.open(info) as fh:
                    problem = _prolog_problem(fh)
                if problem:
                    return f"文件中的 {info.filename[:80]} {problem}（Excel 不会写出这种内容），已拒绝"
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, RuntimeError,
            OSError, EOFError, ValueError):
        return None
    return None
