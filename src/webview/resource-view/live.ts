/**
 * How the resource view folds a live tick into what it shows, without asking the extension again.
 * Pure: no DOM; unit-tested.
 */
import type { GaugeAlert, GaugeSample } from '../../model/gauge';

/**
 * Adds a tick's alerts to the thresholds crossed so far, as the server's GaugeHistory does: the
 * first crossing of each metric, replaced only by a worse level (a warning that becomes an error).
 */
export function mergeCrossed(crossed: readonly GaugeAlert[], alerts: readonly GaugeAlert[]): GaugeAlert[] {
  const out = [...crossed];
  for (const a of alerts) {
    const i = out.findIndex((c) => c.metric === a.metric);
    if (i < 0) out.push(a);
    else if (out[i].level === 'warning' && a.level === 'error') out[i] = a;
  }
  return out;
}

/** Appends a tick, keeping the newest `capacity` (the server's bounded history); false if it was already there. */
export function appendSample(samples: GaugeSample[], sample: GaugeSample, capacity: number): boolean {
  // A tick that arrives while a history answer is on its way is in both: keep one.
  if (samples.length > 0 && samples[samples.length - 1].at >= sample.at) return false;
  samples.push(sample);
  if (samples.length > capacity) samples.splice(0, samples.length - capacity);
  return true;
}
