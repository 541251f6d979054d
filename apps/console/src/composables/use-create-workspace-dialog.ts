import { ref } from 'vue';

const open = ref(false);

/**
 * One "Create workspace" dialog for the whole console, opened from the
 * workspace selector or from the empty start page.
 */
export function useCreateWorkspaceDialog() {
  return {
    open,
    show: () => {
      open.value = true;
    },
    hide: () => {
      open.value = false;
    },
  };
}
