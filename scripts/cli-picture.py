#!/usr/bin/env python3
"""Draws the README's picture of the coloured CLI: docs/images/cli-run.svg.

Usage: scripts/cli-picture.py [BINARY] [OUT]

A small JSON API on 127.0.0.1 (this script), a request file sent with `httplens run`
in a real terminal (a tmux pane of our own, 100 columns), the screen read with its
colours (`tmux capture-pane -e`) and written as SVG text: what a user sees, not a
mock-up. BINARY defaults to target/debug/httplens (build it with `cargo build`), OUT to
docs/images/cli-run.svg. Needs tmux (scripts/apt-packages.txt).
"""

import html
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

COLS, ROWS = 100, 60
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class Api(BaseHTTPRequestHandler):
    def log_message(self, *_):
        pass

    def answer(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path.startswith("/V1/products/"):
            sku = self.path.rsplit("/", 1)[1]
            if sku == "MH01":
                self.answer(200, {"sku": "MH01", "name": "Chaz Kangeroo Hoodie", "price": 52, "status": 1})
            else:
                self.answer(404, {"message": f'The product "{sku}" does not exist.'})
        else:
            self.answer(404, {"message": "no route"})

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        item = json.loads(self.rfile.read(n) or b"{}")
        self.answer(200, {"id": 42, **item.get("product", {})})


REQUESTS = """\
### Get a product
GET {host}/V1/products/MH01
Accept: application/json

?? status == 200
?? body $.price > 50

### Create a product
POST {host}/V1/products
Content-Type: application/json

{{"product": {{"sku": "LAMP-1", "name": "Desk lamp", "price": 25}}}}

### A product that is not there
GET {host}/V1/products/NOPE
"""

# SGR colours as a light terminal theme draws them.
PALETTE = {30: "#1e1e1e", 31: "#c91b00", 32: "#00a600", 33: "#a68a0d", 34: "#0451a5",
           35: "#a626a4", 36: "#0e7c86", 37: "#6e6e6e", 90: "#6e6e6e"}


def spans(line, state):
    """(text, colour, bold) pieces of one captured line. tmux writes a code only where
    the attributes change, so the state carries over from the line before."""
    out, at = [], 0
    colour, bold = state
    for m in re.finditer(r"\x1b\[([0-9;]*)m", line):
        if m.start() > at:
            out.append((line[at:m.start()], colour, bold))
        for code in [int(c) if c else 0 for c in m.group(1).split(";")]:
            if code == 0:
                colour, bold = None, False
            elif code == 1:
                bold = True
            elif code == 22:
                bold = False
            elif code == 39:
                colour = None
            elif code in PALETTE:
                colour = PALETTE[code]
        at = m.end()
    if at < len(line):
        out.append((line[at:], colour, bold))
    return out, (colour, bold)


def svg(lines):
    cw, lh, pad = 8.4, 18, 14
    width = int(COLS * cw + 2 * pad)
    height = int(len(lines) * lh + 2 * pad)
    rows, state = [], (None, False)
    for i, line in enumerate(lines):
        y = pad + (i + 1) * lh - 5
        parts = []
        pieces, state = spans(line, state)
        for text, colour, bold in pieces:
            attrs = (f' fill="{colour}"' if colour else "") + (' font-weight="bold"' if bold else "")
            parts.append(f"<tspan{attrs}>{html.escape(text)}</tspan>")
        rows.append(f'<text x="{pad}" y="{y}" xml:space="preserve">{"".join(parts)}</text>')
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="DejaVu Sans Mono, Menlo, Consolas, monospace" '
        f'font-size="14" fill="#1e1e1e">\n'
        f'<rect width="100%" height="100%" rx="6" fill="#fbfbfb" stroke="#d0d0d0"/>\n'
        + "\n".join(rows)
        + "\n</svg>\n"
    )


def main():
    binary = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "target/debug/httplens"))
    out = sys.argv[2] if len(sys.argv) > 2 else os.path.join(ROOT, "docs/images/cli-run.svg")
    if not os.access(binary, os.X_OK):
        sys.exit(f"{binary} is not an executable: build it with `cargo build`")
    if not shutil.which("tmux"):
        sys.exit("tmux is missing: install it (scripts/apt-packages.txt)")
    server = ThreadingHTTPServer(("127.0.0.1", 0), Api)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    host = f"http://127.0.0.1:{server.server_address[1]}"
    with tempfile.TemporaryDirectory() as tmp:
        ws = os.path.join(tmp, "shop")
        os.makedirs(os.path.join(ws, ".git"))
        with open(os.path.join(ws, "products.http"), "w") as f:
            f.write(REQUESTS.format(host=host))
        sock = os.path.join(tmp, "tmux.sock")
        env = (f"env -u NO_COLOR -u CI HTTPLENS_CACHE_DIR={tmp}/cache HTTPLENS_CONFIG_DIR={tmp}/config "
               f"HTTPLENS_TOKEN_STORE=memory PS1='$ '")
        cmd = f"cd {ws} && clear && echo '$ httplens run products.http' && {env} {binary} run products.http --no-history; echo __DONE__; sleep 600"
        tmux = ["tmux", "-S", sock, "-f", "/dev/null"]
        subprocess.run(tmux + ["new-session", "-d", "-x", str(COLS), "-y", str(ROWS), "sh", "-c", cmd], check=True)
        try:
            screen = ""
            for _ in range(200):
                screen = subprocess.run(tmux + ["capture-pane", "-e", "-p", "-J"], capture_output=True,
                                        text=True, check=True).stdout
                if "__DONE__" in screen:
                    break
                time.sleep(0.1)
            else:
                sys.exit(f"httplens run did not finish:\n{screen}")
        finally:
            subprocess.run(tmux + ["kill-server"], capture_output=True)
    server.shutdown()
    lines = screen.split("\n")
    lines = lines[: next(i for i, l in enumerate(lines) if "__DONE__" in l)]
    # The host's port changes each run: show a stable one.
    lines = [l.replace(host, "http://127.0.0.1:8788") for l in lines]
    while lines and not lines[-1].strip():
        lines.pop()
    if not any("\x1b[" in l for l in lines):
        sys.exit("the screen has no colour: is the terminal a tty?")
    with open(out, "w") as f:
        f.write(svg(lines))
    print(f"wrote {out} ({len(lines)} lines)")


if __name__ == "__main__":
    main()
