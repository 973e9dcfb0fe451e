import { AgentFrameSchema, CoordinatorFrameSchema } from "@muster/shared";
import t from "tap";

t.test("frames are strict discriminated unions", async (t) => {
  t.ok(AgentFrameSchema.safeParse({ type: "heartbeat" }).success);
  t.notOk(AgentFrameSchema.safeParse({ type: "heartbeat", extra: 1 }).success, "extra fields refused");
  t.notOk(AgentFrameSchema.safeParse({ type: "nope" }).success, "unknown type refused");
  t.notOk(AgentFrameSchema.safeParse({ type: "enrol", joinToken: "bad" }).success);
  t.notOk(CoordinatorFrameSchema.safeParse({ type: "heartbeat" }).success, "directions are separate");
  t.ok(CoordinatorFrameSchema.safeParse({ type: "error", code: "X", message: "y" }).success);
});
