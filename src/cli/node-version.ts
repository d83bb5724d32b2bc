/** The CLI's own Node.js requirement (package.json engines.node). Pure. */
export const MIN_NODE = [18, 19, 0] as const;

/** Why this Node.js cannot run the CLI, or null when it can. */
export function nodeVersionProblem(version: string): string | null {
  const parts = version.replace(/^v/, '').split('.').map((p) => parseInt(p, 10));
  if (parts.length < 2 || parts.some((p) => Number.isNaN(p))) return null; // unknown format: try anyway
  for (let i = 0; i < MIN_NODE.length; i++) {
    const have = parts[i] ?? 0;
    if (have > MIN_NODE[i]) return null;
    if (have < MIN_NODE[i]) {
      return `Node.js ${MIN_NODE.join('.')} or newer is required to run perf-lens; this is ${version.startsWith('v') ? version : `v${version}`}. Install a newer Node.js (e.g. the current LTS) and try again.`;
    }
  }
  return null;
}
