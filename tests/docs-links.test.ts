// Every relative link in the README and docs/ leads somewhere: the file exists and, for a
// `#section`, the page has that heading (its anchor as GitHub makes it). Links in code blocks are
// examples, not links, and are left out.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { projectRoot } from '#platform/paths.ts';

const pages = execFileSync('git', ['ls-files', '-co', '--exclude-standard', '*.md'], { cwd: projectRoot, encoding: 'utf8' })
  .split('\n').filter((f) => f && existsSync(path.join(projectRoot, f)));

const withoutCode = (text: string) => text.replace(/^```[\s\S]*?^```/gm, '').replace(/`[^`\n]*`/g, (span) => span.replace(/\]\(/g, ''));

/** GitHub's anchor of a heading: lower case, punctuation but `-` and `_` dropped, spaces to `-`; a repeat gets `-1`, `-2`... */
function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const [, heading = ''] of markdown.replace(/^```[\s\S]*?^```/gm, '').matchAll(/^#{1,6}\s+(.*)$/gm)) {
    const text = heading.replace(/\[([^\]]*)\]\([^)]*\)/g, '$1');
    const slug = text.trim().toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/ /g, '-');
    const count = seen.get(slug);
    anchors.add(count === undefined ? slug : `${slug}-${count + 1}`);
    seen.set(slug, (count ?? -1) + 1);
  }
  for (const [, id = ''] of markdown.matchAll(/<a (?:name|id)="([^"]+)"/g)) anchors.add(id);
  return anchors;
}

describe('links in the README and docs/', () => {
  it(`lead to a file that exists and a heading it has (${pages.length} pages)`, () => {
    const broken: string[] = [];
    for (const page of pages) {
      for (const [, target = ''] of withoutCode(readFileSync(path.join(projectRoot, page), 'utf8')).matchAll(/\]\(([^)\s]+)\)/g)) {
        if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // http:, mailto: ...
        const [file = '', anchor] = target.split('#');
        const resolved = file ? path.join(path.dirname(page), decodeURIComponent(file)) : page;
        if (!existsSync(path.join(projectRoot, resolved))) broken.push(`${page}: ${target} (no such file)`);
        else if (anchor && resolved.endsWith('.md') && !anchorsOf(readFileSync(path.join(projectRoot, resolved), 'utf8')).has(anchor)) broken.push(`${page}: ${target} (no such heading)`);
      }
    }
    expect(broken).toEqual([]);
  });
});
