/**
 * A self-contained HTML page for the OpenAPI document, rendered on the server: no scripts, no CDN, no
 * fonts (the gateway's machines have no internet access). Schemas and examples are shown as JSON in
 * collapsible blocks; the raw document is one link away at /openapi.json.
 */
type Json = Record<string, unknown>;

const esc = (s: unknown): string =>
  String(s ?? '').replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );

const pre = (value: unknown): string =>
  `<pre>${esc(typeof value === 'string' ? value : JSON.stringify(value, null, 2))}</pre>`;

function paragraphs(text: unknown): string {
  if (typeof text !== 'string' || !text) return '';
  return text
    .split(/\n\n+/)
    .map((p) => `<p>${esc(p).replace(/`([^`]+)`/g, '<code>$1</code>')}</p>`)
    .join('');
}

function content(c: unknown): string {
  if (!c || typeof c !== 'object') return '';
  return Object.entries(c as Json)
    .map(([type, m]) => {
      const media = (m ?? {}) as Json;
      return `<div class="media"><span class="type">${esc(type)}</span>${media.schema ? `<details><summary>schema</summary>${pre(media.schema)}</details>` : ''}${media.example !== undefined ? `<details><summary>example</summary>${pre(media.example)}</details>` : ''}</div>`;
    })
    .join('');
}

function operation(method: string, path: string, op: Json): string {
  const params = (op.parameters as Json[] | undefined) ?? [];
  const request = op.requestBody as Json | undefined;
  const responses = (op.responses as Record<string, Json> | undefined) ?? {};
  const roles = op['x-roles'];
  return `<section class="op" id="${esc(String(op.operationId ?? ''))}">
<h3><span class="method ${esc(method)}">${esc(method.toUpperCase())}</span> <code>${esc(path)}</code> <span class="roles">${esc(Array.isArray(roles) ? roles.join(' · ') : 'public')}</span></h3>
<p class="summary">${esc(op.summary)}</p>${paragraphs(op.description)}
${params.length ? `<h4>Parameters</h4><table><tr><th>name</th><th>in</th><th>required</th><th>schema</th><th>description</th></tr>${params.map((p) => `<tr><td><code>${esc(p.name)}</code></td><td>${esc(p.in)}</td><td>${p.required ? 'yes' : 'no'}</td><td><code>${esc(JSON.stringify(p.schema))}</code></td><td>${esc(p.description)}</td></tr>`).join('')}</table>` : ''}
${request ? `<h4>Request body</h4>${paragraphs(request.description)}${content(request.content)}` : ''}
<h4>Responses</h4>${Object.entries(responses)
    .map(
      ([status, r]) =>
        `<div class="response"><span class="status s${esc(status[0])}">${esc(status)}</span> ${esc(r.description)}${
          r.headers
            ? `<div class="headers">headers: ${Object.keys(r.headers as Json)
                .map((h) => `<code>${esc(h)}</code>`)
                .join(' ')}</div>`
            : ''
        }${content(r.content)}</div>`,
    )
    .join('')}
</section>`;
}

export function renderDocsPage(doc: Json): string {
  const info = (doc.info ?? {}) as Json;
  const paths = (doc.paths ?? {}) as Record<string, Record<string, Json>>;
  const byTag = new Map<string, string[]>();
  const toc: string[] = [];
  for (const [path, ops] of Object.entries(paths)) {
    for (const [method, op] of Object.entries(ops)) {
      const tag = ((op.tags as string[] | undefined) ?? ['other'])[0]!;
      if (!byTag.has(tag)) byTag.set(tag, []);
      byTag.get(tag)!.push(operation(method, path, op));
      toc.push(
        `<li><a href="#${esc(String(op.operationId ?? ''))}"><span class="method ${esc(method)}">${esc(method.toUpperCase())}</span> ${esc(path)}</a></li>`,
      );
    }
  }
  const schemes = ((doc.components as Json | undefined)?.securitySchemes ?? {}) as Record<string, Json>;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(info.title)} ${esc(info.version)}</title>
<style>
body{font:15px/1.5 system-ui,-apple-system,"Segoe UI","PingFang SC","Microsoft YaHei",sans-serif;margin:0;display:flex;color:#1d2330}
nav{width:320px;height:100vh;overflow:auto;position:sticky;top:0;background:#f4f6f9;border-right:1px solid #dde2ea;padding:1em;box-sizing:border-box;font-size:13px}
nav ul{list-style:none;padding:0}nav a{color:inherit;text-decoration:none;display:block;padding:2px 0}
main{flex:1;padding:1.5em 2.5em;max-width:1100px}
.op{border:1px solid #dde2ea;border-radius:6px;padding:0 1.2em 1em;margin:1.2em 0}
.method{display:inline-block;min-width:4em;text-align:center;border-radius:4px;color:#fff;font-size:12px;font-weight:600;padding:1px 4px}
.get{background:#2f7bd8}.post{background:#2e9d5b}.delete{background:#c8423b}.put,.patch{background:#c58a1a}
.roles{font-size:12px;color:#5a6475;font-weight:normal;margin-left:.6em}
.status{font-weight:600;display:inline-block;min-width:2.5em}.s2{color:#2e9d5b}.s4{color:#c58a1a}.s5{color:#c8423b}
pre{background:#0f1720;color:#e6edf3;padding:.8em;border-radius:4px;overflow:auto;max-height:420px;font-size:12px}
table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #dde2ea;padding:3px 8px;text-align:left;vertical-align:top}
.media{margin:.3em 0 .3em 1em}.type{font-family:monospace;color:#5a6475}.response{margin:.4em 0}
summary{cursor:pointer;color:#2f7bd8;font-size:13px}
</style></head><body>
<nav><strong>${esc(info.title)}</strong> <small>${esc(info.version)} · OpenAPI ${esc(doc.openapi)}</small><p><a href="/openapi.json">openapi.json</a></p><ul>${toc.join('')}</ul></nav>
<main><h1>${esc(info.title)}</h1>${paragraphs(info.description)}
<h2>Authentication</h2><ul>${Object.entries(schemes)
    .map(([name, s]) => `<li><code>${esc(name)}</code>: ${esc(s.description)}</li>`)
    .join('')}</ul>
<p>Authenticated responses carry <code>RateLimit-Limit</code>, <code>RateLimit-Remaining</code> and <code>RateLimit-Reset</code>; a 429 adds <code>Retry-After</code>.</p>
${[...byTag.entries()].map(([tag, ops]) => `<h2>${esc(tag)}</h2>${ops.join('\n')}`).join('\n')}
</main></body></html>`;
}
