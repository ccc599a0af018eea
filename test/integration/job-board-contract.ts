import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LeaseLostError, TaskweaveError } from '../../src/errors.js';
import {
  InvalidJobOptionError,
  type JobBoard,
  JobNotFoundError,
  JobWaitTimeoutError,
} from '../../src/jobs/job-board.js';

/**
 * The job board contract (ported from TaskFlow's `taskflow/tests/unit/jobs/base.py` BoardTestMixin and
 * its Redis board tests, plus leases, fencing and attempts), run against every implementation.
 */
export interface JobBoardHarness {
  /** A board over fresh, empty storage. */
  board: JobBoard;
  /** Another board, with its own connection, over the same storage (a second conductor's view). */
  another(): Promise<JobBoard>;
  /** Close every board and delete what the test stored. */
  cleanup(): Promise<void>;
}

/** Poll a condition every 10 ms until it gives a value (not a fixed sleep: it returns as soon as it holds). */
export async function waitFor<T>(
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 5_000,
): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > until) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const LEASE = 200;

export function jobBoardContract(name: string, setup: () => Promise<JobBoardHarness>): void {
  describe(`JobBoard contract: ${name}`, () => {
    let harness: JobBoardHarness;
    let board: JobBoard;

    beforeEach(async () => {
      harness = await setup();
      board = harness.board;
    });
    afterEach(async () => {
      await harness.cleanup();
    });

    it('posts a job and reads it back, unclaimed, with its inputs as they went in', async () => {
      const inputs = { network: 'net-1', at: new Date('2024-01-02T03:04:05Z'), tags: new Set(['a']), n: 10n };
      const id = await board.post({ flow: 'boot-server', inputs, id: 'req-42' });
      expect(id).toBe('req-42');
      const job = await board.get(id);
      expect(job).toMatchObject({
        id,
        runId: id,
        flow: 'boot-server',
        state: 'UNCLAIMED',
        priority: 0,
        attempts: 0,
        takeovers: 0,
        token: 0,
      });
      expect(job?.inputs).toEqual(inputs);
      expect(job?.owner).toBeUndefined();
      expect(job?.createdAt).toBeGreaterThan(0);
      expect(await board.get('no-such-job')).toBeUndefined();
      expect(await board.post({ flow: 'f' })).toMatch(/^[0-9a-f-]{36}$/);
    });

    it('post is idempotent by id: the existing job is returned and nothing changes', async () => {
      await board.post({ flow: 'f', inputs: { v: 1 }, id: 'same', priority: 3 });
      const before = await board.get('same');
      expect(await board.post({ flow: 'other', inputs: { v: 2 }, id: 'same', priority: 9 })).toBe('same');
      expect(await board.get('same')).toEqual(before);
      expect((await board.counts()).UNCLAIMED).toBe(1);
    });

    it('claims a job for one owner; another owner is refused while the lease holds', async () => {
      const id = await board.post({ flow: 'f' });
      const claim = await board.claim('c1', 10_000);
      expect(claim).toMatchObject({ token: 1, takeover: false });
      expect(claim?.job).toMatchObject({ id, state: 'CLAIMED', owner: 'c1', token: 1, takeovers: 0 });
      expect(claim?.job.leaseUntil).toBeGreaterThan(claim!.job.createdAt);
      const other = await harness.another();
      expect(await other.claim('c2', 10_000)).toBeUndefined();
      expect(await board.claim('c1', 10_000)).toBeUndefined();
      expect(await board.list({ state: 'UNCLAIMED' })).toEqual([]);
      expect((await board.get(id))?.owner).toBe('c1');
    });

    it('renews a lease only for its owner and current token', async () => {
      const id = await board.post({ flow: 'f' });
      const claim = (await board.claim('c1', LEASE))!;
      expect(await board.renew(id, 'c1', claim.token, 60_000)).toBe(true);
      expect((await board.get(id))?.leaseUntil).toBeGreaterThanOrEqual(claim.job.leaseUntil! + 50_000);
      expect(await board.renew(id, 'c2', claim.token, 60_000)).toBe(false);
      expect(await board.renew(id, 'c1', claim.token + 1, 60_000)).toBe(false);
      expect(await board.renew('no-such-job', 'c1', 1, 60_000)).toBe(false);
    });

    it('an expired lease makes the job claimable by another: a takeover with a higher token', async () => {
      const id = await board.post({ flow: 'f' });
      const first = (await board.claim('c1', LEASE))!;
      const other = await harness.another();
      const second = await waitFor(() => other.claim('c2', 10_000));
      expect(second).toMatchObject({ takeover: true, token: first.token + 1 });
      expect(second.job).toMatchObject({ id, state: 'CLAIMED', owner: 'c2', takeovers: 1, attempts: 0 });
      expect(await board.renew(id, 'c1', first.token, LEASE)).toBe(false);
    });

    it('takes an expired claim over before waiting jobs of its priority (its run started), after higher ones', async () => {
      await board.post({ flow: 'f', id: 'started' });
      const first = (await board.claim('c1', LEASE))!;
      await board.post({ flow: 'f', id: 'waiting' });
      await board.post({ flow: 'f', id: 'urgent', priority: 1 });
      // leaseUntil is on the Redis clock, which is this machine's clock here.
      const expiry = first.job.leaseUntil ?? Number.POSITIVE_INFINITY;
      await waitFor(() => Date.now() > expiry + 20);
      const order: string[] = [];
      for (let claim = await board.claim('c2', 60_000); claim; claim = await board.claim('c2', 60_000)) {
        order.push(`${claim.job.id}${claim.takeover ? ' (takeover)' : ''}`);
      }
      expect(order).toEqual(['urgent', 'started (takeover)', 'waiting']);
    });

    it('refuses a stale token after a takeover with LeaseLostError, changing nothing', async () => {
      const id = await board.post({ flow: 'f' });
      const first = (await board.claim('c1', LEASE))!;
      const other = await harness.another();
      const second = await waitFor(() => other.claim('c2', 10_000));
      const before = await board.get(id);
      const lost = await board.complete(id, first.token, { late: true }).catch((e: unknown) => e);
      expect(lost).toBeInstanceOf(LeaseLostError);
      expect(lost).toMatchObject({ runId: id, token: first.token, currentToken: second.token });
      await expect(board.fail(id, first.token, new Error('late'))).rejects.toBeInstanceOf(LeaseLostError);
      await expect(board.release(id, first.token)).rejects.toBeInstanceOf(LeaseLostError);
      expect(await board.get(id)).toEqual(before);
      await other.complete(id, second.token, { ok: true });
      expect(await board.get(id)).toMatchObject({ state: 'COMPLETE', results: { ok: true }, owner: 'c2' });
    });

    it('completes once: a second complete (same token, job finished) is refused', async () => {
      const id = await board.post({ flow: 'f' });
      const claim = (await board.claim('c1', 10_000))!;
      await board.complete(id, claim.token, { ip: '10.0.0.7', at: new Date(0) });
      const done = await board.get(id);
      expect(done).toMatchObject({ state: 'COMPLETE', results: { ip: '10.0.0.7', at: new Date(0) } });
      expect(done?.leaseUntil).toBeUndefined();
      await expect(board.complete(id, claim.token, { again: true })).rejects.toBeInstanceOf(LeaseLostError);
      await expect(board.complete('no-such-job', 1)).rejects.toBeInstanceOf(LeaseLostError);
      expect(await board.get(id)).toEqual(done);
      expect(await board.claim('c2', 10_000)).toBeUndefined();
    });

    it('completeAndClaim completes and claims the best next job (a takeover too) in one call', async () => {
      // Optional on JobBoard, but every board this contract runs offers it: its absence is a failure here.
      expect(board.completeAndClaim).toBeTypeOf('function');
      if (!board.completeAndClaim) return;
      const first = await board.post({ flow: 'f', id: 'first' });
      await board.post({ flow: 'f', id: 'low' });
      await board.post({ flow: 'f', id: 'high', priority: 2 });
      const claim = (await board.claim('c1', 10_000))!;
      expect(claim.job.id).toBe('high');
      const next = await board.completeAndClaim(
        'high',
        claim.token,
        { ok: 1 },
        { owner: 'c1', leaseMs: LEASE },
      );
      expect(await board.get('high')).toMatchObject({ state: 'COMPLETE', results: { ok: 1 } });
      expect(next).toMatchObject({ takeover: false, token: 1 });
      expect(next?.job).toMatchObject({ id: first, state: 'CLAIMED', owner: 'c1', token: 1 });
      expect(next?.job.leaseUntil).toBeGreaterThan(Date.now() - 1_000);
      // The lease it took expires like any other: the next completion takes it over before 'low'.
      await waitFor(() => Date.now() > (next?.job.leaseUntil ?? 0) + 20);
      const other = await harness.another();
      const low = (await other.claim('c2', 10_000))!;
      expect(low.job.id).toBe('first');
      expect(low.takeover).toBe(true);
      const takeover = await other.completeAndClaim!(
        'first',
        low.token,
        {},
        { owner: 'c2', leaseMs: 10_000 },
      );
      expect(takeover?.job).toMatchObject({ id: 'low', owner: 'c2' });
      expect(
        await other.completeAndClaim!('low', takeover!.token, {}, { owner: 'c2', leaseMs: 10_000 }),
      ).toBe(undefined);
      expect((await board.counts()).COMPLETE).toBe(3);
    });

    it('completeAndClaim with a stale token changes nothing and claims nothing', async () => {
      expect(board.completeAndClaim).toBeTypeOf('function');
      if (!board.completeAndClaim) return;
      const id = await board.post({ flow: 'f' });
      const first = (await board.claim('c1', LEASE))!;
      const other = await harness.another();
      const second = await waitFor(() => other.claim('c2', 10_000));
      const waiting = await board.post({ flow: 'f', id: 'waiting' });
      const before = await board.get(id);
      const lost = await board
        .completeAndClaim(id, first.token, { late: true }, { owner: 'c1', leaseMs: 10_000 })
        .catch((e: unknown) => e);
      expect(lost).toBeInstanceOf(LeaseLostError);
      expect(await board.get(id)).toEqual(before);
      expect(await board.get(waiting)).toMatchObject({ state: 'UNCLAIMED', token: 0 });
      await expect(
        board.completeAndClaim(id, second.token, {}, { owner: '', leaseMs: 10_000 }),
      ).rejects.toBeInstanceOf(InvalidJobOptionError);
      expect(await board.get(id)).toEqual(before);
    });

    it('release gives the claim back at once, without counting an attempt', async () => {
      const id = await board.post({ flow: 'f' });
      const claim = (await board.claim('c1', 60_000))!;
      await board.release(id, claim.token);
      expect(await board.get(id)).toMatchObject({ state: 'UNCLAIMED', attempts: 0 });
      const other = await harness.another();
      const again = await other.claim('c2', 60_000);
      expect(again).toMatchObject({ takeover: false, token: claim.token + 1 });
      expect(again?.job).toMatchObject({ owner: 'c2', attempts: 0, takeovers: 0 });
    });

    it('fail puts the job back until maxAttempts, then FAILED with the reason', async () => {
      const id = await board.post({ flow: 'f' });
      for (let attempt = 1; attempt <= 3; attempt++) {
        const claim = (await board.claim(`c${attempt}`, 60_000))!;
        expect(claim.job.id).toBe(id);
        const state = await board.fail(id, claim.token, new Error(`boom ${attempt}`), {
          retry: true,
          maxAttempts: 3,
        });
        expect(state).toBe(attempt < 3 ? 'UNCLAIMED' : 'FAILED');
        expect(await board.get(id)).toMatchObject({ attempts: attempt, state });
      }
      const failed = await board.get(id);
      expect(failed?.error).toMatchObject({ name: 'Error', message: 'boom 3' });
      expect(await board.claim('c9', 60_000)).toBeUndefined();
    });

    it('a job put back after a failure and then completed keeps its results, not the old failure', async () => {
      const id = await board.post({ flow: 'f' });
      const first = (await board.claim('c1', 60_000))!;
      await board.fail(id, first.token, new Error('boom'), { retry: true, maxAttempts: 3 });
      expect((await board.get(id))?.error).toMatchObject({ message: 'boom' });
      const second = (await board.claim('c2', 60_000))!;
      await board.complete(id, second.token, { answer: 42 });
      const done = await board.get(id);
      expect(done).toMatchObject({ state: 'COMPLETE', attempts: 1, results: { answer: 42 } });
      expect(done?.error).toBeUndefined();
      expect(done?.leaseUntil).toBeUndefined();
    });

    it('fail without retry is FAILED at once; a failure record is stored as given', async () => {
      const id = await board.post({ flow: 'f' });
      const claim = (await board.claim('c1', 60_000))!;
      const reason = { name: 'SnapshotCorruptError', message: 'Stored run is corrupt' };
      expect(await board.fail(id, claim.token, reason, { retry: false, maxAttempts: 5 })).toBe('FAILED');
      expect(await board.get(id)).toMatchObject({ state: 'FAILED', attempts: 1, error: reason });
    });

    it('cancel: a waiting job is never handed out; a claimed one loses its lease', async () => {
      const waiting = await board.post({ flow: 'f', id: 'waiting' });
      expect(await board.cancel(waiting)).toBe(true);
      expect(await board.cancel(waiting)).toBe(false);
      expect(await board.claim('c1', 60_000)).toBeUndefined();

      const running = await board.post({ flow: 'f', id: 'running' });
      const claim = (await board.claim('c1', 60_000))!;
      expect(await board.cancel(running)).toBe(true);
      expect(await board.renew(running, 'c1', claim.token, 60_000)).toBe(false);
      await expect(board.complete(running, claim.token)).rejects.toBeInstanceOf(LeaseLostError);
      expect(await board.get(running)).toMatchObject({ state: 'CANCELLED' });
      await expect(board.cancel('no-such-job')).rejects.toBeInstanceOf(JobNotFoundError);
    });

    it('retry moves a FAILED or CANCELLED job back to UNCLAIMED with attempts reset', async () => {
      const id = await board.post({ flow: 'f' });
      const claim = (await board.claim('c1', 60_000))!;
      await board.fail(id, claim.token, new Error('boom'), { retry: false });
      expect(await board.retry(id)).toBe(true);
      expect(await board.get(id)).toMatchObject({ state: 'UNCLAIMED', attempts: 0, takeovers: 0 });
      expect(await board.retry(id)).toBe(false);
      const again = (await board.claim('c2', 60_000))!;
      expect(again.job.id).toBe(id);
      await board.complete(id, again.token);
      expect(await board.retry(id)).toBe(false);
      const cancelled = await board.post({ flow: 'f' });
      await board.cancel(cancelled);
      expect(await board.retry(cancelled)).toBe(true);
      await expect(board.retry('no-such-job')).rejects.toBeInstanceOf(JobNotFoundError);
    });

    it('hands out higher priority first, FIFO within a priority', async () => {
      for (const [id, priority] of [
        ['low', 0],
        ['high-1', 10],
        ['mid', 5],
        ['high-2', 10],
        ['negative', -1],
        ['low-2', 0],
      ] as const) {
        await board.post({ flow: 'f', id, priority });
      }
      const order: string[] = [];
      for (let claim = await board.claim('c', 60_000); claim; claim = await board.claim('c', 60_000)) {
        order.push(claim.job.id);
      }
      expect(order).toEqual(['high-1', 'high-2', 'mid', 'low', 'low-2', 'negative']);
    });

    it('a released job keeps its place in the queue; a failed one goes to the back', async () => {
      for (const id of ['a', 'b', 'c']) await board.post({ flow: 'f', id });
      const a = (await board.claim('c', 60_000))!;
      await board.release('a', a.token);
      expect((await board.claim('c', 60_000))?.job.id).toBe('a');
      const b = (await board.claim('c', 60_000))!;
      await board.fail('b', b.token, new Error('boom'));
      expect((await board.claim('c', 60_000))?.job.id).toBe('c');
      expect((await board.claim('c', 60_000))?.job.id).toBe('b');
    });

    it('wait() resolves with the final job when it completes', async () => {
      const id = await board.post({ flow: 'f' });
      const done = board.wait(id, { timeoutMs: 10_000 });
      const other = await harness.another();
      const claim = (await other.claim('c1', 60_000))!;
      await other.complete(id, claim.token, { answer: 42 });
      expect(await done).toMatchObject({ id, state: 'COMPLETE', results: { answer: 42 } });
      expect(await board.wait(id)).toMatchObject({ state: 'COMPLETE' });
    });

    it('wait() resolves on FAILED and CANCELLED, times out, and refuses an unknown job', async () => {
      const failing = await board.post({ flow: 'f', id: 'failing' });
      const cancelled = await board.post({ flow: 'f', id: 'cancelled' });
      const waits = [board.wait(failing), board.wait(cancelled)];
      const claim = (await board.claim('c1', 60_000))!;
      await board.fail(failing, claim.token, new Error('boom'), { retry: false });
      await board.cancel(cancelled);
      expect(await Promise.all(waits)).toMatchObject([{ state: 'FAILED' }, { state: 'CANCELLED' }]);
      const pending = await board.post({ flow: 'f' });
      const timedOut = await board.wait(pending, { timeoutMs: 50 }).catch((e: unknown) => e);
      expect(timedOut).toBeInstanceOf(JobWaitTimeoutError);
      expect(timedOut).toMatchObject({ jobId: pending, state: 'UNCLAIMED' });
      await expect(board.wait('no-such-job')).rejects.toBeInstanceOf(JobNotFoundError);
    });

    it('waitForWork wakes when a job is posted', async () => {
      const waiter = await harness.another();
      expect(await waiter.waitForWork(50)).toBe(false);
      const woken = waiter.waitForWork(20_000);
      const started = Date.now();
      const id = await board.post({ flow: 'f' });
      expect(await woken).toBe(true);
      expect(Date.now() - started).toBeLessThan(5_000);
      expect((await waiter.claim('c1', 60_000))?.job.id).toBe(id);
    });

    it('waitForWork wakes when a claim is released, and when a lease expires', async () => {
      const id = await board.post({ flow: 'f' });
      const claim = (await board.claim('c1', 60_000))!;
      const waiter = await harness.another();
      const woken = waiter.waitForWork(20_000);
      await board.release(id, claim.token);
      expect(await woken).toBe(true);
      const short = (await waiter.claim('c2', LEASE))!;
      expect(short.job.id).toBe(id);
      expect(await board.waitForWork(20_000)).toBe(true);
      expect(await board.claim('c1', 60_000)).toMatchObject({ takeover: true });
    });

    it('waitForWork is abortable and returns at once when closed', async () => {
      const waiter = await harness.another();
      const controller = new AbortController();
      const aborted = waiter.waitForWork(60_000, controller.signal);
      controller.abort();
      expect(await aborted).toBe(false);
      const closing = waiter.waitForWork(60_000);
      await waiter.close();
      expect(await closing).toBe(false);
      await waiter.close();
      await expect(waiter.claim('c', LEASE)).rejects.toBeInstanceOf(TaskweaveError);
    });

    it('a job that exhausted maxTakeovers is FAILED with the reason instead of handed out', async () => {
      const id = await board.post({ flow: 'f' });
      const done = board.wait(id);
      await board.claim('c1', LEASE);
      const second = await waitFor(() => board.claim('c2', LEASE, { maxTakeovers: 1 }));
      expect(second).toMatchObject({ takeover: true });
      expect(second.job.takeovers).toBe(1);
      await waitFor(async () => {
        await board.claim('c3', LEASE, { maxTakeovers: 1 });
        return (await board.get(id))?.state === 'FAILED';
      });
      const failed = await done;
      expect(failed).toMatchObject({ state: 'FAILED', takeovers: 1, error: { name: 'TakeoverLimitError' } });
      expect(failed.error?.message).toMatch(/maxTakeovers is 1/);
    });

    it('counts and lists jobs by state, newest first', async () => {
      for (const id of ['a', 'b', 'c', 'd']) await board.post({ flow: 'f', id });
      const a = (await board.claim('c', 60_000))!;
      await board.complete('a', a.token);
      await board.claim('c', 60_000);
      expect(await board.counts()).toEqual({
        UNCLAIMED: 2,
        CLAIMED: 1,
        COMPLETE: 1,
        FAILED: 0,
        CANCELLED: 0,
      });
      expect((await board.list()).map((j) => j.id)).toEqual(['d', 'c', 'b', 'a']);
      expect((await board.list({ limit: 2 })).map((j) => j.id)).toEqual(['d', 'c']);
      expect((await board.list({ state: 'UNCLAIMED' })).map((j) => j.id)).toEqual(['d', 'c']);
      expect((await board.list({ state: ['COMPLETE', 'CLAIMED'] })).map((j) => j.id)).toEqual(['b', 'a']);
    });

    it('two boards racing to claim N jobs claim each exactly once', async () => {
      const n = 60;
      for (let i = 0; i < n; i++) await board.post({ flow: 'f', id: `job-${i}` });
      const boards = [board, await harness.another()];
      const claimed: string[] = [];
      await Promise.all(
        boards.flatMap((b, bi) =>
          [0, 1, 2].map(async (worker) => {
            for (let claim = await b.claim(`c${bi}-${worker}`, 60_000); claim; ) {
              claimed.push(claim.job.id);
              claim = await b.claim(`c${bi}-${worker}`, 60_000);
            }
          }),
        ),
      );
      expect(claimed).toHaveLength(n);
      expect(new Set(claimed).size).toBe(n);
      expect((await board.counts()).CLAIMED).toBe(n);
    });

    it('validates arguments with messages that say what was expected and what was got', async () => {
      await expect(board.claim('c', 0)).rejects.toThrow(
        'Expected `leaseMs` to be a number from 1 and up, got `0` (number)',
      );
      await expect(board.claim('', 10)).rejects.toBeInstanceOf(InvalidJobOptionError);
      await expect(board.post({ flow: 'f', priority: Number.NaN })).rejects.toThrow(
        'Expected `priority` to be a finite number, got `NaN` (number)',
      );
      await expect(board.post({ flow: '' })).rejects.toThrow(
        'Expected `flow` to be a non-empty string, got `` (string)',
      );
      await expect(board.list({ limit: 0 })).rejects.toThrow('Expected `limit` to be a number from 1 and up');
    });
  });
}
