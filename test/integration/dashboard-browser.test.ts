import { existsSync } from 'node:fs';
import { copyFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Redis } from 'ioredis';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createDashboard,
  createEngine,
  type Dashboard,
  type Engine,
  InvalidOptionError,
  type JobBoard,
  redisJobBoard,
  redisStore,
  type Store,
  type TaskContext,
} from '../../src/index.js';
import { makeCliFlows } from '../support/cli-flows.js';
import { type Deferred, deferred, waitFor } from '../support/flows.js';
import { cleanPrefix, newRedis, testPrefix } from '../support/redis.js';

/**
 * The dashboard in a real browser: Debian's chromium driven by playwright-core (`.ci/run` installs it).
 * Skipped, with the reason printed, only when no chromium can be found.
 */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium)
  console.warn(`dashboard browser tests skipped: no chromium at ${CHROMIUM} (apt-get install chromium)`);
const SCREENSHOT = fileURLToPath(new URL('../../docs/dashboard-run.png', import.meta.url));

describe.skipIf(!hasChromium)('the dashboard in a browser', () => {
  const prefix = testPrefix('dash');
  let redis: Redis;
  let store: Store;
  let engine: Engine;
  let board: JobBoard;
  let dashboard: Dashboard;
  let context: BrowserContext;
  let page: Page;
  let profile: string;
  const gates: Record<string, Deferred<unknown>> = {};
  const gate = (key: string) => {
    gates[key] ??= deferred<unknown>();
    return gates[key];
  };
  /** Tasks of runs named live-* wait for their gate; tasks of fail-* fail at attach. */
  const flows = makeCliFlows({
    execute: (name: string, ctx: TaskContext) => {
      if (ctx.flowId.startsWith('live-')) return gate(`${ctx.flowId}:${name}`).promise;
      if (ctx.flowId.startsWith('fail-') && name === 'attach') throw new Error('no free slot on host-7');
      return name;
    },
  });
  const storedState = (id: string, task: string, state: string) =>
    waitFor(
      async () => {
        const run = await store.load(id);
        return (JSON.parse(run?.parts[`t:${task}`] ?? '{}') as { s?: string }).s === state;
      },
      10_000,
      `${id}:${task} ${state}`,
    );

  beforeAll(async () => {
    redis = newRedis();
    store = redisStore({ redis, prefix });
    engine = createEngine({ store, flows: Object.values(flows), closeStore: false });
    board = redisJobBoard({ redis, prefix });
    await engine.run('cli-steps', {}, { id: 'done-1' });
    await engine.run('cli-steps', {}, { id: 'fail-1' }).catch(() => {});
    // The dashboard runs its own engine (another owner), with the plain flows: it can act on runs.
    const plain = makeCliFlows();
    dashboard = await createDashboard({ store, board, port: 0, flows: Object.values(plain) });
    profile = await mkdtemp(join(tmpdir(), 'taskweave-chromium-'));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
      viewport: { width: 1100, height: 900 },
    });
    page = context.pages()[0] ?? (await context.newPage());
    // Nothing may come from the internet: every request must go to a dashboard of this test.
    await context.route('**/*', (route) =>
      new URL(route.request().url()).hostname === '127.0.0.1' ? route.continue() : route.abort(),
    );
  }, 60_000);

  afterAll(async () => {
    await context?.close();
    if (profile) await rm(profile, { recursive: true, force: true });
    await dashboard?.close();
    for (const id of ['live-1', 'live-2']) engine?.abort(id);
    await engine?.close();
    await store?.close();
    await board?.close();
    await cleanPrefix(redis, prefix);
    redis.disconnect();
  });

  it('lists runs by state with counts, each linking to its page', async () => {
    const live = engine.start('cli-steps', {}, { id: 'live-1' });
    void live.result.catch(() => {});
    await storedState('live-1', 'reserve', 'RUNNING');
    const requests: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    await page.goto(dashboard.url);
    const status = (id: string) => page.locator(`#runs tr[data-run-id="${id}"] .badge`).textContent();
    expect(await status('done-1')).toBe('SUCCESS');
    expect(await status('fail-1')).toBe('REVERTED');
    expect(await status('live-1')).toBe('RUNNING');
    expect(await page.locator('#run-counts .count.SUCCESS').textContent()).toBe('1SUCCESS');
    await page.locator('#run-counts .count.REVERTED').click();
    await page.waitForURL(/status=REVERTED/);
    expect(
      await page
        .locator('#runs tbody tr')
        .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-run-id'))),
    ).toEqual(['fail-1']);
    await page.locator('#runs a', { hasText: 'fail-1' }).click();
    await page.waitForURL(/\/runs\/fail-1$/);
    expect(await page.locator('.failure').first().textContent()).toContain(
      'attach failed: Error: no free slot on host-7',
    );
    expect(requests.every((url) => url.startsWith(dashboard.url))).toBe(true);
  });

  it('lists jobs by state with counts and a filter', async () => {
    await board.post({ flow: 'cli-steps', id: 'job-waiting' });
    await board.post({ flow: 'cli-steps', id: 'job-cancelled' });
    await board.cancel('job-cancelled');
    await page.goto(dashboard.url);
    const jobIds = () =>
      page.locator('#jobs tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-job-id')));
    expect((await jobIds()).sort()).toEqual(['job-cancelled', 'job-waiting']);
    expect(await page.locator('#job-counts .count.CANCELLED').textContent()).toBe('1CANCELLED');
    await page.locator('#job-counts .count.CANCELLED').click();
    await page.waitForURL(/job=CANCELLED/);
    expect(await jobIds()).toEqual(['job-cancelled']);
    // The runs' filter keeps the jobs' one, and the other way round.
    await page.locator('#run-counts .count.SUCCESS').click();
    await page.waitForURL(/status=SUCCESS.*job=CANCELLED|job=CANCELLED.*status=SUCCESS/);
    expect(await jobIds()).toEqual(['job-cancelled']);
    await page.locator('#job-counts .count', { hasText: 'all' }).click();
    await page.waitForURL((url) => !url.search.includes('job='));
    expect((await jobIds()).sort()).toEqual(['job-cancelled', 'job-waiting']);
  });

  it('draws every task of the flow with its state in words and in colour', async () => {
    await page.goto(`${dashboard.url}/runs/done-1`);
    const tasks = page.locator('svg.graph g.task');
    expect(
      await tasks.evaluateAll((nodes) =>
        nodes.map((n) => [n.getAttribute('data-task'), n.getAttribute('data-state')]),
      ),
    ).toEqual([
      ['reserve', 'SUCCESS'],
      ['format', 'SUCCESS'],
      ['tag', 'SUCCESS'],
      ['attach', 'SUCCESS'],
    ]);
    expect(await page.locator('g.task[data-task="attach"] text.state').textContent()).toBe('SUCCESS');
    expect(await page.locator('svg.graph path.edge').count()).toBe(4);
    // The timeline comes from the stored history: an execute per task.
    await expect.poll(() => page.locator('#timeline-body tr').count()).toBe(4);
  });

  it("changes a task's colour and label live as the run progresses; the screenshot is saved", async () => {
    await page.goto(`${dashboard.url}/runs/live-1`);
    // The boxes' fill eases over 0.2 s (a CSS transition): without it, a read right after a state
    // change gives that state's colour, not one on the way.
    await page.addStyleTag({ content: 'svg.graph .task rect { transition: none !important; }' });
    const reserve = page.locator('g.task[data-task="reserve"]');
    // Runs in the page: the computed fill of the task's box.
    const fill = () =>
      reserve
        .locator('rect')
        .evaluate(
          (r) =>
            (globalThis as unknown as { getComputedStyle(e: unknown): { fill: string } }).getComputedStyle(r)
              .fill,
        );
    await expect.poll(() => reserve.getAttribute('data-state')).toBe('RUNNING');
    const runningFill = await fill();
    gate('live-1:reserve').resolve('r');
    gate('live-1:tag').resolve('t');
    await expect.poll(() => reserve.getAttribute('data-state'), { timeout: 10_000 }).toBe('SUCCESS');
    expect(await reserve.locator('text.state').textContent()).toBe('SUCCESS');
    expect(await fill()).not.toBe(runningFill);
    await expect
      .poll(() => page.locator('g.task[data-task="tag"]').getAttribute('data-state'))
      .toBe('SUCCESS');
    await expect
      .poll(() => page.locator('g.task[data-task="format"]').getAttribute('data-state'))
      .toBe('RUNNING');
    const shot = join(profile, 'run.png');
    await page.screenshot({ path: shot, fullPage: true });
    const png = await readFile(shot);
    expect(png.subarray(1, 4).toString()).toBe('PNG');
    // Refresh the README's picture on request (TASKWEAVE_UPDATE_SCREENSHOT=1), so test runs leave docs/ as committed.
    if (process.env.TASKWEAVE_UPDATE_SCREENSHOT === '1' || !existsSync(SCREENSHOT))
      await copyFile(shot, SCREENSHOT);
  });

  it('cancels from the page: it says who holds the run, takes it over and reverts it', async () => {
    await page.goto(`${dashboard.url}/runs/live-1`);
    await page.locator('button[data-action="cancel"]').click();
    const notice = page.locator('#notice');
    await expect.poll(() => notice.textContent()).toContain(`held by ${engine.id}`);
    // The run ends while the page is open: the page reloads once, for its final failures and stacks.
    const reloaded = page.waitForEvent('load', { timeout: 15_000 });
    await page.locator('#notice button', { hasText: 'Take over and cancel' }).click();
    await expect
      .poll(async () => (await store.load('live-1'))?.meta.status, { timeout: 15_000 })
      .toBe('REVERTED');
    await expect.poll(() => page.locator('#run-status').textContent(), { timeout: 10_000 }).toBe('REVERTED');
    expect(await page.locator('g.task[data-task="reserve"]').getAttribute('data-state')).toBe('REVERTED');
    await reloaded;
  });

  it('reverting a run that had ended when its page opened shows the revert live, then the outcome', async () => {
    await engine.run('cli-steps', {}, { id: 'done-2' });
    await page.goto(`${dashboard.url}/runs/done-2`);
    // The page has read the run's history to its end (its live stream is over): every execute is there.
    await expect.poll(() => page.locator('#timeline-body tr').count()).toBe(4);
    const reloaded = page.waitForEvent('load', { timeout: 15_000 });
    await page.locator('button[data-action="revert"]').click();
    await expect.poll(() => page.locator('#run-status').textContent(), { timeout: 10_000 }).toBe('REVERTED');
    for (const task of ['reserve', 'format', 'tag', 'attach'])
      expect(await page.locator(`g.task[data-task="${task}"]`).getAttribute('data-state')).toBe('REVERTED');
    expect(await page.locator('#timeline-body tr', { hasText: 'revert' }).count()).toBe(4);
    // Followed from the last event seen (?from=): the executes are not replayed.
    expect(await page.locator('#timeline-body tr').count()).toBe(8);
    // Then the page reloads once with the outcome, as the server draws it: nothing left to revert.
    await reloaded;
    expect(await page.locator('#run-status').textContent()).toBe('REVERTED');
    expect(await page.locator('button[data-action="revert"]').isDisabled()).toBe(true);
  });

  it('beyond loopback needs a token, checked on every request', async () => {
    const refused = await createDashboard({ store, host: '0.0.0.0', port: 0 }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(InvalidOptionError);
    expect((refused as Error).message).toMatch(
      /^Expected `token` to be a secret to serve the dashboard on 0\.0\.0\.0/,
    );
    const guarded = await createDashboard({ store, port: 0, token: 's3cret' });
    try {
      expect((await fetch(guarded.url)).status).toBe(401);
      expect((await fetch(`${guarded.url}/assets/run.js`)).status).toBe(401);
      expect(
        (await fetch(`${guarded.url}/runs/done-1/events`, { headers: { authorization: 'Bearer nope' } }))
          .status,
      ).toBe(401);
      const ok = await fetch(guarded.url, { headers: { authorization: 'Bearer s3cret' } });
      expect(ok.status).toBe(200);
      expect(await ok.text()).toContain('done-1');
      expect((await fetch(`${guarded.url}/?token=nope`)).status).toBe(401);
      // A link with ?token= opens the page in a browser: the cookie it sets carries the token on the
      // page's own requests (its script, the live events), which cannot send a header.
      await page.goto(`${guarded.url}/runs/done-1?token=s3cret`);
      await expect.poll(() => page.locator('#timeline-body tr').count()).toBe(4);
      expect(await page.locator('g.task[data-task="attach"]').getAttribute('data-state')).toBe('SUCCESS');
    } finally {
      await guarded.close();
    }
  });
});
