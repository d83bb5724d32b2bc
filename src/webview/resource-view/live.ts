/**
 * How the resource view folds a live tick into what it shows, without asking the extension again.
 * Pure: no DOM; unit-tested.
 */
import type { GaugeSample } from '../../model/gauge';

/** Appends a tick, keeping the newest `capacity` (the server's bounded history); false if it was already there. */
export function appendSample(samples: GaugeSample[], sample: GaugeSample, capacity: number): boolean {
  // A tick that arrives while a history answer is on its way is in both: keep one.
  if (samples.length > 0 && samples[samples.length - 1].at >= sample.at) return false;
  samples.push(sample);
  if (samples.length > capacity) samples.splice(0, samples.length - capacity);
  return true;
}
