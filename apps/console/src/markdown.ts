import DOMPurify from 'dompurify';
import MarkdownIt from 'markdown-it';
import { isExternalLink } from './navigation';

/**
 * Markdown to HTML that is safe to put in the page, rendered the way the
 * workspaces service renders home pages (markdown-it: CommonMark with tables,
 * strikethrough and bare links; raw HTML allowed in, then filtered), so the
 * editor's preview shows what the saved page will look like. DOMPurify then
 * removes scripts, event handlers, `javascript:` links and anything else
 * that could run. Never render Markdown without it. The saved page itself is
 * shown from the service's own sanitised `descriptionHtml`, still passed
 * through DOMPurify here (one way to render, two walls).
 */
const markdown = new MarkdownIt('default', { html: true, linkify: true, typographer: false });

export function renderMarkdown(source: string): string {
  return sanitizeHtml(markdown.render(source));
}

export function sanitizeHtml(html: string): string {
  return DOMPurify.sanitize(html, { USE_PROFILES: { html: true }, FORBID_TAGS: ['style', 'form', 'input', 'button'], FORBID_ATTR: ['style'] });
}

// Links written by members never hand the opened page this window; those leaving the console open in a new tab
// (links within it, such as the default page's, stay in this tab: MarkdownView routes them).
DOMPurify.addHook('afterSanitizeAttributes', (node) => {
  const href = node.tagName === 'A' ? node.getAttribute('href') : null;
  if (href === null) return;
  node.setAttribute('rel', 'noopener noreferrer');
  if (isExternalLink(href)) node.setAttribute('target', '_blank');
  else node.removeAttribute('target');
});
