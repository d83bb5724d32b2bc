#!/usr/bin/env node
// Executable entry of the code-server shim for @vscode/test-electron (see test/integration/code-shim.ts).
'use strict';
require('tsx/cjs');
require('../../test/integration/code-shim.ts');
