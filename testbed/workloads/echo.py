"""An HTTP echo server for native pods: ``python -m testbed.workloads.echo --listen IP:PORT``."""
from __future__ import annotations

import argparse
import json
import os
import socketserver
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Server(ThreadingHTTPServer):
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

    class Echo(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode(errors="replace") if length else ""
            if args.text is not None:
                payload, kind = (args.text + "\n").encode(), "text/plain"
            else:
                payload = json.dumps({"method": self.command, "path": self.path, "body": body,
                                      "pod": os.environ.get("HOSTNAME", "")}).encode()
                kind = "application/json"
            self.send_response(200)
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
