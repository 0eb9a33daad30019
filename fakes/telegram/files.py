"""In-memory file storage behind ``getFile`` and the ``/file/bot<token>/...`` download route.

Both directions matter to the bot: users send photos as evidence for reports (the bot calls
``getFile`` and downloads them) and the bot sends generated charts/documents back.  Bytes
stay in memory; file ids are deterministic counters so a demo transcript is reproducible.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

_DEFAULT_SIZE = (1280, 960)
_THUMB_SIDE = 90


@dataclass
class StoredFile:
    """One stored file and the metadata Telegram would report for it."""

    file_id: str
    file_unique_id: str
    file_path: str
    data: bytes
    file_name: str | None = None
    mime_type: str | None = None
    width: int | None = None
    height: int | None = None

    def file_json(self) -> dict[str, Any]:
        """The Bot API ``File`` object returned by ``getFile``."""
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": len(self.data),
            "file_path": self.file_path,
        }


def jpeg_size(data: bytes) -> tuple[int, int] | None:
    """Read (width, height) from a JPEG's SOF marker; ``None`` if it is not a JPEG."""
    if not data.startswith(b"\xff\xd8"):
        return None
    pos = 2
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            return None
        marker = data[pos + 1]
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            pos += 2
            continue
        length = int.from_bytes(data[pos + 2:pos + 4], "big")
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            if pos + 9 > len(data):
                return None
            height = int.from_bytes(data[pos + 5:pos + 7], "big")
            width = int.from_bytes(data[pos + 7:pos + 9], "big")
            return width, height
        pos += 2 + length
    return None


class FileStore:
    """All files the fake knows, addressable by ``file_id`` and by download path."""

    def __init__(self) -> None:
        self._by_id: dict[str, StoredFile] = {}
        self._by_path: dict[str, StoredFile] = {}
        self._counter = itertools.count(1)

    def add(
        self,
        data: bytes,
        *,
        kind: str,
        suffix: str,
        file_name: str | None = None,
        mime_type: str | None = None,
        size: tuple[int, int] | None = None,
    ) -> StoredFile:
        """Store bytes and mint ids for them."""
        number = next(self._counter)
        stored = StoredFile(
            file_id=f"{kind}-{number:06d}",
            file_unique_id=f"u{number:06d}",
            file_path=f"{kind}s/file_{number}{suffix}",
            data=data,
            file_name=file_name,
            mime_type=mime_type,
            width=size[0] if size else None,
            height=size[1] if size else None,
        )
        self._by_id[stored.file_id] = stored
        self._by_path[stored.file_path] = stored
        return stored

    def get(self, file_id: str) -> StoredFile | None:
        """Look a file up by ``file_id``."""
        return self._by_id.get(file_id)

    def by_path(self, file_path: str) -> StoredFile | None:
        """Look a file up by the ``file_path`` that ``getFile`` handed out."""
        return self._by_path.get(file_path)

    def photo_sizes(self, data: bytes) -> list[dict[str, Any]]:
        """Store a photo as Telegram does: a small thumbnail first, the full size last.

        The fake cannot resize images, so both entries serve the same bytes; only the
        reported dimensions differ.  Bots should (and ours does) take ``photo[-1]``.
        """
        width, height = jpeg_size(data) or _DEFAULT_SIZE
        scale = _THUMB_SIDE / max(width, height, 1)
        thumb = (max(1, round(width * scale)), max(1, round(height * scale)))
        sizes = []
        for dims in (thumb, (width, height)):
            stored = self.add(data, kind="photo", suffix=".jpg", mime_type="image/jpeg",
                              size=dims)
            sizes.append({
                "file_id": stored.file_id,
                "file_unique_id": stored.file_unique_id,
                "width": dims[0],
                "height": dims[1],
                "file_size": len(data),
            })
        return sizes
