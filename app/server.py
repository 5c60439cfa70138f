"""The gunicorn worker the production server runs (gunicorn.conf.py names it).

gunicorn answers a request it refuses before the app sees it (a request line or headers over its
limits, a request that is not HTTP/1.1) with an HTML page. This worker lets gunicorn decide the
status, drops the HTML and writes the same answer as RFC 9457 problem details, like every answer
of the app. tests/test_input_server.py fails if a gunicorn upgrade changes how that page is written.
"""

import json

from gunicorn import util
from gunicorn.http.errors import LimitRequestHeaders, LimitRequestLine
from gunicorn.workers.gthread import ThreadWorker

PROBLEM_JSON = "application/problem+json"
DETAIL_MAX = 200  # gunicorn's message may quote the request: enough to recognise it, no more


class CapturedSocket:
    """Stands in for the client socket while gunicorn writes its HTML error page, and keeps it."""

    def __init__(self, sock):
        self._sock = sock
        self.data = b""

    def sendall(self, data):
        self.data += bytes(data)

    def gettimeout(self):
        return 0.0  # util.write_nonblock then writes without touching the real socket's mode

    def setblocking(self, flag):
        pass

    def __getattr__(self, name):
        return getattr(self._sock, name)


def status_of(page: bytes) -> tuple[int, str] | None:
    """(status, reason) from gunicorn's error page, `HTTP/1.1 414 URI Too Long\\r\\n…`; None if it is not one."""
    line = page.split(b"\r\n", 1)[0].decode("latin-1")
    parts = line.split(" ", 2)
    if len(parts) == 3 and parts[0] == "HTTP/1.1" and parts[1].isdigit():
        return int(parts[1]), parts[2]
    return None


def problem_detail(status: int, exc: Exception, cfg) -> str:
    if isinstance(exc, LimitRequestLine):
        return (
            f"The request line is longer than the {cfg.limit_request_line} bytes this server accepts: "
            "send shorter query parameters (every documented one has a maxLength that fits)."
        )
    if isinstance(exc, LimitRequestHeaders):
        return (
            f"The request headers are larger than this server accepts: at most {cfg.limit_request_fields} "
            f"fields of at most {cfg.limit_request_field_size} bytes each."
        )
    if status >= 500:
        return "An unexpected error occurred. It has been logged."
    return f"The request is not a valid HTTP request: {str(exc)[:DETAIL_MAX]}"


def problem_response(status: int, reason: str, detail: str) -> bytes:
    body = json.dumps(
        {
            "type": "/problems/internal-error" if status >= 500 else "about:blank",
            "title": reason,
            "status": status,
            "detail": detail,
        }
    ).encode()
    head = (
        f"HTTP/1.1 {status} {reason}\r\n"
        "Connection: close\r\n"
        f"Content-Type: {PROBLEM_JSON}\r\n"
        f"Content-Length: {len(body)}\r\n"
        "X-Content-Type-Options: nosniff\r\n"
        "Cache-Control: no-store\r\n"
        "\r\n"
    )
    return head.encode("latin-1") + body


class ProblemWorker(ThreadWorker):
    """gunicorn's threaded worker (the one `--threads` picks) answering its own refusals as problem+json."""

    def handle_error(self, req, client, addr, exc):
        captured = CapturedSocket(client)
        super().handle_error(req, captured, addr, exc)  # logs, and writes its page into `captured`
        found = status_of(captured.data)
        if found is None:  # not the page this worker knows: pass it on unchanged
            if captured.data:
                self._send(client, captured.data)
            return
        status, reason = found
        self._send(client, problem_response(status, reason, problem_detail(status, exc, self.cfg)))

    def _send(self, client, data: bytes) -> None:
        try:
            util.write_nonblock(client, data)
        except Exception:
            self.log.debug("Failed to send error message.")
