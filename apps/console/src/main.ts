import { createPinia } from 'pinia';
import { createApp } from 'vue';
import App from './App.vue';
import { createApi } from './api/client';
import { installApi } from './api/install';
import { createConsoleRouter } from './router';
import { useAuthStore } from './stores/auth';
import './styles.css';

const pinia = createPinia();
const router = createConsoleRouter();

// Same origin as the gateway: the refresh cookie (SameSite=Strict, path /api/auth) goes along by itself.
installApi(
  createApi({
    baseUrl: new URL('/api', window.location.origin).href,
    onSession: (session) => useAuthStore(pinia).sessionRenewed(session.user),
    onSessionEnded: () => {
      useAuthStore(pinia).sessionEnded();
      const here = router.currentRoute.value;
      // A full load, as on sign-out: nothing of the ended session stays in memory.
      if (!here.meta.public) window.location.assign(router.resolve({ name: 'login', query: { next: here.fullPath } }).href);
    },
  }),
);

const app = createApp(App).use(pinia).use(router);
// Mounted once the first navigation (and so the session restore) has settled: no flash of the wrong page.
void router.isReady().then(() => app.mount('#app'));
