/**
 * The frame of every console page: language, skip link, navigation, the officer and the release
 * in force. Pages are plain HTML with one local stylesheet and one local script (no CDN).
 */
import { html, toText, type Html } from '../html.ts';
import type { Language, MessageKey, Translate } from '../i18n.ts';

export interface PageContext {
  t: Translate;
  lang: Language;
  path: string;
  officer?: { id: string; name: string; csrf: string };
  inForce?: number;
}

const NAV: { href: string; key: MessageKey }[] = [
  { href: '/matrix', key: 'nav_matrix' },
  { href: '/proposals', key: 'nav_proposals' },
  { href: '/status', key: 'nav_status' },
  { href: '/log', key: 'nav_log' },
  { href: '/report', key: 'nav_report' },
];

export function refusal(t: Translate, code: string): Html {
  const key = `error_${code}` as MessageKey;
  return html`<p class="refusal" role="alert" data-code="${code}"><strong>${t('refused')} (${code})</strong>: ${t(key) ?? code}</p>`;
}

export function page(ctx: PageContext, title: string, body: Html, options: { print?: boolean } = {}): string {
  const { t } = ctx;
  const otherLang = ctx.lang === 'en' ? 'zh-CN' : 'en';
  const header = options.print
    ? html``
    : html`
<a class="skip" href="#main">${t('skip')}</a>
<header class="top">
  <span class="brand">${t('title')}</span>
  ${ctx.officer ? html`<nav aria-label="main"><ul>${NAV.map((item) => html`<li><a href="${item.href}"${ctx.path.startsWith(item.href) ? html` aria-current="page"` : ''}>${t(item.key)}</a></li>`)}</ul></nav>` : ''}
  <span class="who">
    ${ctx.inForce !== undefined ? html`<span class="release" data-release="${ctx.inForce}">${t('release_in_force')}: ${ctx.inForce}</span>` : ''}
    <a href="/lang?to=${otherLang}&amp;back=${encodeURIComponent(ctx.path)}" lang="${otherLang}">${t('language')}</a>
    ${
      ctx.officer
        ? html`<span class="officer" data-officer="${ctx.officer.id}">${t('signed_in_as')} ${ctx.officer.id}</span>
    <form method="post" action="/logout" class="inline"><input type="hidden" name="csrf" value="${ctx.officer.csrf}"><button type="submit">${t('sign_out')}</button></form>`
        : ''
    }
  </span>
</header>`;
  return `<!doctype html>${toText(html`
<html lang="${ctx.lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
${ctx.officer ? html`<meta name="csrf" content="${ctx.officer.csrf}">` : ''}
<title>${title} · ${t('title')}</title>
<link rel="stylesheet" href="/assets/console.css">
<script src="/assets/console.js" defer></script>
</head>
<body${options.print ? html` class="print"` : ''}>
${header}
<main id="main" tabindex="-1">
<h1>${title}</h1>
${body}
</main>
</body>
</html>`)}`;
}

/** Links to the first, previous and next pages, keeping the query's other parameters. */
export function pager(t: Translate, base: string, params: URLSearchParams, page: number, pages: number): Html {
  const link = (to: number): string => {
    const next = new URLSearchParams(params);
    next.set('page', String(to));
    return `${base}?${next.toString()}`;
  };
  return html`<nav class="pager" aria-label="${t('page')}">
    ${page > 1 ? html`<a href="${link(page - 1)}" rel="prev">${t('previous')}</a>` : ''}
    <span>${t('page')} ${page} / ${pages}</span>
    ${page < pages ? html`<a href="${link(page + 1)}" rel="next">${t('next')}</a>` : ''}
  </nav>`;
}
