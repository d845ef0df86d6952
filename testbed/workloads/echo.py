"""An HTTP echo server for native pods: ``python -m testbed.workloads.echo --listen IP:PORT``.

``ECHO_DELAY_SECONDS=N`` makes every answer take N seconds (a function busy for a while, so that
requests overlap and concurrency can be measured).

``ECHO_STOP_SECONDS=N`` makes it drain as a well-behaved server does when its pod is deleted: on
SIGTERM it answers 503 for N seconds, then exits (the Spherelet kills it after 5 s).
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import socketserver
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Server(ThreadingHTTPServer):
    # a real server's listen backlog (socketserver's default of 5 drops the SYNs of a burst, which
    # the client then sends again a second later)
    request_queue_size = 1024

    def server_bind(self) -> None:
        # HTTPServer asks DNS for its own name first: slow, and pointless for a pod address
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--listen", required=True, help="address:port to serve on")
    parser.add_argument("--text", default=os.environ.get("ECHO_TEXT"), help="fixed answer (default: echo the request)")
    args, _ = parser.parse_known_args()
    host, port = args.listen.rsplit(":", 1)
    draining = threading.Event()
    stop_seconds = float(os.environ.get("ECHO_STOP_SECONDS") or 0)
    delay_seconds = float(os.environ.get("ECHO_DELAY_SECONDS") or 0)
    if stop_seconds > 0:
        def drain(_signum, _frame) -> None:
            draining.set()
            threading.Timer(stop_seconds, os._exit, args=(0,)).start()

        signal.signal(signal.SIGTERM, drain)

    class Echo(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode(errors="replace") if length else ""
            if delay_seconds > 0:
                time.sleep(delay_seconds)
            code = 503 if draining.is_set() else 200
            if code == 503:
                payload, kind = b"draining\n", "text/plain"
            elif args.text is not None:
                payload, kind = (args.text + "\n").encode(), "text/plain"
            else:
                payload = json.dumps({"method": self.command, "path": self.path, "body": body,
                                      "pod": os.environ.get("HOSTNAME", "")}).encode()
                kind = "application/json"
            self.send_response(code)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_PUT = _answer  # noqa: N815

        def log_message(self, *args) -> None:
            pass

    Server((host, int(port)), Echo).serve_forever()


if __name__ == "__main__":
    main()
