// Puts the language server into bin/ for the .vsix, so that installing the .vsix is the
// whole install (the extension finds bin/httplens before PATH; see src/server.ts).
//   HTTPLENS_BUNDLE_BIN=/path/to/httplens  bundle that binary (the tests bundle a shim)
//   otherwise                              build the release binary of this repository
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ext = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const repo = path.resolve(ext, '..', '..');
let source = process.env.HTTPLENS_BUNDLE_BIN;
if (!source) {
    execFileSync('cargo', ['build', '--release', '--locked', '--bin', 'httplens'], { cwd: repo, stdio: 'inherit' });
    source = path.join(process.env.CARGO_TARGET_DIR || path.join(repo, 'target'), 'release', 'httplens');
}
if (!fs.existsSync(source)) {
    console.error(`bundle-server: ${source} does not exist`);
    process.exit(1);
}
const bin = path.join(ext, 'bin');
fs.mkdirSync(bin, { recursive: true });
const dest = path.join(bin, process.platform === 'win32' ? 'httplens.exe' : 'httplens');
fs.copyFileSync(source, dest);
fs.chmodSync(dest, 0o755);
console.error(`bundle-server: ${source} -> ${path.relative(ext, dest)}`);
