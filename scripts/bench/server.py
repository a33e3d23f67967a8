"""A small keep-alive HTTP/1.1 server on 127.0.0.1 for scripts/bench-send.sh.

Answers every GET with a short JSON body; prints its port on the first line.
"""
import http.server
import sys


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # One write per response and no Nagle: otherwise every keep-alive request waits
    # ~40 ms for a delayed ACK and the benchmark measures the kernel, not the clients.
    wbufsize = 64 * 1024
    disable_nagle_algorithm = True

    def do_GET(self):
        body = b'{"ok": true}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
try:
    server.serve_forever()
except KeyboardInterrupt:
    sys.exit(0)
