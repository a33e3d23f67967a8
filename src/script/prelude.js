// The JetBrains HTTP Client script API (`client`, `response`, `request`, `crypto`,
// `$random`) over the data httplens hands in. Evaluated once per context; before each
// script `__begin(json)` hands in that script's data, and `__out()` reads back what it
// did.
// Nothing here reaches outside the context but the two pure natives `__digest` and
// `__b64` (hashing and base64, in Rust).
"use strict";
(function (g) {
  var input = null;
  var state = null;
  function str(v) {
    if (v === undefined || v === null) return "";
    if (typeof v === "string") return v;
    if (typeof v === "object") {
      try { return JSON.stringify(v); } catch (e) { return String(v); }
    }
    return String(v);
  }
  function has(o, k) { return Object.prototype.hasOwnProperty.call(o, k); }
  function EXIT() { var e = new Error("__httplens_exit__"); e.__httplensExit = true; return e; }

  var global = {
    set: function (name, value) { state.globals[str(name)] = str(value); },
    get: function (name) { name = str(name); return has(state.globals, name) ? state.globals[name] : null; },
    isEmpty: function () { return Object.keys(state.globals).length === 0; },
    clear: function (name) { delete state.globals[str(name)]; },
    clearAll: function () { state.globals = {}; },
  };
  var client = {
    global: global,
    test: function (name, fn) {
      var t = { name: str(name), passed: true, message: null };
      state.tests.push(t);
      var outer = state.inTest;
      state.inTest = t;
      try {
        if (typeof fn === "function") fn();
      } catch (e) {
        if (e && e.__httplensExit) { state.inTest = outer; throw e; }
        t.passed = false;
        t.message = e && e.message !== undefined ? str(e.message) : str(e);
      }
      state.inTest = outer;
    },
    assert: function (condition, message) {
      if (condition) return;
      var msg = message === undefined ? "Assertion failed" : str(message);
      if (state.inTest) throw new Error(msg);
      state.tests.push({ name: msg, passed: false, message: msg });
    },
    log: function () {
      var parts = [];
      for (var i = 0; i < arguments.length; i++) parts.push(str(arguments[i]));
      state.logs.push(parts.join(" "));
    },
    exit: function () { throw EXIT(); },
  };
  client.variables = {
    global: global,
    environment: { get: function (n) { n = str(n); return has(input.environment, n) ? input.environment[n] : null; } },
  };

  // The per-script objects keep their data in fields and their methods on shared
  // prototypes: `__begin` runs before every script, and creating closures there was
  // most of its cost.
  function Headers(list) { this._list = list; }
  Headers.prototype.valueOf = function (name) {
    name = str(name).toLowerCase();
    var list = this._list;
    for (var i = 0; i < list.length; i++) if (list[i][0].toLowerCase() === name) return list[i][1];
    return null;
  };
  Headers.prototype.valuesOf = function (name) {
    name = str(name).toLowerCase();
    var list = this._list, out = [];
    for (var i = 0; i < list.length; i++) if (list[i][0].toLowerCase() === name) out.push(list[i][1]);
    return out;
  };

  var request = {
    variables: {
      set: function (name, value) { state.requestVars[str(name)] = str(value); },
      get: function (name) { name = str(name); return has(state.requestVars, name) ? state.requestVars[name] : null; },
    },
    environment: client.variables.environment,
  };
  client.variables.request = request.variables;

  function RawAndSubstituted(raw, sub) { this._raw = raw; this._sub = sub; }
  RawAndSubstituted.prototype.getRaw = function () { return this._raw; };
  RawAndSubstituted.prototype.tryGetSubstituted = function () {
    return this._sub === null || this._sub === undefined ? this._raw : this._sub;
  };
  RawAndSubstituted.prototype.toString = RawAndSubstituted.prototype.tryGetSubstituted;

  function RequestHeader(h) { this.name = h[0]; this._h = h; }
  RequestHeader.prototype.getRawValue = function () { return this._h[1]; };
  RequestHeader.prototype.tryGetSubstitutedValue = function () {
    var h = this._h;
    return h[2] === null || h[2] === undefined ? h[1] : h[2];
  };
  RequestHeader.prototype.value = RequestHeader.prototype.tryGetSubstitutedValue;
  function requestHeader(h) { return new RequestHeader(h); }

  function RequestHeaders(list) { this._list = list; }
  RequestHeaders.prototype.all = function () { return this._list.map(requestHeader); };
  RequestHeaders.prototype.findByName = function (name) {
    name = str(name).toLowerCase();
    var list = this._list;
    for (var i = 0; i < list.length; i++) if (list[i][0].toLowerCase() === name) return requestHeader(list[i]);
    return null;
  };

  function Response(r, text) {
    var ct = r.contentType || "";
    var semi = ct.indexOf(";");
    var mime = (semi < 0 ? ct : ct.slice(0, semi)).trim().toLowerCase();
    var charset = "utf-8";
    if (semi >= 0) {
      var m = /charset\s*=\s*"?([^";]+)"?/i.exec(ct);
      if (m) charset = m[1];
    }
    this.status = r.status;
    this.headers = new Headers(r.headers);
    this.contentType = { mimeType: mime, charset: charset };
    this._text = text;
    this._json = mime.slice(-5) === "+json" || mime.slice(mime.indexOf("/")) === "/json";
    this._parsed = false;
    this._body = undefined;
  }
  // Parsed when a script first reads it: most handlers read a field or two, many none.
  Object.defineProperty(Response.prototype, "body", {
    enumerable: true,
    get: function () {
      if (!this._parsed) {
        this._parsed = true;
        this._body = this._text;
        if (this._json) { try { this._body = JSON.parse(this._text); } catch (e) { this._body = this._text; } }
      }
      return this._body;
    },
    set: function (v) { this._parsed = true; this._body = v; },
  });

  // Hands in one script's data: the request, the response (handlers), the variables.
  g.__begin = function (json, responseBody) {
    input = JSON.parse(json);
    state = {
      globals: input.globals,
      requestVars: input.requestVars,
      tests: [],
      logs: [],
      inTest: null,
    };
    var rq = input.request;
    request.method = rq.method;
    request.url = new RawAndSubstituted(rq.url, rq.urlSubstituted);
    request.body = new RawAndSubstituted(rq.body === null ? "" : rq.body, rq.bodySubstituted);
    request.headers = new RequestHeaders(rq.headers);
    g.request = request;
    if (input.response) g.response = new Response(input.response, responseBody);
    else delete g.response;
    g.client = client;
    g.crypto = crypto;
    g.$random = $random;
  };

  function digestBuilder(alg, key) {
    var parts = [];
    var b = {
      updateWithText: function (t) { parts.push(["text", str(t)]); return b; },
      updateWithHex: function (t) { parts.push(["hex", str(t)]); return b; },
      updateWithBase64: function (t) { parts.push(["base64", str(t)]); return b; },
      digest: function () {
        var hex = __digest(alg, JSON.stringify({ key: key, parts: parts }));
        return {
          toHex: function () { return hex; },
          toBase64: function () { return __b64(hex, false); },
          toBase64UrlSafe: function () { return __b64(hex, true); },
        };
      },
    };
    return b;
  }
  function hmacBuilder(alg) {
    return {
      withTextSecret: function (s) { return digestBuilder(alg, ["text", str(s)]); },
      withHexSecret: function (s) { return digestBuilder(alg, ["hex", str(s)]); },
      withBase64Secret: function (s) { return digestBuilder(alg, ["base64", str(s)]); },
    };
  }
  var crypto = {
    sha1: function () { return digestBuilder("sha1", null); },
    sha256: function () { return digestBuilder("sha256", null); },
    sha384: function () { return digestBuilder("sha384", null); },
    sha512: function () { return digestBuilder("sha512", null); },
    md5: function () { throw new Error("crypto.md5 is not available in httplens: use sha256"); },
    hmac: {
      sha1: function () { return hmacBuilder("sha1"); },
      sha256: function () { return hmacBuilder("sha256"); },
      sha384: function () { return hmacBuilder("sha384"); },
      sha512: function () { return hmacBuilder("sha512"); },
      md5: function () { throw new Error("crypto.hmac.md5 is not available in httplens: use sha256"); },
    },
  };

  function pick(chars, n) {
    var out = "";
    n = n === undefined ? 10 : Math.max(0, Math.floor(n));
    for (var i = 0; i < n; i++) out += chars.charAt(Math.floor(Math.random() * chars.length));
    return out;
  }
  var LOWER = "abcdefghijklmnopqrstuvwxyz";
  var ALPHA = LOWER + LOWER.toUpperCase();
  var $random = {
    get uuid() {
      var h = pick("0123456789abcdef", 32).split("");
      h[12] = "4";
      h[16] = "89ab".charAt(Math.floor(Math.random() * 4));
      h = h.join("");
      return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
    },
    integer: function (from, to) {
      from = from === undefined ? 0 : Math.ceil(from);
      to = to === undefined ? 1000 : Math.floor(to);
      return from + Math.floor(Math.random() * Math.max(0, to - from));
    },
    float: function (from, to) {
      from = from === undefined ? 0 : from;
      to = to === undefined ? 1000 : to;
      return from + Math.random() * (to - from);
    },
    alphabetic: function (n) { return pick(ALPHA, n); },
    alphanumeric: function (n) { return pick(ALPHA + "0123456789_", n); },
    hexadecimal: function (n) { return pick("0123456789abcdef", n); },
    get email() { return pick(LOWER, 8) + "@" + pick(LOWER, 6) + ".com"; },
  };

  function unavailable(what) {
    return function () { throw new Error(what + " is not available: scripts run in a sandbox without modules, files, network or processes"); };
  }
  g.require = unavailable("require");
  g.setTimeout = unavailable("setTimeout");
  g.setInterval = unavailable("setInterval");
  g.fetch = unavailable("fetch");
  g.__out = function () {
    return JSON.stringify({ globals: state.globals, requestVars: state.requestVars, tests: state.tests, logs: state.logs });
  };
})(globalThis);
