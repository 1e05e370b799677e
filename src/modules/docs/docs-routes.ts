/**
 * The docs, served so that they render: GET /docs/<name>.md answers the Markdown rendered as HTML
 * (marked), under the same CSP as the rest of the origin (a stylesheet file, /docs.css, no inline
 * script or style); every other file of docs/siem (configs, scripts, templates) is a text/plain
 * download. Rules:
 * - The rendered page keeps the file's URL, so the guides' relative links (`../troubleshooting.md`,
 *   `props.conf`) work unchanged here and on a repository browser alike.
 * - Headings carry GitHub's anchors, so `api.md#the-feed-get-apisiemevents` lands on its heading.
 * - What is served is what the package ships (package.json `files`): docs/*.md and docs/siem/**;
 *   anything else, and any path that leaves those, is a 404.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyPluginAsync } from 'fastify';
import { Marked, type Tokens } from 'marked';
import { AppError } from '../../errors.js';

export const DOCS_ROOT = fileURLToPath(new URL('../../../docs/', import.meta.url));

const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** GitHub's heading anchor (github-slugger): lower case, punctuation dropped, spaces to hyphens. */
export function headingSlug(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
    .replace(/ /g, '-');
}

function renderMarkdown(markdown: string): { title: string; html: string } {
  const seen = new Map<string, number>();
  let title = '';
  const marked = new Marked({ gfm: true, async: false });
  marked.use({
    renderer: {
      heading(this: { parser: { parseInline(t: Tokens.Heading['tokens']): string } }, token: Tokens.Heading) {
        const plain = token.text.replace(/<[^>]*>/g, '');
        if (!title && token.depth === 1) title = plain.replace(/[`*_]/g, '');
        const base = headingSlug(plain);
        const n = seen.get(base) ?? 0;
        seen.set(base, n + 1);
        const id = n === 0 ? base : `${base}-${n}`;
        return `<h${token.depth} id="${escapeHtml(id)}">${this.parser.parseInline(token.tokens)}</h${token.depth}>\n`;
      },
    },
  });
  return { title, html: marked.parse(markdown) as string };
}

const NAV = [
  { href: '/docs/siem/README.md', label: 'SIEM guides' },
  { href: '/docs/api.md', label: 'API reference' },
  { href: '/docs/troubleshooting.md', label: 'Troubleshooting' },
];

function page(title: string, body: string): string {
  const nav = NAV.map((l) => `<a href="${l.href}">${l.label}</a>`).join(' · ');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title || 'Docs')} · IT Portal</title>
<link rel="icon" href="/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/docs.css">
</head>
<body>
<nav class="docs-nav" aria-label="Docs">IT Portal docs: ${nav}</nav>
<main class="doc">
${body}</main>
</body>
</html>
`;
}

/** The file under DOCS_ROOT that `rel` names, or null when it is not one the package ships. */
export function docPath(rel: string, root = DOCS_ROOT): string | null {
  if (rel.includes('\0') || rel.includes('\\')) return null;
  const parts = rel.split('/');
  if (parts.some((p) => p === '' || p === '.' || p === '..' || p.startsWith('.'))) return null;
  const shipped = (parts.length === 1 && rel.endsWith('.md')) || (parts[0] === 'siem' && parts.length > 1);
  if (!shipped) return null;
  const full = path.resolve(root, rel);
  return full.startsWith(path.resolve(root) + path.sep) ? full : null;
}

export function docsRoutes(root = DOCS_ROOT): FastifyPluginAsync {
  return async (app) => {
    app.get('/docs/*', { schema: { hide: true } }, async (request, reply) => {
      const rel = (request.params as { '*': string })['*'];
      const file = docPath(rel, root);
      const notFound = () => new AppError('not_found', `no document /docs/${rel.slice(0, 200)}`);
      if (!file) throw notFound();
      let content: string;
      try {
        const stat = await fs.stat(file);
        if (!stat.isFile()) throw notFound();
        content = await fs.readFile(file, 'utf8');
      } catch (err) {
        if (err instanceof AppError) throw err;
        throw notFound();
      }
      if (file.endsWith('.md')) {
        const { title, html } = renderMarkdown(content);
        return reply.type('text/html; charset=utf-8').send(page(title, html));
      }
      // Configs and scripts: downloaded as the text they are (a browser never runs or renders them).
      return reply
        .type('text/plain; charset=utf-8')
        .header('Content-Disposition', `attachment; filename="${path.basename(file).replace(/"/g, '')}"`)
        .send(content);
    });
  };
}
