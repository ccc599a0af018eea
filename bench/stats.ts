/** Median and spread of repeated measurements (every bench figure is a median of interleaved repetitions). */
export const median = (xs: readonly number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

export const range = (xs: readonly number[]): [number, number] => [Math.min(...xs), Math.max(...xs)];
