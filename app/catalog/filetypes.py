"""What a file really is, from its first bytes (the name and the browser's content type are the sender's say)."""
from __future__ import annotations

import filetype


def sniff_type(head: bytes) -> str | None:
    """The extension that fits the content: pdf, jpg, png, ...; None when unknown."""
    kind = filetype.guess(head[:8192])
    return kind.extension if kind else None
