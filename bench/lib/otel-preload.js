// Benchmark-only preload: the SAME source transform as Perf Lens, but every call opens and ends an
// OpenTelemetry span (BatchSpanProcessor + an in-memory exporter that counts; no network), so
// "an OpenTelemetry span per call" is measured on exactly the functions Perf Lens times.
// Bundled by bench/compare.js with esbuild; never shipped.
'use strict';
const Module = require('module');
const path = require('path');
const { BasicTracerProvider, BatchSpanProcessor } = require('@opentelemetry/sdk-trace-base');
const { instrumentSource } = require('../../src/runtime/node/instrument');

let exported = 0;
const exporter = {
  export(spans, done) { exported += spans.length; done({ code: 0 }); },
  shutdown() { return Promise.resolve(); },
};
const provider = new BasicTracerProvider({ spanProcessors: [new BatchSpanProcessor(exporter)] });
const tracer = provider.getTracer('perf-lens-bench');

// Countdowns set back to 1 at every start: every call takes the timed path (a span).
const scratch = new Float64Array(1);
const recorderFor = (names, c = new Float64Array(names.length).fill(1)) => ({
  c, m: new Float64Array(names.length), a: new Float64Array(1),
  t: (i) => { c[i] = 1; return tracer.startSpan(names[i]); },
  ta: (i) => { c[i] = 1; return tracer.startSpan(names[i]); },
  s: (i) => tracer.startSpan(names[i]),
  r: (_i, span, ok) => { if (!ok) span.setStatus({ code: 2 }); span.end(); },
  d: (_i, span, ok) => { if (!ok) span.setStatus({ code: 2 }); span.end(); return scratch; },
  sa: (i) => tracer.startSpan(names[i]),
  ra: (_i, span, ok) => { if (!ok) span.setStatus({ code: 2 }); span.end(); },
  e: () => {},
});
globalThis[Symbol.for('perf-lens.runtime')] = {
  file: (_files, fns) => recorderFor(fns.map((f) => f[0])),
};

const scope = (process.env.BENCH_OTEL_SCOPE || '').split(path.delimiter).filter(Boolean);
const compile = Module.prototype._compile;
Module.prototype._compile = function (content, filename) {
  if (scope.some((dir) => filename.startsWith(dir))) {
    content = instrumentSource(content, filename, { format: 'commonjs', cacheDir: null }).code;
  }
  return compile.call(this, content, filename);
};
process.on('exit', () => {
  if (process.env.BENCH_OTEL_VERBOSE) process.stderr.write(`otel: ${exported} spans exported\n`);
});
