// Who a request or a command acts as, once a token has been checked: a user (maybe an admin) or a
// build worker, and the token it presented. What it may do is service/authorize.ts's.
export interface Principal {
  name: string;
  admin: boolean;
  /** a build worker (never an admin): service/authorize.ts lets it through the worker's rows only */
  worker?: boolean;
  /** the token this principal presented (absent for a principal not made from a token) */
  token?: { id: string; name: string; sha256: string; expires_at?: string };
}
