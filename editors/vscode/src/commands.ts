//! The palette and context-menu commands (`httplens.client.*`) and the one place that runs a
//! server command and acts on its result, for the palette and for code lens clicks alike.

import * as vscode from 'vscode';
import { ExecuteCommandRequest, type LanguageClient, ResponseError } from 'vscode-languageclient/node';
import {
    type HttplensState,
    type StateProfile,
    type SendResult,
    ServerCommand,
    type SignInResult,
    StateRequest,
} from './protocol';

/**
 * What the commands need from the extension: the running client, a status refresh, and
 * the response split (opens a response document beside the request, as the server's
 * `window/showDocument` does).
 */
export interface CommandHost {
    client(): LanguageClient | undefined;
    refreshState(): void;
    openResponse(uri: string): Promise<boolean>;
}

export class Commands {
    /** `isResponse` of the server's last `httplens/state` answer, by document URI. */
    private readonly responses = new Map<string, boolean>();

    constructor(private readonly host: CommandHost) {}

    /** Whether the server last said `uri` is a response document (`undefined`: not asked yet). */
    knownResponse(uri: vscode.Uri): boolean | undefined {
        return this.responses.get(uri.toString());
    }

    register(context: vscode.ExtensionContext): void {
        const add = (id: string, run: () => Promise<unknown>): void => {
            context.subscriptions.push(
                vscode.commands.registerCommand(`httplens.client.${id}`, async () => {
                    try {
                        await run();
                    } catch (error) {
                        showError(error);
                    }
                }),
            );
        };
        add('send', () => this.send());
        add('sendAll', () => this.sendAll());
        add('signIn', () => this.signIn());
        add('signOut', () => this.signOut());
        add('completeSignIn', () => this.completeSignIn());
        add('copyAsCurl', () => this.copyAsCurl());
        add('copyAsPython', () => this.copyAsCode('python'));
        add('copyAsJavaScript', () => this.copyAsCode('javascript'));
        add('selectEnvironment', () => this.selectEnvironment());
        add('openRequest', () => this.openRequest());
        add('compareWithPrevious', () => this.compareWithPrevious());
    }

    /**
     * `executeCommand` middleware: a code lens click runs here instead of the languageclient's
     * default, so results are acted on (clipboard, diff) and errors read as one message.
     */
    async fromLens(command: string, args: unknown[]): Promise<unknown> {
        try {
            return await this.run(command, args[0]);
        } catch (error) {
            showError(error);
            return undefined;
        }
    }

    /** Runs a server command with its one argument object and acts on the result. */
    async run(command: string, arg: unknown): Promise<unknown> {
        const client = this.requireClient();
        const result: unknown = await client.sendRequest(ExecuteCommandRequest.type, {
            command,
            arguments: arg === undefined ? [] : [arg],
        });
        await this.afterCommand(command, arg, result);
        return result;
    }

    private async afterCommand(command: string, arg: unknown, result: unknown): Promise<void> {
        switch (command) {
            case ServerCommand.copyAsCurl:
                if (typeof result === 'string') {
                    await vscode.env.clipboard.writeText(result);
                    void vscode.window.showInformationMessage('httplens: copied the request as a curl command.');
                }
                break;
            case ServerCommand.copyAsCode:
                if (typeof result === 'string') {
                    await vscode.env.clipboard.writeText(result);
                    void vscode.window.showInformationMessage('httplens: copied the request as code.');
                }
                break;
            case ServerCommand.compareWithPrevious:
                await this.openDiff(arg, result);
                break;
            case ServerCommand.sendAll:
                await this.pickResponse(result);
                break;
            case ServerCommand.signIn: {
                const signedIn = result as SignInResult | null;
                if (signedIn !== null && typeof signedIn === 'object') {
                    void vscode.window.showInformationMessage(`httplens: ${await this.signedInText(arg)}.`);
                }
                this.host.refreshState();
                break;
            }
            case ServerCommand.signOut:
            case ServerCommand.completeSignIn:
            case ServerCommand.selectEnvironment:
                this.host.refreshState();
                break;
            default:
                break;
        }
    }

    /** After a sign-in: the profile's state in the server's words, e.g. `shop: signed in as jane, 59 min left`. */
    private async signedInText(arg: unknown): Promise<string> {
        const { profile, uri } = (arg ?? {}) as { profile?: unknown; uri?: unknown };
        if (typeof profile === 'string' && typeof uri === 'string') {
            try {
                const state = await this.requireClient().sendRequest(StateRequest, { uri });
                const summary = state.profiles.find((p) => p.id === profile)?.summary;
                if (summary !== undefined) {
                    return `${profile}: ${summary}`;
                }
            } catch {
                // The sign-in itself succeeded; say so without the details.
            }
        }
        return typeof profile === 'string' ? `signed in to ${profile}` : 'signed in';
    }

    private async openDiff(arg: unknown, result: unknown): Promise<void> {
        const current = (arg as { responseUri?: unknown } | undefined)?.responseUri;
        const previous = previousUri(result);
        if (previous === undefined) {
            void vscode.window.showInformationMessage('httplens: there is no earlier response to this request.');
            return;
        }
        if (typeof current !== 'string') {
            return;
        }
        const currentUri = vscode.Uri.parse(current, true);
        const name = (uri: vscode.Uri): string => uri.path.slice(uri.path.lastIndexOf('/') + 1);
        await vscode.commands.executeCommand(
            'vscode.diff',
            previous,
            currentUri,
            `${name(previous)} ↔ ${name(currentUri)}`,
            { viewColumn: vscode.ViewColumn.Active },
        );
    }

    /**
     * After Send All: the server has shown the last response; a quick pick lists every
     * request (label, status, time, in file order) and opens the chosen response beside
     * the request. With a single request there is nothing to choose.
     */
    private async pickResponse(result: unknown): Promise<void> {
        if (!Array.isArray(result) || result.length < 2) {
            return;
        }
        const outcomes = result as SendResult[];
        const picked = await vscode.window.showQuickPick(
            outcomes.map((r) => ({
                label: r.label,
                description:
                    r.status === null
                        ? 'no response'
                        : `${r.status} · ${r.elapsedMs} ms${r.responseUri ? '' : ' · not saved (# @no-log)'}`,
                detail: r.error,
                outcome: r,
            })),
            {
                title: `httplens: ${outcomes.length} requests sent: open a response`,
                placeHolder: 'the request whose response to open',
                matchOnDescription: true,
            },
        );
        if (picked === undefined) {
            return;
        }
        const { responseUri, error, label } = picked.outcome;
        if (!responseUri) {
            void vscode.window.showInformationMessage(
                `httplens: ${error ?? `${label} has no response document (# @no-log).`}`,
            );
            return;
        }
        if (!(await this.host.openResponse(responseUri))) {
            throw new Error(`could not open the response of ${label}.`);
        }
    }

    private requireClient(): LanguageClient {
        const client = this.host.client();
        if (client === undefined || !client.isRunning()) {
            throw new Error('the httplens language server is not running: see the httplens output channel.');
        }
        return client;
    }

    /** The active editor when it shows an http document, else a clear error. */
    private httpEditor(): vscode.TextEditor {
        const editor = vscode.window.activeTextEditor;
        if (editor === undefined || editor.document.languageId !== 'http') {
            throw new Error('open a .http file first.');
        }
        return editor;
    }

    private protocolUri(uri: vscode.Uri): string {
        return this.requireClient().code2ProtocolConverter.asUri(uri);
    }

    async state(uri: vscode.Uri): Promise<HttplensState> {
        const state = await this.requireClient().sendRequest(StateRequest, { uri: this.protocolUri(uri) });
        this.responses.set(uri.toString(), state.isResponse === true);
        return state;
    }

    // No progress UI of our own for sending: the server reports work-done progress (with
    // a cancel button) itself, and the response opens through window/showDocument.
    private async send(): Promise<void> {
        const editor = this.httpEditor();
        await this.run(ServerCommand.send, {
            uri: this.protocolUri(editor.document.uri),
            line: editor.selection.active.line,
        });
    }

    private async sendAll(): Promise<void> {
        const editor = this.httpEditor();
        await this.run(ServerCommand.sendAll, { uri: this.protocolUri(editor.document.uri) });
    }

    private async copyAsCurl(): Promise<void> {
        const editor = this.httpEditor();
        await this.run(ServerCommand.copyAsCurl, {
            uri: this.protocolUri(editor.document.uri),
            line: editor.selection.active.line,
        });
    }

    private async copyAsCode(language: 'python' | 'javascript'): Promise<void> {
        const editor = this.httpEditor();
        await this.run(ServerCommand.copyAsCode, {
            uri: this.protocolUri(editor.document.uri),
            line: editor.selection.active.line,
            language,
        });
    }

    private async selectEnvironment(): Promise<void> {
        const editor = this.httpEditor();
        const uri = this.protocolUri(editor.document.uri);
        const state = await this.state(editor.document.uri);
        if (state.environments.length === 0) {
            // The server explains (with window/showMessageRequest) that there is nothing to pick.
            await this.run(ServerCommand.selectEnvironment, { uri });
            return;
        }
        const picked = await vscode.window.showQuickPick(
            state.environments.map((name) => ({
                label: name,
                description: name === state.environment ? 'selected' : undefined,
            })),
            { title: 'httplens: select environment', placeHolder: state.environment ?? 'no environment selected' },
        );
        if (picked !== undefined) {
            await this.run(ServerCommand.selectEnvironment, { uri, name: picked.label });
        }
    }

    /** Asks which profile; `filter` narrows the list; one candidate is taken without asking. */
    private async pickProfile(
        state: HttplensState,
        title: string,
        filter: (p: StateProfile) => boolean,
    ): Promise<StateProfile | undefined> {
        if (state.profiles.length === 0) {
            const env = state.environment ?? 'no environment';
            throw new Error(`there are no auth profiles (Security.Auth) in the selected environment (${env}).`);
        }
        const candidates = state.profiles.filter(filter);
        const list = candidates.length > 0 ? candidates : state.profiles;
        if (list.length === 1) {
            return list[0];
        }
        const picked = await vscode.window.showQuickPick(
            list.map((p) => ({
                label: p.id,
                description: p.summary,
                profile: p,
            })),
            { title },
        );
        return picked?.profile;
    }

    private async signIn(): Promise<void> {
        const editor = this.httpEditor();
        const state = await this.state(editor.document.uri);
        const profile = await this.pickProfile(state, 'httplens: sign in to', (p) => !p.signedIn);
        if (profile !== undefined) {
            await this.run(ServerCommand.signIn, { profile: profile.id, uri: this.protocolUri(editor.document.uri) });
        }
    }

    private async signOut(): Promise<void> {
        const editor = this.httpEditor();
        const state = await this.state(editor.document.uri);
        const profile = await this.pickProfile(state, 'httplens: sign out of', (p) => p.signedIn);
        if (profile !== undefined) {
            await this.run(ServerCommand.signOut, { profile: profile.id, uri: this.protocolUri(editor.document.uri) });
            void vscode.window.showInformationMessage(`httplens: signed out of ${profile.id}.`);
        }
    }

    private async completeSignIn(): Promise<void> {
        const editor = this.httpEditor();
        const state = await this.state(editor.document.uri);
        const profile = await this.pickProfile(state, 'httplens: complete the sign-in of', (p) => !p.signedIn);
        if (profile === undefined) {
            return;
        }
        const redirectUrl = await vscode.window.showInputBox({
            title: `httplens: complete the sign-in of ${profile.id}`,
            prompt: 'Paste the URL the browser was redirected to after signing in (it holds code and state).',
            placeHolder: 'http://127.0.0.1:PORT/callback?code=...&state=...',
            ignoreFocusOut: true,
            validateInput: (value) => {
                try {
                    new URL(value.trim());
                    return undefined;
                } catch {
                    return 'This is not a URL: paste the whole address from the browser.';
                }
            },
        });
        if (redirectUrl !== undefined) {
            await this.run(ServerCommand.completeSignIn, { profile: profile.id, redirectUrl: redirectUrl.trim() });
        }
    }

    /** The response document in the active editor (the server says which are), as `responseUri`. */
    private async responseUri(): Promise<string> {
        const editor = this.httpEditor();
        if (!(await this.state(editor.document.uri)).isResponse) {
            throw new Error('open a response document first (the one a sent request opened).');
        }
        return this.protocolUri(editor.document.uri);
    }

    private async openRequest(): Promise<void> {
        await this.run(ServerCommand.openRequest, { responseUri: await this.responseUri() });
    }

    private async compareWithPrevious(): Promise<void> {
        await this.run(ServerCommand.compareWithPrevious, { responseUri: await this.responseUri() });
    }
}

/**
 * The previous response from `httplens.compareWithPrevious`: a path, as
 * docs/lsp-extensions.md says; an object with `uri` or `path` is read too, so either shape
 * of the server works.
 */
function previousUri(result: unknown): vscode.Uri | undefined {
    const fromText = (text: unknown): vscode.Uri | undefined => {
        if (typeof text !== 'string' || text === '') {
            return undefined;
        }
        return /^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? vscode.Uri.parse(text, true) : vscode.Uri.file(text);
    };
    if (result !== null && typeof result === 'object') {
        const { uri, path } = result as { uri?: unknown; path?: unknown };
        return fromText(uri) ?? fromText(path);
    }
    return fromText(result);
}

/** LSP `RequestCancelled`: the user stopped it, not a failure. */
const REQUEST_CANCELLED = -32800;
/** LSP `RequestFailed`: httplens has already shown its one-sentence reason (showMessage). */
const REQUEST_FAILED = -32803;

/** One notification per failure. */
function showError(error: unknown): void {
    if (error instanceof vscode.CancellationError) {
        return;
    }
    if (error instanceof ResponseError && (error.code === REQUEST_CANCELLED || error.code === REQUEST_FAILED)) {
        return;
    }
    const message = error instanceof Error ? error.message : String(error);
    void vscode.window.showErrorMessage(`httplens: ${message}`);
}
