import { type LifecycleDefinition, serverLifecycle } from '../../machines/index.js';

/** Nova's server table with a build timeout, as an operator would extend it (Nova's instance_build_timeout). */
export function withBuildTimeout(timeoutMs: number) {
  return {
    ...serverLifecycle,
    states: { ...serverLifecycle.states, BUILDING: { ...serverLifecycle.states.BUILDING, timeoutMs } },
  } as const satisfies LifecycleDefinition;
}
