import { createTestingPinia } from '@pinia/testing';
import type { Pinia } from 'pinia';

/**
 * A testing Pinia whose actions run for real (stubActions: false). Jest's
 * `jest.fn` is not a global under native ES modules, so the spy passes
 * calls straight through: these tests check state, not calls.
 */
export function testingPinia(): Pinia {
  return createTestingPinia({ stubActions: false, createSpy: (fn?: (...args: unknown[]) => unknown) => fn ?? (() => undefined) });
}
