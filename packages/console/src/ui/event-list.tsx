import type { MusterEvent } from "@muster/shared";
import { EVENTS_SHOWN, eventTone } from "../model/events.ts";
import { formatClock } from "../model/format.ts";

export function EventList(props: { events: MusterEvent[] }) {
  const now = Date.now();
  return (
    <section class="card events" aria-labelledby="events-title">
      <h2 id="events-title">Events</h2>
      <p class="muted small">Newest first; the latest {EVENTS_SHOWN} are kept here.</p>
      {props.events.length === 0 ? (
        <p class="muted">No events yet.</p>
      ) : (
        <ol class="event-list">
          {props.events.map((e) => (
            <li key={e.seq} class={`event tone-line-${eventTone(e.type)}`}>
              <time dateTime={e.time}>{formatClock(e.time, now)}</time>
              <code class="event-type">{e.type}</code>
              <span class="event-message">{e.message}</span>
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}
