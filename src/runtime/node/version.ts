/** The oldest Node.js the runtime supports: `module.register` and stable `--import` arrived in 18.19. */
export const MIN_NODE = [18, 19, 0] as const;

/**
 * Returns a message when `version` (e.g. process.versions.node, "20.20.2") is too old to be
 * instrumented, or undefined when it is supported. Pure, so it can be tested with fake versions.
 */
export function unsupportedNodeMessage(version: string): string | undefined {
  const m = /^v?(\d+)\.(\d+)\.(\d+)/.exec(version);
  if (!m) return `perf-lens: cannot read the Node.js version "${version}"; running unmeasured.`;
  const v = [Number(m[1]), Number(m[2]), Number(m[3])];
  for (let k = 0; k < 3; k++) {
    if (v[k] > MIN_NODE[k]) return undefined;
    if (v[k] < MIN_NODE[k]) {
      return `perf-lens: Node.js ${v.join('.')} is not supported (needs ${MIN_NODE.join('.')} or newer); running unmeasured.`;
    }
  }
  return undefined;
}
