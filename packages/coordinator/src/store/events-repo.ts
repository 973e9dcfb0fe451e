import type { EventType, MusterEvent } from "@muster/shared";
import type { Db } from "./db.ts";

// The event log. Messages are for people and never hold a secret (docs/architecture.md, invariant 5): callers build them
// from names, states and reasons only.
export function createEventsRepo(db: Db, now: () => number) {
  const insert = db.sql.prepare("INSERT INTO events (time, type, node, message) VALUES (?, ?, ?, ?)");
  const page = db.sql.prepare("SELECT * FROM events WHERE seq > ? ORDER BY seq LIMIT ?");
  const newest = db.sql.prepare("SELECT COALESCE(MAX(seq), 0) AS seq FROM events");
  const listeners = new Set<(seq: number) => void>();

  return {
    append(type: EventType, node: string | null, message: string): void {
      const seq = Number(insert.run(new Date(now()).toISOString(), type, node, message).lastInsertRowid);
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
