// @muster/coordinator: the domain (createCoordinator), its HTTP surface (buildApp) and the server
// process (serve). Transports reach the domain only through CoordinatorService.
export { type Coordinator, type CoordinatorOptions, createCoordinator } from "./domain/coordinator.ts";
export type { RegistrationProbe, RegistrationProbeFactory } from "./domain/registration/probe.ts";
export type { AgentLink, CoordinatorService } from "./domain/service.ts";
export { type RunningCoordinator, type ServeOptions, serve } from "./server/serve.ts";
export { type BuildAppOptions, buildApp, type MusterApp } from "./transport/http/app.ts";
