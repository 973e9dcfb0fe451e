import type { CheckContext, CheckRequest } from "@muster/agent/checks/types";
import type { NodeFacts } from "@muster/shared";
import { type FakeHostOptions, fakeHost, sampleFacts } from "./fakes.ts";

export function checkContext(
  root: string,
  o: { request?: Partial<CheckRequest>; facts?: Partial<NodeFacts>; host?: FakeHostOptions } = {},
): CheckContext {
  const facts = sampleFacts(o.facts);
  return {
    request: {
      role: "server",
      minimums: { cpus: 2, memoryGiB: 4, diskGiB: 50 },
      ignore: [],
      peers: [],
      vipInUse: false,
      ...o.request,
    },
    facts,
    host: fakeHost(root, { facts, ...o.host }),
  };
}
