/** Times as operators read them (explain, the CLI, the dashboard). */

/** `HH:MM:SS` (local time) plus how far from now: "12:04:31 (in 20s)". */
export function clock(at: number, now: number): string {
  const time = new Date(at).toTimeString().slice(0, 8);
  return `${time} (${relative(at, now)})`;
}

/** "in 20s", "3m ago", "just now". */
export function relative(at: number, now: number): string {
  const delta = at - now;
  const abs = Math.abs(delta);
  if (abs < 1_000) return 'just now';
  // Each unit is used from the point where the smaller one would round to its next step.
  const seconds = Math.round(abs / 1_000);
  const minutes = Math.round(abs / 60_000);
  const hours = Math.round(abs / 3_600_000);
  const text =
    seconds < 60
      ? `${seconds}s`
      : minutes < 60
        ? `${minutes}m`
        : hours < 24
          ? `${hours}h`
          : `${Math.round(abs / 86_400_000)}d`;
  return delta > 0 ? `in ${text}` : `${text} ago`;
}
