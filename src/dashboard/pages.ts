import type { RunInfo } from '../engine/run-info.js';
import { relative } from '../engine/time-text.js';
import type { Job, JobCounts, JobState } from '../jobs/job-board.js';
import { RUN_STATUSES, type RunStatus } from '../model/run-status.js';
import type { RunMeta } from '../store/store.js';
import { graphSvg } from './graph-svg.js';
import { escapeHtml as h, page } from './html.js';

function badge(state: string): string {
  return `<span class="badge ${h(state)}">${h(state)}</span>`;
}

function time(at: number | undefined, now: number): string {
  if (at === undefined) return '';
  const iso = new Date(at).toISOString();
  return `<time datetime="${iso}" title="${iso}">${relative(at, now)}</time>`;
}

export interface RunsPageData {
  runs: (RunMeta & { corrupt?: string })[];
  /** Counts by status over every run listed (unfiltered). */
  counts: Record<string, number>;
  status?: RunStatus | undefined;
  flow?: string | undefined;
  jobs?: { list: Job[]; counts: JobCounts; state?: JobState | undefined } | undefined;
  now: number;
}

/** Runs (and jobs) by state, with counts and filters; each run id links to its page. */
export function runsPage(data: RunsPageData): string {
  const { now } = data;
  /** This page's address with the run status and the job state it filters on (the flow filter kept). */
  const q = (status: string | undefined, job: string | undefined = data.jobs?.state) => {
    const params = new URLSearchParams();
    if (status) params.set('status', status);
    if (data.flow) params.set('flow', data.flow);
    if (job) params.set('job', job);
    const text = params.toString();
    return text ? `/?${text}` : '/';
  };
  const total = Object.values(data.counts).reduce((a, b) => a + b, 0);
  const counts = [
    `<a class="count${data.status ? '' : ' active'}" href="${q(undefined)}"><b>${total}</b>all</a>`,
    ...[...RUN_STATUSES, 'CORRUPT']
      .filter((s) => data.counts[s])
      .map(
        (s) =>
          `<a class="count ${s}${data.status === s ? ' active' : ''}" href="${q(s)}" data-status="${s}"><b>${data.counts[s]}</b>${s}</a>`,
      ),
  ].join('');
  const rows = data.runs
    .map((r) =>
      r.corrupt !== undefined
        ? `<tr data-run-id="${h(r.id)}"><td><a href="/runs/${encodeURIComponent(r.id)}">${h(r.id)}</a></td><td></td><td>${badge('CORRUPT')}</td><td colspan="3">${h(r.corrupt)}</td></tr>`
        : `<tr data-run-id="${h(r.id)}" data-status="${r.status}"><td><a href="/runs/${encodeURIComponent(r.id)}">${h(r.id)}</a></td><td>${h(r.flow)}</td><td>${badge(r.status)}</td><td>${time(r.createdAt, now)}</td><td>${time(r.updatedAt, now)}</td><td class="meta">${h(r.owner ?? '')}</td></tr>`,
    )
    .join('');
  let jobs = '';
  if (data.jobs) {
    const { state } = data.jobs;
    const jobTotal = Object.values(data.jobs.counts).reduce((a, b) => a + b, 0);
    const jobCounts = [
      `<a class="count${state ? '' : ' active'}" href="${q(data.status, '')}"><b>${jobTotal}</b>all</a>`,
      ...Object.entries(data.jobs.counts)
        .filter(([, n]) => n > 0)
        .map(
          ([s, n]) =>
            `<a class="count ${s}${state === s ? ' active' : ''}" href="${q(data.status, s)}" data-state="${s}"><b>${n}</b>${s}</a>`,
        ),
    ].join('');
    const jobRows = data.jobs.list
      .map(
        (j) =>
          `<tr data-job-id="${h(j.id)}"><td><a href="/runs/${encodeURIComponent(j.runId)}">${h(j.id)}</a></td><td>${h(j.flow)}</td><td>${badge(j.state)}</td><td>${j.attempts}</td><td>${j.takeovers}</td><td class="meta">${h(j.owner ?? '')}</td><td>${j.state === 'CLAIMED' ? time(j.leaseUntil, now) : ''}</td><td>${time(j.updatedAt, now)}</td></tr>`,
      )
      .join('');
    jobs = `<h2>Jobs</h2><div class="counts" id="job-counts">${jobCounts}</div><table id="jobs"><thead><tr><th>Job</th><th>Flow</th><th>State</th><th>Attempts</th><th>Takeovers</th><th>Owner</th><th>Lease</th><th>Updated</th></tr></thead><tbody>${jobRows || '<tr><td colspan="8" class="meta">No jobs.</td></tr>'}</tbody></table>`;
  }
  const body = `<h2>Runs</h2><div class="counts" id="run-counts">${counts}</div>
<form class="filters" method="get" action="/">${data.status ? `<input type="hidden" name="status" value="${data.status}">` : ''}${data.jobs?.state ? `<input type="hidden" name="job" value="${data.jobs.state}">` : ''}<input name="flow" placeholder="flow name" value="${h(data.flow ?? '')}"><button>Filter</button></form>
<table id="runs"><thead><tr><th>Run</th><th>Flow</th><th>Status</th><th>Created</th><th>Updated</th><th>Held by</th></tr></thead><tbody>${rows || '<tr><td colspan="6" class="meta">No runs.</td></tr>'}</tbody></table>${jobs}`;
  return page('Runs', body);
}

export interface RunPageData {
  info: RunInfo;
  job?: Job | undefined;
  /** Actions are enabled when the dashboard was given flows. */
  canAct: boolean;
  /** This dashboard's engine id (a run held by another engine says so). */
  engineId: string;
  now: number;
}

/** One run: its flow as a live graph, its timeline, failures with stacks, and resume/revert/cancel. */
export function runPage({ info, job, canAct, engineId, now }: RunPageData): string {
  const { meta } = info;
  const names = info.flow ? info.flow.tasks.map((t) => t.name) : Object.keys(info.tasks);
  const graph = graphSvg(
    names.map((name) => ({
      name,
      state: info.tasks[name]?.state ?? 'PENDING',
      ...(info.tasks[name] ? { attempt: info.tasks[name].attempt } : {}),
    })),
    info.flow?.edges ?? [],
  );
  const active = meta.status === 'RUNNING' || meta.status === 'REVERTING' || meta.status === 'PENDING';
  const heldElsewhere = active && meta.owner !== undefined && meta.owner !== engineId;
  const holder = meta.owner
    ? `<p class="meta" id="holder">${active ? 'Held by' : 'Last held by'} <b>${h(meta.owner)}</b>${heldElsewhere ? ' (another engine: an action here takes the run over from it)' : ''}${job ? ` · job ${badge(job.state)}${job.state === 'CLAIMED' ? ` by conductor <b>${h(job.owner ?? '?')}</b>, lease until ${time(job.leaseUntil, now)}` : ''}` : ''}</p>`
    : '';
  const disabled = canAct ? '' : ' disabled title="start the dashboard with --flows <module> to act on runs"';
  const finished = meta.status === 'SUCCESS' || meta.status === 'REVERTED' || meta.status === 'FAILURE';
  const actions = `<div class="actions">
<button data-action="resume"${disabled}${finished ? ' disabled' : ''}>Resume</button>
<button data-action="revert"${disabled}${meta.status === 'REVERTED' ? ' disabled title="already reverted: nothing is left to undo"' : ''}>Revert</button>
<button data-action="cancel" class="danger"${disabled}${finished ? ' disabled' : ''}>Cancel</button>
<span id="notice">${canAct ? '' : 'Read-only: start the dashboard with --flows &lt;module&gt; to resume, revert or cancel.'}</span></div>`;
  const failures = [
    ...info.failures.map((f) => ({ ...f, what: 'failed' })),
    ...info.revertFailures.map((f) => ({ ...f, what: 'revert failed' })),
  ]
    .map(
      (f) =>
        `<div class="failure"><p><b>${h(f.task)}</b> ${f.what}: ${h(f.error.name)}: ${h(f.error.message)}</p>${f.error.stack ? `<pre class="stack">${h(f.error.stack)}</pre>` : ''}</div>`,
    )
    .join('');
  const body = `<section data-run="${h(meta.id)}">
<p><b>${h(meta.id)}</b> · ${h(meta.flow)} (version ${h(meta.version)}) · <span id="run-status" class="badge ${meta.status}">${meta.status}</span> · created ${time(meta.createdAt, now)} · last change ${time(meta.updatedAt, now)}</p>
${holder}${actions}
<h2>Flow</h2><div class="graph-wrap">${graph}</div>
<h2>Timeline</h2><table id="timeline"><thead><tr><th>Task</th><th>Effect</th><th>Attempt</th><th>Start</th><th>End</th><th>Took</th><th>Outcome</th></tr></thead><tbody id="timeline-body"></tbody></table>
<h2>Failures</h2>${failures || '<p class="meta" id="no-failures">None.</p>'}
</section>`;
  return page(`Run ${meta.id}`, body, ['/assets/run.js']);
}
