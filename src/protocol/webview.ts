/**
 * Messages between the resource view's webview (src/webview/resources) and the extension
 * (src/extension/resourceView.ts). The webview has no Node or VS Code API: everything it shows
 * comes in these messages; everything it wants (another session, an export) goes out in them.
 */
import type { GaugeSample, GaugeState } from '../model/gauge';
import type { ResourceHistoryResult, SessionState } from './lsp';

/** A session or saved run the view can show. */
export interface ResourceSourceItem {
  /** Session id, `run:<id>` of a loaded run, or a saved run id. */
  id: string;
  label: string;
  state: SessionState;
}

export type ToWebview =
  /** Replaces everything shown: the chosen session's history and the list to choose from. */
  | { type: 'history'; history: ResourceHistoryResult; sources: ResourceSourceItem[] }
  /** A live tick of the session shown (ignored while paused, or for another session). */
  | { type: 'sample'; sessionId: string; sample: GaugeSample; state: GaugeState }
  /** The shown session ended: `state` is the final one. */
  | { type: 'ended'; sessionId: string; state: GaugeState }
  | { type: 'error'; message: string };

export type FromWebview =
  /** The script loaded; `sessionId` from its saved state (null: whatever the extension follows). */
  | { type: 'ready'; sessionId: string | null }
  /** Show another session or run (also sent on resume, to catch up on ticks missed while paused). */
  | { type: 'select'; sessionId: string }
  | { type: 'export'; format: 'csv' | 'json'; sessionId: string };

/** State the webview keeps with `vscode.setState` (survives hide/show and reloads of the view). */
export interface ResourceViewState {
  sessionId: string | null;
  paused: boolean;
}
