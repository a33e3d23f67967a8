#!/usr/bin/env python3
"""Language-server figures for issue 5 (docs/performance.md, "Language server").

Drives `httplens lsp` over stdio with a generated 10,000-request file (1.6 MB, one
`@host` variable, then `### request N`, `# @name rN`, a POST with `{{host}}` and
`{{$guid}}`, two headers and a JSON body per request) in a throwaway workspace, and
measures on the client side:

- `initialize`: request to answer;
- open: `didOpen` to the first `publishDiagnostics` of version 1;
- code lenses: `textDocument/codeLens` asked 15 times on one document version. The
  "first byte" figure (time until the first byte of the answer reaches the client) is
  the server's own time; the "at the client" figure adds reading and decoding the
  2 MB answer in Python;
- edit -> diagnostics: 30 one-character incremental edits on header lines spread over
  the file, each timed until the `publishDiagnostics` of its version;
  (and the CPU time the server's threads used per edit, which waiting for a core on a
  busy machine does not inflate);
- code lenses once more after the edits (what an editor asks after a change: the
  lenses of a new version, computed, not kept);
- resident memory (`VmRSS` from /proc) after open, after the lenses, right after the
  last edit, and after that last lens ask and 2.5 s idle (a server between
  keystrokes, keeping what an editor asked for: the target's figure).

Usage: scripts/bench-lsp.py [BINARY] [--json] [--prefix CMD] [--kill-at-rest]
BINARY defaults to target/release/httplens (build it with
`cargo build --release --bin httplens`). `--prefix` runs the server under another
command (e.g. `--prefix "perf record -g -o /tmp/lsp.perf"`); the memory figures are
then the prefix command's and mean nothing. `--kill-at-rest` ends the server with
SIGKILL after the idle figure instead of `shutdown`, so that a heap profiler shows what
was live at rest as "leaked" (CONTRIBUTING.md, "What memory is live").
Needs only python3 and Linux's /proc.
"""

import argparse
import json
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

REQUESTS = 10_000
LENS_ASKS = 15
EDITS = 30

# (key, label, target, unit): a target of None is shown without met/MISSED.
TARGETS = [
    ("initialize_ms", "initialize", 20, "ms"),
    ("open_to_diagnostics_ms", "open -> first diagnostics", None, "ms"),
    ("code_lens_first_byte_median_ms", "code lens, server (first byte, median)", 5, "ms"),
    ("code_lens_median_ms", "code lens, at the client (median)", None, "ms"),
    ("code_lens_first_call_first_byte_ms", "code lens, first ask (first byte)", None, "ms"),
    ("code_lens_first_call_ms", "code lens, first ask (at the client)", None, "ms"),
    ("edit_to_diagnostics_median_ms", "edit -> diagnostics (median)", 10, "ms"),
    ("edit_max_ms", "edit -> diagnostics (max)", None, "ms"),
    ("edit_cpu_ms", "server CPU per edit (all threads, mean)", None, "ms"),
    ("rss_after_open_mb", "RSS after open", None, "MB"),
    ("rss_after_lenses_mb", "RSS after lenses", None, "MB"),
    ("code_lens_after_edit_first_byte_ms", "code lens after the edits (first byte)", None, "ms"),
    ("rss_mb", "RSS right after the last edit", None, "MB"),
    ("rss_idle_mb", "RSS with the file open (2.5 s idle)", 30, "MB"),
    ("rss_idle_anon_mb", "  of it anonymous (heap, stacks)", None, "MB"),
    ("rss_idle_file_mb", "  of it file-backed (the binary, libc)", None, "MB"),
]


def big_file():
    return "@host = http://127.0.0.1:9\n\n" + "".join(
        f"### request {i}\n# @name r{i}\nPOST {{{{host}}}}/items/{i}?q={{{{$guid}}}}\n"
        f"Content-Type: application/json\nAccept: application/json\n\n"
        f'{{"id": {i}, "name": "item {i}"}}\n\n'
        for i in range(REQUESTS)
    )


class Client:
    def __init__(self, argv, env):
        self.p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env)
        self.next_id = 0

    def send(self, msg):
        body = json.dumps(msg).encode()
        self.p.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.p.stdin.flush()

    def read(self):
        """The next message and the time its first byte was available."""
        self.p.stdout.peek(1)
        first_byte = time.perf_counter()
        n = 0
        while True:
            line = self.p.stdout.readline()
            if line in (b"\r\n", b""):
                break
            if line.lower().startswith(b"content-length"):
                n = int(line.split(b":")[1])
        if n == 0:
            sys.exit("the server closed its output")
        return json.loads(self.p.stdout.read(n)), first_byte

    def answer_server_request(self, msg):
        if "method" in msg and "id" in msg:
            self.send({"jsonrpc": "2.0", "id": msg["id"], "result": None})
            return True
        return False

    def request(self, method, params):
        """The answer and the time its first byte arrived."""
        self.next_id += 1
        i = self.next_id
        self.send({"jsonrpc": "2.0", "id": i, "method": method, "params": params})
        while True:
            msg, first_byte = self.read()
            if msg.get("id") == i and "method" not in msg:
                return msg, first_byte
            self.answer_server_request(msg)

    def wait_diagnostics(self, uri, version):
        while True:
            msg, _ = self.read()
            if self.answer_server_request(msg):
                continue
            if (
                msg.get("method") == "textDocument/publishDiagnostics"
                and msg["params"]["uri"] == uri
                and msg["params"].get("version") == version
            ):
                return msg

    def cpu_ms(self):
        """CPU time the server's threads have used so far (ns precision from schedstat)."""
        total = 0
        for t in os.listdir(f"/proc/{self.p.pid}/task"):
            try:
                with open(f"/proc/{self.p.pid}/task/{t}/schedstat") as f:
                    total += int(f.read().split()[0])
            except OSError:
                pass  # a thread that just ended
        return total / 1e6

    def rss_mb(self, field="VmRSS"):
        with open(f"/proc/{self.p.pid}/status") as f:
            kb = next(int(l.split()[1]) for l in f if l.startswith(field + ":"))
        return round(kb / 1024, 1)


def ms(since):
    return (time.perf_counter() - since) * 1000


def descendants(pid):
    """Every process below `pid` (from /proc)."""
    children = {}
    for p in os.listdir("/proc"):
        if p.isdigit():
            try:
                with open(f"/proc/{p}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            except OSError:
                continue
            children.setdefault(ppid, []).append(int(p))
    out, todo = [], [pid]
    while todo:
        for c in children.get(todo.pop(), []):
            out.append(c)
            todo.append(c)
    return out


def measure(argv, kill_at_rest=False):
    d = tempfile.mkdtemp(prefix="httplens-bench-lsp-")
    try:
        os.makedirs(d + "/.git")
        text = big_file()
        with open(d + "/big.http", "w") as f:
            f.write(text)
        uri = "file://" + d + "/big.http"
        env = dict(
            os.environ,
            HTTPLENS_CACHE_DIR=d + "/cache",
            HTTPLENS_CONFIG_DIR=d + "/cfg",
            HTTPLENS_TOKEN_STORE="memory",
        )
        c = Client(argv + ["lsp"], env)
        out = {"file_mb": round(len(text) / 1e6, 2)}

        t = time.perf_counter()
        c.request("initialize", {"processId": None, "rootUri": "file://" + d, "capabilities": {}})
        out["initialize_ms"] = ms(t)
        c.send({"jsonrpc": "2.0", "method": "initialized", "params": {}})

        t = time.perf_counter()
        c.send(
            {
                "jsonrpc": "2.0",
                "method": "textDocument/didOpen",
                "params": {"textDocument": {"uri": uri, "languageId": "http", "version": 1, "text": text}},
            }
        )
        c.wait_diagnostics(uri, 1)
        out["open_to_diagnostics_ms"] = ms(t)
        out["rss_after_open_mb"] = c.rss_mb()

        whole, first = [], []
        for _ in range(LENS_ASKS):
            t = time.perf_counter()
            answer, first_byte = c.request("textDocument/codeLens", {"textDocument": {"uri": uri}})
            whole.append(ms(t))
            first.append((first_byte - t) * 1000)
        out["lenses"] = len(answer["result"])
        out["code_lens_median_ms"] = statistics.median(whole)
        out["code_lens_first_byte_median_ms"] = statistics.median(first)
        out["code_lens_first_call_ms"] = whole[0]
        out["code_lens_first_call_first_byte_ms"] = first[0]
        out["rss_after_lenses_mb"] = c.rss_mb()

        edits = []
        version = 1
        cpu = c.cpu_ms()
        for k in range(EDITS):
            version += 1
            line = 2 + 9 * (k * 331 % REQUESTS) + 2  # a header line inside some request
            t = time.perf_counter()
            c.send(
                {
                    "jsonrpc": "2.0",
                    "method": "textDocument/didChange",
                    "params": {
                        "textDocument": {"uri": uri, "version": version},
                        "contentChanges": [
                            {
                                "range": {
                                    "start": {"line": line, "character": 0},
                                    "end": {"line": line, "character": 0},
                                },
                                "text": "X",
                            }
                        ],
                    },
                }
            )
            c.wait_diagnostics(uri, version)
            edits.append(ms(t))
        # On a busy machine the wall-clock figures include waiting for a core; the CPU
        # the server spent per edit (all threads, freeing the old tree included) does not.
        out["edit_cpu_ms"] = (c.cpu_ms() - cpu) / EDITS
        out["edit_to_diagnostics_median_ms"] = statistics.median(edits)
        out["edit_max_ms"] = max(edits)
        out["edits_sorted_ms"] = [round(e, 1) for e in sorted(edits)]
        out["edits_ms"] = [round(e, 1) for e in edits]
        out["rss_mb"] = c.rss_mb()
        t = time.perf_counter()
        _, first_byte = c.request("textDocument/codeLens", {"textDocument": {"uri": uri}})
        out["code_lens_after_edit_first_byte_ms"] = (first_byte - t) * 1000
        time.sleep(2.5)
        out["rss_idle_mb"] = c.rss_mb()
        # The binary's pages (file-backed) vary by a megabyte or two with how the file
        # sits in the page cache (the same binary copied elsewhere: 10.1 -> 12.3 MB).
        out["rss_idle_anon_mb"] = c.rss_mb("RssAnon")
        out["rss_idle_file_mb"] = c.rss_mb("RssFile")

        if kill_at_rest:
            # The server itself, not a prefix command around it (which then writes its
            # report).
            for pid in [c.p.pid] + descendants(c.p.pid):
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    argv = f.read().split(b"\0")
                if argv[-2:-1] == [b"lsp"]:
                    os.kill(pid, 9)
            c.p.wait(timeout=120)
        else:
            c.request("shutdown", None)
            c.send({"jsonrpc": "2.0", "method": "exit"})
            c.p.wait(timeout=10)
        for k, v in out.items():
            if isinstance(v, float):
                out[k] = round(v, 2)
        return out
    finally:
        shutil.rmtree(d, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("binary", nargs="?", default="target/release/httplens")
    ap.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    ap.add_argument("--prefix", default="", help="run the server under this command")
    ap.add_argument(
        "--kill-at-rest", action="store_true", help="SIGKILL the server at rest (for heap profilers)"
    )
    args = ap.parse_args()
    if not os.access(args.binary, os.X_OK):
        sys.exit(f"{args.binary} is not an executable: build it with `cargo build --release --bin httplens`")
    out = measure(shlex.split(args.prefix) + [args.binary], args.kill_at_rest)
    if args.json:
        print(json.dumps(out))
        return
    print(f"{out['file_mb']} MB, {REQUESTS} requests, {out['lenses']} lenses")
    for key, label, target, unit in TARGETS:
        value = out[key]
        verdict = ""
        if target is not None:
            verdict = f"target < {target} {unit}: " + ("met" if value < target else "MISSED")
        print(f"  {label:<40} {value:>9.2f} {unit}  {verdict}")
    print(f"  edits (sorted, ms): {out['edits_sorted_ms']}")


if __name__ == "__main__":
    main()
