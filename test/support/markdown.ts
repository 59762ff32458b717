/**
 * Just enough Markdown reading for the documentation tests: the prose lines (outside fenced code
 * and inline code), the links in them, the anchors GitHub gives headings, and citations of the
 * rules R1–R8. Not a Markdown parser: a link split over two lines is not seen.
 */

export interface ProseLine {
  /** 1-based line number in the file. */
  line: number;
  /** The line with inline code spans removed. */
  text: string;
  heading: boolean;
}

export interface MarkdownLink {
  line: number;
  target: string;
}

export interface RuleCitation {
  line: number;
  rule: string;
  /** The link target when the citation is written `[R1](target)`. */
  link: string | undefined;
}

const FENCE = /^\s*(```|~~~)/;
const INLINE_CODE = /(`+)[\s\S]*?\1/g;
const LINK = /!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g;
const HEADING = /^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$/;
const HTML_ANCHOR = /<a\s+(?:id|name)="([^"]+)"/g;
const CITATION = /\[(R[1-8])\]\(([^)\s]+)\)|\b(R[1-8])\b/g;

export function proseLines(markdown: string): ProseLine[] {
  const lines: ProseLine[] = [];
  let fenced = false;
  markdown.split('\n').forEach((raw, index) => {
    if (FENCE.test(raw)) {
      fenced = !fenced;
      return;
    }
    if (fenced) return;
    const text = raw.replace(INLINE_CODE, '');
    lines.push({ line: index + 1, text, heading: HEADING.test(text) });
  });
  return lines;
}

export function markdownLinks(markdown: string): MarkdownLink[] {
  return proseLines(markdown).flatMap(({ line, text }) =>
    [...text.matchAll(LINK)].map((match) => ({ line, target: match[1] ?? '' })),
  );
}

/** GitHub's anchor for a heading's text: lower case, punctuation dropped, spaces as hyphens. */
export function slug(heading: string): string {
  return heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/`/g, '')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

export function headingAnchors(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  let fenced = false;
  for (const raw of markdown.split('\n')) {
    if (FENCE.test(raw)) fenced = !fenced;
    if (fenced) continue;
    for (const match of raw.matchAll(HTML_ANCHOR)) anchors.add((match[1] ?? '').toLowerCase());
    const heading = HEADING.exec(raw);
    if (!heading) continue;
    const base = slug(heading[2] ?? '');
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    anchors.add(count === 0 ? base : `${base}-${count}`);
  }
  return anchors;
}

/** Each R1–R8 cited in prose (headings excepted: they name a section, the text below cites). */
export function ruleCitations(markdown: string): RuleCitation[] {
  return proseLines(markdown)
    .filter(({ heading }) => !heading)
    .flatMap(({ line, text }) =>
      [...text.matchAll(CITATION)].map((match) => ({
        line,
        rule: match[1] ?? match[3] ?? '',
        link: match[2],
      })),
    );
}
