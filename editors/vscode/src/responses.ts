//! Opens the response documents the server shows (`window/showDocument`) in a split beside
//! the request, and keeps reusing that split so responses do not pile up in new columns.

import * as vscode from 'vscode';
import type { ShowDocumentParams, ShowDocumentResult } from 'vscode-languageclient/node';

export class ResponseViewer {
    /** The column the last response went to; reused while it still exists. */
    private column: vscode.ViewColumn | undefined;

    /**
     * @param isResponse the server's last word (`isResponse` of `httplens/state`) on
     * whether a document is a response document; `undefined` when it was not asked yet.
     */
    constructor(private readonly isResponse: (uri: vscode.Uri) => boolean | undefined) {}

    /** `window.showDocument` middleware: documents open beside, external links in the browser. */
    async show(params: ShowDocumentParams): Promise<ShowDocumentResult> {
        let uri: vscode.Uri;
        try {
            uri = vscode.Uri.parse(params.uri, true);
        } catch {
            return { success: false };
        }
        if (params.external === true) {
            // The sign-in page. In a remote window VS Code forwards a localhost URL (so a
            // provider on the remote machine is reachable); code-server's proxy drops the
            // path of such a URL, which is why the server also shows the URL in a message.
            return { success: await vscode.env.openExternal(uri) };
        }
        const selection =
            params.selection === undefined
                ? undefined
                : new vscode.Range(
                      params.selection.start.line,
                      params.selection.start.character,
                      params.selection.end.line,
                      params.selection.end.character,
                  );
        try {
            const document = await vscode.workspace.openTextDocument(uri);
            const editor = await vscode.window.showTextDocument(document, {
                viewColumn: this.targetColumn(uri),
                preserveFocus: params.takeFocus !== true,
                preview: false,
                selection,
            });
            this.column = editor.viewColumn;
            return { success: true };
        } catch {
            return { success: false };
        }
    }

    /**
     * Where to open `uri`: where it already is when visible; else the remembered response
     * column while it exists, unless the request being read sits in that very column (the
     * user moved things around); else beside the active editor.
     */
    private targetColumn(uri: vscode.Uri): vscode.ViewColumn {
        const visible = vscode.window.visibleTextEditors.find((e) => e.document.uri.toString() === uri.toString());
        if (visible?.viewColumn !== undefined) {
            return visible.viewColumn;
        }
        const active = vscode.window.activeTextEditor;
        const columns = new Set(vscode.window.tabGroups.all.map((g) => g.viewColumn));
        if (this.column !== undefined && columns.has(this.column)) {
            const readingRequestThere =
                active !== undefined &&
                active.viewColumn === this.column &&
                this.isResponse(active.document.uri) !== true;
            if (!readingRequestThere) {
                return this.column;
            }
        }
        return vscode.ViewColumn.Beside;
    }
}
