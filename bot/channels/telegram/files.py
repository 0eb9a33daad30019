"""Files users send on Telegram: getFile and download, within the ward's size limit."""

from __future__ import annotations

from telegram.ext import Application

from reporting.services import FileTooLarge


class TelegramFiles:
    """getFile + download, refusing files over the ward's size limit before fetching."""

    def __init__(self, app: Application) -> None:  # type: ignore[type-arg]
        self._app = app

    async def __call__(self, file_id: str, max_bytes: int) -> bytes:
        file = await self._app.bot.get_file(file_id)
        if file.file_size is not None and file.file_size > max_bytes:
            raise FileTooLarge(f"{file.file_size} bytes")
        data = bytes(await file.download_as_bytearray())
        if len(data) > max_bytes:
            raise FileTooLarge(f"{len(data)} bytes")
        return data
