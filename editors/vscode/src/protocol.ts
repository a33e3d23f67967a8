//! The httplens protocol extensions the client uses (mirrors docs/lsp-extensions.md).

import { NotificationType, RequestType } from 'vscode-languageclient/node';

/** One auth profile as `httplens/state` reports it; never a token. */
export interface StateProfile {
    id: string;
    grant: string;
    signedIn: boolean;
    account: string | null;
    scopes: string[] | null;
    expiresAt: number | null;
    /** The sign-in state in the server's words, e.g. `signed in as jane@example.com, 52 min left`. */
    summary: string;
}

/** The answer to `httplens/state`: what the status bar and the pickers show. */
export interface HttplensState {
    version: string;
    environments: string[];
    environment: string | null;
    profiles: StateProfile[];
    tokenStore: string;
    /** The asked document is one of the server's response documents. */
    isResponse: boolean;
    /** Where the server writes response documents. */
    responsesDir: string;
}

export interface UriParams {
    uri: string;
}

export const StateRequest = new RequestType<UriParams, HttplensState, void>('httplens/state');

/** `httplens/prompt` (server to client): the value of a `# @prompt` variable. */
export interface PromptParams {
    name: string;
    description: string;
    secret: boolean;
}

/** `null`: the user dismissed the question (nothing is sent). */
export const PromptRequest = new RequestType<PromptParams, { value: string } | null, void>('httplens/prompt');

/** The experimental client capability that makes the server send `httplens/prompt`. */
export const PromptCapability = 'httplensPrompt';
export const StateChangedNotification = new NotificationType<UriParams>('httplens/stateChanged');

/** Server command ids (`workspace/executeCommand`); the palette uses `httplens.client.*`. */
export const ServerCommand = {
    send: 'httplens.send',
    sendAll: 'httplens.sendAll',
    signIn: 'httplens.signIn',
    signOut: 'httplens.signOut',
    completeSignIn: 'httplens.completeSignIn',
    copyAsCurl: 'httplens.copyAsCurl',
    copyAsCode: 'httplens.copyAsCode',
    selectEnvironment: 'httplens.selectEnvironment',
    openRequest: 'httplens.openRequest',
    compareWithPrevious: 'httplens.compareWithPrevious',
} as const;

/** The result of `httplens.send` (and each element of `httplens.sendAll`'s). */
export interface SendResult {
    /** The request, e.g. `login (line 3)` or `line 9`. */
    label: string;
    /** `null`: no response (then `error` says why; `sendAll` only). */
    status: number | null;
    elapsedMs: number;
    /** `null` for a `# @no-log` request and for one that got no response. */
    responseUri: string | null;
    error?: string;
}

/** The result of `httplens.signIn`. */
export interface SignInResult {
    account: string | null;
    expiresAt: number | null;
}
