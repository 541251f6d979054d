import { htmlDangers, xssPayloads } from '@hexa/testing';
import { defaultDescription } from '../src/modules/workspaces/default-description.js';
import { renderHomePage } from '../src/modules/workspaces/home-page-fns.js';

describe('when a home page holds a known XSS payload', () => {
  it.each(xssPayloads.map((payload) => [payload]))('renders %j with nothing a browser would run', (payload) => {
    const html = renderHomePage(payload);
    expect(htmlDangers(html)).toEqual([]);
  });

  it('would have caught the payloads without the sanitiser (the check is not vacuous)', () => {
    const unsanitised = xssPayloads.filter((payload) => htmlDangers(payload).length > 0);
    expect(unsanitised.length).toBeGreaterThan(60);
  });

  it('leaves a javascript: link as text, or as a link without a target, and keeps the words', () => {
    expect(renderHomePage('[click me](javascript:alert(1))')).toBe('<p>[click me](javascript:alert(1))</p>\n');
    expect(renderHomePage('<a href="jav&#x09;ascript:alert(1)" onclick="x()">hi</a>')).toBe('<p><a>hi</a></p>\n');
  });

  it('drops scripts, styles and frames with their content, and escapes stray angle brackets as text', () => {
    expect(renderHomePage('before <script>alert(1)</script> after')).toBe('<p>before  after</p>\n');
    expect(renderHomePage('<style>body{display:none}</style>text')).toBe('text');
    expect(renderHomePage('a < b and c > d')).toBe('<p>a &lt; b and c &gt; d</p>\n');
  });
});

describe('when a home page uses ordinary Markdown', () => {
  it('keeps headings, emphasis, lists, tables with their alignment, code with its language, and bare links', () => {
    const html = renderHomePage('# Title\n\nSome *emphasis* and **strong** `code` ~~gone~~.\n\n1. one\n2. two\n\n| a | b |\n|:-:|--:|\n| 1 | 2 |\n\n```python\nprint(1)\n```\n\nSee https://example.org/x.\n');
    expect(html).toContain('<h1>Title</h1>');
    expect(html).toContain('<em>emphasis</em> and <strong>strong</strong> <code>code</code> <s>gone</s>');
    expect(html).toContain('<ol>\n<li>one</li>');
    expect(html).toContain('<th align="center">a</th>');
    expect(html).toContain('<td align="right">2</td>');
    expect(html).toContain('<pre><code class="language-python">print(1)\n</code></pre>');
    expect(html).toContain('See <a href="https://example.org/x" rel="noopener noreferrer" target="_blank">https://example.org/x</a>.');
    expect(htmlDangers(html)).toEqual([]);
  });

  it('opens external links in a new tab with rel="noopener noreferrer", and keeps relative links in the console', () => {
    expect(renderHomePage('[docs](https://example.org/a?b=1&c=2 "The docs")')).toBe(
      '<p><a href="https://example.org/a?b=1&amp;c=2" rel="noopener noreferrer" target="_blank" title="The docs">docs</a></p>\n',
    );
    expect(renderHomePage('[database](/workspaces/w/database)')).toBe('<p><a href="/workspaces/w/database" rel="noopener noreferrer">database</a></p>\n');
    expect(renderHomePage('<mailto:team@example.org>')).toContain('href="mailto:team@example.org"');
  });

  it('keeps https images and refuses data: ones', () => {
    expect(renderHomePage('![map](https://example.org/map.png)')).toBe('<p><img src="https://example.org/map.png" alt="map"></p>\n');
    expect(renderHomePage('![map](data:image/png;base64,AAAA)')).toBe('<p><img alt="map"></p>\n');
  });
});

describe('when a workspace starts with the default home page', () => {
  it('links to its database, pipelines, members and settings in the console', () => {
    const html = renderHomePage(defaultDescription('Malaria <b>BF</b>', 'malaria-bf'));
    expect(html).toContain('<h1>Malaria &lt;b&gt;BF&lt;/b&gt;</h1>');
    for (const route of ['database', 'pipelines', 'members', 'settings']) {
      expect(html).toContain(`href="/workspaces/malaria-bf/${route}" rel="noopener noreferrer">`);
    }
    expect(htmlDangers(html)).toEqual([]);
  });

  it('shows the name as written, whatever Markdown it looks like', () => {
    expect(renderHomePage(defaultDescription('COVID-19 *now* [x](y) C# `a` ~b~', 'c'))).toContain('<h1>COVID-19 *now* [x](y) C# `a` ~b~</h1>');
  });
});

describe('when a home page is built to stall or crash the renderer', () => {
  // Each is at most 100,000 characters, the size a page may have.
  const hostile: [string, string][] = [
    ['50,000 nested quotes', `${'>'.repeat(50_000)} x`],
    ['5,000 nested lists', `${'- '.repeat(5_000)}x`],
    ['unclosed emphasis', '_a'.repeat(50_000)],
    ['unclosed strong emphasis', '*a'.repeat(50_000)],
    ['unclosed links', '['.repeat(50_000) + 'x' + ']('.repeat(20_000)],
    ['unclosed tags', '<a '.repeat(33_000)],
    ['nested tags', '<div>'.repeat(20_000)],
    ['a wide table', `${'|a'.repeat(24_999)}\n${'|-'.repeat(24_999)}`],
  ];

  it.each(hostile)('renders %s in bounded time, without exhausting the stack', (_name, source) => {
    expect(source.length).toBeLessThanOrEqual(100_000);
    const started = performance.now();
    const html = renderHomePage(source);
    // Generous for a loaded 2-core machine (a second or two there); the parser this replaced (marked) took
    // 44 s on unclosed emphasis and overflowed the stack on nesting.
    expect(performance.now() - started).toBeLessThan(10_000);
    expect(htmlDangers(html)).toEqual([]);
  });
});
