"""What a file really is, from its first bytes (the name and the browser's content type are the sender's say)."""
from __future__ import annotations

import filetype


def sniff_type(head: bytes) -> str | None:
    """The extension that fits the content: pdf, jpg, png, ...; None when unknown."""
    kind = filetype.guess(head[:8192])
    return kind.extension if kind else None


# what a declared type may turn out to be: office files are zip or OLE containers underneath
SAME = {"jpeg": {"jpg"}, "jpg": {"jpg"}, "docx": {"docx", "zip"}, "xlsx": {"xlsx", "zip"},
        "doc": {"doc", "xls", "ppt"}, "xls": {"xls", "doc", "ppt"}}


def content_fits(head: bytes, accepted: set[str]) -> bool:
    """The file's content is one of the accepted types (by extension name, as service specs list them)."""
    found = sniff_type(head)
    return found is not None and any(found in SAME.get(ext, {ext}) for ext in accepted)
