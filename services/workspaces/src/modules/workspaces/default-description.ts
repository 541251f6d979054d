/**
 * Backslash-escapes what Markdown could read as inline syntax or HTML in a
 * heading or a sentence (CommonMark §2.4); block markers such as `-` or `1.`
 * mean nothing there, so names like "COVID-19" stay readable in the source.
 */
function escapeMarkdown(text: string): string {
  return text.replace(/[\\`*_[\]<>&!~|#]/g, '\\$&');
}

/**
 * The home page a new workspace starts with: where its parts are in the
 * console, and a skeleton the team fills in. Links are root-relative console
 * routes (`/workspaces/<slug>/database`…), so they work on any host the
 * console is served from (docs/decisions/0007).
 */
export function defaultDescription(name: string, slug: string): string {
  const title = escapeMarkdown(name);
  return `# ${title}

Welcome to the **${title}** workspace. This is its home page: Editors and Admins can change it (in Markdown) to tell everyone what the workspace is for.

## Where things are
- [Database](/workspaces/${slug}/database): the workspace's PostgreSQL database. Browse its tables; Editors and Admins also see its credentials.
- [Pipelines](/workspaces/${slug}/pipelines): the code that runs here, and its runs.
- [Members](/workspaces/${slug}/members): who belongs to the workspace, and with which role.
- [Settings](/workspaces/${slug}/settings): name, countries, Docker image and configuration (Admins).

## Purpose
What question does this team answer, and for whom?

## Data
- Where the data comes from, and how often it is refreshed
- Which tables of the database hold the cleaned data

## Processes
- The pipelines that run here, and when
- Who to contact about them
`;
}
