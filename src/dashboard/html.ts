/** HTML helpers for the dashboard's server-rendered pages. */

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A full page: the stylesheet and scripts are served by the dashboard itself (no CDN, no internet). */
export function page(title: string, body: string, scripts: readonly string[] = []): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · taskweave</title><link rel="stylesheet" href="/assets/dashboard.css"></head>
<body><header><a class="home" href="/">taskweave</a><span class="title">${escapeHtml(title)}</span></header>
<main>${body}</main>${scripts.map((s) => `<script src="${s}"></script>`).join('')}</body></html>`;
}
