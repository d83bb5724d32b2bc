/**
 * Validates reports against schema/report.schema.json and turns the first violation into one
 * readable sentence naming the property, e.g. `functions[3].calls: must be a non-negative integer`.
 * Pure (the schema is imported as JSON and bundled).
 */
import type { default as AjvClass, ErrorObject } from 'ajv';
import reportSchema from '../../schema/report.schema.json';
import { BUCKET_COUNT } from './histogram';
import { REPORT_SCHEMA_VERSION, type Report } from './report';

export { reportSchema };

/** A report that cannot be read: `message` names the problem. */
export class ReportFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ReportFormatError';
  }
}

let validator: ReturnType<AjvClass['compile']> | undefined;

function getValidator(): ReturnType<AjvClass['compile']> {
  if (!validator) {
    // Loaded on first use: ajv costs ~30 ms of start-up that `perf-lens run` never needs.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const Ajv = (require('ajv') as { default: typeof AjvClass }).default;
    const ajv = new Ajv({ allErrors: false, verbose: true, allowUnionTypes: true, strict: true });
    validator = ajv.compile(reportSchema);
  }
  return validator;
}

/** `/functions/3/calls` -> `functions[3].calls`. */
function readablePath(instancePath: string): string {
  let out = '';
  for (const raw of instancePath.split('/').slice(1)) {
    const part = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    out += /^\d+$/.test(part) ? `[${part}]` : out ? `.${part}` : part;
  }
  return out;
}

function describe(err: ErrorObject): string {
  const at = readablePath(err.instancePath);
  const parent = (err.parentSchema ?? {}) as { type?: string | string[]; minimum?: number; const?: unknown; enum?: unknown[] };
  const types = ([] as string[]).concat(parent.type ?? []);
  const orNull = types.includes('null') ? ' or null' : '';
  let what: string;
  if (err.keyword === 'required') {
    const missing = (err.params as { missingProperty: string }).missingProperty;
    return `${at ? `${at}.` : ''}${missing}: is missing`;
  } else if ((err.keyword === 'type' || err.keyword === 'minimum') && parent.minimum === 0 && types.includes('integer')) {
    what = `must be a non-negative integer${orNull}`;
  } else if ((err.keyword === 'type' || err.keyword === 'minimum') && parent.minimum === 0 && types.includes('number')) {
    what = `must be a non-negative number${orNull}`;
  } else if ((err.keyword === 'type' || err.keyword === 'minimum') && parent.minimum === 1 && types.includes('integer')) {
    what = 'must be a positive integer (1-based)';
  } else if (err.keyword === 'const') {
    what = `must be ${JSON.stringify(parent.const)}`;
  } else if (err.keyword === 'enum') {
    what = `must be one of ${(parent.enum ?? []).map((v) => JSON.stringify(v)).join(', ')}`;
  } else if (err.keyword === 'pattern' && at.endsWith('startedAt')) {
    what = 'must be an ISO 8601 date-time';
  } else {
    what = err.message ?? `fails ${err.keyword}`;
  }
  return `${at || 'report'}: ${what} (got ${preview(err.data)})`;
}

function preview(v: unknown): string {
  const s = JSON.stringify(v);
  if (s === undefined) return String(v);
  return s.length > 40 ? `${s.slice(0, 37)}...` : s;
}

/** The first problem of a parsed JSON value as a report, or null when it is a valid report. */
export function reportProblem(json: unknown): string | null {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    return `a report must be a JSON object (got ${Array.isArray(json) ? 'an array' : preview(json)})`;
  }
  const version = (json as { schemaVersion?: unknown }).schemaVersion;
  if (version === undefined) return 'schemaVersion: is missing (is this a Perf Lens report?)';
  if (version !== REPORT_SCHEMA_VERSION) {
    return `schemaVersion: ${preview(version)} is not supported (this perf-lens reads version ${REPORT_SCHEMA_VERSION})`;
  }
  const validate = getValidator();
  if (!validate(json)) {
    const first = validate.errors?.[0];
    return first ? describe(first) : 'invalid report';
  }
  return consistencyProblem(json as Report);
}

/** What JSON Schema cannot say: counts that contradict each other, malformed histograms. */
function consistencyProblem(report: Report): string | null {
  const lists: [string, Report['functions'] | Report['spans']][] = [['functions', report.functions], ['spans', report.spans]];
  for (const [list, items] of lists) {
    for (let k = 0; k < items.length; k++) {
      const t = items[k];
      const at = `${list}[${k}]`;
      if (t.timedCalls > t.calls) return `${at}.timedCalls: must not exceed calls (${t.timedCalls} > ${t.calls})`;
      if (t.errors > t.calls) return `${at}.errors: must not exceed calls (${t.errors} > ${t.calls})`;
      if (t.sampled !== t.timedCalls < t.calls) return `${at}.sampled: must be ${t.timedCalls < t.calls} when timedCalls is ${t.timedCalls} and calls is ${t.calls}`;
      const b = t.histogram.buckets;
      if (b.length % 2 !== 0) return `${at}.histogram.buckets: must hold [bucketIndex, count] pairs (odd length ${b.length})`;
      let total = 0;
      for (let i = 0; i < b.length; i += 2) {
        if (b[i] >= BUCKET_COUNT) return `${at}.histogram.buckets[${i}]: bucket index ${b[i]} is out of range (0..${BUCKET_COUNT - 1})`;
        if (i > 0 && b[i] <= b[i - 2]) return `${at}.histogram.buckets[${i}]: bucket indexes must be ascending`;
        total += b[i + 1];
      }
      if (total !== t.timedCalls) return `${at}.histogram: holds ${total} values but timedCalls is ${t.timedCalls}`;
    }
  }
  return null;
}

/** Validates a parsed JSON value; throws ReportFormatError naming the first problem. */
export function parseReport(json: unknown): Report {
  const problem = reportProblem(json);
  if (problem) throw new ReportFormatError(problem);
  return json as Report;
}

/** Parses report text (JSON); throws ReportFormatError for bad JSON or a bad report. */
export function parseReportText(text: string): Report {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ReportFormatError(`not valid JSON: ${(err as Error).message}`);
  }
  return parseReport(json);
}
