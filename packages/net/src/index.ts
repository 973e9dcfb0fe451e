export * from "./pinned.ts";
export * from "./request.ts";
export * from "./rke2-trust.ts";
