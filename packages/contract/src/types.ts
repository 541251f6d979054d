import type { components, operations } from './generated/openapi.js';
import type { operationServices } from './generated/operations.js';
import type { ServiceName } from './services.js';

export type { components, operations, paths } from './generated/openapi.js';

export type Schemas = components['schemas'];
export type OperationId = keyof operations;
export type ErrorCode = Schemas['ErrorCode'];

/** The operations a service must handle. */
export type OperationsOf<S extends ServiceName> = {
  [K in keyof typeof operationServices]: (typeof operationServices)[K] extends S ? K : never;
}[keyof typeof operationServices];

type JsonContent<T> = T extends { content: { 'application/json': infer C } } ? C : never;
/** A JSON answer's body, or a stream for an answer of another media type (a download). */
type AnswerContent<T> = T extends { content: { 'application/json': infer C } } ? C : T extends { content: object } ? NodeJS.ReadableStream : never;

/** The JSON body an operation accepts (`never` when it takes none). */
export type RequestBody<Op extends OperationId> = operations[Op] extends { requestBody?: infer B }
  ? JsonContent<NonNullable<B>>
  : never;

/** The query parameters of an operation. */
export type QueryOf<Op extends OperationId> = operations[Op]['parameters'] extends { query?: infer Q }
  ? NonNullable<Q>
  : never;

/** The path parameters of an operation. */
export type ParamsOf<Op extends OperationId> = operations[Op]['parameters'] extends { path?: infer P }
  ? NonNullable<P>
  : never;

/** The body of an operation's successful answer. */
export type SuccessBody<Op extends OperationId> = SuccessOf<Op>['body'];

/** Successful answers of an operation as `{ status, body }` pairs. */
export type SuccessOf<Op extends OperationId> = {
  [S in keyof operations[Op]['responses'] & number]: S extends 200 | 201 | 202 | 204 | 206
    ? { status: S; body: S extends 204 ? undefined : AnswerContent<operations[Op]['responses'][S]> }
    : never;
}[keyof operations[Op]['responses'] & number];
