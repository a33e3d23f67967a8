#!/usr/bin/env python3
"""The local HTTP peer of the Neovim tests: answers every request with a JSON echo of it
(method, path, query, headers, body) on 127.0.0.1 only. `/slow?ms=N` answers after N ms
(bounded to 10 s) so a test can watch progress and cancel. Writes the bound port to
--port-file once it listens, so run.sh waits for that instead of sleeping."""
import argparse
import json
import os
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


class Echo(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # quiet: the test output is the runner's
        pass

    def _answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode("utf-8", "replace") if length else ""
        parts = urlsplit(self.path)
        query = {k: v[0] if len(v) == 1 else v for k, v in parse_qs(parts.query).items()}
        if parts.path == "/slow":
            time.sleep(min(int(query.get("ms", "1000")), 10000) / 1000)
        payload = json.dumps(
            {
                "method": self.command,
                "path": parts.path,
                "query": query,
                "headers": {k.lower(): v for k, v in self.headers.items()},
                "body": body,
            },
            indent=2,
        ).encode()
        status = int(query.get("status", "200"))
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("X-Echo", "httplens-nvim-test")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _answer


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port-file", required=True)
    args = ap.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Echo)
    server.daemon_threads = True
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(server.server_address[1]))
    os.replace(tmp, args.port_file)  # atomic: the reader never sees a half-written port
    server.serve_forever()


if __name__ == "__main__":
    main()
