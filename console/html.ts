/**
 * HTML templates as tagged strings: every interpolated value is escaped unless it is itself a
 * template (or a list of them), so that a page cannot carry markup from the policy, the access
 * log or a form by accident.
 */
const RAW = Symbol('html');

export interface Html {
  readonly [RAW]: string;
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => ESCAPES[char] ?? char);
}

function isHtml(value: unknown): value is Html {
  return typeof value === 'object' && value !== null && RAW in value;
}

type Interpolated = Html | string | number | boolean | null | undefined | readonly Interpolated[];

function render(value: Interpolated): string {
  if (value === null || value === undefined || value === false) return '';
  if (Array.isArray(value)) return value.map((item: Interpolated) => render(item)).join('');
  if (isHtml(value)) return value[RAW];
  if (typeof value === 'object') return '';
  return escapeHtml(String(value));
}

export function html(strings: TemplateStringsArray, ...values: Interpolated[]): Html {
  let out = strings[0] ?? '';
  values.forEach((value, index) => {
    out += render(value) + (strings[index + 1] ?? '');
  });
  return { [RAW]: out };
}

export function toText(fragment: Html): string {
  return fragment[RAW];
}
