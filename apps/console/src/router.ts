import { createRouter, createWebHistory, type Router } from 'vue-router';
import { safeNext } from './navigation';
import { useAuthStore } from './stores/auth';

declare module 'vue-router' {
  interface RouteMeta {
    /** Reachable without signing in. */
    public?: boolean;
    /** The page's title, for the document and screen readers. */
    title?: string;
  }
}

/**
 * The console's pages. Workspace pages live under `/w/:slug`; each later
 * page (members, database, pipelines, files…) is one more child route and one
 * more entry of the workspace navigation (components/WorkspaceNav.vue).
 */
export function createConsoleRouter(): Router {
  const router = createRouter({
    history: createWebHistory(),
    routes: [
      { path: '/login', name: 'login', component: () => import('./views/LoginView.vue'), meta: { public: true, title: 'Sign in' } },
      { path: '/', name: 'start', component: () => import('./views/StartView.vue'), meta: { title: 'Workspaces' } },
      {
        path: '/w/:slug',
        component: () => import('./views/WorkspaceLayout.vue'),
        props: true,
        children: [
          { path: '', name: 'workspace-home', component: () => import('./views/WorkspaceHomeView.vue'), meta: { title: 'Home' } },
          { path: 'members', name: 'workspace-members', component: () => import('./views/WorkspaceMembersView.vue'), meta: { title: 'Members' } },
          { path: 'database', name: 'workspace-database', component: () => import('./views/WorkspaceDatabaseView.vue'), meta: { title: 'Database' } },
          { path: 'pipelines', name: 'workspace-pipelines', component: () => import('./views/WorkspacePipelinesView.vue'), meta: { title: 'Pipelines' } },
          { path: 'runs', name: 'workspace-runs', component: () => import('./views/WorkspaceRunsView.vue'), meta: { title: 'Runs' } },
          { path: 'runs/:id', name: 'workspace-run', component: () => import('./views/WorkspaceRunView.vue'), meta: { title: 'Run' } },
          { path: 'files', name: 'workspace-files', component: () => import('./views/WorkspaceFilesView.vue'), meta: { title: 'Files' } },
          { path: 'connections', name: 'workspace-connections', component: () => import('./views/WorkspaceConnectionsView.vue'), meta: { title: 'Connections' } },
          { path: 'settings', name: 'workspace-settings', component: () => import('./views/WorkspaceSettingsView.vue'), meta: { title: 'Settings' } },
          { path: 'audit', name: 'workspace-audit', component: () => import('./views/WorkspaceAuditView.vue'), meta: { title: 'Audit trail' } },
        ],
      },
      // The exact link of the invitation e-mail (services/membership invitations-fns.ts): open to everyone.
      { path: '/invitations/accept', name: 'invitation', component: () => import('./views/InvitationView.vue'), meta: { public: true, title: 'Invitation' } },
      { path: '/archived', name: 'archived', component: () => import('./views/ArchivedView.vue'), meta: { title: 'Archived workspaces' } },
      // The API's paths for a workspace's pages (the default home page links to them) lead to the console's.
      { path: '/workspaces/:slug/:page(.*)*', redirect: (to) => `/w/${String(to.params.slug)}${to.params.page && to.params.page.length ? `/${([] as string[]).concat(to.params.page).join('/')}` : ''}` },
      { path: '/account/tokens', name: 'tokens', component: () => import('./views/TokensView.vue'), meta: { title: 'Personal access tokens' } },
      { path: '/:pathMatch(.*)*', name: 'not-found', component: () => import('./views/NotFoundView.vue'), meta: { title: 'Not found' } },
    ],
  });

  router.beforeEach(async (to) => {
    const auth = useAuthStore();
    // On a fresh load the refresh cookie may still hold a session: try it once before deciding.
    await auth.restore();
    if (to.meta.public) return to.name === 'login' && auth.signedIn ? safeNext(to.query) : true;
    if (!auth.signedIn) return { name: 'login', query: to.fullPath === '/' ? {} : { next: to.fullPath } };
    return true;
  });
  router.afterEach((to) => {
    document.title = to.meta.title ? `${to.meta.title} · Hexa` : 'Hexa';
  });
  return router;
}
