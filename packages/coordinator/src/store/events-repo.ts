import type { EventType, MusterEvent } from "@muster/shared";
import type { Db } from "./db.ts";

// The event log. Messages are for people and never hold a secret (docs/architecture.md, invariant 5): callers build them
// from names, states and reasons only.
//
// Bounded per node and per type: each (node, type) keeps its newest MAX_EVENTS_PER_NODE_TYPE rows,
// a ring, so one node repeating one event (10,000 `install.prepared`) cannot fill the disk nor push
// out that node's other events (its state changes are other types and keep their own ring). Events
// without a node (cluster-wide, audit) are not trimmed here.

/** Rows kept per (node, type); older ones are deleted as new ones arrive. */
export const MAX_EVENTS_PER_NODE_TYPE = 200;

export function createEventsRepo(db: Db, now: () => number, perNodeType = MAX_EVENTS_PER_NODE_TYPE) {
  const insert = db.sql.prepare("INSERT INTO events (time, type, node, message) VALUES (?, ?, ?, ?)");
  // The seq of the oldest row to keep; everything older of this node and type goes.
  const trim = db.sql.prepare(
    `DELETE FROM events WHERE node = ? AND type = ? AND seq < (
       SELECT seq FROM events WHERE node = ? AND type = ? ORDER BY seq DESC LIMIT 1 OFFSET ?)`,
  );
  const page = db.sql.prepare("SELECT * FROM events WHERE seq > ? ORDER BY seq LIMIT ?");
  const newest = db.sql.prepare("SELECT COALESCE(MAX(seq), 0) AS seq FROM events");
  const listeners = new Set<(seq: number) => void>();

  return {
    append(type: EventType, node: string | null, message: string): void {
      const seq = Number(insert.run(new Date(now()).toISOString(), type, node, message).lastInsertRowid);
      if (node !== null) trim.run(node, type, node, type, perNodeType - 1);
      // Told only once the row is committed (a rolled-back event never happened), so a listener that
      // reads the log then finds it.
      if (listeners.size === 0) return;
      db.afterCommit(() => {
        for (const listener of listeners) listener(seq);
      });
    },
    after(after: number, limit: number): MusterEvent[] {
      return (page.all(after, limit) as Record<string, string | number | null>[]).map((r) => ({
        seq: r["seq"] as number,
        time: r["time"] as string,
        type: r["type"] as EventType,
        ...(r["node"] === null ? {} : { node: r["node"] as string }),
        message: r["message"] as string,
      }));
    },
    /** The newest event's seq, 0 for an empty log. */
    latestSeq(): number {
      return Number((newest.get() as { seq: number | bigint }).seq);
    },
    /** Calls `listener` with each appended event's seq once it is committed; returns an unsubscribe. */
    onAppend(listener: (seq: number) => void): () => void {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

export type EventsRepo = ReturnType<typeof createEventsRepo>;
