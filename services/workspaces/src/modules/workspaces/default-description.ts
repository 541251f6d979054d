/** The home page a new workspace starts with: a skeleton the team fills in. */
export function defaultDescription(name: string): string {
  return `# ${name}

Welcome to the **${name}** workspace. Editors and Admins can change this page to tell everyone what this workspace is for.

## Purpose
What question does this team answer, and for whom?

## Data
- Where the data comes from, and how often it is refreshed
- The workspace database holds the cleaned tables

## Processes
- The pipelines that run here, and when
- Who to contact about them

## Links
- [Hexa documentation](https://github.com/)
`;
}
