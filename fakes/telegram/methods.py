"""The Bot API methods the fake implements, with Telegram's validation rules.

Each handler takes a :class:`~fakes.telegram.events.CallInfo`, fills in what it learns (chat,
message, text, buttons) so the call is recorded usefully even when it fails, and either
returns the ``result`` value or raises :class:`~fakes.telegram.errors.ApiError`.  The checks are
ordered like Telegram's: unknown chat, then injected per-chat failures, then content
validation, and only a valid message consumes flood-limit budget.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Awaitable, Callable
from typing import Any, Literal

from .errors import ApiError, bad_request
from .events import CallInfo
from .faults import Faults
from .files import FileStore, StoredFile
from .formatting import ParsedText, parse_reply_markup, prepare_text
from .params import Upload, get_bool, get_chat_id, get_float, get_int, get_str
from .store import ChatStore, StoredMessage
from .updates import UpdateQueue
from .webhook import WebhookPusher

Handler = Callable[[CallInfo], Awaitable[Any]]

# Limits apply to the text after entity parsing and count Unicode code points (a measured
# report says 4096 astral emoji are accepted); entity offsets, by contrast, are UTF-16.
MAX_TEXT = 4096
MAX_CAPTION = 1024
_COMMAND_NAME = re.compile(r"^[a-z0-9_]{1,32}$")
_NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)


class BotMethods:
    """Method implementations sharing the server's state."""

    def __init__(self, store: ChatStore, files: FileStore, faults: Faults,
                 updates: UpdateQueue, *, strict_ampersand: bool) -> None:
        self.store = store
        self.files = files
        self.faults = faults
        self.updates = updates
        self.webhook = WebhookPusher(updates)
        self.strict_ampersand = strict_ampersand
        self.commands: dict[str, list[dict[str, Any]]] = {}

    def table(self) -> dict[str, tuple[str, Handler]]:
        """Lower-cased method name -> (canonical name, handler); names are case-insensitive."""
        handlers: dict[str, Handler] = {
            "getMe": self.get_me, "logOut": self.true, "close": self.true,
            "deleteWebhook": self.delete_webhook, "getWebhookInfo": self.get_webhook_info,
            "setWebhook": self.set_webhook,
            "setMyCommands": self.set_my_commands, "getMyCommands": self.get_my_commands,
            "deleteMyCommands": self.delete_my_commands, "sendChatAction": self.send_chat_action,
            "getUpdates": self.get_updates, "sendMessage": self.send_message,
            "editMessageText": self.edit_message_text,
            "editMessageReplyMarkup": self.edit_message_reply_markup,
            "deleteMessage": self.delete_message, "answerCallbackQuery": self.answer_callback,
            "sendPhoto": self.send_photo, "sendDocument": self.send_document,
            "getFile": self.get_file,
        }
        return {name.lower(): (name, handler) for name, handler in handlers.items()}

    # -- helpers --------------------------------------------------------------------------

    def _chat(self, call: CallInfo) -> int:
        call.chat_id = get_chat_id(call.params)
        self.store.require_chat(call.chat_id)
        self.faults.check_chat(call.chat_id)
        return call.chat_id

    def _text(self, call: CallInfo, key: str, limit: int) -> tuple[ParsedText, str]:
        raw = get_str(call.params, key) or ""
        entities_key = "entities" if key == "text" else "caption_entities"
        parsed, html = prepare_text(raw, get_str(call.params, "parse_mode"),
                                    call.params.get(entities_key),
                                    strict_ampersand=self.strict_ampersand)
        if key == "text" and not parsed.text.strip():
            raise bad_request("message text is empty")
        if len(parsed.text) > limit:
            raise bad_request("message is too long" if key == "text"
                              else "message caption is too long")
        call.text, call.html = parsed.text, html
        return parsed, html

    def _markup(self, call: CallInfo) -> list[list[dict[str, Any]]] | None:
        keyboard, call.buttons = parse_reply_markup(call.params.get("reply_markup"))
        return keyboard

    def _message(self, call: CallInfo, chat_id: int, verb: str) -> StoredMessage:
        if call.params.get("inline_message_id"):
            raise bad_request("the fake Bot API does not support inline messages")
        message_id = get_int(call.params, "message_id", required=True)
        call.message_id = message_id
        stored = self.store.get(chat_id, message_id) if message_id is not None else None
        if stored is None:
            raise bad_request(f"message to {verb} not found")
        return stored

    def _reply_to(self, call: CallInfo, chat_id: int) -> dict[str, Any]:
        reply = call.params.get("reply_parameters")
        target = reply.get("message_id") if isinstance(reply, dict) else None
        target = target if target is not None else get_int(call.params, "reply_to_message_id")
        if target is None:
            return {}
        original = self.store.get(chat_id, int(target))
        if original is None:
            if isinstance(reply, dict) and reply.get("allow_sending_without_reply"):
                return {}
            raise bad_request("message to be replied not found")
        quoted = {key: value for key, value in original.data.items()
                  if key != "reply_to_message"}  # Telegram does not nest replies further
        return {"reply_to_message": quoted}

    @staticmethod
    def _set_content(stored: StoredMessage, parsed: ParsedText, html: str,
                     keyboard: list[list[dict[str, Any]]] | None, call: CallInfo,
                     text_key: Literal["text", "caption"]) -> None:
        entities_key = "entities" if text_key == "text" else "caption_entities"
        for key, value in ((text_key, parsed.text), (entities_key, parsed.entities),
                           ("reply_markup", {"inline_keyboard": keyboard} if keyboard else None)):
            if value:
                stored.data[key] = value
            else:
                stored.data.pop(key, None)
        stored.text, stored.html = parsed.text, html
        stored.keyboard, stored.buttons = keyboard, call.buttons

    # -- simple methods -------------------------------------------------------------------

    async def true(self, call: CallInfo) -> bool:
        return True

    async def get_me(self, call: CallInfo) -> dict[str, Any]:
        return dict(self.store.bot_user)

    async def delete_webhook(self, call: CallInfo) -> bool:
        if get_bool(call.params, "drop_pending_updates"):
            self.updates.drop_all()
        await self.webhook.delete()
        return True

    async def set_webhook(self, call: CallInfo) -> bool:
        url = get_str(call.params, "url") or ""
        if not url:
            await self.webhook.delete()
            return True
        if not url.startswith(("https://", "http://127.", "http://localhost")):
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        secret = get_str(call.params, "secret_token")
        if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", secret):
            raise bad_request("bad webhook: secret token contains unallowed characters")
        if get_bool(call.params, "drop_pending_updates"):
            self.updates.drop_all()
        self.webhook.set(url, secret)
        return True

    async def get_webhook_info(self, call: CallInfo) -> dict[str, Any]:
        return {"url": self.webhook.url or "", "has_custom_certificate": False,
                "pending_update_count": len(self.updates.pending)}

    @staticmethod
    def _commands_key(call: CallInfo) -> str:
        scope = call.params.get("scope") or {"type": "default"}
        return json.dumps([scope, get_str(call.params, "language_code") or ""], sort_keys=True)

    async def set_my_commands(self, call: CallInfo) -> bool:
        commands = call.params.get("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise bad_request("parameter \"commands\" must be an Array of at most 100 commands")
        for command in commands:
            name = command.get("command", "") if isinstance(command, dict) else ""
            description = command.get("description", "") if isinstance(command, dict) else ""
            if not _COMMAND_NAME.match(str(name).lstrip("/")):
                raise bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(str(description)) <= 256:
                raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        self.commands[self._commands_key(call)] = commands
        return True

    async def get_my_commands(self, call: CallInfo) -> list[dict[str, Any]]:
        return self.commands.get(self._commands_key(call), [])

    async def delete_my_commands(self, call: CallInfo) -> bool:
        self.commands.pop(self._commands_key(call), None)
        return True

    async def send_chat_action(self, call: CallInfo) -> bool:
        self._chat(call)
        if not get_str(call.params, "action"):
            raise bad_request("wrong parameter action in request")
        return True

    async def get_updates(self, call: CallInfo) -> list[dict[str, Any]]:
        if self.webhook.active:
            raise ApiError(409, "Conflict: can't use getUpdates method while webhook is "
                                "active; use deleteWebhook to delete the webhook first")
        allowed = call.params.get("allowed_updates")
        return await self.updates.get(
            offset=get_int(call.params, "offset") or 0,
            limit=get_int(call.params, "limit") or 100,
            poll_seconds=get_float(call.params, "timeout", 0.0),
            allowed_updates=allowed if isinstance(allowed, list) else None,
        )

    # -- messages -------------------------------------------------------------------------

    async def send_message(self, call: CallInfo) -> dict[str, Any]:
        chat_id = self._chat(call)
        parsed, html = self._text(call, "text", MAX_TEXT)
        keyboard = self._markup(call)
        extra = self._reply_to(call, chat_id)
        self.faults.take_send_slot(chat_id)
        stored = self.store.new_message(chat_id, from_bot=True, kind="text", fields=extra)
        self._set_content(stored, parsed, html, keyboard, call, "text")
        call.message_id = stored.message_id
        return stored.data

    async def edit_message_text(self, call: CallInfo) -> dict[str, Any]:
        chat_id = self._chat(call)
        stored = self._message(call, chat_id, "edit")
        if stored.kind != "text" or not stored.from_bot:
            raise bad_request("there is no text in the message to edit" if stored.from_bot
                              else "message can't be edited")
        parsed, html = self._text(call, "text", MAX_TEXT)
        keyboard = self._markup(call)
        if (parsed.text == stored.text and parsed.entities == stored.data.get("entities", [])
                and keyboard == stored.keyboard):
            raise bad_request(_NOT_MODIFIED)
        self.faults.take_send_slot(chat_id)
        self._set_content(stored, parsed, html, keyboard, call, "text")
        return self._mark_edited(stored)

    async def edit_message_reply_markup(self, call: CallInfo) -> dict[str, Any]:
        chat_id = self._chat(call)
        stored = self._message(call, chat_id, "edit")
        if not stored.from_bot:
            raise bad_request("message can't be edited")
        keyboard = self._markup(call)
        call.text, call.html = stored.text, stored.html
        if keyboard == stored.keyboard:
            raise bad_request(_NOT_MODIFIED)
        self.faults.take_send_slot(chat_id)
        stored.keyboard, stored.buttons = keyboard, call.buttons
        if keyboard:
            stored.data["reply_markup"] = {"inline_keyboard": keyboard}
        else:
            stored.data.pop("reply_markup", None)
        return self._mark_edited(stored)

    @staticmethod
    def _mark_edited(stored: StoredMessage) -> dict[str, Any]:
        stored.edited = True
        stored.data["edit_date"] = int(time.time())
        return stored.data

    async def delete_message(self, call: CallInfo) -> bool:
        chat_id = self._chat(call)
        message_id = get_int(call.params, "message_id", required=True)
        call.message_id = message_id
        if message_id is None or not self.store.delete(chat_id, message_id):
            raise bad_request("message to delete not found")
        return True

    async def answer_callback(self, call: CallInfo) -> bool:
        query_id = get_str(call.params, "callback_query_id") or ""
        info = self.store.queries.get(query_id)
        if info is None or info.answered:
            raise bad_request(
                "query is too old and response timeout expired or query ID is invalid"
            )
        call.chat_id, call.message_id = info.chat_id, info.message_id
        call.text = get_str(call.params, "text")
        if call.text is not None and len(call.text) > 200:
            raise bad_request("MESSAGE_TOO_LONG")
        info.answered = True
        return True

    # -- files ----------------------------------------------------------------------------

    def _input_file(self, call: CallInfo, key: str) -> StoredFile | Upload:
        """An uploaded part (directly or via ``attach://``) or a ``file_id`` we issued."""
        value = call.params.get(key)
        if isinstance(value, str) and value.startswith("attach://"):
            value = call.params.get(value.removeprefix("attach://"))
        if isinstance(value, Upload):
            return value
        if isinstance(value, str) and (known := self.files.get(value)) is not None:
            return known
        if not value:
            raise bad_request(f"there is no {key} in the request")
        raise bad_request("wrong file identifier/HTTP URL specified")

    async def send_photo(self, call: CallInfo) -> dict[str, Any]:
        chat_id = self._chat(call)
        return self._send_media(call, chat_id, "photo", self._input_file(call, "photo"))

    async def send_document(self, call: CallInfo) -> dict[str, Any]:
        chat_id = self._chat(call)
        return self._send_media(call, chat_id, "document", self._input_file(call, "document"))

    def _send_media(self, call: CallInfo, chat_id: int, kind: Literal["photo", "document"],
                    source: StoredFile | Upload) -> dict[str, Any]:
        parsed, html = self._text(call, "caption", MAX_CAPTION)
        keyboard = self._markup(call)
        extra = self._reply_to(call, chat_id)
        self.faults.take_send_slot(chat_id)
        if kind == "photo":
            extra["photo"] = self.files.photo_sizes(source.data)
        else:
            extra["document"] = self._document(source)
        stored = self.store.new_message(chat_id, from_bot=True, kind=kind, fields=extra)
        self._set_content(stored, parsed, html, keyboard, call, "caption")
        if not parsed.text:  # no caption: nothing to read
            stored.text = stored.html = call.text = call.html = None
        call.message_id = stored.message_id
        return stored.data

    def _document(self, source: StoredFile | Upload) -> dict[str, Any]:
        if isinstance(source, Upload):
            name = source.filename
            suffix = name[name.rfind("."):] if name and "." in name else ""
            source = self.files.add(source.data, kind="document", suffix=suffix,
                                    file_name=name, mime_type=source.content_type)
        document: dict[str, Any] = {"file_id": source.file_id,
                                    "file_unique_id": source.file_unique_id,
                                    "file_size": len(source.data)}
        if source.file_name:
            document["file_name"] = source.file_name
        if source.mime_type:
            document["mime_type"] = source.mime_type
        return document

    async def get_file(self, call: CallInfo) -> dict[str, Any]:
        stored = self.files.get(get_str(call.params, "file_id") or "")
        if stored is None:
            raise bad_request("invalid file_id")
        return stored.file_json()
