"""Files the fake serves (users' photos) and the photos it fetches for ``sendPhoto``.

Zalo has no file upload: a user's photo reaches the bot as a URL on Zalo's servers, and
the bot sends a photo by giving a URL Zalo downloads. The fake plays both sides: it
serves users' photos under ``/files/<name>`` (no token, like a CDN link) and, for
``sendPhoto``, fetches the bot's URL with a timeout and keeps the bytes.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import aiohttp

from .errors import bad_request


@dataclass
class StoredFile:
    """A file served under ``/files/<name>``."""

    name: str
    data: bytes
    content_type: str


@dataclass
class FetchedPhoto:
    """What ``sendPhoto`` downloaded from the bot's URL."""

    data: bytes
    content_type: str


class FileStore:
    """Files by name; names are content hashes, so they are opaque and stable."""

    def __init__(self) -> None:
        self._files: dict[str, StoredFile] = {}

    def add(self, data: bytes, content_type: str = "image/jpeg") -> StoredFile:
        """Store ``data`` and return it with the name it is served under."""
        suffix = {"image/jpeg": ".jpg", "image/png": ".png"}.get(content_type, "")
        name = hashlib.sha256(data + content_type.encode()).hexdigest()[:24] + suffix
        stored = self._files[name] = StoredFile(name, data, content_type)
        return stored

    def get(self, name: str) -> StoredFile | None:
        """The file served as ``/files/<name>``, if any."""
        return self._files.get(name)


async def fetch_photo(url: str, timeout: float, max_bytes: int) -> FetchedPhoto:  # noqa: ASYNC109
    """Download a photo like Zalo would, or refuse with 400 saying why.

    Refused: a URL that is not http(s), no answer within ``timeout`` seconds, a status
    other than 200, a content type that is not ``image/*``, more than ``max_bytes``.
    """
    if not url.startswith(("http://", "https://")):
        raise bad_request("photo must be an http(s) URL")
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout)) as http, \
                http.get(url) as response:
            if response.status != 200:
                raise bad_request(f"photo URL answered HTTP {response.status}")
            content_type = response.content_type or ""
            if not content_type.startswith("image/"):
                raise bad_request(f"photo URL is not an image ({content_type or 'no type'})")
            data = await response.content.read(max_bytes + 1)
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise bad_request(f"photo URL not reachable ({type(exc).__name__})") from exc
    if len(data) > max_bytes:
        raise bad_request(f"photo is larger than {max_bytes} bytes")
    if not data:
        raise bad_request("photo URL returned no data")
    return FetchedPhoto(data, content_type)
