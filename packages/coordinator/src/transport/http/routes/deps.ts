import { parseOrThrow } from "@muster/shared";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { z } from "zod";
import type { CoordinatorService } from "../../../domain/service.ts";

/** What route modules need; passed explicitly rather than decorated, so types stay plain. */
export interface RouteDeps {
  service: CoordinatorService;
  /** https://host:port the coordinator is reached at, without a trailing slash. */
  publicUrl: () => string;
  pin: string;
}

export type RouteModule = (app: FastifyInstance, deps: RouteDeps) => void;

const NoQuery = z.strictObject({});
const NoBody = z.union([z.undefined(), z.strictObject({})]);

/** Endpoints that take no query string still refuse unknown parameters, naming them. */
export function noQuery(req: FastifyRequest): void {
  parseOrThrow(NoQuery, req.query ?? {}, "query string");
}

/** Endpoints that take no body accept none or `{}`; anything else is named as unexpected. */
export function noBody(req: FastifyRequest): void {
  parseOrThrow(NoBody, req.body, "request body");
}
