"""Photos users send on Zalo: the update carries the photo's URL; download it, bounded.

Registered as `services.fetchers["zalo"]`: the good-deed flow keeps a copy of each
photo in the database. The URL comes from a user's update, so the download refuses
what is not an image and stops reading past the ward's size limit, whatever the
server claims in Content-Length.
"""

from __future__ import annotations

import httpx

from reporting.services import FileTooLarge


class NotAPhoto(Exception):
    pass


class ZaloFiles:
    """`await files(url, max_bytes)` → the image's bytes."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self._http = http

    async def __call__(self, file_id: str, max_bytes: int) -> bytes:
        if not file_id.startswith(("https://", "http://")):
            raise NotAPhoto("a Zalo photo ref is a URL")
        async with self._http.stream("GET", file_id, follow_redirects=True) as response:
            response.raise_for_status()
            kind = response.headers.get("content-type", "").split(";")[0].strip().lower()
            if not kind.startswith("image/"):
                raise NotAPhoto(f"content type {kind or 'missing'}")
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > max_bytes:
                raise FileTooLarge(f"{declared} bytes")
            data = bytearray()
            async for chunk in response.aiter_bytes():
                data.extend(chunk)
                if len(data) > max_bytes:
                    raise FileTooLarge(f"more than {max_bytes} bytes")
        return bytes(data)
