/**
 * A small seeded PRNG (mulberry32): the same seed gives the same sample of paths on every machine,
 * so a failing sampled path can be reproduced from the seed a report prints.
 */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** A fresh seed when the caller gave none (reported back so the run can be repeated). */
export const randomSeed = (): number => Math.floor(Math.random() * 2 ** 31);
