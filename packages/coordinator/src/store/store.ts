import { openDatabase } from "./db.ts";
import { createEventsRepo } from "./events-repo.ts";
import { createLeaseRepo } from "./lease-repo.ts";
import { createMetaRepo } from "./meta-repo.ts";
import { createNodesRepo } from "./nodes-repo.ts";
import { createTokensRepo } from "./tokens-repo.ts";

/** The database and its repositories, opened together. */
export function openStore(stateDir: string, now: () => number) {
  const db = openDatabase(stateDir);
  return {
    db,
    tx: db.tx,
    nodes: createNodesRepo(db),
    tokens: createTokensRepo(db),
    events: createEventsRepo(db, now),
    lease: createLeaseRepo(db),
    meta: createMetaRepo(db),
    close: () => db.close(),
  };
}

export type Store = ReturnType<typeof openStore>;
