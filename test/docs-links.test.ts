/**
 * The documentation's promises about itself: the README starts in one page, every relative link
 * of every Markdown file in the repository leads to a file (and heading) that exists and stays
 * inside the repository, and every citation of the credit-system rules R1–R8 links to their
 * definition in docs/domain.md. Moving a file or renaming a heading fails here, not for a reader.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { headingAnchors, markdownLinks, proseLines, ruleCitations } from './support/markdown.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const README_LIMIT_BYTES = 12 * 1024;
const DOMAIN = join(ROOT, 'docs', 'domain.md');

/** Every Markdown file git knows of or would add (so a new file is checked before its commit). */
function markdownFiles(): string[] {
  const listed = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '-z', '--', '*.md'], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  return listed
    .split('\0')
    .filter((path) => path !== '' && existsSync(join(ROOT, path)))
    .sort();
}

const anchorsByFile = new Map<string, Set<string>>();
function anchorsOf(file: string): Set<string> {
  let anchors = anchorsByFile.get(file);
  if (!anchors) {
    anchors = headingAnchors(readFileSync(file, 'utf8'));
    anchorsByFile.set(file, anchors);
  }
  return anchors;
}

/** What is wrong with one relative link, or undefined when it resolves. */
function brokenLink(from: string, target: string): string | undefined {
  const [pathPart = '', anchor] = target.split('#', 2) as [string, string | undefined];
  const file = pathPart === '' ? from : resolve(dirname(from), decodeURIComponent(pathPart));
  const inside = relative(ROOT, file);
  if (inside.startsWith('..') || inside.startsWith(sep)) return 'leaves the repository';
  if (!existsSync(file)) return 'names no file';
  if (anchor === undefined || anchor === '') return undefined;
  if (statSync(file).isDirectory() || !file.endsWith('.md')) return undefined;
  return anchorsOf(file).has(anchor.toLowerCase()) ? undefined : `names no heading of ${relative(ROOT, file)}`;
}

describe('the README and the docs', () => {
  it(`the README stays under ${README_LIMIT_BYTES / 1024} KB and keeps its sections`, () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const bytes = Buffer.byteLength(readme);
    assert.ok(bytes < README_LIMIT_BYTES, `README.md is ${bytes} bytes`);
    for (const heading of ['two-commands', 'a-first-query', 'where-to-go-next'])
      assert.ok(headingAnchors(readme).has(heading), heading);
    assert.match(
      readme,
      /\| Situation \| Answer \| Tested end to end in `test\/` \|/,
      'the answers table stays in the README',
    );
  });

  it('every relative link in every Markdown file resolves to an existing file and heading', () => {
    const files = markdownFiles();
    assert.ok(files.length >= 10, `found ${files.length} Markdown files`);
    const broken: string[] = [];
    let checked = 0;
    for (const path of files) {
      const file = join(ROOT, path);
      for (const { target, line } of markdownLinks(readFileSync(file, 'utf8'))) {
        if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto:: not relative
        checked++;
        const problem = brokenLink(file, target);
        if (problem) broken.push(`${path}:${line}: (${target}) ${problem}`);
      }
    }
    assert.ok(checked > 30, `checked ${checked} links`);
    assert.deepEqual(broken, []);
  });

  it('every citation of R1–R8 in Markdown links to its definition in docs/domain.md', () => {
    const definitions = anchorsOf(DOMAIN);
    const anchorOf = (rule: string): string | undefined =>
      [...definitions].find((anchor) => anchor.startsWith(`${rule.toLowerCase()}-`));
    for (const rule of ['R1', 'R2', 'R3', 'R4', 'R5', 'R6', 'R7', 'R8'])
      assert.ok(anchorOf(rule), `docs/domain.md defines ${rule} under a heading of its own`);
    const unlinked: string[] = [];
    let cited = 0;
    for (const path of markdownFiles()) {
      const file = join(ROOT, path);
      for (const { rule, line, link } of ruleCitations(readFileSync(file, 'utf8'))) {
        cited++;
        const expected = `${relative(dirname(file), DOMAIN).split(sep).join('/')}#${anchorOf(rule)}`;
        const sameFile = file === DOMAIN && link === `#${anchorOf(rule)}`;
        if (link !== expected && !sameFile)
          unlinked.push(`${path}:${line}: ${rule} links to ${link ?? 'nothing'}, not ${expected}`);
      }
    }
    assert.ok(cited > 10, `found ${cited} citations`);
    assert.deepEqual(unlinked, []);
  });

  it('nothing in the repository reads from or links to a folder outside it', () => {
    for (const path of markdownFiles()) {
      const text = readFileSync(join(ROOT, path), 'utf8');
      for (const { target, line } of markdownLinks(text)) {
        assert.ok(!/(^|\/)\.\.\/shared\b/.test(target), `${path}:${line} links to ${target}`);
      }
      assert.ok(
        !proseLines(text).some(({ text: prose }) => /\bDOMAIN\.md\b/.test(prose)),
        `${path} cites DOMAIN.md, which is not in the repository`,
      );
    }
  });
});
