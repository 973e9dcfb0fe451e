// Schema migrations, applied in order inside one transaction each. Append new entries; never edit
// an applied one (a started coordinator records the version it reached in schema_version).
export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
  );

  CREATE TABLE nodes (
    id                INTEGER PRIMARY KEY AUTOINCREMENT, -- enrolment order, the planner's tie-break
    name              TEXT NOT NULL UNIQUE,
    machine_id        TEXT NOT NULL UNIQUE,
    role              TEXT NOT NULL CHECK (role IN ('server', 'agent')),
    init              INTEGER NOT NULL DEFAULT 0 CHECK (init IN (0, 1)),
    state             TEXT NOT NULL,
    address           TEXT NOT NULL,
    facts             TEXT NOT NULL,
    checks            TEXT,
    checks_request_id TEXT,
    message           TEXT,
    phase             TEXT,
    credential_hash   TEXT NOT NULL,
    plan_checksum     TEXT,
    plan              TEXT, -- the sealed plan with config.token removed (re-inserted from the vault)
    released_at       INTEGER,
    state_since       INTEGER NOT NULL,
    enrolled_at       INTEGER NOT NULL,
    joined_at         INTEGER,
    connected         INTEGER NOT NULL DEFAULT 0,
    last_seen         INTEGER,
    attempts          INTEGER NOT NULL DEFAULT 0
  );
  -- At most one init server, enforced by the store as well as the planner.
  CREATE UNIQUE INDEX nodes_one_init ON nodes (init) WHERE init = 1;

  CREATE TABLE join_tokens (
    id          TEXT PRIMARY KEY,
    secret_hash TEXT NOT NULL,
    role        TEXT NOT NULL CHECK (role IN ('server', 'agent')),
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    revoked_at  INTEGER,
    uses        INTEGER NOT NULL DEFAULT 0
  );

  CREATE TABLE events (
    seq     INTEGER PRIMARY KEY AUTOINCREMENT,
    time    TEXT NOT NULL,
    type    TEXT NOT NULL,
    node    TEXT,
    message TEXT NOT NULL
  );

  -- The server-join lease: a single row (id = 1) so a second concurrent lease is a constraint
  -- violation, not just a planner bug.
  CREATE TABLE lease (
    id    INTEGER PRIMARY KEY CHECK (id = 1),
    node  TEXT NOT NULL REFERENCES nodes (name) ON UPDATE CASCADE,
    since INTEGER NOT NULL,
    kind  TEXT NOT NULL
  );
  `,
  // 2: long-running operations (removal, upgrade, backup, restore) and one control-plane lease for
  // server joins and operations alike (docs/architecture.md, invariants 2 and 9).
  `
  CREATE TABLE operations (
    id            TEXT PRIMARY KEY,
    seq           INTEGER NOT NULL UNIQUE, -- creation order
    type          TEXT NOT NULL,
    node          TEXT,
    state         TEXT NOT NULL CHECK (state IN ('pending', 'running', 'succeeded', 'failed')),
    control_plane INTEGER NOT NULL CHECK (control_plane IN (0, 1)),
    params        TEXT NOT NULL, -- JSON, never a secret (secrets stay in the vault)
    steps         TEXT NOT NULL, -- JSON array of step records
    step          INTEGER NOT NULL DEFAULT 0, -- index of the step to run next
    reason        TEXT,
    requested_by  TEXT,
    created_at    INTEGER NOT NULL,
    started_at    INTEGER,
    ended_at      INTEGER
  );
  CREATE INDEX operations_open ON operations (state) WHERE state IN ('pending', 'running');

  CREATE TABLE lease_v2 (
    id           INTEGER PRIMARY KEY CHECK (id = 1),
    kind         TEXT NOT NULL CHECK (kind IN ('server-join', 'operation')),
    node         TEXT REFERENCES nodes (name) ON UPDATE CASCADE,
    operation_id TEXT REFERENCES operations (id),
    since        INTEGER NOT NULL,
    CHECK ((kind = 'server-join' AND node IS NOT NULL AND operation_id IS NULL)
        OR (kind = 'operation' AND operation_id IS NOT NULL))
  );
  INSERT INTO lease_v2 (id, kind, node, since) SELECT id, 'server-join', node, since FROM lease;
  DROP TABLE lease;
  ALTER TABLE lease_v2 RENAME TO lease;
  `,
  // 3: consent to re-enrol (docs/architecture.md#invariant-11): a machine presenting a known machine id
  // without the node's credential waits here until the operator approves it; join tokens gain a
  // use limit, their last use, and "replace" (minted to let a known identity move).
  `
  CREATE TABLE node_claims (
    node            TEXT PRIMARY KEY REFERENCES nodes (name) ON UPDATE CASCADE ON DELETE CASCADE,
    machine_id      TEXT NOT NULL,
    credential_hash TEXT NOT NULL, -- the newcomer's own credential, hashed; it becomes the node's on takeover
    address         TEXT NOT NULL,
    facts           TEXT NOT NULL,
    join_token_id   TEXT NOT NULL,
    remote          TEXT NOT NULL,
    requested_at    INTEGER NOT NULL,
    approved_at     INTEGER
  );
  ALTER TABLE join_tokens ADD COLUMN max_uses INTEGER;
  ALTER TABLE join_tokens ADD COLUMN last_used_at INTEGER;
  ALTER TABLE join_tokens ADD COLUMN replace_identity INTEGER NOT NULL DEFAULT 0 CHECK (replace_identity IN (0, 1));
  `,
  // 4: events are bounded per node and type (events-repo.ts): the ring trims by this index.
  `
  CREATE INDEX events_node_type ON events (node, type, seq);
  `,
];
