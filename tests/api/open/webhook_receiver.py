"""A real HTTP receiver for webhook tests: a werkzeug server in a thread on 127.0.0.1 that records every
POST (headers, raw body) and answers with the status codes it is told, in order (then 200)."""
from __future__ import annotations

import threading

from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response


class Receiver:
    def __init__(self):
        self.received: list[dict] = []
        self.statuses: list[int] = []
        self._lock = threading.Lock()
        self.server = make_server("127.0.0.1", 0, self._app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def _app(self, environ, start_response):
        request = Request(environ)
        with self._lock:
            self.received.append({"path": request.path, "headers": dict(request.headers),
                                  "body": request.get_data()})
            status = self.statuses.pop(0) if self.statuses else 200
        return Response("ok" if status < 300 else "receiver says no", status=status)(environ, start_response)

    def start(self) -> "Receiver":
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self._thread.join(5)
