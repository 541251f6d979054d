import { defineStore } from 'pinia';
import { ref } from 'vue';
import { useApi } from '../api/install';
import { ApiError } from '../api/problem';
import type { Schemas } from '../api/client';
import { newIdempotencyKey } from '../idempotency';

export type Member = Schemas['Member'];
export type Invitation = Schemas['Invitation'];
export type UserCandidate = Schemas['UserCandidate'];
export type WorkspaceRole = Schemas['WorkspaceRole'];

/** Members per page: most workspaces fit on one. */
export const membersPageSize = 100;
/** Invitations shown per section (Pending, Declined). */
export const invitationsPageSize = 100;

/** The two invitation sections an Admin sees. */
export type InvitationSection = 'PENDING' | 'DECLINED';

/** Who the invitation goes to: someone found by name (an account), or an e-mail address. */
export type Invitee = { userId: string } | { email: string };

/**
 * A workspace's members (everyone reads them) and, for its Admins, the
 * invitations in two sections, Pending and Declined, with the actions on
 * each. Every action asks the API and shows its answer; the list is then
 * what the API says, not a guess.
 */
export const useMembersStore = defineStore('members', () => {
  const slug = ref<string | null>(null);
  const members = ref<Member[]>([]);
  const totalMembers = ref(0);
  const page = ref(1);
  const totalPages = ref(1);
  const pending = ref<Invitation[]>([]);
  const declined = ref<Invitation[]>([]);
  const loading = ref(false);
  const error = ref<string | null>(null);
  const candidates = ref<UserCandidate[]>([]);
  const invitationPages = ref<Record<InvitationSection, { page: number; totalPages: number; totalItems: number }>>({
    PENDING: { page: 1, totalPages: 1, totalItems: 0 },
    DECLINED: { page: 1, totalPages: 1, totalItems: 0 },
  });
  let searchSeq = 0;

  async function load(workspace: string, wanted = 1): Promise<void> {
    loading.value = true;
    error.value = null;
    if (slug.value !== workspace) {
      members.value = [];
      pending.value = [];
      declined.value = [];
    }
    slug.value = workspace;
    try {
      const { data, error: problem } = await useApi().client.GET('/workspaces/{slug}/members', { params: { path: { slug: workspace }, query: { page: wanted, perPage: membersPageSize } } });
      if (!data) throw new ApiError(problem);
      members.value = data.items;
      totalMembers.value = data.totalItems;
      page.value = data.page;
      totalPages.value = Math.max(1, data.totalPages);
    } catch (caught) {
      error.value = caught instanceof ApiError ? caught.message : new ApiError(caught).message;
    } finally {
      loading.value = false;
    }
  }

  /**
   * The Pending and Declined sections (Admins only: the API answers 403 to
   * anyone else), each paged on its own: `section` reloads one of them at
   * `wanted`, without it both start at their first page.
   */
  async function loadInvitations(workspace: string, section?: InvitationSection, wanted = 1): Promise<void> {
    const list = async (status: InvitationSection) => {
      const { data, error: problem } = await useApi().client.GET('/workspaces/{slug}/invitations', {
        params: { path: { slug: workspace }, query: { status, page: status === section ? wanted : 1, perPage: invitationsPageSize } },
      });
      if (!data) throw new ApiError(problem);
      const paging = invitationPages.value[status];
      paging.page = data.page;
      paging.totalPages = Math.max(1, data.totalPages);
      paging.totalItems = data.totalItems;
      (status === 'PENDING' ? pending : declined).value = data.items;
    };
    try {
      await Promise.all((section ? [section] : (['PENDING', 'DECLINED'] as const)).map(list));
    } catch (caught) {
      error.value = caught instanceof ApiError ? caught.message : new ApiError(caught).message;
    }
  }

  /** People of the organization to invite, by name or e-mail; a late answer to an older query is dropped. */
  async function searchCandidates(workspace: string, text: string): Promise<void> {
    const seq = ++searchSeq;
    const query = text.trim();
    if (!query) {
      candidates.value = [];
      return;
    }
    const { data } = await useApi().client.GET('/users', { params: { query: { workspace, query, limit: 10 } } });
    if (seq === searchSeq) candidates.value = data?.items ?? [];
  }

  /** Invites with a role; the new invitation opens the Pending section. Throws the API's problem in words. */
  async function invite(workspace: string, invitee: Invitee, role: WorkspaceRole, idempotencyKey = newIdempotencyKey()): Promise<Invitation> {
    const { data, error: problem } = await useApi().client.POST('/workspaces/{slug}/invitations', {
      params: { path: { slug: workspace }, header: { 'Idempotency-Key': idempotencyKey } },
      body: { ...invitee, role },
    });
    if (!data) throw new ApiError(problem);
    pending.value = [data, ...pending.value.filter((invitation) => invitation.id !== data.id)];
    candidates.value = [];
    return data;
  }

  async function changeRole(workspace: string, userId: string, role: WorkspaceRole): Promise<Member> {
    const { data, error: problem } = await useApi().client.PATCH('/workspaces/{slug}/members/{userId}', { params: { path: { slug: workspace, userId } }, body: { role } });
    if (!data) throw new ApiError(problem);
    members.value = members.value.map((member) => (member.userId === userId ? data : member));
    return data;
  }

  async function remove(workspace: string, userId: string): Promise<void> {
    const { response, error: problem } = await useApi().client.DELETE('/workspaces/{slug}/members/{userId}', { params: { path: { slug: workspace, userId } } });
    if (!response.ok) throw new ApiError(problem);
    members.value = members.value.filter((member) => member.userId !== userId);
    totalMembers.value = Math.max(0, totalMembers.value - 1);
  }

  /** The caller leaves the workspace (any member; the last Admin is refused with the reason). */
  async function leave(workspace: string): Promise<void> {
    const { response, error: problem } = await useApi().client.DELETE('/workspaces/{slug}/members/me', { params: { path: { slug: workspace } } });
    if (!response.ok) throw new ApiError(problem);
  }

  /** Sends again with a new link and expiry; a declined invitation becomes pending again. */
  async function resend(workspace: string, id: string): Promise<Invitation> {
    const { data, error: problem } = await useApi().client.POST('/workspaces/{slug}/invitations/{id}/resend', { params: { path: { slug: workspace, id } } });
    if (!data) throw new ApiError(problem);
    declined.value = declined.value.filter((invitation) => invitation.id !== id);
    pending.value = [data, ...pending.value.filter((invitation) => invitation.id !== id)];
    return data;
  }

  /** Revokes: the link stops working at once. */
  async function revoke(workspace: string, id: string): Promise<void> {
    const { response, error: problem } = await useApi().client.DELETE('/workspaces/{slug}/invitations/{id}', { params: { path: { slug: workspace, id } } });
    if (!response.ok) throw new ApiError(problem);
    pending.value = pending.value.filter((invitation) => invitation.id !== id);
    declined.value = declined.value.filter((invitation) => invitation.id !== id);
  }

  return { slug, members, totalMembers, page, totalPages, pending, declined, invitationPages, loading, error, candidates, load, loadInvitations, searchCandidates, invite, changeRole, remove, leave, resend, revoke };
});
