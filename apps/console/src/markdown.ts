import DOMPurify from 'dompurify';
import { marked } from 'marked';

/**
 * Markdown to HTML that is safe to put in the page: marked renders, then
 * DOMPurify removes scripts, event handlers, `javascript:` links and
 * anything else that could run. Never render Markdown without this.
 * (When the workspaces service returns its own sanitised `descriptionHtml`,
 * the home page shows that, still passed through DOMPurify.)
 */
export function renderMarkdown(markdown: string): string {
  const html = marked.parse(markdown, { async: false, gfm: true });
  return sanitizeHtml(html);
}

export function sanitizeHtml(html: string): string {
  return DOMPurify.sanitize(html, { USE_PROFILES: { html: true }, FORBID_TAGS: ['style', 'form', 'input', 'button'], FORBID_ATTR: ['style'] });
}

// Links written by members open in a new tab without handing it this window.
DOMPurify.addHook('afterSanitizeAttributes', (node) => {
  if (node.tagName === 'A' && node.getAttribute('href')) {
    node.setAttribute('target', '_blank');
    node.setAttribute('rel', 'noopener noreferrer');
  }
});
