"""Copies of users' photos in the ward's media folder, so exports work offline."""

from __future__ import annotations

from pathlib import Path


def photo_path(deed_id: int, position: int) -> str:
    """Where a deed's photo lives, relative to the media folder."""
    return f"good-deeds/{deed_id}/{position}.jpg"


def save(media_dir: str | Path, relative: str, data: bytes) -> Path:
    target = Path(media_dir) / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".part")
    tmp.write_bytes(data)
    tmp.replace(target)  # atomic: a half-written photo never looks complete
    return target
