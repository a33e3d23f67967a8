#!/usr/bin/env python3
"""A stand-in for the user's browser in the sign-in tests (HTTPLENS_BROWSER points here).
Opens the authorize URL with a cookie jar, follows redirects, and presses the provider's
"Continue" button when it shows a sign-in form (the IMS double's page), as a person would.
It logs each URL it was given to $HTTPLENS_TEST_TMP/browser.log. When the file
$HTTPLENS_TEST_TMP/browser-mode says "capture", it stops before the redirect back to the
loopback listener and writes that URL to $HTTPLENS_TEST_TMP/redirect-url instead (the
"browser cannot come back" case that the paste prompt completes). Only 127.0.0.1 URLs."""
import http.cookiejar
import os
import re
import sys
import urllib.error
import urllib.parse
import urllib.request

TMP = os.environ.get("HTTPLENS_TEST_TMP", "/tmp")


def loopback(url):
    host = urllib.parse.urlsplit(url).hostname
    return host in ("127.0.0.1", "localhost", "::1")


class Stop(Exception):
    def __init__(self, url):
        self.url = url


class Redirects(urllib.request.HTTPRedirectHandler):
    def __init__(self, capture):
        self.capture = capture

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        if not loopback(newurl):
            raise Stop("refusing to leave the machine: " + newurl)
        q = urllib.parse.parse_qs(urllib.parse.urlsplit(newurl).query)
        if self.capture and ("code" in q or "error" in q):
            raise Stop(newurl)
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def main():
    url = sys.argv[1]
    with open(os.path.join(TMP, "browser.log"), "a") as f:
        f.write(url + "\n")
    if not loopback(url):
        return 1
    mode_file = os.path.join(TMP, "browser-mode")
    capture = os.path.exists(mode_file) and open(mode_file).read().strip() == "capture"
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), Redirects(capture))
    try:
        resp = opener.open(url, timeout=20)
        page = resp.read().decode("utf-8", "replace")
        form = re.search(r'<form[^>]*action="([^"]+)"', page)
        pending = re.search(r'name="pending" value="([^"]+)"', page)
        if form and pending:
            action = urllib.parse.urljoin(resp.geturl(), form.group(1))
            data = urllib.parse.urlencode({"pending": pending.group(1), "action": "approve"}).encode()
            opener.open(action, data=data, timeout=20).read()
    except Stop as stop:
        if capture:
            tmp = os.path.join(TMP, "redirect-url.tmp")
            with open(tmp, "w") as f:
                f.write(stop.url)
            os.replace(tmp, os.path.join(TMP, "redirect-url"))
        else:
            print(stop.url, file=sys.stderr)
            return 1
    except urllib.error.URLError as e:
        # In capture mode the listener may be gone already; anything else is worth a line.
        print("browser stub: %s" % e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
