// The folders of a data dir, in one place: DATA/{repos,store,users,packages,state,tmp,publish}.
import path from 'node:path';

export interface DataLayout {
  data: string;
  repos: string;
  store: string;
  users: string;
  packages: string;
  state: string;
  tmp: string;
  /** publishing: keys/ (0700, never in the store), artifacts/, mirrors/ (the outbox state) */
  publish: string;
}

export function dataLayout(data: string): DataLayout {
  const d = path.resolve(data);
  return {
    data: d,
    repos: path.join(d, 'repos'),
    store: path.join(d, 'store'),
    users: path.join(d, 'users'),
    packages: path.join(d, 'packages'),
    state: path.join(d, 'state'),
    tmp: path.join(d, 'tmp'),
    publish: path.join(d, 'publish'),
  };
}
