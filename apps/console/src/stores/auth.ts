import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import { useApi } from '../api/install';
import { ApiError } from '../api/problem';
import type { User } from '../api/client';

/**
 * Who is signed in. The access token lives in the API's session keeper
 * (memory only); this store holds the user and the state of the session.
 * On a fresh page load `restore()` asks for a new access token with the
 * refresh cookie: a signed-in person stays signed in across reloads without
 * the token ever touching storage.
 */
export const useAuthStore = defineStore('auth', () => {
  const user = ref<User | null>(null);
  const loading = ref(false);
  const error = ref<string | null>(null);
  /** Settles once the first restore has been tried: the router waits for it before deciding. */
  let restored: Promise<void> | null = null;

  const signedIn = computed(() => user.value !== null);
  /** Organization Owners and Admins act as Admin everywhere (the API decides; this only shapes the UI). */
  const organizationAdmin = computed(() => user.value?.organizationRole === 'OWNER' || user.value?.organizationRole === 'ADMIN');

  function restore(): Promise<void> {
    restored ??= (async () => {
      const session = await useApi().session.refresh();
      user.value = session?.user ?? null;
    })();
    return restored;
  }

  /** True when signed in; otherwise `error` says why in words. */
  async function signIn(email: string, password: string): Promise<boolean> {
    loading.value = true;
    error.value = null;
    try {
      const { data, error: problem } = await useApi().client.POST('/auth/login', { body: { email, password } });
      if (!data) throw new ApiError(problem);
      useApi().session.begin(data);
      user.value = data.user;
      restored = Promise.resolve();
      return true;
    } catch (caught) {
      error.value = caught instanceof ApiError ? caught.message : new ApiError(caught).message;
      return false;
    } finally {
      loading.value = false;
    }
  }

  async function signOut(): Promise<void> {
    const { client, session } = useApi();
    try {
      // Revokes the refresh token's family and clears the cookie; the token in memory is dropped whatever happens.
      await client.POST('/auth/logout', {});
    } finally {
      session.end();
      user.value = null;
    }
  }

  /** The session could not be renewed (refresh refused): forget the user so the router sends them to sign in. */
  function sessionEnded(): void {
    useApi().session.end();
    user.value = null;
  }

  /** A session begun elsewhere (an account created from an invitation link). */
  function signedInAs(next: User): void {
    user.value = next;
    restored = Promise.resolve();
  }

  /** A renewed session may carry a changed name or organization role. */
  function sessionRenewed(next: User): void {
    user.value = next;
  }

  return { user, loading, error, signedIn, organizationAdmin, restore, signIn, signOut, sessionEnded, sessionRenewed, signedInAs };
});
