import { describe, expect, it } from 'vitest';
import { LifecycleConflictError } from '../../machines/errors.js';
import {
  DashboardOptionError,
  InvalidJobOptionError,
  InvalidOptionError,
  JobLostError,
  JobNotFoundError,
  LeaseOverdueError,
  RunLostError,
  TaskweaveError,
} from '../../src/index.js';
import { fromFailureRecord, toFailureRecord } from '../../src/model/failure-record.js';
import { InjectedFailureError } from '../../src/testing/index.js';

/** A stored failure comes back as its own class, whichever room defined it (ARCHITECTURE.md, model). */
describe('the error registry', () => {
  const roundTrip = (error: Error) => fromFailureRecord(JSON.parse(JSON.stringify(toFailureRecord(error))));

  it.each([
    ['core', new RunLostError('r1')],
    ['conductor', new LeaseOverdueError('job-1', 650, 500)],
    ['conductor (job lost)', new JobLostError('job-3')],
    ['job board', new JobNotFoundError('job-2')],
    ['lifecycle', new LifecycleConflictError('vm-1', 3, 4)],
    ['options', new InvalidJobOptionError('leaseMs', 'a number from 1 and up', -1)],
    ['path testing', new InjectedFailureError('attach', 'revert')],
  ])('a %s error comes back as its own class, with its fields and message', (_room, error) => {
    const back = roundTrip(error);
    expect(back).toBeInstanceOf(error.constructor);
    expect(back).toBeInstanceOf(TaskweaveError);
    expect(back.message).toBe(error.message);
    expect(back.name).toBe(error.name);
    const { name: _name, ...fields } = { ...error } as Record<string, unknown>;
    expect({ ...back }).toEqual(fields);
  });

  it('an unknown class comes back as a plain Error with its name', () => {
    class Foreign extends Error {
      override name = 'ForeignError';
    }
    const back = roundTrip(new Foreign('from elsewhere'));
    expect(back.constructor).toBe(Error);
    expect(back.name).toBe('ForeignError');
  });

  it('InvalidJobOptionError and DashboardOptionError are InvalidOptionError, one class for bad options everywhere', () => {
    expect(new InvalidJobOptionError('concurrency', 'an integer from 1 and up', 0)).toBeInstanceOf(
      InvalidOptionError,
    );
    expect(new DashboardOptionError('token', 'a secret', undefined, 'none')).toBeInstanceOf(
      InvalidOptionError,
    );
  });
});
