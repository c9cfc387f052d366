"""Serve an aiohttp app on 127.0.0.1 from a background thread, so synchronous CLI commands can call it."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from aiohttp import web

START_TIMEOUT_S = 10


class ServerThread:
    """An app on 127.0.0.1:<free port> in its own event loop; `with ServerThread(app) as url:`."""

    def __init__(self, app: web.Application, path: str = "/v1") -> None:
        self.app, self.path = app, path
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.port = 0
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.runner: web.AppRunner | None = None

    def _serve(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_until_complete(self._start())
        self.ready.set()
        self.loop.run_forever()
        self.loop.run_until_complete(self.runner.cleanup())  # type: ignore[union-attr]
        self.loop.close()

    async def _start(self) -> None:
        self.runner = web.AppRunner(self.app, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    def __enter__(self) -> str:
        self.thread.start()
        if not self.ready.wait(START_TIMEOUT_S):
            raise RuntimeError("the test server did not start")
        return f"http://127.0.0.1:{self.port}{self.path}"

    def __exit__(self, *_exc: Any) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(START_TIMEOUT_S)
