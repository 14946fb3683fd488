"""Streamed CSV and JSON writers shared by the ticket and the conversation exports.

Exports of 10,000s of rows are produced chunk by chunk (Flask streams them, the
CLI writes them), and every CSV cell is made safe to open in a spreadsheet.
"""
from __future__ import annotations

import csv
import io
import json
from typing import Any, Iterable, Iterator


def csv_cell(value: Any) -> str:
    """A CSV cell a spreadsheet will not run: customer text starting with = + - @ is quoted with '."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    text = str(value)
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + text
    return text


def csv_lines(header: Iterable[str], rows: Iterable[Iterable[Any]]) -> Iterator[str]:
    """The CSV text in chunks of about 64 kB."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(list(header))
    for row in rows:
        writer.writerow([csv_cell(v) for v in row])
        if buffer.tell() > 64_000:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def json_array(items: Iterable[dict[str, Any]]) -> Iterator[str]:
    """A JSON array streamed item by item (exports of 10,000s of rows stay small in memory)."""
    yield "["
    for i, item in enumerate(items):
        yield ("," if i else "") + "\n  " + json.dumps(item, ensure_ascii=False)
    yield "\n]\n"
