import type { EventType, MusterEvent } from "@muster/shared";
import type { Db } from "./db.ts";

// The event log. Messages are for people and never hold a secret (docs/architecture.md, invariant 5): callers build them
// from names, states and reasons only.
export function createEventsRepo(db: Db, now: () => number) {
  const insert = db.sql.prepare("INSERT INTO events (time, type, node, message) VALUES (?, ?, ?, ?)");
  const page = db.sql.prepare("SELECT * FROM events WHERE seq > ? ORDER BY seq LIMIT ?");

  return {
    append(type: EventType, node: string | null, message: string): void {
      insert.run(new Date(now()).toISOString(), type, node, message);
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
  };
}

export type EventsRepo = ReturnType<typeof createEventsRepo>;
