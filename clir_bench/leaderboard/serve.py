"""`clir-bench leaderboard serve`: a built site on localhost, nothing outside its folder."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from clir_bench.core.errors import ClirBenchError
from clir_bench.leaderboard.render import MARKER


def serve(*, folder: Path, port: int, host: str = "127.0.0.1", log: Callable[[str], None] = print) -> None:
    """Serve a built site on localhost until interrupted."""
    folder = Path(folder)
    if not (folder / MARKER).is_file():
        raise ClirBenchError(f"{folder} holds no built leaderboard; run `clir-bench leaderboard build --out {folder}`")

    class Handler(SimpleHTTPRequestHandler):
        def log_message(self, fmt, *args):  # one quiet line per request
            log(f"{self.address_string()} {fmt % args}")

    try:
        server = ThreadingHTTPServer((host, port), functools.partial(Handler, directory=os.fspath(folder)))
    except OSError as e:
        raise ClirBenchError(f"cannot listen on {host}:{port}: {e.strerror}; choose another --port") from None
    log(f"serving {folder} at http://{host}:{server.server_port}/ (Ctrl-C stops)")
    with server:
        server.serve_forever()
