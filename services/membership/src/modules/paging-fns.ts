/** The contract's paging parameters with their defaults (the validator fills them in; the generated types cannot know). */
export function paging(query: { page?: number; perPage?: number }): { page: number; perPage: number } {
  return { page: query.page ?? 1, perPage: query.perPage ?? 50 };
}

/** One page of a list as the contract answers it, with the totals. */
export function pageOf<T>(items: T[], total: number, paged: { page: number; perPage: number }) {
  return { items, page: paged.page, perPage: paged.perPage, totalItems: total, totalPages: Math.ceil(total / paged.perPage) };
}
