// Bundles every entry point of Perf Lens. `node esbuild.js [--watch] [--production]`.
// The runtime bundles are injected into users' programs, so they target the oldest Node we
// support and carry no dependency the program could see; `vscode` stays external.
'use strict';
const esbuild = require('esbuild');
const fs = require('fs');
const path = require('path');

const production = process.argv.includes('--production');
const watch = process.argv.includes('--watch');
const OLDEST_NODE = 'node18.19';

/** @type {import('esbuild').BuildOptions} */
const common = {
  bundle: true,
  platform: 'node',
  minify: production,
  sourcemap: production ? false : 'linked',
  sourcesContent: false,
  logLevel: 'warning',
  legalComments: 'none',
};

/** @type {import('esbuild').BuildOptions[]} */
const builds = [
  { ...common, entryPoints: { extension: 'src/extension/extension.ts' }, outdir: 'dist', format: 'cjs', target: 'node20', external: ['vscode'] },
  // The insight language server (started by the extension's language client, or any LSP client).
  { ...common, entryPoints: { server: 'src/server/main.ts' }, outdir: 'dist', format: 'cjs', target: 'node20' },
  { ...common, entryPoints: { cli: 'src/cli/main.ts' }, outdir: 'dist', format: 'cjs', target: OLDEST_NODE, banner: { js: '#!/usr/bin/env node' } },
  // Runtime: CommonJS preload (NODE_OPTIONS --require) and the ESM loader hooks module.
  { ...common, entryPoints: { 'runtime/preload': 'src/runtime/node/preload.ts' }, outdir: 'dist', format: 'cjs', target: OLDEST_NODE },
  { ...common, entryPoints: { 'runtime/hooks': 'src/runtime/node/hooks.ts' }, outdir: 'dist', format: 'esm', target: OLDEST_NODE, outExtension: { '.js': '.mjs' },
    // esbuild's ESM output has no `require`; the hooks bundle shares CommonJS code with the preload.
    banner: { js: "import { createRequire as __plCreateRequire } from 'module'; const require = __plCreateRequire(import.meta.url);" } },
  // `perf-lens/api`: tiny, dependency-free, harmless without the runtime.
  { ...common, entryPoints: { api: 'src/runtime/api.ts' }, outdir: 'dist', format: 'cjs', target: OLDEST_NODE, sourcemap: false },
  // The resource view's webview script (browser; uPlot and its CSS bundled: no remote content).
  { ...common, entryPoints: { 'webview/resource-view': 'src/webview/resource-view/main.ts' }, outdir: 'dist', platform: 'browser', format: 'iife', target: 'es2022' },
];

function existing(list) {
  // Entry points land issue by issue; build those that exist so the scaffold stays green.
  return list.filter((b) => Object.values(b.entryPoints).every((f) => fs.existsSync(path.join(__dirname, f))));
}

async function main() {
  const active = existing(builds);
  if (watch) {
    const contexts = await Promise.all(active.map((b) => esbuild.context(b)));
    await Promise.all(contexts.map((c) => c.watch()));
    console.log(`esbuild: watching ${active.length} bundles`);
    return;
  }
  await Promise.all(active.map((b) => esbuild.build(b)));
  copyApiTypes();
}

function copyApiTypes() {
  const src = path.join(__dirname, 'src/runtime/api.d.ts');
  if (fs.existsSync(src)) fs.copyFileSync(src, path.join(__dirname, 'dist/api.d.ts'));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
