export * from './document.js';
export * from './jobs.js';
export * from './permissions.js';
export * from './services.js';
export * from './types.js';
export { operationServices } from './generated/operations.js';
