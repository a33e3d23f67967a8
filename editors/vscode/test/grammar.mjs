// Checks the TextMate grammar (syntaxes/http.tmLanguage.json) with the same engine VS Code
// uses (vscode-textmate + Oniguruma, taken from the code-server that setup.sh installs):
// the regular expressions compile, a small fixture gets the expected scopes, and every
// real .http/.rest file of the shared corpus tokenizes quickly with separators, request
// lines and variables recognised.
//
// Run by run.sh with HTTPLENS_E2E_PEERS (setup.sh's folder) and HTTPLENS_CORPUS (the
// shared corpus of real .http files). Prints one line per check and `N passed, N failed`.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const peers = process.env.HTTPLENS_E2E_PEERS;
const corpus = process.env.HTTPLENS_CORPUS;
if (!peers || !corpus) {
    console.error('grammar.mjs: HTTPLENS_E2E_PEERS and HTTPLENS_CORPUS must be set: run editors/vscode/test/run.sh.');
    process.exit(2);
}
const vscodeModules = path.join(peers, 'node_modules', 'code-server', 'lib', 'vscode');
const require = createRequire(path.join(vscodeModules, 'node_modules', 'noop.js'));
const textmate = require('vscode-textmate');
const oniguruma = require('vscode-oniguruma');

const results = { passed: 0, failed: 0 };
async function check(name, body) {
    try {
        await body();
        results.passed += 1;
        console.log(`ok - ${name}`);
    } catch (error) {
        results.failed += 1;
        console.log(`not ok - ${name}: ${error instanceof Error ? error.message : String(error)}`);
    }
}

const grammarFiles = {
    'source.http': path.join(here, '..', 'syntaxes', 'http.tmLanguage.json'),
    'source.json': path.join(vscodeModules, 'extensions', 'json', 'syntaxes', 'JSON.tmLanguage.json'),
};

async function loadRegistry() {
    const wasm = fs.readFileSync(require.resolve('vscode-oniguruma/release/onig.wasm'));
    await oniguruma.loadWASM(wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength));
    return new textmate.Registry({
        onigLib: Promise.resolve({
            createOnigScanner: (sources) => new oniguruma.OnigScanner(sources),
            createOnigString: (text) => new oniguruma.OnigString(text),
        }),
        loadGrammar: async (scope) => {
            const file = grammarFiles[scope];
            // Other embedded languages (source.js in handler scripts) are not needed here.
            return file ? textmate.parseRawGrammar(fs.readFileSync(file, 'utf8'), file) : null;
        },
    });
}

/** Tokenizes `text`; returns per line `[{text, scopes}]`. Throws on a slow line. */
function tokenize(grammar, text) {
    let stack = textmate.INITIAL;
    return text.split(/\r?\n/).map((line, index) => {
        const result = grammar.tokenizeLine(line, stack, 1000);
        if (result.stoppedEarly) {
            throw new Error(`line ${index + 1} took over a second to tokenize: ${line}`);
        }
        stack = result.ruleStack;
        return result.tokens.map((t) => ({ text: line.slice(t.startIndex, t.endIndex), scopes: t.scopes }));
    });
}

/** The scopes of the token that is `text`, else of the first token that contains it. */
function scopesOf(lineTokens, text) {
    const token = lineTokens.find((t) => t.text === text) ?? lineTokens.find((t) => t.text.includes(text));
    return token === undefined ? [] : token.scopes;
}

const registry = await loadRegistry();
let grammar;
await check('the grammar loads and its regular expressions compile in Oniguruma', async () => {
    grammar = await registry.loadGrammar('source.http');
    if (grammar === null) {
        throw new Error('source.http did not load');
    }
    // Compiling happens on first use: tokenize a line that reaches every top-level rule.
    tokenize(grammar, '### x\n# @name x\n@v = 1\nGET http://a/{{v}}\nA: b\n\n{"a": 1}\n?? status == 200\n> ./h.js\n>> out.json\n< ./body.json');
});

const fixture = [
    '### Create a user', // 1
    '# @name create', // 2
    '@host = http://127.0.0.1:8080', // 3
    'POST {{host}}/users?x=1 HTTP/1.1', // 4
    'Content-Type: application/json', // 5
    'Authorization: Bearer {{$auth.token("shop")}}', // 6
    '', // 7
    '{', // 8
    '  "name": "{{userName}}",', // 9
    '  "age": 42', // 10
    '}', // 11
    '', // 12
    '?? status == 201', // 13
    '', // 14
    '###', // 15
    '// a comment', // 16
    'https://example.test/plain', // 17
    '', // 18
    'HTTP/1.1 200 OK', // 19
    '', // 20
    '### an unclosed JSON body must not swallow the next request', // 21
    'POST http://127.0.0.1/b', // 22
    '', // 23
    '{', // 24
    '  "a": 1', // 25
    '### after', // 26
    'GET http://127.0.0.1/c', // 27
].join('\n');

const expectations = [
    [1, '###', 'punctuation.separator.request.http'],
    [1, 'Create a user', 'entity.name.section.http'],
    [2, 'name', 'keyword.other.metadata.http'],
    [3, 'host', 'variable.other.declaration.http'],
    [4, 'POST', 'keyword.control.http-method.http'],
    [4, 'host', 'variable.other.http'],
    [4, 'HTTP/1.1', 'keyword.other.http-version.http'],
    [5, 'Content-Type', 'support.type.property-name.header.http'],
    [6, '$auth.token("shop")', 'variable.other.http'],
    [9, 'userName', 'variable.other.http'],
    [10, '42', 'constant.numeric.json'],
    [13, '??', 'keyword.operator.assertion.http'],
    [15, '###', 'punctuation.separator.request.http'],
    [16, 'a comment', 'comment.line.http'],
    [19, '200', 'constant.numeric.status-code.http'],
    [26, '###', 'punctuation.separator.request.http'],
    [27, 'GET', 'keyword.control.http-method.http'],
];

await check('a fixture gets the expected scopes', async () => {
    const lines = tokenize(grammar, fixture);
    const wrong = [];
    for (const [line, text, scope] of expectations) {
        const scopes = scopesOf(lines[line - 1], text);
        if (!scopes.some((s) => s.split(' ').includes(scope) || s.startsWith(`${scope} `) || s === scope)) {
            wrong.push(`line ${line} "${text}": wanted ${scope}, got [${scopes.join(', ')}]`);
        }
    }
    if (wrong.length > 0) {
        throw new Error(wrong.join('; '));
    }
});

await check('every corpus .http/.rest file tokenizes, with separators, methods and variables', async () => {
    if (!fs.existsSync(corpus)) {
        throw new Error(`the corpus folder ${corpus} does not exist (set HTTPLENS_CORPUS)`);
    }
    const files = fs
        .readdirSync(corpus, { recursive: true })
        .map((f) => path.join(corpus, String(f)))
        .filter((f) => /\.(http|rest)$/.test(f) && fs.statSync(f).isFile());
    if (files.length === 0) {
        throw new Error(`no .http or .rest files under ${corpus}`);
    }
    const counts = { separators: 0, requestLines: 0, variables: 0 };
    const misses = [];
    for (const file of files) {
        const text = fs.readFileSync(file, 'utf8');
        const lines = tokenize(grammar, text);
        const raw = text.split(/\r?\n/);
        raw.forEach((line, i) => {
            const scopes = lines[i].flatMap((t) => t.scopes);
            const where = `${path.relative(corpus, file)}:${i + 1}`;
            if (/^#{3,}/.test(line)) {
                counts.separators += 1;
                if (!scopes.some((s) => s.includes('punctuation.separator.request.http'))) {
                    misses.push(`${where} separator`);
                }
            }
            // A request line right after a separator: outside any body, so it must match.
            if (i > 0 && /^#{3,}/.test(raw[i - 1]) && /^(GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS) \S/.test(line)) {
                counts.requestLines += 1;
                if (!scopes.some((s) => s.includes('keyword.control.http-method.http'))) {
                    misses.push(`${where} request line`);
                }
            }
            if (/^(GET|POST|PUT|PATCH|DELETE) \S*\{\{[\w.$-]+\}\}/.test(line)) {
                counts.variables += 1;
                if (!scopes.some((s) => s.includes('variable.other.http'))) {
                    misses.push(`${where} variable in the URL`);
                }
            }
        });
    }
    if (misses.length > 0) {
        throw new Error(`${misses.length} misses: ${misses.slice(0, 10).join(', ')}`);
    }
    if (counts.separators === 0 || counts.requestLines === 0 || counts.variables === 0) {
        throw new Error(`the corpus exercised too little: ${JSON.stringify(counts)}`);
    }
    console.log(`# ${files.length} files: ${counts.separators} separators, ${counts.requestLines} request lines after a separator, ${counts.variables} URL variables`);
});

console.log(`${results.passed} passed, ${results.failed} failed`);
process.exit(results.failed > 0 ? 1 : 0);
