// End-to-end test of the httplens extension in a real VS Code (code-server) driven by
// headless Chromium, against the real `httplens lsp` and real local servers: open a .http
// file, click the "Send request" lens, see the response open beside the request; then the
// response column is reused, Compare with Previous opens a diff, Copy as curl fills the
// clipboard, the status bar follows httplens/state, sign-in to `httplens demo`'s provider
// in a real browser tab (and through Complete Sign-in with a pasted redirect URL), and a
// wrong server path gives a message that says what to do; a file naming an OpenAPI spec
// gets its paths as completion after `GET `, and a response the spec describes ends with
// the schema verdict.
//
// Run by run.sh, which installs the peers, builds the .vsix and the server and passes:
//   HTTPLENS_E2E_PEERS   folder with node_modules/{code-server,playwright-core} (setup.sh)
//   HTTPLENS_E2E_DIR     an empty scratch folder (user data, extensions, workspace, HOME)
//   HTTPLENS_E2E_SERVER  the httplens binary the extension must start
//   HTTPLENS_E2E_ARTIFACTS  where screenshots and logs go
// The .vsix is already installed into $HTTPLENS_E2E_DIR/exts by run.sh.
//
// Prints one line per check and a last line `N passed, N failed[, N skipped]`; exits 1
// when any check failed. Every wait is bounded and polls for the state it needs, and each
// check has a hard limit (HTTPLENS_E2E_CHECK_TIMEOUT_MS, default 120 s): a hang becomes
// `not ok - <check>: hung for N s, stopped while <step>` plus a failure screenshot.

import { AsyncLocalStorage } from 'node:async_hooks';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as path from 'node:path';
import { createRequire } from 'node:module';

const env = (name) => {
    const value = process.env[name];
    if (!value) {
        console.error(`e2e.mjs: ${name} is not set: run editors/vscode/test/run.sh instead.`);
        process.exit(2);
    }
    return value;
};
const peers = env('HTTPLENS_E2E_PEERS');
const dir = env('HTTPLENS_E2E_DIR');
const serverBinary = env('HTTPLENS_E2E_SERVER');
const artifacts = env('HTTPLENS_E2E_ARTIFACTS');

const require = createRequire(path.join(peers, 'node_modules', 'noop.js'));
const { chromium } = require('playwright-core');
const codeServerBin = path.join(peers, 'node_modules', '.bin', 'code-server');

const CHROMIUM_ARGS = [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
];

// ---------------------------------------------------------------------------------------
// Reporting

const results = { passed: 0, failed: 0, skipped: 0 };
let blocked = null; // name of the first failed blocking check: later checks depend on it

// No check may hang the run: each one gets a hard deadline, and every wait inside it is
// bounded too. A Playwright call or a probe that never returns becomes a `not ok` line
// naming the check and the step it was on.
const CHECK_TIMEOUT_MS = Number(process.env.HTTPLENS_E2E_CHECK_TIMEOUT_MS || 120000);
let running = null; // the name of the check being run
let currentStep = ''; // what that check is doing now (set by step, waitFor, runPaletteCommand)
// The check a piece of code runs for: a body that outlived its deadline is marked
// abandoned and stops at its next step or wait instead of acting on a later check's page.
const checkScope = new AsyncLocalStorage();

function throwIfAbandoned(what) {
    if (checkScope.getStore()?.abandoned) {
        throw new Error(`abandoned after its check timed out (at: ${what})`);
    }
}

/** Records what the running check is doing, for the message when it hangs. */
function step(what) {
    throwIfAbandoned(what);
    currentStep = what;
}

/** `promise`, or a rejection saying `what` did not finish within `ms`. */
function bounded(promise, ms, what) {
    let timer;
    const deadline = new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms / 1000} s`)), ms);
    });
    return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

/** Runs one check; a failed check skips the later ones unless it is `{ blocking: false }`. */
async function check(name, body, { blocking = true, timeoutMs = CHECK_TIMEOUT_MS } = {}) {
    if (stopping) {
        return;
    }
    if (blocked !== null) {
        results.skipped += 1;
        console.log(`skip - ${name} (needs: ${blocked})`);
        return;
    }
    const started = Date.now();
    running = name;
    currentStep = 'starting';
    const scope = { abandoned: false };
    const work = checkScope.run(scope, () => Promise.resolve().then(body));
    // An abandoned body may still reject later; that must not crash the run.
    work.catch(() => {});
    let timer;
    const hung = new Promise((_, reject) => {
        timer = setTimeout(() => {
            scope.abandoned = true;
            reject(new Error(`hung for ${timeoutMs / 1000} s, stopped while ${currentStep || 'starting'}`));
        }, timeoutMs);
    });
    try {
        await Promise.race([work, hung]);
        if (stopping) {
            return;
        }
        results.passed += 1;
        console.log(`ok - ${name} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
    } catch (error) {
        if (stopping) {
            return; // already reported by the signal handler
        }
        results.failed += 1;
        if (blocking) {
            blocked = name;
        }
        console.log(`not ok - ${name}: ${error instanceof Error ? error.message : String(error)}`);
        await screenshot(`failure-${name.replace(/[^a-z0-9]+/gi, '-').toLowerCase()}.png`);
        // Leave no palette, quick pick or input box open for the next check.
        if (page !== undefined) {
            for (let i = 0; i < 2; i += 1) {
                await bounded(page.keyboard.press('Escape'), 5000, 'Escape').catch(() => {});
            }
        }
    } finally {
        clearTimeout(timer);
        running = null;
    }
}

/**
 * Polls `probe` until it returns a truthy value; throws `what` after `ms`. Each probe is
 * bounded as well, so one that never answers cannot hold the wait past its deadline.
 */
async function waitFor(what, ms, probe) {
    const deadline = Date.now() + ms;
    step(`waiting: ${what}`);
    let last;
    for (;;) {
        throwIfAbandoned(what);
        try {
            const left = Math.max(1000, Math.min(10000, deadline - Date.now()));
            const value = await bounded(Promise.resolve().then(probe), left, 'a probe');
            if (value) {
                return value;
            }
        } catch (error) {
            last = error;
        }
        if (Date.now() > deadline) {
            const why = last instanceof Error ? ` (last error: ${last.message.split('\n')[0]})` : '';
            throw new Error(`${what} within ${ms / 1000} s${why}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 200));
    }
}

// ---------------------------------------------------------------------------------------
// Peers: the API under test, code-server, Chromium. All bound to 127.0.0.1.

const cleanups = [];
async function cleanup() {
    while (cleanups.length > 0) {
        const undo = cleanups.pop();
        try {
            await bounded(Promise.resolve().then(undo), 20000, 'a cleanup step');
        } catch (error) {
            console.error(`cleanup: ${error instanceof Error ? error.message : String(error)}`);
        }
    }
}
let stopping = false; // set on SIGINT/SIGTERM: no further checks, no further lines
for (const signal of ['SIGINT', 'SIGTERM']) {
    process.on(signal, () => {
        if (stopping) {
            return;
        }
        stopping = true;
        // Stopped from outside (run.sh's timeout): still say which check and step it was.
        const where = running === null ? 'between checks' : `in "${running}" while ${currentStep}`;
        console.log(`not ok - test harness: stopped by ${signal} ${where}`);
        results.failed += 1;
        void cleanup().finally(() => finish(130));
    });
}

/** Prints the summary line once and exits. */
function finish(code) {
    const skipped = results.skipped > 0 ? `, ${results.skipped} skipped` : '';
    console.log(`${results.passed} passed, ${results.failed} failed${skipped}`);
    process.exit(code);
}

const apiRequests = [];
function startApi() {
    const server = http.createServer((req, res) => {
        apiRequests.push(`${req.method} ${req.url}`);
        const body = JSON.stringify({ greeting: 'hello from the e2e api', path: req.url });
        res.writeHead(200, { 'content-type': 'application/json', 'x-e2e': 'yes' });
        res.end(body);
    });
    return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(0, '127.0.0.1', () => {
            cleanups.push(() => new Promise((done) => server.close(() => done())));
            resolve(server.address().port);
        });
    });
}

function freePort() {
    return new Promise((resolve, reject) => {
        const probe = net.createServer();
        probe.once('error', reject);
        probe.listen(0, '127.0.0.1', () => {
            const { port } = probe.address();
            probe.close(() => resolve(port));
        });
    });
}

/** Kills a detached child's whole process group (code-server, its extension host, the LSP). */
async function killGroup(child) {
    if (child.exitCode !== null || child.signalCode !== null) {
        return;
    }
    const gone = new Promise((resolve) => child.once('exit', resolve));
    try {
        process.kill(-child.pid, 'SIGTERM');
    } catch {
        return;
    }
    const timer = setTimeout(() => {
        try {
            process.kill(-child.pid, 'SIGKILL');
        } catch {
            // already gone
        }
    }, 5000);
    await gone;
    clearTimeout(timer);
}

/**
 * Starts `httplens demo` (its own OAuth provider and API on 127.0.0.1) writing its
 * workspace into `folder`; resolves once it serves. It signs itself in within its own
 * process (memory token store), so the editor's server starts signed out.
 */
// Opens a workspace file the way a user does: Ctrl+P, its name, Enter. A file written a
// moment ago is found once the editor's watcher has seen it, as a user would find it a
// moment later: ask again until the list shows it.
async function openWithQuickOpen(name) {
    const input = page.locator('.quick-input-widget input').first();
    const row = page.locator('.quick-input-widget .monaco-list-row', { hasText: name }).first();
    await waitFor(`quick open does not find ${name}`, 45000, async () => {
        await page.keyboard.press('Escape');
        await page.keyboard.press('Control+P');
        await input.waitFor({ state: 'visible', timeout: 10000 });
        await input.fill(name);
        return row.waitFor({ timeout: 3000 }).then(() => true, () => false);
    });
    await page.keyboard.press('Enter');
}

async function startDemo(folder, childEnv) {
    const logFile = path.join(artifacts, 'demo.log');
    const demo = spawn(serverBinary, ['demo', '--dir', folder], {
        env: { ...childEnv, HTTPLENS_CACHE_DIR: path.join(dir, 'demo-cache') },
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
    });
    cleanups.push(() => killGroup(demo));
    let out = '';
    const collect = (chunk) => {
        out += chunk.toString();
        fs.writeFileSync(logFile, out);
    };
    demo.stdout.on('data', collect);
    demo.stderr.on('data', collect);
    await waitFor('the demo did not start serving', 60000, () => {
        if (demo.exitCode !== null) {
            throw new Error(`httplens demo exited with ${demo.exitCode}; see demo.log`);
        }
        return out.includes('Serving until Ctrl-C');
    });
}

// ---------------------------------------------------------------------------------------
// The scene

const ws = path.join(dir, 'workspace');
const requestFile = path.join(ws, 'api.http');
const invocationLog = path.join(dir, 'server-invocations.log');
let page;
let browser;
let context;

async function screenshot(name) {
    if (page === undefined) {
        return undefined;
    }
    const file = path.join(artifacts, name);
    try {
        await bounded(page.screenshot({ path: file, timeout: 15000 }), 20000, 'the screenshot');
        return file;
    } catch {
        return undefined;
    }
}

/**
 * Runs a command from the palette (F1) by its title, as a user would. The palette can
 * close again when the focus moves right after it opened (a tab switch, a notification,
 * a response opening beside), so every step is retried a few times. The command's row is
 * clicked rather than Enter pressed: when the palette has closed in the meantime, Enter
 * would go to the editor (and type a newline into the .http file), while a click on a row
 * that is gone fails and is retried.
 */
async function runPaletteCommand(title) {
    const input = page.locator('.quick-input-widget input').first();
    step(`running "${title}" from the palette`);
    let lastError;
    for (let attempt = 0; attempt < 4; attempt += 1) {
        try {
            await page.keyboard.press('F1');
            await input.waitFor({ state: 'visible', timeout: 10000 });
            await input.fill(`>${title}`, { timeout: 3000 });
            const row = page.locator('.quick-input-widget .monaco-list-row', { hasText: title }).first();
            await row.waitFor({ state: 'visible', timeout: 10000 });
            await row.click({ timeout: 3000 });
            return;
        } catch (error) {
            lastError = error;
            if (await input.isVisible().catch(() => false)) {
                await page.keyboard.press('Escape');
            }
        }
    }
    throw new Error(`could not run "${title}" from the palette: ${lastError.message.split('\n')[0]}`);
}

/** Closes every browser tab but the workbench (e.g. one code-server opened by itself). */
async function closeOtherTabs() {
    for (const other of context.pages()) {
        if (other !== page) {
            await bounded(other.close(), 20000, `closing the tab at ${other.url()}`);
        }
    }
}

/** The text of the editor in group `group` (a Locator), spaces normalised. */
async function editorText(group) {
    const text = await group.locator('.monaco-editor .view-lines').first().innerText({ timeout: 1000 });
    return text.replace(/\u00a0/g, ' ');
}

async function main() {
    fs.mkdirSync(artifacts, { recursive: true });
    const apiPort = await startApi();
    const port = await freePort();

    for (const sub of ['user/User', 'exts', 'home', 'config', 'data', 'cache', 'state', 'httplens-cache', 'httplens-config', 'bin']) {
        fs.mkdirSync(path.join(dir, sub), { recursive: true });
    }
    fs.mkdirSync(ws, { recursive: true });

    // A transparent shim around the real server: it records that the extension started
    // `httplens lsp` (the proof of activation) and keeps the protocol traffic and the
    // server's stderr in the artifacts, to read when a check fails.
    // With HTTPLENS_E2E_BUNDLED=1 (run.sh) the shim is the .vsix's own bin/httplens and
    // no server path is set: the extension must find the server it ships.
    const bundled = process.env.HTTPLENS_E2E_BUNDLED === '1';
    const shim = path.join(dir, 'bin', 'httplens');
    const log = (name) => `'${path.join(artifacts, name)}'`;
    if (!bundled) fs.writeFileSync(
        shim,
        [
            '#!/bin/bash',
            `echo "$*" >> '${invocationLog}'`,
            // exec: the client must see the server itself exit, not a pipeline that waits.
            `exec '${serverBinary}' "$@" < <(tee -a ${log('lsp-in.log')}) > >(tee -a ${log('lsp-out.log')}) 2>> ${log('server-stderr.log')}`,
            '',
        ].join('\n'),
        { mode: 0o755 },
    );

    fs.writeFileSync(
        path.join(dir, 'user', 'User', 'settings.json'),
        JSON.stringify(
            {
                'workbench.startupEditor': 'none',
                'workbench.tips.enabled': false,
                'workbench.enableExperiments': false,
                'workbench.welcomePage.walkthroughs.openOnInstall': false,
                'telemetry.telemetryLevel': 'off',
                'update.mode': 'none',
                'extensions.autoCheckUpdates': false,
                'extensions.autoUpdate': false,
                'extensions.ignoreRecommendations': true,
                'security.workspace.trust.enabled': false,
                'git.enabled': false,
                'chat.commandCenter.enabled': false,
                'workbench.secondarySideBar.defaultVisibility': 'hidden',
                'editor.minimap.enabled': false,
                ...(bundled ? {} : { 'httplens.server.path': shim }),
                'httplens.tokenStore': 'memory',
            },
            null,
            2,
        ),
    );
    // One environment, so the server selects it without asking; the request needs it.
    fs.writeFileSync(
        path.join(ws, 'http-client.env.json'),
        JSON.stringify({ local: { host: `http://127.0.0.1:${apiPort}` } }, null, 2),
    );
    fs.writeFileSync(
        requestFile,
        ['### Say hello', '# @name hello', 'GET {{host}}/hello?from=vscode', 'Accept: application/json', ''].join('\n'),
    );
    // Three requests for Send All: each response names its own path.
    fs.writeFileSync(
        path.join(ws, 'several.http'),
        [
            '### one', '# @name one', 'GET {{host}}/all/one', '',
            '### two', '# @name two', 'GET {{host}}/all/two', '',
            '### three', '# @name three', 'GET {{host}}/all/three', '',
        ].join('\n'),
    );
    fs.writeFileSync(
        path.join(ws, 'prompt.http'),
        ['### Ask first', '# @prompt who the user to greet', '# @prompt password', 'GET {{host}}/prompt?who={{who}}&pw={{password}}', ''].join('\n'),
    );

    // A request file that names an OpenAPI spec: completion after `GET ` offers its paths.
    fs.writeFileSync(
        path.join(ws, 'shop.yaml'),
        [
            'openapi: 3.0.3',
            "info: {title: Shop, version: '1'}",
            'servers:',
            `  - url: http://127.0.0.1:${apiPort}/rest/V1`,
            'paths:',
            '  /products/{sku}:',
            '    get:',
            '      summary: One product',
            '      parameters:',
            '        - {name: sku, in: path, required: true, schema: {type: string}}',
            '      responses:',
            "        '200': {description: the product}",
            '  /store/storeViews:',
            '    get:',
            '      responses:',
            "        '200':",
            '          description: the store views (what the e2e API answers, here)',
            '          content:',
            '            application/json:',
            '              schema:',
            '                type: object',
            '                required: [greeting, path]',
            '                properties: {greeting: {type: string}, path: {type: string}}',
            '',
        ].join('\n'),
    );
    fs.writeFileSync(
        path.join(ws, 'openapi.http'),
        ['# @openapi ./shop.yaml', '', '### store views', 'GET {{host}}/rest/V1/store/storeViews', '', '### one product', 'GET '].join('\n'),
    );

    const childEnv = {
        PATH: process.env.PATH,
        LANG: 'C.UTF-8',
        HOME: path.join(dir, 'home'),
        XDG_CONFIG_HOME: path.join(dir, 'config'),
        XDG_DATA_HOME: path.join(dir, 'data'),
        XDG_CACHE_HOME: path.join(dir, 'cache'),
        XDG_STATE_HOME: path.join(dir, 'state'),
        HTTPLENS_CACHE_DIR: path.join(dir, 'httplens-cache'),
        HTTPLENS_CONFIG_DIR: path.join(dir, 'httplens-config'),
        HTTPLENS_TOKEN_STORE: 'memory',
        HTTPLENS_LOG: process.env.HTTPLENS_LOG ?? 'info',
    };

    let codeServer;
    await check('code-server starts on 127.0.0.1 and answers /healthz', async () => {
        const log = fs.openSync(path.join(artifacts, 'code-server.log'), 'w');
        codeServer = spawn(
            codeServerBin,
            [
                '--bind-addr', `127.0.0.1:${port}`,
                '--auth', 'none',
                '--disable-telemetry',
                '--disable-update-check',
                '--disable-workspace-trust',
                '--disable-getting-started-override',
                '--user-data-dir', path.join(dir, 'user'),
                '--extensions-dir', path.join(dir, 'exts'),
                ws,
            ],
            { env: childEnv, detached: true, stdio: ['ignore', log, log] },
        );
        cleanups.push(() => killGroup(codeServer));
        const exited = new Promise((resolve) => codeServer.once('exit', (code) => resolve(code)));
        await waitFor('code-server did not answer /healthz', 60000, async () => {
            if (codeServer.exitCode !== null) {
                throw new Error(`code-server exited with ${await exited}; see code-server.log`);
            }
            const res = await fetch(`http://127.0.0.1:${port}/healthz`);
            return res.ok;
        });
    });

    await check('the workbench loads in Chromium with the workspace', async () => {
        browser = await chromium.launch({
            executablePath: '/usr/bin/chromium',
            args: CHROMIUM_ARGS,
            headless: true,
            // Chromium writes into ~/.config and ~/.cache even with a temporary profile.
            env: { ...process.env, HOME: childEnv.HOME, XDG_CONFIG_HOME: childEnv.XDG_CONFIG_HOME, XDG_CACHE_HOME: childEnv.XDG_CACHE_HOME },
        });
        cleanups.push(() => browser.close());
        context = await browser.newContext({ viewport: { width: 1440, height: 810 } });
        // Copy as curl writes the clipboard; the test reads it back.
        await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: `http://127.0.0.1:${port}` });
        page = await context.newPage();
        await page.goto(`http://127.0.0.1:${port}/?folder=${encodeURIComponent(ws)}`);
        await page.locator('.monaco-workbench').waitFor({ timeout: 60000 });
        await waitFor('the explorer did not list api.http', 60000, () =>
            page.locator('.explorer-folders-view .monaco-list-row', { hasText: 'api.http' }).first().isVisible(),
        );
    });

    let requestGroup;
    await check('api.http opens as an http document', async () => {
        await page.locator('.explorer-folders-view .monaco-list-row', { hasText: 'api.http' }).first().click();
        requestGroup = page.locator('.editor-group-container', {
            has: page.locator('.tab.active', { hasText: 'api.http' }),
        });
        await waitFor('the editor did not show the request', 30000, async () =>
            (await editorText(requestGroup)).includes('GET {{host}}/hello?from=vscode'),
        );
        // The language mode indicator shows the language this extension contributes.
        await waitFor('the language mode is not HTTP', 30000, () =>
            page.locator('.statusbar-item', { hasText: /^HTTP$/ }).first().isVisible(),
        );
    });

    await check('the extension activates and starts `httplens lsp`', async () => {
        await waitFor('the extension did not start the server (no line in server-invocations.log)', 30000, () =>
            fs.existsSync(invocationLog) && fs.readFileSync(invocationLog, 'utf8').split('\n').includes('lsp'),
        );
    });

    let lens;
    await check('the "Send request" lens appears above the request', async () => {
        lens = page.locator('.codelens-decoration a', { hasText: 'Send request' }).first();
        await waitFor('no "Send request" lens', 45000, () => lens.isVisible());
    });

    await check(
        'the status bar shows the environment from httplens/state',
        async () => {
            await waitFor('no status bar item reads "local"', 20000, () =>
                page.locator('.statusbar-item', { hasText: /^\s*local\s*$/ }).first().isVisible(),
            );
        },
        { blocking: false },
    );

    let responseGroup;
    await check('clicking the lens shows the response beside the request', async () => {
        await lens.click();
        await waitFor('the API did not receive GET /hello', 30000, () =>
            apiRequests.some((r) => r.startsWith('GET /hello?from=vscode')),
        );
        responseGroup = page.locator('.editor-group-container', {
            hasNot: page.locator('.tab.active', { hasText: 'api.http' }),
        });
        const text = await waitFor('no second editor group shows "HTTP/1.1 200"', 30000, async () => {
            if ((await page.locator('.editor-group-container').count()) < 2) {
                return false;
            }
            const t = await editorText(responseGroup.first());
            return t.includes('HTTP/1.1 200') ? t : false;
        });
        if (!text.includes('hello from the e2e api')) {
            throw new Error(`the response document lacks the body; it reads:\n${text}`);
        }
        // The request stays open in its own group.
        if (!(await editorText(requestGroup)).includes('GET {{host}}/hello')) {
            throw new Error('the request editor was replaced by the response');
        }
        const shot = await screenshot('vscode-send.png');
        if (shot === undefined) {
            throw new Error('could not take the screenshot');
        }
    });

    await check(
        'sending again reuses the response column',
        async () => {
            const firstTab = await responseGroup.first().locator('.tab.active').innerText();
            await lens.click();
            await waitFor('the API did not receive the second GET /hello', 30000, () => apiRequests.length >= 2);
            await waitFor('the second response did not open', 30000, async () => {
                const tab = await responseGroup.first().locator('.tab.active').innerText({ timeout: 1000 });
                return tab !== firstTab && (await editorText(responseGroup.first())).includes('HTTP/1.1 200');
            });
            const groups = await page.locator('.editor-group-container').count();
            if (groups !== 2) {
                throw new Error(`expected the request and one response column, found ${groups} editor groups`);
            }
        },
        { blocking: false },
    );

    // The server decides what a response document is (`isResponse` of httplens/state):
    // one in its responses folder stays one after a note is typed above its status line,
    // where a client testing the first line itself would refuse Open Request.
    await check(
        'Open Request works from a response document because the server says it is one',
        async () => {
            const response = responseGroup.first().locator('.monaco-editor .view-lines').first();
            await response.click();
            await page.keyboard.press('Control+Home');
            await page.keyboard.type('note ');
            await waitFor('the note did not reach the response document', 10000, async () =>
                (await editorText(responseGroup.first())).startsWith('note HTTP/1.1 200'),
            );
            await runPaletteCommand('httplens: Open Request of This Response');
            const focusedRequest = page.locator('.editor-group-container.active .tab.active', { hasText: 'api.http' });
            await waitFor('the request did not get the focus after Open Request', 20000, async () => {
                const refused = page.locator('.notification-toast', { hasText: 'open a response document first' });
                if (await refused.first().isVisible()) {
                    throw new Error('the client refused: it did not take the server\'s word that this is a response');
                }
                return focusedRequest.first().isVisible();
            });
            step('undoing the note');
            await response.click();
            await waitFor('the note could not be undone', 10000, async () => {
                if ((await editorText(responseGroup.first())).startsWith('HTTP/1.1 200')) {
                    return true;
                }
                await page.keyboard.press('Control+z');
                return false;
            });
        },
        { blocking: false },
    );

    await check(
        'Compare Response with Previous opens a diff of the two responses',
        async () => {
            await responseGroup.first().locator('.monaco-editor .view-lines').first().click();
            await runPaletteCommand('httplens: Compare Response with Previous');
            await waitFor('no diff editor opened', 20000, () => page.locator('.monaco-diff-editor').first().isVisible());
            const title = await page.locator('.tab.active', { hasText: '↔' }).first().innerText({ timeout: 5000 });
            if (!title.includes('-200.http')) {
                throw new Error(`the diff is not of two response documents: "${title}"`);
            }
        },
        { blocking: false },
    );

    await check(
        'Copy Request as curl puts the curl command on the clipboard',
        async () => {
            await requestGroup.locator('.monaco-editor .view-lines').first().click();
            await page.evaluate(() => navigator.clipboard.writeText('(empty)'));
            await runPaletteCommand('httplens: Copy Request as curl');
            const copied = await waitFor('the clipboard did not receive a curl command', 20000, async () => {
                const text = await page.evaluate(() => navigator.clipboard.readText());
                return text.startsWith('curl') ? text : false;
            });
            if (!copied.includes(`127.0.0.1:${apiPort}/hello?from=vscode`)) {
                throw new Error(`the curl command lacks the resolved URL: ${copied}`);
            }
        },
        { blocking: false },
    );

    await check(
        'Copy Request as Python requests / JavaScript fetch put code on the clipboard',
        async () => {
            for (const [title, start] of [
                ['Python requests', 'import requests'],
                ['JavaScript fetch', 'const response = await fetch('],
            ]) {
                await requestGroup.locator('.monaco-editor .view-lines').first().click();
                await page.evaluate(() => navigator.clipboard.writeText('(empty)'));
                await runPaletteCommand(`httplens: Copy Request as ${title}`);
                const copied = await waitFor(`the clipboard did not receive ${title} code`, 20000, async () => {
                    const text = await page.evaluate(() => navigator.clipboard.readText());
                    return text.startsWith(start) ? text : false;
                });
                if (!copied.includes(`127.0.0.1:${apiPort}/hello?from=vscode`)) {
                    throw new Error(`the ${title} code lacks the resolved URL: ${copied}`);
                }
            }
        },
        { blocking: false },
    );

    await check(
        'Send All lists every response in a quick pick and opens the one picked beside',
        async () => {
            await openWithQuickOpen('several.http');
            const group = page.locator('.editor-group-container', {
                has: page.locator('.tab.active', { hasText: 'several.http' }),
            });
            await waitFor('several.http did not open', 30000, async () =>
                (await editorText(group.first())).includes('GET {{host}}/all/three'),
            );
            await waitFor('no "Send request" lens in several.http', 45000, () =>
                group.first().locator('.codelens-decoration a', { hasText: 'Send request' }).first().isVisible(),
            );
            const sentBefore = apiRequests.length;
            await runPaletteCommand('httplens: Send All Requests in File');
            await waitFor('the API did not receive the three requests', 30000, () =>
                ['one', 'two', 'three'].every((n) => apiRequests.slice(sentBefore).includes(`GET /all/${n}`)),
            );
            const picker = page.locator('.quick-input-widget', { hasText: 'open a response' }).first();
            await waitFor('no quick pick of the responses', 30000, () => picker.isVisible());
            const rows = picker.locator('.monaco-list-row');
            const texts = await waitFor('the quick pick does not list the three requests', 10000, async () => {
                const all = (await rows.allInnerTexts()).map((t) => t.replace(/\s+/g, ' '));
                return all.length === 3 ? all : false;
            });
            const order = ['one (line 3)', 'two (line 7)', 'three (line 11)'];
            texts.forEach((text, i) => {
                if (!text.includes(order[i]) || !/200 · \d+ ms/.test(text)) {
                    throw new Error(`quick pick row ${i + 1} should name ${order[i]} with 200 and a time: ${texts.join(' | ')}`);
                }
            });
            // The README's picture of the pick (docs/images/vscode-send-all-pick.png).
            await screenshot('vscode-send-all-pick.png');
            // The server showed the last response; picking the first opens that one instead.
            step('picking the first response');
            await rows.first().click({ timeout: 5000 });
            const shown = async () => {
                for (const g of await page.locator('.editor-group-container').all()) {
                    const tab = await g.locator('.tab.active').innerText({ timeout: 1000 }).catch(() => '');
                    if (tab.includes('-200.http') && (await editorText(g)).includes('"path": "/all/one"')) {
                        return g;
                    }
                }
                return false;
            };
            // Beside: the request keeps its own group (the probe found the response in a
            // group whose active tab is a response document).
            await waitFor('the response of "one" did not open', 20000, shown);
            if (!(await group.first().isVisible()) || !(await editorText(group.first())).includes('GET {{host}}/all/one')) {
                throw new Error('the request editor was replaced by the response');
            }
        },
        { blocking: false },
    );

    await check(
        'a # @prompt variable is asked in an input box (a password one hidden) before sending',
        async () => {
            await openWithQuickOpen('prompt.http');
            const group = page.locator('.editor-group-container', {
                has: page.locator('.tab.active', { hasText: 'prompt.http' }),
            });
            const promptLens = group.locator('.codelens-decoration a', { hasText: 'Send request' }).first();
            await waitFor('no "Send request" lens in prompt.http', 45000, () => promptLens.isVisible());
            await promptLens.click();
            const input = page.locator('.quick-input-widget input').first();
            await waitFor('no input box asks for `who`', 20000, async () =>
                (await input.isVisible()) &&
                (await page.locator('.quick-input-widget', { hasText: 'the user to greet' }).first().isVisible()),
            );
            if ((await input.getAttribute('type')) === 'password') {
                throw new Error('the input box for `who` hides what is typed');
            }
            await input.fill('jane');
            await page.keyboard.press('Enter');
            await waitFor('the input box for `password` does not hide what is typed', 20000, async () =>
                (await input.isVisible()) && (await input.getAttribute('type')) === 'password',
            );
            await input.fill('pw-e2e');
            await page.keyboard.press('Enter');
            await waitFor('the API did not receive the request with both values', 30000, () =>
                apiRequests.some((r) => r === 'GET /prompt?who=jane&pw=pw-e2e'),
            );
        },
        { blocking: false },
    );

    await check(
        'a response of a request the spec knows ends with "schema: matches"',
        async () => {
            await openWithQuickOpen('openapi.http');
            const group = page.locator('.editor-group-container', {
                has: page.locator('.tab.active', { hasText: 'openapi.http' }),
            });
            await waitFor('openapi.http did not open', 30000, async () =>
                (await editorText(group.first())).includes('# @openapi ./shop.yaml'),
            );
            // The server has the document once its lens is there.
            await waitFor('no "Send request" lens in openapi.http', 45000, () =>
                group.first().locator('.codelens-decoration a', { hasText: 'Send request' }).first().isVisible(),
            );
            // Before the completion edits the file: a lens of an older version is refused.
            const sent = apiRequests.length;
            await group.first().locator('.codelens-decoration a', { hasText: 'Send request' }).first().click();
            await waitFor('the API did not receive GET /rest/V1/store/storeViews', 30000, () =>
                apiRequests.slice(sent).includes('GET /rest/V1/store/storeViews'),
            );
            await waitFor('no response document ends with "schema: matches GET /store/storeViews 200"', 30000, async () => {
                for (const g of await page.locator('.editor-group-container').all()) {
                    if ((await editorText(g).catch(() => '')).includes('# schema: matches GET /store/storeViews 200')) {
                        return true;
                    }
                }
                return false;
            });
            await screenshot('vscode-openapi-schema.png');
        },
        { blocking: false },
    );

    await check(
        'completion after `GET ` in a file with # @openapi offers the spec\'s path',
        async () => {
            await openWithQuickOpen('openapi.http');
            const group = page.locator('.editor-group-container', {
                has: page.locator('.tab.active', { hasText: 'openapi.http' }),
            });
            await waitFor('openapi.http did not open', 30000, async () =>
                (await editorText(group.first())).includes('# @openapi ./shop.yaml'),
            );
            // The server has the document once its lens is there.
            await waitFor('no "Send request" lens in openapi.http', 45000, () =>
                group.first().locator('.codelens-decoration a', { hasText: 'Send request' }).first().isVisible(),
            );
            await group.first().locator('.monaco-editor .view-lines').first().click();
            // The end of the file is the end of `GET `: ask for suggestions there.
            await page.keyboard.press('Control+End');
            const row = page.locator('.suggest-widget .monaco-list-row', { hasText: '/products/{sku}' }).first();
            await waitFor('the suggestions do not offer /products/{sku} from shop.yaml', 30000, async () => {
                if (await row.isVisible()) {
                    return true;
                }
                await page.keyboard.press('Control+Space');
                await row.waitFor({ state: 'visible', timeout: 3000 }).catch(() => {});
                return row.isVisible();
            });
            await screenshot('vscode-openapi-completion.png');
            // Accepting it writes the path with its parameter as a placeholder.
            await page.keyboard.press('Enter');
            await waitFor('accepting did not write GET /products/sku', 10000, async () =>
                (await editorText(group.first())).includes('GET /products/sku'),
            );
            await page.keyboard.press('Escape');
        },
        { blocking: false },
    );

    // Sign-in in the real browser: the lens asks the server to sign in; the server shows the
    // authorize URL in a message and asks the editor to open it (window/showDocument
    // external). code-server rewrites a localhost URL to its port proxy and drops the path,
    // so, as a code-server user would, the test opens the URL from the message in a tab,
    // approves, and the provider redirects to the server's loopback listener.
    let signInLens;
    await check(
        'the demo workspace shows a sign-in lens',
        async () => {
            await startDemo(path.join(ws, 'demo'), childEnv);
            // The demo has just written its folder: quick open finds demo.http once the
            // editor's watcher has seen it (openWithQuickOpen asks again until then).
            await openWithQuickOpen('demo.http');
            signInLens = page.locator('.codelens-decoration a', { hasText: /^demo: sign in$/ }).first();
            await waitFor('no "demo: sign in" lens in demo.http', 45000, () => signInLens.isVisible());
        },
        { blocking: false },
    );

    await check(
        'signing in with the authorize URL in a real browser tab, then a signed request',
        async () => {
            if (signInLens === undefined || !(await signInLens.isVisible())) {
                throw new Error('needs the sign-in lens of the previous check');
            }
            await signInLens.click();
            const toast = page.locator('.notification-toast', { hasText: 'Sign in to "demo"' }).first();
            await waitFor('no notification with the authorize URL', 30000, () => toast.isVisible());
            // While the browser has not come back, the status bar says what the server says.
            await waitFor('the status bar does not carry the server\'s "demo: signing in"', 15000, () =>
                page.locator('.statusbar-item[aria-label*="demo: signing in"]').first().isVisible(),
            );
            const message = await toast.innerText();
            const authorizeUrl = message.match(/http:\/\/127\.0\.0\.1:\d+\/\S*?(?=\s|$)/)?.[0];
            if (authorizeUrl === undefined) {
                throw new Error(`the message holds no authorize URL: ${message}`);
            }
            // The tab code-server opened on its own (its proxy of the provider) is not used.
            step('closing the tab code-server opened');
            await closeOtherTabs();
            step('opening a new browser tab');
            const signInPage = await bounded(context.newPage(), 20000, 'opening a new tab');
            step(`opening ${authorizeUrl}`);
            await signInPage.goto(authorizeUrl);
            step('clicking approve');
            try {
                await signInPage.locator('#approve').click({ timeout: 30000 });
            } catch (error) {
                await signInPage.screenshot({ path: path.join(artifacts, 'signin-browser.png') }).catch(() => {});
                throw new Error(`the tab at ${signInPage.url()} shows no approve button (${error.message.split('\n')[0]})`);
            }
            await waitFor('the browser did not land on the sign-in result page', 30000, async () =>
                /signed in|you can close/i.test(await signInPage.locator('body').innerText({ timeout: 1000 })),
            );
            await signInPage.screenshot({ path: path.join(artifacts, 'signin-browser.png'), timeout: 15000 });
            step('closing the sign-in tab');
            await bounded(signInPage.close(), 20000, 'closing the sign-in tab');
            const signedIn = page.locator('.codelens-decoration a', { hasText: /^demo: signed in as demo\.user@example\.test/ });
            await waitFor('the lens does not say "demo: signed in as demo.user@example.test"', 30000, () =>
                signedIn.first().isVisible(),
            );
            // The status bar follows httplens/stateChanged: one of the demo's two profiles.
            await waitFor('the status bar does not say "1/2 signed in"', 15000, () =>
                page.locator('.statusbar-item', { hasText: '1/2 signed in' }).first().isVisible(),
            );
            // The profile's state in the server's words: in the status bar and the message.
            await waitFor('the status bar does not carry the server\'s "demo: signed in as ..., N min left"', 15000, () =>
                page
                    .locator('.statusbar-item[aria-label*="demo: signed in as demo.user@example.test, "][aria-label*=" left"]')
                    .first()
                    .isVisible(),
            );
            await waitFor('no "httplens: demo: signed in as ..." message', 15000, () =>
                page
                    .locator('.notification-toast', { hasText: /httplens: demo: signed in as demo\.user@example\.test, \d+ \w+ left/ })
                    .first()
                    .isVisible(),
            );
            const sends = page.locator('.codelens-decoration a', { hasText: 'Send request' });
            await sends.first().click();
            const demoGroup = page.locator('.editor-group-container', {
                hasNot: page.locator('.tab.active', { hasText: 'demo.http' }),
            });
            const text = await waitFor('the signed request\'s response did not open beside', 30000, async () => {
                const t = await editorText(demoGroup.first());
                return t.includes('demo.user@example.test') ? t : false;
            });
            if (!text.startsWith('HTTP/1.1 200')) {
                throw new Error(`the signed request did not get a 200: ${text.split('\n')[0]}`);
            }
            await screenshot('vscode-signed-in.png');
        },
        { blocking: false },
    );

    // The remote case: the browser's redirect cannot reach the server's listener, so the
    // user pastes the address it ended on into "Complete Sign-in". Sign out first.
    await check(
        'Sign Out, then Complete Sign-in with the pasted redirect URL',
        async () => {
            if (signInLens === undefined) {
                throw new Error('needs the demo workspace of the previous checks');
            }
            await page.locator('.tab', { hasText: 'demo.http' }).first().click();
            await runPaletteCommand('httplens: Sign Out…');
            await waitFor('the lens did not return to "demo: sign in" after signing out', 20000, () =>
                signInLens.isVisible(),
            );
            await runPaletteCommand('Notifications: Clear All Notifications');
            await signInLens.click();
            const toast = page.locator('.notification-toast', { hasText: 'Sign in to "demo"' }).first();
            await waitFor('no notification with the authorize URL', 30000, () => toast.isVisible());
            const authorizeUrl = (await toast.innerText()).match(/http:\/\/127\.0\.0\.1:\d+\/\S*?(?=\s|$)/)?.[0];
            const redirect = new URL(new URL(authorizeUrl).searchParams.get('redirect_uri'));
            step('closing the tab code-server opened');
            await closeOtherTabs();
            step('opening a new browser tab');
            const signInPage = await bounded(context.newPage(), 20000, 'opening a new tab');
            let landedOn;
            // The redirect goes nowhere, as on a machine the listener cannot be reached from:
            // the provider's answer to the approval is fetched without following its
            // redirect, and the tab shows an error instead. (A route does not see redirects.)
            // `landedOn` is set only once the tab has its answer: closing a tab whose
            // navigation is still held by the route (fetch or fulfill in flight) can hang
            // Chromium's close for good, which is how this check once hung the suite.
            await signInPage.route('**/*approve*', async (route) => {
                const answer = await route.fetch({ maxRedirects: 0 });
                const location = answer.headers()['location'];
                if (location?.startsWith(redirect.origin)) {
                    await route.fulfill({ status: 502, contentType: 'text/plain', body: 'unreachable (blocked by the test)' });
                    landedOn = location;
                } else {
                    await route.fulfill({ response: answer });
                }
            });
            step(`opening ${authorizeUrl}`);
            await signInPage.goto(authorizeUrl);
            step('clicking approve');
            await signInPage.locator('#approve').click({ timeout: 30000 });
            await waitFor('the browser was not redirected to the listener', 30000, () => landedOn !== undefined);
            await waitFor('the tab did not show the blocked redirect', 30000, async () =>
                (await signInPage.locator('body').innerText({ timeout: 1000 })).includes('blocked by the test'),
            );
            step('closing the sign-in tab');
            await bounded(signInPage.unrouteAll({ behavior: 'ignoreErrors' }), 10000, 'removing the route');
            await bounded(signInPage.close(), 20000, 'closing the sign-in tab');

            await runPaletteCommand('httplens: Complete Sign-in with Redirect URL…');
            // Two profiles are signed out (demo, demo-service): pick demo.
            const pick = page.locator('.quick-input-widget input').first();
            await pick.waitFor({ state: 'visible', timeout: 10000 });
            await page.locator('.quick-input-widget .monaco-list-row', { hasText: 'demo-service' }).first().waitFor({ timeout: 10000 });
            await page.locator('.quick-input-widget .monaco-list-row').filter({ hasNotText: 'demo-service' }).first().click();
            const box = page.locator('.quick-input-widget input').first();
            await waitFor('no input box for the redirect URL', 10000, async () =>
                (await page.locator('.quick-input-widget', { hasText: 'complete the sign-in of demo' }).count()) > 0,
            );
            await box.fill(landedOn);
            await page.keyboard.press('Enter');
            const signedIn = page.locator('.codelens-decoration a', { hasText: /^demo: signed in as demo\.user@example\.test/ });
            await waitFor('the lens does not say "demo: signed in as ..." after Complete Sign-in', 30000, () =>
                signedIn.first().isVisible(),
            );
        },
        { blocking: false },
    );

    await check(
        'a wrong httplens.server.path is reported with what to do',
        async () => {
            // Through the settings editor, as a user would (code-server does not notice a
            // settings file changed behind its back).
            const settingsFile = path.join(dir, 'user', 'User', 'settings.json');
            const settings = JSON.parse(fs.readFileSync(settingsFile, 'utf8'));
            settings['httplens.server.path'] = path.join(dir, 'no-such-httplens');
            await runPaletteCommand('Preferences: Open User Settings (JSON)');
            const settingsEditor = page.locator('.editor-group-container', {
                has: page.locator('.tab.active', { hasText: 'settings.json' }),
            });
            await settingsEditor.locator('.monaco-editor .view-lines').first().click();
            await page.keyboard.press('Control+A');
            await page.keyboard.press('Delete');
            await page.keyboard.insertText(JSON.stringify(settings));
            await page.keyboard.press('Control+S');
            await waitFor('settings.json was not saved with the new path', 10000, () =>
                fs.readFileSync(settingsFile, 'utf8').includes('no-such-httplens'),
            );
            const toast = page.locator('.notification-toast', { hasText: 'httplens.server.path' }).first();
            await waitFor('no notification names the setting', 30000, () => toast.isVisible());
            const text = (await toast.innerText()).replace(/\s+/g, ' ');
            if (!text.includes('no-such-httplens') || !text.includes('Open Settings')) {
                throw new Error(`the notification does not say what to do: ${text}`);
            }
        },
        { blocking: false },
    );
}

try {
    await main();
} catch (error) {
    if (!stopping) {
        results.failed += 1;
        console.log(`not ok - test harness: ${error instanceof Error ? error.stack : String(error)}`);
    }
}
if (!stopping) {
    await cleanup();
    finish(results.failed > 0 ? 1 : 0);
}
