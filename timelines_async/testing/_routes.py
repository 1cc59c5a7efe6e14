"""The API's operations: one handler per method and path, routed without regular expressions.

`Api.route(method, path)` finds the handler for a path below the API prefix
(`/chats/1000001/labels`); a handler checks its input as the API does (400
`validation_error` with `errors[].fields`), changes the `WorkspaceState` and
returns the envelope.
"""

from __future__ import annotations

import hashlib
import mimetypes
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import unquote, urlsplit

from ._checks import (
    MAX_CAPTION,
    MAX_CHAT_NAME,
    MAX_CONTENT_TYPE,
    MAX_FILENAME,
    MAX_LABEL,
    MAX_NOTE,
    MAX_REACTION,
    MAX_TEXT,
    MAX_URL,
    bool_field,
    bool_query,
    json_object,
    page_number,
    required_string,
    string_field,
)
from ._filters import CHAT_FILTERS, chat_filter
from ._records import (
    AccountRecord,
    ChatRecord,
    FileRecord,
    MessageRecord,
    TeammateRecord,
    WebhookRecord,
)
from ._render import (
    ChatJsonCache,
    render_account,
    render_chat,
    render_file,
    render_message,
    render_reactions,
    render_teammate,
    render_webhook,
)
from ._state import PAGE_SIZE, Attachment, WorkspaceState, international_phone
from ._wire import (
    JSON_CONTENT_TYPE,
    ApiFailure,
    Request,
    Response,
    empty_ok,
    field_error,
    json_response,
    ok,
    parse_multipart,
)

__all__ = ["DOWNLOAD_PATH", "DOWNLOAD_TTL", "Api", "Handler", "RouteMatch"]

Handler = Callable[[Request, tuple[str, ...]], Response]
RouteMatch = tuple[Handler, tuple[str, ...]]

DOWNLOAD_PATH = "/fake-files/"
#: Temporary download URLs are valid this long on the fake's clock.
DOWNLOAD_TTL = 15 * 60.0
WEBHOOK_LIMIT = 10
EVENT_TYPES = frozenset(
    {
        "message:new", "message:sent:new", "message:received:new", "message:reaction",
        "chat:new", "chat:incoming:new", "chat:outgoing:new", "chat:responsible:assigned",
        "chat:responsible:unassigned", "call:incoming:missed", "call:incoming:ended",
        "call:outgoing:ended", "whatsapp:account:connected", "whatsapp:account:disconnected",
        "whatsapp:account:suspended", "whatsapp:account:resumed", "waba:message:received",
        "waba:message:delivered", "waba:message:failed", "waba:message:read",
        "waba:chat:incoming", "waba:chat:outgoing", "waba:chat:assigned", "waba:chat:unassigned",
        "waba:chat:closed", "waba:chat:reopened", "waba:account:active", "waba:account:disabled",
        "waba:account:disconnected", "waba:template:approved", "waba:template:rejected",
        "waba:template:disabled",
    }
)  # fmt: skip
ROLES = frozenset({"admin", "team_supervisor", "teammate", "agent", "collaborator"})


class Api:
    """The handlers, bound to one workspace."""

    def __init__(self, space: WorkspaceState, *, max_upload_size: int) -> None:
        self.space = space
        self.max_upload_size = max_upload_size
        self._chat_json = ChatJsonCache(space)
        table: list[tuple[str, str, Handler]] = [
            ("GET", "/chats", self.list_chats),
            ("GET", "/chats/{}", self.get_chat),
            ("PATCH", "/chats/{}", self.update_chat),
            ("GET", "/chats/{}/messages", self.list_messages),
            ("POST", "/chats/{}/messages", self.send_to_chat),
            ("POST", "/chats/{}/file_message", self.send_file),
            ("POST", "/chats/{}/voice_message", self.send_voice),
            ("GET", "/chats/{}/labels", self.get_labels),
            ("PUT", "/chats/{}/labels", self.add_labels),
            ("POST", "/chats/{}/labels", self.replace_labels),
            ("POST", "/chats/{}/notes", self.add_note),
            ("GET", "/messages/{}", self.get_message),
            ("GET", "/messages/{}/status_history", self.status_history),
            ("GET", "/messages/{}/reactions", self.get_reactions),
            ("PATCH", "/messages/{}/reactions", self.set_reaction),
            ("POST", "/messages", self.send_to_phone),
            ("POST", "/messages/to_jid", self.send_to_jid),
            ("POST", "/messages/to_chat_name", self.send_to_chat_name),
            ("GET", "/files", self.list_files),
            ("POST", "/files", self.upload_from_url),
            ("GET", "/files/{}", self.get_file),
            ("DELETE", "/files/{}", self.delete_file),
            ("POST", "/files_upload", self.upload_file),
            ("GET", "/whatsapp_accounts", self.whatsapp_accounts),
            ("GET", "/workspace", self.workspace),
            ("GET", "/workspace/quotas", self.quotas),
            ("GET", "/quotas", self.quotas),
            ("GET", "/workspace/teammates", self.teammates),
            ("GET", "/teammates", self.teammates),
            ("GET", "/workspace/teammates/me", self.me),
            ("POST", "/workspace/invitations", self.invite),
            ("DELETE", "/workspace/invitations/{}", self.revoke_invitation),
            ("GET", "/webhooks", self.list_webhooks),
            ("POST", "/webhooks", self.create_webhook),
            ("GET", "/webhooks/{}", self.get_webhook),
            ("PUT", "/webhooks/{}", self.update_webhook),
            ("DELETE", "/webhooks/{}", self.delete_webhook),
        ]
        self._static: dict[tuple[str, str], Handler] = {}
        self._patterns: dict[int, list[tuple[str, tuple[str | None, ...], Handler]]] = {}
        self._known_paths: set[str] = set()
        for method, pattern, handler in table:
            if "{}" in pattern:
                segments = tuple(None if s == "{}" else s for s in pattern.split("/"))
                self._patterns.setdefault(len(segments), []).append((method, segments, handler))
            else:
                self._static[(method, pattern)] = handler
                self._known_paths.add(pattern)
        #: The operations that send a WhatsApp message (and may lose their answer).
        self.send_handlers = frozenset(
            {
                self.send_to_chat, self.send_file, self.send_voice, self.send_to_phone,
                self.send_to_jid, self.send_to_chat_name,
            }
        )  # fmt: skip

    def route(self, method: str, path: str) -> RouteMatch:
        """The handler and path arguments for a request; 404 or 405 when there is none."""
        handler = self._static.get((method, path))
        if handler is not None:
            return handler, ()
        segments = path.split("/")
        path_known = path in self._known_paths
        for pattern_method, pattern, candidate in self._patterns.get(len(segments), ()):
            if all(p is None or p == s for p, s in zip(pattern, segments, strict=True)):
                args = tuple(
                    unquote(s) for p, s in zip(pattern, segments, strict=True) if p is None
                )
                if all(args):
                    if pattern_method == method:
                        return candidate, args
                    path_known = True
        if path_known:
            raise ApiFailure(405, "Method Not Allowed")
        raise ApiFailure(404, "Not found", "not_found")

    # -- chats ---------------------------------------------------------------

    def _chat(self, raw_id: str) -> ChatRecord:
        if not raw_id.isdigit():
            raise ApiFailure(404, f"Whatsapp chat_id {raw_id} not found", "not_found")
        return self.space.chat(int(raw_id))

    def list_chats(self, request: Request, args: tuple[str, ...]) -> Response:
        query = request.query
        page = page_number(query)
        matches = chat_filter(query, self.space.clock)
        key = tuple((name, query[name]) for name in CHAT_FILTERS if name in query)
        listing = self.space.list_chats(key, matches)
        start = (page - 1) * PAGE_SIZE
        chats = listing[start : start + PAGE_SIZE]
        has_more = start + PAGE_SIZE < len(listing)
        if bool_query(query, "with_msg"):
            rendered = [render_chat(self.space, chat, with_msg=True) for chat in chats]
            return ok({"has_more_pages": has_more, "chats": rendered})
        body = b'{"status":"ok","data":{"has_more_pages":%s,"chats":[%s]}}' % (
            b"true" if has_more else b"false",
            b",".join(map(self._chat_json, chats)),
        )
        return Response(200, body, [("content-type", JSON_CONTENT_TYPE)])

    def get_chat(self, request: Request, args: tuple[str, ...]) -> Response:
        return ok(render_chat(self.space, self._chat(args[0])))

    def update_chat(self, request: Request, args: tuple[str, ...]) -> Response:
        chat = self._chat(args[0])
        body = json_object(request)
        name = string_field(body, "name", MAX_CHAT_NAME, allow_empty=False)
        responsible = string_field(body, "responsible", 254)
        flags = {
            flag: bool_field(body, flag)
            for flag in ("closed", "read", "chatgpt_autoresponse_enabled")
        }
        teammate: TeammateRecord | None = None
        if responsible:
            teammate = self.space.teammate_by_email(responsible)
            if teammate is None:
                raise field_error("responsible", f"no teammate with the email {responsible!r}")
        if name is not None:
            self.space.rename(chat, name)
        for flag, value in flags.items():
            if value is not None:
                setattr(chat, flag, value)
        if responsible is not None:
            self._assign(chat, teammate)
        return ok(render_chat(self.space, chat))

    def _assign(self, chat: ChatRecord, teammate: TeammateRecord | None) -> None:
        previous = (chat.responsible_name, chat.responsible_email)
        new_email = teammate.email if teammate else None
        if new_email == chat.responsible_email:
            return
        chat.responsible_email = new_email
        chat.responsible_name = teammate.display_name if teammate else None
        extra = {}
        if previous[1] is not None:
            extra = {
                "previous_responsible_name": previous[0],
                "previous_responsible_email": previous[1],
            }
        event = "chat:responsible:assigned" if teammate else "chat:responsible:unassigned"
        self.space.fire(event, chat, **extra)

    # -- messages ------------------------------------------------------------

    def list_messages(self, request: Request, args: tuple[str, ...]) -> Response:
        chat = self._chat(args[0])
        query = request.query
        order = query.get("sorting_order", "desc").lower()
        if order not in ("asc", "desc"):
            raise field_error("sorting_order", "must be 'asc' or 'desc'")
        from_me = bool_query(query, "from_me")
        bounds: dict[str, float] = {}
        for name in ("after", "before"):
            if query.get(name):
                bound = self.space.clock.from_text(query[name])
                if bound is None:
                    raise field_error(name, "invalid date or datetime")
                bounds[name] = bound
        history = self.space.history(chat)
        low, high = 0, len(history)  # the candidates are history[low:high]
        for name, keep_after in (("after_message", True), ("before_message", False)):
            uid = query.get(name)
            if uid:
                position = chat.positions.get(uid)
                if position is None:
                    raise ApiFailure(404, f"Message uid {uid} not found", "not_found")
                if keep_after:
                    low = max(low, position + 1)
                else:
                    high = min(high, position)
        indexes = range(low, high) if order == "asc" else range(high - 1, low - 1, -1)
        after, before = bounds.get("after"), bounds.get("before")
        # `page` is undocumented on messages but used by other clients: skip whole pages.
        skip = (page_number(query) - 1) * PAGE_SIZE
        page: list[MessageRecord] = []
        has_more = False
        for index in indexes:
            message = history[index]
            if from_me is not None and message.from_me is not from_me:
                continue
            second = message.at // 1  # the API's timestamps have whole seconds
            if after is not None and second < after:
                if order == "asc":
                    continue
                break
            if before is not None and second > before:
                if order == "desc":
                    continue
                break
            if skip:
                skip -= 1
                continue
            if len(page) == PAGE_SIZE:
                has_more = True
                break
            page.append(message)
        messages = [render_message(self.space, message) for message in page]
        return ok({"has_more_pages": has_more, "messages": messages})

    def get_message(self, request: Request, args: tuple[str, ...]) -> Response:
        return ok(render_message(self.space, self.space.message(args[0])))

    def status_history(self, request: Request, args: tuple[str, ...]) -> Response:
        message = self.space.message(args[0])
        text = self.space.clock.text
        steps = self.space.status_history(message)
        return ok([{"status": status, "timestamp": text(at)} for status, at in steps])

    def get_reactions(self, request: Request, args: tuple[str, ...]) -> Response:
        return ok(render_reactions(self.space, self.space.message(args[0])))

    def set_reaction(self, request: Request, args: tuple[str, ...]) -> Response:
        message = self.space.message(args[0])
        body = json_object(request)
        emoji = required_string(body, "reaction", MAX_REACTION)
        chat = self.space.chat(message.chat_id)
        account = self.space.account(chat.whatsapp_account_id)
        if emoji:
            message.reactions[account.phone] = (account.account_name, emoji)
        else:
            message.reactions.pop(account.phone, None)
        counts = render_reactions(self.space, message)["reactions"]
        self.space.fire(
            "message:reaction",
            chat,
            message_uid=message.uid,
            action="set" if emoji else "clear",
            emoji=emoji,
            reactor={"full_name": account.account_name, "phone": account.phone.lstrip("+")},
            timestamp=self.space.clock.text(self.space.clock.now()),
            reactions=counts,
        )
        return ok({"message_uid": message.uid})

    # -- sends ---------------------------------------------------------------

    def _common_send_fields(
        self, body: Mapping[str, Any], chat_hint: ChatRecord | None
    ) -> tuple[str | None, Attachment | None, str | None, str | None]:
        """(text, attachment, label, reply_to) of a JSON send, checked as the API does."""
        text = string_field(body, "text", MAX_TEXT)
        label = string_field(body, "label", MAX_LABEL)
        string_field(body, "chat_name", MAX_CHAT_NAME)
        file_uid = string_field(body, "file_uid", 256)
        template = body.get("attachment_template_id")
        if template is not None and (not isinstance(template, int) or isinstance(template, bool)):
            raise field_error("attachment_template_id", "value is not a valid integer")
        reply_to = string_field(body, "reply_to", 256) or None
        attachment: Attachment | None = None
        if file_uid:
            file = self.space.files.get(file_uid)
            if file is None or file.deleted:
                raise ApiFailure(404, f"File uid {file_uid} not found", "not_found")
            attachment = (file.filename, file.mimetype, file.size, file.uid)
        elif template is not None:
            attachment = (f"template-{template}", "application/octet-stream", 0, None)
        if not text and attachment is None:
            raise ApiFailure(
                400,
                "A message needs text, file_uid or attachment_template_id",
                "validation_error",
                errors=[{"fields": ["text"], "msg": "text, file_uid or attachment_template_id"}],
            )
        if reply_to is not None:
            replied = self.space.message(reply_to)
            if chat_hint is not None and replied.chat_id != chat_hint.id:
                raise field_error("reply_to", "the message replied to is in another chat")
        return text or None, attachment, label or None, reply_to

    def _sent(self, message: MessageRecord) -> Response:
        return ok({"message_uid": message.uid})

    def send_to_chat(self, request: Request, args: tuple[str, ...]) -> Response:
        chat = self._chat(args[0])
        body = json_object(request)
        text, attachment, label, reply_to = self._common_send_fields(body, chat)
        self._check_can_message(chat)
        return self._sent(
            self.space.send(chat, text=text, attachment=attachment, label=label, reply_to=reply_to)
        )

    def _check_can_message(self, chat: ChatRecord) -> None:
        if not chat.is_allowed_to_message:
            raise ApiFailure(
                400, "Sending messages to this chat is not allowed", "validation_error"
            )

    def _sender(self, body: Mapping[str, Any]) -> AccountRecord:
        """The account a phone or JID send goes out from: the one named, else the default."""
        raw = string_field(body, "whatsapp_account_phone", 64)
        if not raw:
            return self.space.default_account()
        phone = international_phone(raw)
        if phone is None:
            raise field_error("whatsapp_account_phone", "invalid phone number format")
        account = self.space.account_by_phone(phone)
        if account is not None:
            return account
        raise ApiFailure(
            404, f"WhatsApp account with phone {raw} not found in the workspace", "not_found"
        )

    def send_to_phone(self, request: Request, args: tuple[str, ...]) -> Response:
        """A send to the contact's chat on the sending number, created if there is none.

        The sending number is `whatsapp_account_phone`, else the most recently
        connected account (the API's documented default): with several numbers,
        a send without one goes to that account's chat with the contact, even
        when the contact's chat on another number is more recently active.
        """
        body = json_object(request)
        raw_phone = required_string(body, "phone", 64)
        phone = international_phone(raw_phone)
        if phone is None:
            raise field_error("phone", "invalid phone number format")
        account = self._sender(body)
        text, attachment, label, _ = self._common_send_fields(body, None)
        chat = self.space.direct_chat(phone, account)
        if chat is None:
            cost = 2 if text and attachment else 1
            self.space.check_send_allowed(cost)
            chat = self.space.create_chat(
                phone=phone,
                jid=phone[1:] + "@s.whatsapp.net",
                name=string_field(body, "chat_name", MAX_CHAT_NAME),
                account=account,
            )
            self._chat_created(chat)
        return self._sent(self.space.send(chat, text=text, attachment=attachment, label=label))

    def _chat_created(self, chat: ChatRecord) -> None:
        self.space.fire("chat:new", chat)
        self.space.fire("chat:outgoing:new", chat)

    def send_to_jid(self, request: Request, args: tuple[str, ...]) -> Response:
        body = json_object(request)
        jid = required_string(body, "jid", 256, allow_empty=False)
        account = self._sender(body)
        chat = self._jid_chat(jid, account)
        text, attachment, label, reply_to = self._common_send_fields(body, chat)
        if chat is None:
            user, _, server = jid.partition("@")
            if server != "s.whatsapp.net" or international_phone("+" + user) is None:
                raise ApiFailure(404, f"Chat with jid {jid} not found", "not_found")
            self.space.check_send_allowed(2 if text and attachment else 1)
            chat = self.space.create_chat(phone="+" + user, jid=jid, name=None, account=account)
            self._chat_created(chat)
        self._check_can_message(chat)
        message = self.space.send(
            chat, text=text, attachment=attachment, label=label, reply_to=reply_to
        )
        return self._sent(message)

    def _jid_chat(self, jid: str, account: AccountRecord) -> ChatRecord | None:
        """A group by its JID; a contact's JID names its chat on the sending number."""
        if jid.endswith("@s.whatsapp.net"):
            return self.space.direct_chat("+" + jid.partition("@")[0], account)
        return self.space.chat_by_jid(jid)

    def send_to_chat_name(self, request: Request, args: tuple[str, ...]) -> Response:
        body = json_object(request)
        name = required_string(body, "chat_name", MAX_CHAT_NAME, allow_empty=False)
        chat = self.space.chat_by_name(name)
        if chat is None:
            raise ApiFailure(404, f"Chat named {name!r} not found", "not_found")
        text, attachment, label, reply_to = self._common_send_fields(body, chat)
        self._check_can_message(chat)
        return self._sent(
            self.space.send(chat, text=text, attachment=attachment, label=label, reply_to=reply_to)
        )

    def _upload(self, request: Request) -> tuple[bytes, str, str, dict[str, str]]:
        """(content, filename, mimetype, other text fields) of a multipart upload."""
        if len(request.body) > self.max_upload_size:
            raise ApiFailure(
                413,
                f"The file is larger than the {self.max_upload_size} bytes allowed",
                "validation_error",
            )
        parts = parse_multipart(request)
        file = parts.get("file")
        if file is None:
            raise field_error("file", "field required")
        fields = {name: part.content.decode("utf-8", "replace") for name, part in parts.items()}
        for name, value in fields.items():
            if name != "file" and "\x00" in value:
                raise field_error(name, "must not contain NUL (\\u0000) characters")
        for name, limit in (
            ("filename", MAX_FILENAME), ("content_type", MAX_CONTENT_TYPE), ("caption", MAX_CAPTION)
        ):  # fmt: skip
            string_field(fields, name, limit)
        filename = fields.get("filename") or file.filename or "file"
        mimetype = (
            fields.get("content_type")
            or file.content_type
            or mimetypes.guess_type(filename)[0]
            or "application/octet-stream"
        )
        return file.content, filename, mimetype, fields

    def send_file(self, request: Request, args: tuple[str, ...]) -> Response:
        chat = self._chat(args[0])
        content, filename, mimetype, fields = self._upload(request)
        self._check_can_message(chat)
        caption = fields.get("caption") or None
        message = self.space.send(
            chat, text=caption, attachment=(filename, mimetype, len(content), None)
        )
        return self._sent(message)

    def send_voice(self, request: Request, args: tuple[str, ...]) -> Response:
        chat = self._chat(args[0])
        content, filename, mimetype, _ = self._upload(request)
        self._check_can_message(chat)
        message = self.space.send(
            chat, text=None, attachment=(filename, mimetype, len(content), None), kind="voice"
        )
        return self._sent(message)

    # -- labels and notes ----------------------------------------------------

    def _labels_body(self, request: Request) -> list[str]:
        body = json_object(request)
        labels = body.get("labels")
        if not isinstance(labels, list):
            raise field_error("labels", "value is not a valid list")
        for index, label in enumerate(labels):
            if not isinstance(label, str) or not label.strip():
                raise field_error(["labels", index], "must be a non-empty string")
            if len(label) > MAX_LABEL:
                raise field_error(
                    ["labels", index], f"ensure this value has at most {MAX_LABEL} characters"
                )
        return labels

    def get_labels(self, request: Request, args: tuple[str, ...]) -> Response:
        return ok({"labels": list(self._chat(args[0]).labels)})

    def add_labels(self, request: Request, args: tuple[str, ...]) -> Response:
        chat = self._chat(args[0])
        self.space.add_labels(chat, self._labels_body(request))
        return ok({"labels": list(chat.labels)})

    def replace_labels(self, request: Request, args: tuple[str, ...]) -> Response:
        chat = self._chat(args[0])
        self.space.replace_labels(chat, self._labels_body(request))
        return ok({"labels": list(chat.labels)})

    def add_note(self, request: Request, args: tuple[str, ...]) -> Response:
        chat = self._chat(args[0])
        if request.content_type == "text/plain":
            try:
                text: str | None = request.body.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise ApiFailure(400, str(exc), "validation_error") from exc
            if text is not None and "\x00" in text:
                raise field_error("text", "must not contain NUL (\\u0000) characters")
            if text is not None and len(text) > MAX_NOTE:
                raise field_error("text", f"ensure this value has at most {MAX_NOTE} characters")
        else:
            body = json_object(request)
            text = string_field(body, "text", MAX_NOTE, required=True)
            bool_field(body, "is_private")
        if not text or not text.strip():
            raise field_error("text", "must not be empty")
        return ok({"message_uid": self.space.add_note(chat, text).uid})

    # -- files ---------------------------------------------------------------

    def _file(self, uid: str) -> FileRecord:
        file = self.space.files.get(uid)
        if file is None or file.deleted:
            raise ApiFailure(404, f"File uid {uid} not found", "not_found")
        return file

    def download_url(self, file_uid: str, origin: str) -> str:
        """A URL on the fake itself that serves the file for `DOWNLOAD_TTL` seconds."""
        expires = int(self.space.clock.now() + DOWNLOAD_TTL)
        return f"{origin}{DOWNLOAD_PATH}{file_uid}?expires={expires}&signature=" + (
            self.signature(file_uid, expires)
        )

    def signature(self, file_uid: str, expires: int) -> str:
        return hashlib.sha256(f"{self.space.seed}:{file_uid}:{expires}".encode()).hexdigest()[:32]

    def list_files(self, request: Request, args: tuple[str, ...]) -> Response:
        needle = request.query.get("filename", "").casefold()
        files = [
            render_file(self.space, file, None)
            for file in self.space.files.values()
            if not file.deleted and needle in file.filename.casefold()
        ]
        return ok(files)

    def get_file(self, request: Request, args: tuple[str, ...]) -> Response:
        file = self._file(args[0])
        return ok(render_file(self.space, file, self.download_url(file.uid, request.origin)))

    def delete_file(self, request: Request, args: tuple[str, ...]) -> Response:
        self._file(args[0]).deleted = True
        return empty_ok()

    def _store_file(
        self, content: bytes, filename: str, mimetype: str, source_url: str | None = None
    ) -> FileRecord:
        file = FileRecord(
            uid=self.space.new_uid(),
            filename=filename,
            size=len(content),
            mimetype=mimetype,
            uploaded_by_email=self.space.me.email,
            uploaded_at=self.space.clock.now(),
            content=content,
            source_url=source_url,
        )
        self.space.files[file.uid] = file
        return file

    def upload_file(self, request: Request, args: tuple[str, ...]) -> Response:
        content, filename, mimetype, _ = self._upload(request)
        file = self._store_file(content, filename, mimetype)
        return ok(render_file(self.space, file, self.download_url(file.uid, request.origin)))

    def upload_from_url(self, request: Request, args: tuple[str, ...]) -> Response:
        body = json_object(request)
        url = required_string(body, "download_url", MAX_URL, allow_empty=False)
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise field_error("download_url", "must be a valid http(s) URL")
        filename = string_field(body, "filename", MAX_FILENAME) or (
            unquote(parts.path.rsplit("/", 1)[-1]) or "download"
        )
        mimetype = (
            string_field(body, "content_type", MAX_CONTENT_TYPE)
            or mimetypes.guess_type(filename)[0]
            or "application/octet-stream"
        )
        placeholder = f"placeholder for {url}\n".encode()
        file = self._store_file(placeholder, filename, mimetype, source_url=url)
        return ok(render_file(self.space, file, self.download_url(file.uid, request.origin)))

    # -- workspace -----------------------------------------------------------

    def whatsapp_accounts(self, request: Request, args: tuple[str, ...]) -> Response:
        accounts = [render_account(self.space, account) for account in self.space.accounts]
        return ok({"whatsapp_accounts": accounts})

    def _quotas(self) -> dict[str, Any]:
        space = self.space
        period = {
            "period_start": space.clock.text(-15 * 86_400.0),
            "period_end": space.clock.text(15 * 86_400.0),
        }
        return {
            "seats": {"total": 10, "used": len(space.teammates), **period},
            "messaging_quota": {"total": space.credits_total, "used": space.credits_used, **period},
            "api_calls_quota": {"total": 200_000, "used": space.api_calls_used, **period},
            "non_recurring_quota": {
                "remaining_balance": 0,
                "last_updated_at": space.clock.text(-30 * 86_400.0),
            },
        }

    def workspace(self, request: Request, args: tuple[str, ...]) -> Response:
        info = {"workspace_id": "acme-fake", "display_name": "Acme (fake)", "plan": "Business"}
        return ok({**info, **self._quotas()})

    def quotas(self, request: Request, args: tuple[str, ...]) -> Response:
        return ok(self._quotas())

    def teammates(self, request: Request, args: tuple[str, ...]) -> Response:
        teams = sorted({teammate.team for teammate in self.space.teammates})
        return ok(
            {
                "teams": [{"title": title} for title in teams],
                "teammates": [render_teammate(self.space, t) for t in self.space.teammates],
            }
        )

    def me(self, request: Request, args: tuple[str, ...]) -> Response:
        return ok(render_teammate(self.space, self.space.me))

    def invite(self, request: Request, args: tuple[str, ...]) -> Response:
        body = json_object(request)
        email = required_string(body, "email", 254, allow_empty=False)
        if "@" not in email.strip("@"):
            raise field_error("email", "value is not a valid email address")
        first = string_field(body, "first_name", 150) or ""
        last = string_field(body, "last_name", 150) or ""
        team = string_field(body, "team_title", 256) or "Default team"
        role = (string_field(body, "role", 32) or "teammate").lower()
        if role not in ROLES:
            raise field_error("role", f"must be one of {', '.join(sorted(ROLES))}")
        teammate = self.space.teammate_by_email(email)
        if teammate is None:
            teammate = TeammateRecord(
                user_id=max(t.user_id for t in self.space.teammates) + 1,
                display_name=f"{first} {last}".strip() or email.split("@", 1)[0],
                email=email,
                role=role,
                team=team,
                status="Invited",
                invitation_status="Pending",
                created_at=self.space.clock.now(),
            )
            self.space.teammates.append(teammate)
        elif teammate.role != "owner":
            teammate.role, teammate.team = role, team
        return ok(render_teammate(self.space, teammate))

    def revoke_invitation(self, request: Request, args: tuple[str, ...]) -> Response:
        teammates = self.space.teammates
        found = [t for t in teammates if str(t.user_id) == args[0]]
        if not found:
            raise ApiFailure(404, "User is not a member of this workspace", "not_found")
        if found[0].invitation_status != "Pending":
            raise ApiFailure(409, "The invitation was already accepted")
        teammates.remove(found[0])
        return json_response({"status": "ok", "message": "Invitation revoked successfully"})

    # -- webhooks ------------------------------------------------------------

    def _webhook(self, raw_id: str) -> WebhookRecord:
        webhook = self.space.webhooks.get(int(raw_id)) if raw_id.isdigit() else None
        if webhook is None or webhook.deleted:
            raise ApiFailure(404, f"Webhook {raw_id} not found", "not_found")
        return webhook

    def _webhook_fields(
        self, body: Mapping[str, Any]
    ) -> tuple[str | None, str | None, bool | None]:
        """The fields of a webhook body that are present, each checked."""
        event_type = string_field(body, "event_type", 64)
        if event_type is not None and event_type not in EVENT_TYPES:
            raise field_error("event_type", f"unknown event type {event_type!r}")
        url = string_field(body, "url", MAX_URL)
        if url is not None:
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                raise field_error("url", "must be a valid http(s) URL")
        return event_type, url, bool_field(body, "enabled")

    def list_webhooks(self, request: Request, args: tuple[str, ...]) -> Response:
        webhooks = sorted(
            (w for w in self.space.webhooks.values() if not w.deleted), key=lambda w: w.id
        )
        return ok([render_webhook(webhook) for webhook in webhooks])

    def create_webhook(self, request: Request, args: tuple[str, ...]) -> Response:
        body = json_object(request)
        event_type = required_string(body, "event_type", 64)
        url = required_string(body, "url", MAX_URL)
        _, _, enabled = self._webhook_fields(body)
        live = [w for w in self.space.webhooks.values() if not w.deleted]
        existing = any(w.event_type == event_type and w.url == url for w in live)
        if not existing and len(live) >= WEBHOOK_LIMIT:
            raise ApiFailure(
                403,
                f"The workspace has {WEBHOOK_LIMIT} webhooks already",
                "plan_feature_unavailable",
            )
        webhook = self.space.add_webhook(event_type, url, True if enabled is None else enabled)
        return ok(render_webhook(webhook))

    def get_webhook(self, request: Request, args: tuple[str, ...]) -> Response:
        return ok(render_webhook(self._webhook(args[0])))

    def update_webhook(self, request: Request, args: tuple[str, ...]) -> Response:
        webhook = self._webhook(args[0])
        event_type, url, enabled = self._webhook_fields(json_object(request))
        if event_type is not None:
            webhook.event_type = event_type
        if url is not None:
            webhook.url = url
        if enabled is not None:
            webhook.enabled = enabled
        return ok(render_webhook(webhook))

    def delete_webhook(self, request: Request, args: tuple[str, ...]) -> Response:
        self._webhook(args[0]).deleted = True
        return empty_ok()
