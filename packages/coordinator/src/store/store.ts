import { createClaimsRepo } from "./claims-repo.ts";
import { openDatabase } from "./db.ts";
import { createEventsRepo } from "./events-repo.ts";
import { createLeaseRepo } from "./lease-repo.ts";
import { createMetaRepo } from "./meta-repo.ts";
import { createNodesRepo } from "./nodes-repo.ts";
import { createOperationsRepo } from "./operations-repo.ts";
import { createTokensRepo } from "./tokens-repo.ts";

/** The database and its repositories, opened together. `onError`: a grouped commit failed (db.ts). */
export function openStore(stateDir: string, now: () => number, onError?: (err: unknown) => void) {
  const db = openDatabase(stateDir, onError);
  return {
    db,
    tx: db.tx,
    afterCommit: db.afterCommit,
    nodes: createNodesRepo(db),
    tokens: createTokensRepo(db),
    events: createEventsRepo(db, now),
    lease: createLeaseRepo(db),
    meta: createMetaRepo(db),
    operations: createOperationsRepo(db),
    claims: createClaimsRepo(db),
    close: () => db.close(),
  };
}

export type Store = ReturnType<typeof openStore>;
