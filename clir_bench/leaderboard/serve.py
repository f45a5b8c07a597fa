"""`clir-bench leaderboard serve`: a built site on localhost, nothing outside its folder."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from clir_bench.core.errors import ClirBenchError
from clir_bench.leaderboard.render import MARKER

IDLE_SECONDS = 30

def serve(*, folder: Path, port: int, host: str = "127.0.0.1", log: Callable[[str], None] = print) -> None:
    """Serve a built site on localhost until interrupted."""
    folder = Path(folder)
    if not (folder / MARKER).is_file():
        raise ClirBenchError(f"{folder} holds no built leaderboard; run `clir-bench leaderboard build --out {folder}`")

    class Handler(SimpleHTTPRequestHandler):
        timeout = IDLE_SECONDS  # an idle or slow connection is closed, not held by a thread forever

        def log_message(self, fmt, *args):  # one quiet line per request
            log(f"{self.address_string()} {fmt % args}"[:500])

        def send_head(self):
            if "\x00" in self.path or "%00" in self.path.lower():  # a NUL would fail in os.path
                self.send_error(400, "Bad request: NUL in the path")
                return None
            try:
                return super().send_head()
            except ValueError:
                self.send_error(400, "Bad request")
                return None

        def handle(self):
            try:
                super().handle()
            except (BrokenPipeError, ConnectionResetError, TimeoutError):
                pass  # the client went away: nothing to report

    class Server(ThreadingHTTPServer):
        daemon_threads = True

        def handle_error(self, request, client_address):  # log one line, never a traceback
            import sys

            log(f"{client_address[0]}: {sys.exc_info()[1]!r}"[:300])

    try:
        server = Server((host, port), functools.partial(Handler, directory=os.fspath(folder)))
    except OSError as e:
        raise ClirBenchError(f"cannot listen on {host}:{port}: {e.strerror}; choose another --port") from None
    log(f"serving {folder} at http://{host}:{server.server_port}/ (Ctrl-C stops)")
    with server:
        server.serve_forever()
