// @muster/lab: worlds of namespaced machines (world/) for the lab, the demo and the end-to-end tests.
export * from "./world/world.ts";
