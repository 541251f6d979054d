import { ApiError } from './problem';

/** The words for whatever a store threw: the API's problem, or a network failure. */
export function messageOf(caught: unknown): string {
  return caught instanceof ApiError ? caught.message : new ApiError(caught).message;
}
