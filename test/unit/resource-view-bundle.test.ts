import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';

// The resource view's CSP allows scripts by nonce and styles, fonts and images from dist/webview
// only (no 'unsafe-eval', no remote hosts): the bundles themselves must not need more. Reads
// what esbuild built (`npm run test:unit` builds first).
const ROOT = path.resolve(__dirname, '../..');

describe('resource view bundle', () => {
  const read = (name: string): string => fs.readFileSync(path.join(ROOT, 'dist/webview', name), 'utf8');

  it('the script loads nothing remote and needs no eval', () => {
    const js = read('resource-view.js');
    assert.ok(js.includes('uPlot') || js.includes('u-legend'), 'uPlot is bundled');
    assert.doesNotMatch(js, /https?:\/\//);
    assert.doesNotMatch(js, /\bnew Function\s*\(|\beval\s*\(/);
    assert.doesNotMatch(js, /\bimport\s*\(|\bimportScripts\s*\(/);
  });

  it('the stylesheet (uPlot\'s and ours) has no imports or remote URLs, and uses the theme\'s variables', () => {
    const css = read('resource-view.css');
    assert.match(css, /\.u-legend/);
    assert.doesNotMatch(css, /@import|https?:\/\//);
    for (const url of css.match(/url\([^)]*\)/g) ?? []) assert.match(url, /^url\(["']?data:/, url);
    assert.match(css, /var\(--vscode-foreground\)/);
  });
});
