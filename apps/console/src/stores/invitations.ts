import { defineStore } from 'pinia';
import { ref } from 'vue';
import { useApi } from '../api/install';
import { ApiError } from '../api/problem';
import type { Schemas } from '../api/client';
import { useAuthStore } from './auth';
import { useWorkspacesStore } from './workspaces';

export type ReceivedInvitation = Schemas['ReceivedInvitation'];
export type InvitationPreview = Schemas['InvitationPreview'];

/**
 * Invitations from the invited person's side: those waiting for me
 * (`GET /me/invitations`, accepted or declined from the home screen), and
 * an invitation link (`/invitations/accept?token=…`): previewed without
 * using it, then accepted by a deliberate action — signed in, or by
 * creating an account with the link's token.
 */
export const useInvitationsStore = defineStore('invitations', () => {
  const mine = ref<ReceivedInvitation[]>([]);
  const error = ref<string | null>(null);

  async function loadMine(): Promise<void> {
    const { data, error: problem } = await useApi().client.GET('/me/invitations');
    if (!data) {
      error.value = new ApiError(problem).message;
      return;
    }
    error.value = null;
    mine.value = data.items;
  }

  /** Accepts: the role is granted at once, and the workspace joins the selector. */
  async function accept(id: string): Promise<ReceivedInvitation> {
    const { data, error: problem } = await useApi().client.POST('/invitations/{id}/accept', { params: { path: { id } } });
    if (!data) throw new ApiError(problem);
    mine.value = mine.value.filter((invitation) => invitation.id !== id);
    await useWorkspacesStore().search('');
    return data;
  }

  /** Declines: the workspace's Admins see it declined. */
  async function decline(id: string): Promise<ReceivedInvitation> {
    const { data, error: problem } = await useApi().client.POST('/invitations/{id}/decline', { params: { path: { id } } });
    if (!data) throw new ApiError(problem);
    mine.value = mine.value.filter((invitation) => invitation.id !== id);
    return data;
  }

  /** What a link is for; reading it changes nothing (a mail scanner that opens it accepts nothing). */
  async function preview(token: string): Promise<InvitationPreview> {
    const { data, error: problem } = await useApi().client.GET('/invitations/preview', { params: { query: { token } } });
    if (!data) throw new ApiError(problem);
    return data;
  }

  /**
   * Creates the account the invitation names, which accepts the invitation
   * and signs the new person in (the refresh token goes to the cookie).
   */
  async function register(token: string, name: string, password: string): Promise<void> {
    const api = useApi();
    const { data, error: problem } = await api.client.POST('/auth/register', { body: { token, name, password } });
    if (!data) throw new ApiError(problem);
    api.session.begin(data);
    useAuthStore().signedInAs(data.user);
  }

  return { mine, error, loadMine, accept, decline, preview, register };
});
