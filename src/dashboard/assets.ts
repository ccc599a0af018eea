import { JOB_STATES } from '../jobs/job-board.js';
import { RUN_STATUSES } from '../model/run-status.js';
import { TASK_STATES } from '../model/task-states.js';

/**
 * The dashboard's stylesheet and script, shipped in the package and served by the dashboard itself:
 * the pages work with no internet (no CDN, no web fonts).
 */
/** Every state a page colours: tasks', runs' (plus CORRUPT, for a run that cannot be read) and jobs'. */
const DRAWN_STATES = [...new Set<string>([...TASK_STATES, ...RUN_STATUSES, 'CORRUPT', ...JOB_STATES])];

export const CSS = `
:root { --bg:#f7f7f9; --fg:#1d1f24; --muted:#6b7080; --line:#d9dbe3; --card:#fff;
  --PENDING:#e6e8ee; --RUNNING:#cfe3ff; --SUCCESS:#d3f2dc; --FAILURE:#ffd4d4; --RETRYING:#ffe9b8;
  --REVERTING:#ffe0c2; --REVERTED:#ead9ff; --REVERT_FAILURE:#ff9e9e; --IGNORED:#f0f0f0; --SUSPENDED:#ffe9b8; --CORRUPT:#ff9e9e;
  --UNCLAIMED:#e6e8ee; --CLAIMED:#cfe3ff; --COMPLETE:#d3f2dc; --FAILED:#ffd4d4; --CANCELLED:#ead9ff; }
* { box-sizing: border-box; }
body { margin:0; font:14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; background:var(--bg); color:var(--fg); }
header { display:flex; gap:16px; align-items:baseline; padding:12px 24px; background:#22252d; color:#fff; }
header a.home { color:#fff; font-weight:700; text-decoration:none; }
header .title { color:#c9ccd6; }
main { padding:16px 24px; max-width:1200px; }
h2 { font-size:16px; margin:24px 0 8px; }
table { border-collapse:collapse; width:100%; background:var(--card); border:1px solid var(--line); }
th, td { text-align:left; padding:6px 10px; border-bottom:1px solid var(--line); vertical-align:top; }
th { font-weight:600; color:var(--muted); font-size:12px; text-transform:uppercase; letter-spacing:.03em; }
a { color:#1a5fd0; }
.badge { display:inline-block; padding:1px 8px; border-radius:10px; font-size:12px; font-weight:600; border:1px solid rgba(0,0,0,.12); }
${DRAWN_STATES.map(
  (s) =>
    `.badge.${s}, .count.${s} { background:var(--${s}); } .task[data-state="${s}"] rect { fill:var(--${s}); }`,
).join('\n')}
.counts { display:flex; flex-wrap:wrap; gap:8px; margin:8px 0; }
.count { padding:6px 12px; border-radius:8px; border:1px solid var(--line); text-decoration:none; color:var(--fg); }
.count b { font-size:18px; margin-right:6px; }
.count.active { outline:2px solid #1a5fd0; }
form.filters { display:flex; gap:8px; margin:8px 0; }
.meta { color:var(--muted); }
.graph-wrap { background:var(--card); border:1px solid var(--line); padding:12px; overflow:auto; }
svg.graph .edge { fill:none; stroke:#8a8fa0; stroke-width:1.5; }
svg.graph marker path { fill:#8a8fa0; }
svg.graph .task rect { stroke:#5a5f70; stroke-width:1.2; transition: fill .2s; }
svg.graph .task[data-state="RUNNING"] rect, svg.graph .task[data-state="REVERTING"] rect { stroke:#1a5fd0; stroke-width:2.5; }
svg.graph .task[data-state="FAILURE"] rect, svg.graph .task[data-state="REVERT_FAILURE"] rect { stroke:#c62828; stroke-width:2.5; }
svg.graph text { text-anchor:middle; font-size:12px; fill:var(--fg); }
svg.graph text.name { font-weight:600; }
svg.graph text.state { font-size:11px; fill:#3d4150; letter-spacing:.03em; }
.actions { display:flex; gap:8px; align-items:center; margin:12px 0; flex-wrap:wrap; }
button { font:inherit; padding:6px 14px; border-radius:6px; border:1px solid #8a8fa0; background:#fff; cursor:pointer; }
button:disabled { opacity:.45; cursor:not-allowed; }
button.danger { border-color:#c62828; color:#c62828; }
#notice { color:#8a4b00; }
pre.stack { background:#22252d; color:#e6e8ee; padding:10px; overflow:auto; font-size:12px; }
.split { display:grid; grid-template-columns: minmax(0, 1fr); gap:16px; }
`;

/** The run page's script: follows the run's events (server-sent, fed by engine.watch) and the buttons. */
export const RUN_JS = `
(function () {
  var root = document.querySelector('[data-run]');
  if (!root) return;
  var runId = root.getAttribute('data-run');
  var base = '/runs/' + encodeURIComponent(runId);
  var timeline = document.getElementById('timeline-body');
  var statusEl = document.getElementById('run-status');
  var initialStatus = statusEl ? statusEl.textContent : '';
  var spans = [];
  var open = {};
  function fmt(at) { return at ? new Date(at).toISOString().slice(11, 23) : ''; }
  function setTask(e) {
    var node = document.querySelector('.task[data-task="' + CSS.escape(e.task) + '"]');
    if (!node) return;
    node.setAttribute('data-state', e.state);
    var label = node.querySelector('text.state');
    if (label) label.textContent = e.state + (e.attempt > 1 ? ' · attempt ' + e.attempt : '');
    var title = node.querySelector('title');
    if (title) title.textContent = e.task + ': ' + e.state;
  }
  function track(e) {
    var kind = e.state === 'RUNNING' ? 'execute' : e.state === 'REVERTING' ? 'revert' : null;
    if (kind) {
      var span = { task: e.task, kind: kind, attempt: e.attempt, start: e.at };
      open[e.task] = span;
      spans.push(span);
    } else if (open[e.task] && ['SUCCESS', 'FAILURE', 'RETRYING', 'REVERTED', 'REVERT_FAILURE'].indexOf(e.state) >= 0) {
      open[e.task].end = e.at;
      open[e.task].outcome = e.state + (e.error ? ' (' + e.error.name + ': ' + e.error.message + ')' : '');
      delete open[e.task];
    }
  }
  function renderTimeline() {
    if (!timeline) return;
    timeline.innerHTML = '';
    spans.forEach(function (s) {
      var tr = document.createElement('tr');
      [s.task, s.kind, String(s.attempt || ''), fmt(s.start), fmt(s.end), s.end ? (s.end - s.start) + ' ms' : 'running', s.outcome || ''].forEach(function (text) {
        var td = document.createElement('td');
        td.textContent = text;
        tr.appendChild(td);
      });
      timeline.appendChild(tr);
    });
  }
  var source = null;
  var lastSeq = 0;
  function listen() {
    source = new EventSource(base + '/events' + (lastSeq ? '?from=' + lastSeq : ''));
    source.onmessage = function (message) {
      var e = JSON.parse(message.data);
      lastSeq = e.seq;
      if (e.task) { setTask(e); track(e); renderTimeline(); }
      else if (statusEl) { statusEl.textContent = e.state; statusEl.className = 'badge ' + e.state; }
    };
    source.addEventListener('end', function () {
      source.close();
      source = null;
      // The run ended while the page was open: reload once for its final failures and stacks.
      if (statusEl && statusEl.textContent !== initialStatus) setTimeout(function () { location.reload(); }, 300);
    });
  }
  listen();
  // After an action on a run whose stream had ended (a revert of a finished run): once the store shows
  // the run moving again, follow it from the last event seen (a watch of a finished run just ends).
  function follow(tries) {
    if (source || tries > 50 || !statusEl) return;
    fetch('/api/runs/' + encodeURIComponent(runId)).then(function (r) { return r.json(); }).then(function (info) {
      if (info.meta && info.meta.status !== statusEl.textContent) listen();
      else setTimeout(function () { follow(tries + 1); }, 200);
    }).catch(function () { setTimeout(function () { follow(tries + 1); }, 200); });
  }
  var notice = document.getElementById('notice');
  function act(action, force) {
    if (notice) notice.textContent = action + '…';
    fetch(base + '/' + action + (force ? '?force=1' : ''), { method: 'POST' }).then(function (r) {
      return r.json().then(function (body) {
        if (r.status === 409 && body.owner) {
          notice.textContent = body.message + ' ';
          var take = document.createElement('button');
          take.textContent = 'Take over and ' + action;
          take.className = 'danger';
          take.onclick = function () { act(action, true); };
          notice.appendChild(take);
        } else {
          notice.textContent = body.message || (r.ok ? 'done' : 'failed');
          if (r.ok) follow(0);
        }
      });
    }).catch(function (error) { notice.textContent = String(error); });
  }
  document.querySelectorAll('button[data-action]').forEach(function (button) {
    button.addEventListener('click', function () { act(button.getAttribute('data-action'), false); });
  });
})();
`;
