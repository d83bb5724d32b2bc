import * as vscode from 'vscode';
import { gaugeAccessibilityLabel, gaugeText, gaugeTooltipMarkdown, type GaugeState } from '../model/gauge';
import type { InsightClient } from './insightClient';

export const GAUGE_CLICK_COMMAND = 'perfLens.gauge.click';
export const SHOW_RESOURCES_COMMAND = 'perfLens.showResources';

/** What the status bar item shows now (for tests and automation; see PerfLensApi). */
export interface GaugeSnapshot {
  visible: boolean;
  text: string;
  tooltip: string;
  /** Theme colour id of the background, or null. */
  background: string | null;
  accessibilityLabel: string;
  /** Session the gauge follows (null: idle). */
  sessionId: string | null;
  /** Live sessions with a gauge. */
  sessions: string[];
}

/**
 * The status-bar resource gauge: renders the perfLens/resources ticks of the followed session
 * (the one chosen in the quick pick, else the most recently started live one). It has no timer of
 * its own: the server's ticks drive it, and a session's final tick takes it away.
 */
export class ResourceGauge implements vscode.Disposable {
  private readonly item: vscode.StatusBarItem;
  /** Live sessions in the order they first ticked (Map.set keeps a key's place): the newest last. */
  private readonly states = new Map<string, GaugeState>();
  private followed: string | null = null;
  /** `${sessionId}:${metric}` already notified: one notification per threshold per session. */
  private readonly notified = new Set<string>();
  private visible = false;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(insight: InsightClient, private readonly openView: (sessionId: string | undefined) => unknown) {
    this.item = vscode.window.createStatusBarItem('perfLens.gauge', vscode.StatusBarAlignment.Left, 10);
    this.item.name = 'Perf Lens Resources';
    this.item.command = GAUGE_CLICK_COMMAND;
    this.disposables.push(
      this.item,
      insight.onResources((s) => this.update(s)),
      vscode.commands.registerCommand(GAUGE_CLICK_COMMAND, () => this.click()),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration('perfLens.gauge')) this.render();
      }),
    );
    this.render();
  }

  private update(s: GaugeState): void {
    if (s.state === 'ended') {
      this.states.delete(s.sessionId);
      if (this.followed === s.sessionId) this.followed = null;
      for (const key of [...this.notified]) if (key.startsWith(`${s.sessionId}:`)) this.notified.delete(key);
    } else {
      this.states.set(s.sessionId, s);
      this.notifyCrossings(s);
    }
    this.render();
  }

  private shown(): GaugeState | null {
    if (this.followed) {
      const s = this.states.get(this.followed);
      if (s) return s;
      this.followed = null;
    }
    return [...this.states.values()].pop() ?? null;
  }

  private render(): void {
    const config = vscode.workspace.getConfiguration('perfLens');
    const state = config.get<boolean>('gauge.enable', true) ? this.shown() : null;
    if (!state && !config.get<boolean>('gauge.pinned', false)) {
      this.item.hide();
      this.visible = false;
      return;
    }
    this.item.text = gaugeText(state);
    const tooltip = new vscode.MarkdownString(state ? gaugeTooltipMarkdown(state) : 'Perf Lens: no measured program is running.', true);
    this.item.tooltip = tooltip;
    this.item.backgroundColor = state?.level === 'error' ? new vscode.ThemeColor('statusBarItem.errorBackground')
      : state?.level === 'warning' ? new vscode.ThemeColor('statusBarItem.warningBackground') : undefined;
    this.item.accessibilityInformation = { label: gaugeAccessibilityLabel(state), role: 'button' };
    this.item.show();
    this.visible = true;
  }

  /** One notification per threshold per session; thresholds crossed on the same tick share one. */
  private notifyCrossings(s: GaugeState): void {
    const fresh = s.alerts.filter((a) => !this.notified.has(`${s.sessionId}:${a.metric}`));
    if (fresh.length === 0) return;
    for (const a of fresh) this.notified.add(`${s.sessionId}:${a.metric}`);
    const open = 'Open Resource View';
    void vscode.window.showWarningMessage(`Perf Lens: ${s.name}: ${fresh.map((a) => a.message).join('; ')}.`, open).then((choice) => {
      if (choice === open) this.openView(s.sessionId);
    });
  }

  /**
   * One live session: open its view. Several: choose which one the gauge follows (the first other
   * session is preselected: a click with several running is usually for switching), then open it.
   */
  private async click(): Promise<void> {
    const live = [...this.states.values()].reverse();
    if (live.length <= 1) {
      this.openView(live[0]?.sessionId);
      return;
    }
    const current = this.shown()?.sessionId;
    const pick = vscode.window.createQuickPick<vscode.QuickPickItem & { sessionId: string }>();
    pick.title = 'Perf Lens: which session should the resource gauge follow?';
    pick.placeholder = 'The resource view opens for it too';
    pick.items = live.map((s) => ({
      label: s.name,
      description: gaugeText(s).replace('$(pulse) ', ''),
      detail: s.sessionId === current ? 'followed by the status bar now' : undefined,
      sessionId: s.sessionId,
    }));
    pick.activeItems = pick.items.filter((i) => i.sessionId !== current).slice(0, 1);
    const picked = await new Promise<string | undefined>((resolve) => {
      pick.onDidAccept(() => resolve(pick.activeItems[0]?.sessionId));
      pick.onDidHide(() => resolve(undefined));
      pick.show();
    });
    pick.dispose();
    if (!picked) return;
    this.followed = picked;
    this.render();
    this.openView(picked);
  }

  snapshot(): GaugeSnapshot {
    const tooltip = this.item.tooltip;
    const background = this.item.backgroundColor;
    return {
      visible: this.visible,
      text: this.item.text,
      tooltip: typeof tooltip === 'string' ? tooltip : (tooltip?.value ?? ''),
      background: background ? background.id : null,
      accessibilityLabel: this.item.accessibilityInformation?.label ?? '',
      sessionId: this.shown()?.sessionId ?? null,
      sessions: [...this.states.keys()],
    };
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}
