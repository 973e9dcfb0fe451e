import { createChanges } from "@muster/coordinator/domain/changes";
import t from "tap";

t.test("every subscriber hears every notification, in order of subscription", async (t) => {
  const changes = createChanges();
  const heard: string[] = [];
  changes.notify(); // nobody listening yet: nothing to do
  changes.subscribe(() => heard.push("a"));
  changes.subscribe(() => heard.push("b"));
  changes.notify();
  const { notify } = changes;
  notify(); // usable as a bare callback (the registration monitor's onChange)
  t.same(heard, ["a", "b", "a", "b"]);
});
