//! The status bar: the selected environment and the sign-in state, read from `httplens/state`.

import * as vscode from 'vscode';
import type { HttplensState } from './protocol';

export class StatusBar implements vscode.Disposable {
    private readonly env: vscode.StatusBarItem;
    private readonly auth: vscode.StatusBarItem;

    constructor() {
        this.env = vscode.window.createStatusBarItem('httplens.environment', vscode.StatusBarAlignment.Left, 50);
        this.env.name = 'httplens environment';
        this.env.command = 'httplens.client.selectEnvironment';
        this.auth = vscode.window.createStatusBarItem('httplens.auth', vscode.StatusBarAlignment.Left, 49);
        this.auth.name = 'httplens sign-in';
    }

    /** Shows `state`, or hides both items when there is nothing to show (no http file). */
    update(state: HttplensState | undefined): void {
        if (state === undefined) {
            this.env.hide();
            this.auth.hide();
            return;
        }
        const envName = state.environment ?? 'no environment';
        this.env.text = `$(globe) ${envName}`;
        this.env.tooltip =
            state.environments.length === 0
                ? 'httplens: no environments in http-client.env.json'
                : `httplens environment: ${envName} (click to choose among ${state.environments.join(', ')})`;
        this.env.show();

        if (state.profiles.length === 0) {
            this.auth.hide();
            return;
        }
        const signedIn = state.profiles.filter((p) => p.signedIn);
        // The server words each profile's state (`summary`); shown as it is.
        const lines = state.profiles.map((p) => `${p.id}: ${p.summary}`);
        lines.push(`tokens kept in: ${state.tokenStore}`);
        this.auth.tooltip = lines.join('\n');
        this.auth.accessibilityInformation = { label: lines.join(', ') };
        if (signedIn.length === state.profiles.length) {
            const only = state.profiles.length === 1 ? signedIn[0] : undefined;
            this.auth.text =
                only !== undefined && only.account !== null && only.account !== ''
                    ? `$(account) ${only.account}`
                    : `$(account) signed in`;
            this.auth.command = 'httplens.client.signOut';
        } else {
            this.auth.text =
                signedIn.length === 0 ? '$(sign-in) sign in' : `$(sign-in) ${signedIn.length}/${state.profiles.length} signed in`;
            this.auth.command = 'httplens.client.signIn';
        }
        this.auth.show();
    }

    dispose(): void {
        this.env.dispose();
        this.auth.dispose();
    }
}
