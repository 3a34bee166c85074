// The body limits of the requests that are not a use case of their own (a use case's limit is its
// `bodyLimit`, service/perform.ts): the sign-in and sign-out forms, the push hooks' requests, the
// worker protocol. Doors read every body through server/read-body.ts with one of these.
import type { Config } from '../config/config-schema.js';

export function requestLimits(config: Config) {
  return {
    /** user name, token, next, form token; or a sign-out's CSRF token */
    signInForm: 4 * 1024,
    /** up to 10,000 ref updates of a push */
    hookRequest: 4 * 1024 * 1024,
    /** a worker's claim or heartbeat: a job reference */
    workerJob: 64 * 1024,
    /** one chunk of a running build's log */
    workerLogChunk: 1024 * 1024,
    /** a finished build: the result, its log and its binaries */
    workerFinish: config.server.body_limit_bytes + config.builder.log_max_bytes,
  };
}
