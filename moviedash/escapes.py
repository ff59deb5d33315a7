"""The course file's ``<e5>``-style escapes of Latin-1 letters."""
from __future__ import annotations

import re

_ESCAPE_RE = re.compile(r"<([0-9a-fA-F]{2})>")


def decode_escapes(text: str) -> str:
    """Turn ``<e5>``-style Latin-1 escapes into letters (``p<e5>`` → ``på``)."""
    if "<" not in text:
        return text
    return _ESCAPE_RE.sub(lambda m: bytes([int(m.group(1), 16)]).decode("latin-1"), text)
