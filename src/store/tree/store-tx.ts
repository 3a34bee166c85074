// The write handle of one store change (Tx): what a change may do to the working tree, with
// every path it touches recorded for the commit, the bytes of each whole-file write kept for it
// (store-commit.ts takes them without reading the tree again), and the group's shared finishers.
// Writes are synchronous and not fsynced (atomic-write.ts: the commit is the durability point);
// each path is recorded in the store's journal before the working tree changes there
// (store-journal.ts), so a crash's leftovers can be put back.
import { existsSync } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { atomicWriteSync } from '../../lib/atomic-write.js';

export interface Tx {
  /** absolute path of a store path */
  abs(rel: string): string;
  write(rel: string, data: string | Buffer): Promise<void>;
  writeJson(rel: string, value: unknown): Promise<void>;
  /** renames a complete folder (on the same filesystem) to rel, which must not exist */
  placeDir(fromAbs: string, rel: string): Promise<void>;
  /** replaces the folder at rel by fromAbs at once (old one removed after) */
  replaceDir(fromAbs: string, rel: string): Promise<void>;
  remove(rel: string): Promise<void>;
  /** announces a path about to be changed by other means (a copied file): call it before */
  touched(rel: string): void;
  /** the next free n for a <n>.json file in a folder (comments, reports), without listing it each time */
  nextNumber(rel: string): number;
  /**
   * State shared by the changes that go into one commit under `key`: made by `init` for the first
   * of them, and `finish` runs once after the last, before the commit (a package's index written
   * once for a group of meta changes instead of once for each).
   */
  shared<S>(key: string, init: () => S, finish: (tx: Tx, state: S) => Promise<void>): S;
}

export interface Finisher {
  state: unknown;
  finish: (tx: Tx, state: unknown) => Promise<void>;
}

/** What a Tx needs of its store. */
export interface TxState {
  abs(rel: string): string;
  tmpDir: string;
  /** folder → the highest n of its <n>.json files in the working tree (nextNumber's cache, which
   *  the store empties whenever the tree may have changed under it) */
  numbered: Map<string, number>;
  /** names in a folder of the working tree, [] when there is none */
  names(rel: string): string[];
  /** records a path in the store's journal before it changes */
  journal(rel: string): void;
}

/** The write handle of one change; every path it writes goes into `touched`, and the bytes of
 *  each file it writes whole into `captured` (null: removed). */
export function openTx(st: TxState, touched: Set<string>, captured: Map<string, Buffer | null>, finishers: Map<string, Finisher>, onShare: () => void): Tx {
  /** rel is about to change: journaled first (st.abs refuses a path out of the store) */
  const touch = (rel: string) => {
    st.abs(rel);
    st.journal(rel);
    touched.add(rel);
  };
  // not fsynced, the commit is the durability point; synchronous, see atomic-write.ts
  const write = (rel: string, data: string | Buffer) => {
    const bytes = typeof data === 'string' ? Buffer.from(data) : data;
    touch(rel);
    atomicWriteSync(st.abs(rel), bytes);
    captured.set(rel, bytes);
    const numbered = /^(.*)\/(\d+)\.json$/.exec(rel);
    const top = numbered ? st.numbered.get(numbered[1]) : undefined;
    if (top !== undefined) st.numbered.set(numbered![1], Math.max(top, Number(numbered![2])));
  };
  /** rel is changed by other means: what was captured at or below it no longer holds */
  const uncapture = (rel: string) => {
    for (const p of captured.keys()) if (p === rel || p.startsWith(`${rel}/`)) captured.delete(p);
    st.numbered.clear();
  };
  return {
    abs: (rel) => st.abs(rel),
    write: async (rel, data) => write(rel, data),
    writeJson: async (rel, value) => write(rel, JSON.stringify(value, null, 2) + '\n'),
    placeDir: async (from, rel) => {
      uncapture(rel);
      touch(rel);
      const to = st.abs(rel);
      await mkdir(path.dirname(to), { recursive: true });
      await rename(from, to); // fails if `to` exists and is not empty: immutability
    },
    replaceDir: async (from, rel) => {
      uncapture(rel);
      touch(rel);
      const to = st.abs(rel);
      await mkdir(path.dirname(to), { recursive: true });
      const old = path.join(st.tmpDir, `old-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}`);
      if (existsSync(to)) await rename(to, old);
      await rename(from, to);
      await rm(old, { recursive: true, force: true });
    },
    remove: async (rel) => {
      uncapture(rel);
      touch(rel);
      await rm(st.abs(rel), { recursive: true, force: true });
      captured.set(rel, null);
    },
    touched: (rel) => { uncapture(rel); touch(rel); },
    nextNumber: (rel) => {
      let top = st.numbered.get(rel);
      if (top === undefined) {
        top = 0;
        for (const f of st.names(rel)) {
          const m = /^(\d+)\.json$/.exec(f);
          if (m) top = Math.max(top, Number(m[1]));
        }
        st.numbered.set(rel, top);
      }
      return top + 1;
    },
    shared: <S>(key: string, init: () => S, finish: (tx: Tx, state: S) => Promise<void>): S => {
      onShare();
      let f = finishers.get(key);
      if (!f) {
        f = { state: init(), finish: finish as Finisher['finish'] };
        finishers.set(key, f);
      }
      return f.state as S;
    },
  };
}
