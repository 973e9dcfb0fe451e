import { EventsQuerySchema, parseOrThrow } from "@muster/shared";
import type { RouteModule } from "./deps.ts";

// GET /v1/events?after=SEQ&limit=N&waitSeconds=W. With W > 0 and nothing newer than SEQ, the request
// parks in the domain (CoordinatorService.waitForEvents) until an event arrives, W elapses, the client
// hangs up, or the app closes, then answers the page as usual (`{"events":[],"next":SEQ}` on time-out).
// So the console and `muster events --follow` see events as they happen without polling every second.
export const eventRoutes: RouteModule = (app, { service }) => {
  // app.close() waits for in-flight requests: parked ones must end first, or shutdown takes up to W.
  const shutdown = new AbortController();
  app.addHook("preClose", async () => shutdown.abort());

  app.get("/v1/events", async (req, reply) => {
    const { after, limit, waitSeconds } = parseOrThrow(EventsQuerySchema, req.query ?? {}, "query string");
    if (waitSeconds > 0) {
      const gone = new AbortController();
      const hungUp = () => gone.abort();
      // The response's close fires when the client goes away (or once it was sent: harmless then).
      reply.raw.once("close", hungUp);
      try {
        await service.waitForEvents(
          after,
          waitSeconds * 1000,
          AbortSignal.any([gone.signal, shutdown.signal]),
        );
      } finally {
        reply.raw.off("close", hungUp);
      }
    }
    return service.listEvents(after, limit);
  });
};
