// Who is acting, as every door hands it to a use case: nobody (anonymous), a signed-in user or
// admin, a build worker, or the operator (the `morphux` commands on the machine itself, who own
// the data dir). The door says who; only service/authorize.ts says what they may do.
import type { Principal } from '../domain/principal.js';

export const OPERATOR = Object.freeze({ operator: true as const });
export type Operator = typeof OPERATOR;

/** null: anonymous */
export type Actor = Principal | Operator | null;

/** One call of a use case: who, and from where (the client's address, for throttling). */
export interface Caller {
  actor: Actor;
  address: string | null;
}

export const isOperator = (a: Actor): a is Operator => a !== null && 'operator' in a;

/** The name a change is recorded under: the user's, or "operator". */
export const actorName = (a: Principal | Operator): string => (isOperator(a) ? 'operator' : a.name);
