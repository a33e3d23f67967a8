//! Finds the `httplens` binary that runs the language server: setting, bundled, then PATH.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';

const exeName = process.platform === 'win32' ? 'httplens.exe' : 'httplens';

/** Where the binary came from, so error messages can say what to change. */
export type ServerSource = 'setting' | 'bundled' | 'path';

export interface ServerBinary {
    command: string;
    source: ServerSource;
}

/** Why no binary could be used; `message` is one sentence that says what to do. */
export class ServerNotFoundError extends Error {
    constructor(
        message: string,
        readonly fromSetting: boolean,
    ) {
        super(message);
    }
}

function isExecutableFile(file: string): boolean {
    try {
        if (!fs.statSync(file).isFile()) {
            return false;
        }
        if (process.platform !== 'win32') {
            fs.accessSync(file, fs.constants.X_OK);
        }
        return true;
    } catch {
        return false;
    }
}

/** Expands `~` and `${workspaceFolder}`, and resolves a relative path against the first folder. */
function expandSetting(value: string): string {
    const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
    let out = value.trim();
    if (out === '~' || out.startsWith('~/') || out.startsWith('~\\')) {
        out = path.join(os.homedir(), out.slice(1));
    }
    if (folder !== undefined) {
        out = out.replace(/\$\{workspaceFolder\}/g, folder);
    }
    if (!path.isAbsolute(out) && folder !== undefined) {
        out = path.join(folder, out);
    }
    return out;
}

function searchPath(): string | undefined {
    const dirs = (process.env.PATH ?? '').split(path.delimiter).filter((d) => d !== '');
    for (const dir of dirs) {
        const candidate = path.join(dir, exeName);
        if (isExecutableFile(candidate)) {
            return candidate;
        }
    }
    return undefined;
}

/**
 * The setting wins (and a wrong setting is an error rather than a silent fallback, so the
 * user learns their path is wrong); then `bin/httplens` inside the extension; then PATH.
 */
export function findServer(extensionPath: string): ServerBinary {
    const configured = vscode.workspace.getConfiguration('httplens').get<string>('server.path', '');
    if (configured.trim() !== '') {
        const file = expandSetting(configured);
        if (isExecutableFile(file)) {
            return { command: file, source: 'setting' };
        }
        throw new ServerNotFoundError(
            `The setting httplens.server.path points at "${file}", which is not an executable file: fix the path or clear the setting to use httplens from PATH.`,
            true,
        );
    }
    const bundled = path.join(extensionPath, 'bin', exeName);
    if (isExecutableFile(bundled)) {
        return { command: bundled, source: 'bundled' };
    }
    const onPath = searchPath();
    if (onPath !== undefined) {
        return { command: onPath, source: 'path' };
    }
    throw new ServerNotFoundError(
        'The httplens language server was not found: install httplens (for example `cargo install --path .` in its repository) so that it is on PATH, or set httplens.server.path to the binary.',
        false,
    );
}
