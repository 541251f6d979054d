import { decodeHTMLAttribute } from 'entities';
import MarkdownIt from 'markdown-it';
import { FilterXSS } from 'xss';

/**
 * The home page's HTML: Markdown rendered by markdown-it (CommonMark with
 * tables, strikethrough and bare links), then sanitised by js-xss against an
 * allow-list of tags and attributes. Raw HTML in the Markdown is allowed
 * through the same allow-list, so what reaches a browser is only ever what
 * the list below names (docs/decisions/0007). markdown-it runs in linear time
 * on hostile input and caps nesting (`maxNesting`), so no page can stall the
 * service or exhaust its stack.
 */
const markdown = new MarkdownIt('default', { html: true, linkify: true, typographer: false });

/**
 * The version of the rendering (parser and sanitiser rules). Pages are
 * rendered when they are written and stored with this number; one stored
 * under another number is rendered again when read. Bump it with any change
 * of the rules, so every page follows at once.
 */
export const homePageRendererVersion = 1;

/** Every tag a home page may contain, with the attributes it may keep (values checked in `attribute`). */
const allowedTags: Record<string, string[]> = {
  h1: [], h2: [], h3: [], h4: [], h5: [], h6: [],
  p: [], br: [], hr: [], blockquote: [], pre: [], div: [], span: [],
  em: [], strong: [], b: [], i: [], u: [], s: [], del: [], ins: [], mark: [], small: [], sub: [], sup: [], kbd: [], abbr: ['title'],
  code: ['class'],
  ul: [], ol: ['start'], li: [], dl: [], dt: [], dd: [],
  // markdown-it writes a column's alignment as a style: it becomes `align`, and no other style survives.
  table: [], thead: [], tbody: [], tfoot: [], tr: [], th: ['align', 'style'], td: ['align', 'style'],
  details: [], summary: [],
  a: ['href', 'title'],
  img: ['src', 'alt', 'title'],
};

/** Tags removed with everything inside them: their content is code or chrome, never text for the reader. */
const droppedWithContent = ['script', 'style', 'iframe', 'frame', 'frameset', 'object', 'embed', 'applet', 'svg', 'math', 'template', 'noscript', 'noembed', 'noframes', 'xmp', 'textarea', 'select', 'title', 'head'];

const linkSchemes = new Set(['http', 'https', 'mailto', 'tel']);
const imageSchemes = new Set(['http', 'https']);

/** Escapes a value for a double-quoted attribute: everything a browser would decode or end the value on. */
function escapeAttribute(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * A URL as a browser's URL parser sees it (entities decoded, leading and
 * trailing controls and spaces trimmed, tabs and newlines removed anywhere),
 * or undefined when its scheme is not one of `schemes`. A URL without a
 * scheme is relative, hence safe. Checking the very string that is written
 * back closes the entity and whitespace tricks (`jav&#x09;ascript:`).
 */
export function safeUrl(raw: string, schemes: ReadonlySet<string>): string | undefined {
  const url = decodeHTMLAttribute(raw).replace(/^[\u0000-\u0020]+|[\u0000-\u0020]+$/g, '').replace(/[\t\n\r]/g, '');
  if (/[\u0000-\u001f\u007f]/.test(url)) return undefined;
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(url)?.[1];
  if (scheme !== undefined && !schemes.has(scheme.toLowerCase())) return undefined;
  return url;
}

/** A link that leaves the platform (absolute or protocol-relative) opens in a new tab. */
function isExternal(url: string): boolean {
  return /^(?:[A-Za-z][A-Za-z0-9+.-]*:|\/\/|\\\\)/.test(url);
}

/** The kept form of one attribute (`name="value"`), or '' to drop it. */
function attribute(tag: string, name: string, value: string): string {
  if (!allowedTags[tag]?.includes(name)) return '';
  const text = decodeHTMLAttribute(value);
  switch (name) {
    case 'href': {
      const url = safeUrl(value, linkSchemes);
      if (url === undefined) return '';
      // Every link: the opened page gets no handle on this one (window.opener) and no Referer.
      return `href="${escapeAttribute(url)}" rel="noopener noreferrer"${isExternal(url) ? ' target="_blank"' : ''}`;
    }
    case 'src': {
      const url = safeUrl(value, imageSchemes);
      return url === undefined ? '' : `src="${escapeAttribute(url)}"`;
    }
    case 'class':
      return /^language-[A-Za-z0-9_+#-]{1,40}$/.test(text) ? `class="${text}"` : '';
    case 'style': {
      const alignment = /^text-align:\s*(left|center|right);?$/.exec(text.trim())?.[1];
      return alignment ? `align="${alignment}"` : '';
    }
    case 'align':
      return /^(left|center|right)$/.test(text) ? `align="${text}"` : '';
    case 'start':
      return /^\d{1,9}$/.test(text) ? `start="${text}"` : '';
    default:
      return `${name}="${escapeAttribute(text)}"`;
  }
}

const sanitizer = new FilterXSS({
  whiteList: allowedTags,
  stripIgnoreTag: true,
  stripIgnoreTagBody: droppedWithContent,
  allowCommentTag: false,
  css: false,
  onTagAttr: (tag: string, name: string, value: string) => attribute(tag, name, value),
});

/**
 * Sanitises HTML: only the allowed tags and attributes survive, links and
 * images only with safe schemes, every link with `rel="noopener noreferrer"`.
 *
 * @example
 * sanitizeHtml('<a href="javascript:alert(1)" onclick="x()">hi</a>') // '<a>hi</a>'
 */
export function sanitizeHtml(html: string): string {
  return sanitizer.process(html);
}

/**
 * Renders a home page's Markdown to sanitised HTML.
 *
 * @example
 * renderHomePage('[docs](https://example.org)') // '<p><a href="https://example.org" rel="noopener noreferrer" target="_blank">docs</a></p>\n'
 */
export function renderHomePage(source: string): string {
  return sanitizeHtml(markdown.render(source));
}
