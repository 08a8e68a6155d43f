"""A CDN-like route serving the attachments users give commands (``add_attachment``).

``GET /attachments/{channel_id}/{attachment_id}/{filename}?ex=..&is=..&hm=..`` on the same
server, outside ``/api/v10``: no Authorization, not recorded as an API request. Like
Discord's CDN it wants the signed query (``hm``); a missing or wrong signature, or an
unknown file, gets a 404 "This content is no longer available.". Every answer is recorded
in ``downloads``.
"""

from __future__ import annotations

import asyncio
import logging
import time

from aiohttp import web

from .models import Download, FakeAttachment
from .state import StateMixin

log = logging.getLogger(__name__)

GONE = "This content is no longer available."


class CdnMixin(StateMixin):
    """Serves attachment bytes with the configured type, size, delay and failure status."""

    def _init_cdn(self) -> None:
        self.downloads: list[Download] = []

    def _add_cdn_routes(self, app: web.Application) -> None:
        app.router.add_get(
            "/attachments/{channel_id}/{attachment_id}/{filename}", self._serve_attachment
        )

    def downloads_of(self, attachment: FakeAttachment | int) -> list[Download]:
        """The CDN requests for one attachment, in order."""
        wanted = attachment.id if isinstance(attachment, FakeAttachment) else attachment
        return [d for d in self.downloads if d.attachment_id == wanted]

    def _find_attachment(self, request: web.Request) -> FakeAttachment | None:
        raw = request.match_info["attachment_id"]
        attachment = self._attachments.get(int(raw)) if raw.isdigit() else None
        if (
            attachment is None
            or str(attachment.channel_id) != request.match_info["channel_id"]
            or attachment.filename != request.match_info["filename"]
            or request.query.get("hm") != attachment.signature
        ):
            return None
        return attachment

    async def _serve_attachment(self, request: web.Request) -> web.StreamResponse:
        attachment = self._find_attachment(request)
        download = Download(
            attachment.id if attachment else None,
            request.path,
            request.method,
            0,
            time.monotonic(),
            dict(request.headers),
        )
        self.downloads.append(download)
        try:
            if attachment is None:
                download.status = 404
                return web.Response(status=404, text=GONE)
            if attachment.delay:
                await asyncio.sleep(attachment.delay)
            download.status = attachment.status
            if attachment.status != 200:
                return web.Response(status=attachment.status, text=f"{attachment.status} error")
            response = web.Response(status=200, body=attachment.data)
            if attachment.content_type is not None:
                response.headers["Content-Type"] = attachment.content_type
            return response
        finally:
            self._poke()
