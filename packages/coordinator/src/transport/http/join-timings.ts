import type { EventsPage, MusterEvent, NodeView } from "@muster/shared";

// Join timings for /metrics, read from the event log rather than hooked into the domain: the log
// already records every enrolment (`node.enrolled`), plan release (`node.join.started`) and result
// (`node.join.succeeded` / `node.join.failed`) with its time, it survives a restart, and reading it
// incrementally (only events after the last one seen) costs a scrape next to nothing.

export interface JoinSample {
  role: "server" | "agent" | "unknown";
  seconds: number;
}
export interface ReleaseSample extends JoinSample {
  result: "succeeded" | "failed";
}

export interface JoinTimingSink {
  /** Enrolment to joined: the whole bootstrap as an operator sees it, queueing included. */
  joined(sample: JoinSample): void;
  /** Plan release to its result: the join itself. */
  released(sample: ReleaseSample): void;
}

const PAGE = 1000;

export function createJoinTimings(
  source: { listEvents(after: number, limit: number): EventsPage; listNodes(): NodeView[] },
  sink: JoinTimingSink,
) {
  let after = 0;
  const enrolledAt = new Map<string, number>();
  const releasedAt = new Map<string, number>();

  function apply(e: MusterEvent, roles: Map<string, "server" | "agent">): void {
    if (!e.node) return;
    const at = Date.parse(e.time);
    const role = roles.get(e.node) ?? "unknown";
    switch (e.type) {
      case "node.enrolled":
        enrolledAt.set(e.node, at);
        break;
      case "node.join.started":
        releasedAt.set(e.node, at);
        break;
      case "node.join.succeeded":
      case "node.join.failed": {
        const released = releasedAt.get(e.node);
        if (released !== undefined) {
          const result = e.type === "node.join.succeeded" ? "succeeded" : "failed";
          sink.released({ role, result, seconds: (at - released) / 1000 });
          releasedAt.delete(e.node);
        }
        const enrolled = enrolledAt.get(e.node);
        if (e.type === "node.join.succeeded" && enrolled !== undefined) {
          sink.joined({ role, seconds: (at - enrolled) / 1000 });
          enrolledAt.delete(e.node);
        }
        break;
      }
    }
  }

  return {
    /** Reads the events appended since the last call and feeds their timings to the sink. */
    catchUp(): void {
      let roles: Map<string, "server" | "agent"> | undefined;
      for (;;) {
        const page = source.listEvents(after, PAGE);
        if (page.events.length === 0) return;
        roles ??= new Map(source.listNodes().map((n) => [n.name, n.role]));
        for (const e of page.events) apply(e, roles);
        after = page.next;
        if (page.events.length < PAGE) return;
      }
    },
  };
}
