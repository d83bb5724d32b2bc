// Bundled by bench/merge.js with esbuild (like dist, so the numbers are those of the shipped code):
// the pieces of the language server's delta path, driven in-process.
'use strict';
const { Collector } = require('../../src/collector/collector');
const { ReportBuilder } = require('../../src/model/report');
const { buildNodeOptions, runtimeEnv } = require('../../src/runtime/inject');

module.exports = { Collector, ReportBuilder, buildNodeOptions, runtimeEnv };
