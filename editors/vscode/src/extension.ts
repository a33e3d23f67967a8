//! Entry point of the httplens VS Code extension: starts `httplens lsp` and wires the
//! response split, the status bar and the commands to it.

import * as vscode from 'vscode';
import {
    type ClientCapabilities,
    type FeatureState,
    LanguageClient,
    type LanguageClientOptions,
    type ServerOptions,
    State,
    type StaticFeature,
} from 'vscode-languageclient/node';
import { Commands } from './commands';
import { PromptCapability, PromptRequest, StateChangedNotification, type PromptParams } from './protocol';
import { ResponseViewer } from './responses';
import { findServer, ServerNotFoundError } from './server';
import { StatusBar } from './status';

let client: LanguageClient | undefined;
let output: vscode.LogOutputChannel | undefined;

/**
 * The settings the server reads (section `httplens`), sent as `initializationOptions`.
 * An empty string means "not set" (the server then falls back as docs/lsp-extensions.md says).
 */
function serverSettings(): Record<string, unknown> {
    const config = vscode.workspace.getConfiguration('httplens');
    const text = (key: string): string | null => {
        const value = config.get<string | null>(key, null);
        return typeof value === 'string' && value.trim() !== '' ? value.trim() : null;
    };
    return {
        environment: text('environment'),
        tokenStore: text('tokenStore'),
        timeoutSeconds: config.get<number>('timeoutSeconds', 30),
        historySize: config.get<number>('historySize', 20),
        trace: { server: config.get<string>('trace.server', 'off') },
    };
}

/** Tells the server this client answers `httplens/prompt`. */
const promptFeature: StaticFeature = {
    fillClientCapabilities(capabilities: ClientCapabilities): void {
        capabilities.experimental = { ...(capabilities.experimental as object | undefined), [PromptCapability]: true };
    },
    initialize(): void {},
    getState(): FeatureState {
        return { kind: 'static' };
    },
    clear(): void {},
};

/** Asks for a `# @prompt` variable in an input box; `null` when dismissed. */
async function answerPrompt(params: PromptParams): Promise<{ value: string } | null> {
    const value = await vscode.window.showInputBox({
        title: `httplens: ${params.name}`,
        prompt: params.description !== '' ? params.description : `A value for ${params.name} (# @prompt)`,
        password: params.secret,
        ignoreFocusOut: true,
    });
    return value === undefined ? null : { value };
}

export async function activate(context: vscode.ExtensionContext): Promise<void> {
    output = vscode.window.createOutputChannel('httplens', { log: true });
    context.subscriptions.push(output);
    const status = new StatusBar();
    context.subscriptions.push(status);
    // Where a response goes depends on whether the active editor shows one: the server's word.
    const viewer: ResponseViewer = new ResponseViewer((uri): boolean | undefined => commands.knownResponse(uri));

    let refreshSeq = 0;
    const refreshState = (): void => {
        const seq = ++refreshSeq;
        const editor = vscode.window.activeTextEditor;
        if (editor === undefined || editor.document.languageId !== 'http') {
            // Another language's editor: hide. No text editor at all (the focus is in a
            // panel or a webview): keep showing the last state.
            if (editor !== undefined) {
                status.update(undefined);
            }
            return;
        }
        if (client === undefined || !client.isRunning()) {
            status.update(undefined);
            return;
        }
        commands.state(editor.document.uri).then(
            (state) => {
                if (seq === refreshSeq) {
                    status.update(state);
                }
            },
            (error: unknown) => {
                // A server without the extension, or one still starting: no status, no popup.
                output?.debug(`httplens/state failed: ${error instanceof Error ? error.message : String(error)}`);
                if (seq === refreshSeq) {
                    status.update(undefined);
                }
            },
        );
    };

    const commands = new Commands({
        client: () => client,
        refreshState,
        // Like the responses the server shows: beside the request, the focus stays there.
        openResponse: async (uri) => (await viewer.show({ uri, takeFocus: false })).success,
    });
    commands.register(context);

    const start = async (): Promise<void> => {
        let binary;
        try {
            binary = findServer(context.extensionPath);
        } catch (error) {
            if (error instanceof ServerNotFoundError) {
                output?.error(error.message);
                const choice = await vscode.window.showErrorMessage(`httplens: ${error.message}`, 'Open Settings');
                if (choice === 'Open Settings') {
                    await vscode.commands.executeCommand('workbench.action.openSettings', 'httplens.server.path');
                }
                return;
            }
            throw error;
        }
        output?.info(`starting ${binary.command} lsp (from ${binary.source})`);
        // No `transport`: TransportKind.stdio would append `--stdio`, which `httplens lsp`
        // does not take; a plain command talks over stdio all the same.
        const serverOptions: ServerOptions = { command: binary.command, args: ['lsp'] };
        const clientOptions: LanguageClientOptions = {
            documentSelector: [
                { scheme: 'file', language: 'http' },
                { scheme: 'untitled', language: 'http' },
            ],
            outputChannel: output,
            initializationOptions: serverSettings,
            synchronize: { configurationSection: 'httplens' },
            middleware: {
                window: { showDocument: (params) => viewer.show(params) },
                executeCommand: (command, args) => commands.fromLens(command, args),
            },
        };
        const next = new LanguageClient('httplens', 'httplens', serverOptions, clientOptions);
        next.registerFeature(promptFeature);
        context.subscriptions.push(next.onRequest(PromptRequest, answerPrompt));
        next.onDidChangeState((event) => {
            if (event.newState === State.Running) {
                refreshState();
            } else if (event.newState === State.Stopped) {
                status.update(undefined);
            }
        });
        client = next;
        try {
            await next.start();
        } catch (error) {
            const message = error instanceof Error ? error.message : String(error);
            output?.error(`the language server did not start: ${message}`);
            void vscode.window.showErrorMessage(
                `httplens: the language server (${binary.command} lsp) did not start: ${message}`,
            );
            return;
        }
        context.subscriptions.push(next.onNotification(StateChangedNotification, () => refreshState()));
        refreshState();
    };

    const restart = async (): Promise<void> => {
        const old = client;
        client = undefined;
        if (old !== undefined) {
            try {
                await old.stop(5000);
            } catch (error) {
                output?.warn(`stopping the old server failed: ${String(error)}`);
            }
        }
        await start();
    };

    context.subscriptions.push(
        vscode.commands.registerCommand('httplens.client.restartServer', restart),
        vscode.window.onDidChangeActiveTextEditor(() => refreshState()),
        vscode.workspace.onDidChangeConfiguration((event) => {
            if (event.affectsConfiguration('httplens.server.path')) {
                void restart();
            } else if (event.affectsConfiguration('httplens')) {
                refreshState();
            }
        }),
    );
    await start();
}

export async function deactivate(): Promise<void> {
    const old = client;
    client = undefined;
    if (old !== undefined) {
        await old.stop();
    }
}
