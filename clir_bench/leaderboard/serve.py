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
    root = folder.resolve()

    class Handler(SimpleHTTPRequestHandler):
        timeout = IDLE_SECONDS  # an idle or slow connection is closed, not held by a thread forever

        def log_message(self, fmt, *args):  # one quiet line per request
            log(f"{self.address_string()} {fmt % args}"[:500])

        def send_head(self):
            """Only regular files whose real path lies inside the site; a folder serves its index.html
            (never a listing); a redirect stays on this host."""
            from urllib.parse import quote, unquote, urlsplit

            raw = urlsplit(self.path).path
            if "\x00" in raw or "%00" in raw.lower():  # a NUL would fail in os.path
                self.send_error(400, "Bad request: NUL in the path")
                return None
            parts = [part for part in unquote(raw).split("/") if part not in ("", ".")]
            if any(part == ".." or "\\" in part for part in parts):
                self.send_error(404, "Not found")
                return None
            try:
                real = root.joinpath(*parts).resolve(strict=True)
            except (OSError, RuntimeError, ValueError):
                self.send_error(404, "Not found")
                return None
            if not real.is_relative_to(root):  # a symbolic link out of the site
                self.send_error(404, "Not found")
                return None
            if real.is_dir():
                if not raw.endswith("/"):  # to the folder's own path on this host: "/" + its quoted parts
                    self.send_response(301)
                    self.send_header("Location", "/" + "".join(quote(part, safe="") + "/" for part in parts))
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return None
                real = real / "index.html"
                if not real.is_file() or real.is_symlink():
                    self.send_error(404, "Not found")
                    return None
            if not real.is_file():
                self.send_error(404, "Not found")
                return None
            try:
                f = open(real, "rb")  # noqa: SIM115  (closed by the caller, as the base class does)
            except OSError:
                self.send_error(404, "Not found")
                return None
            size = os.fstat(f.fileno()).st_size
            self.send_response(200)
            self.send_header("Content-type", self.guess_type(str(real)))
            self.send_header("Content-Length", str(size))
            self.end_headers()
            return f

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
