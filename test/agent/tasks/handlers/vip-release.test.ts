import { vipRelease } from "@muster/agent/tasks/handlers/vip";
import t from "tap";
import { failed, fakeExec, ok } from "../../helpers/fakes.ts";
import { taskContext } from "../../helpers/task-context.ts";

// vip.release: after rke2-killall.sh SIGKILLed kube-vip the VIP stays on the interface and the node
// keeps answering ARP for it (kube-vip#1786); muster deletes it, with the prefix it was added with.

const HOLDER = `2: eth0    inet 10.0.0.11/24 brd 10.0.0.255 scope global eth0\\       valid_lft forever
2: eth0    inet 10.0.0.100/32 scope global eth0\\       valid_lft forever preferred_lft forever
`;
const task = { kind: "vip.release" as const, address: "10.0.0.100", interface: "eth0" };

t.test("deletes the stale VIP when the node still has it", async (t) => {
  const ex = fakeExec((_cmd, args) => (args[0] === "-o" ? ok(HOLDER) : ok()));
  const { ctx } = taskContext(t.testdir(), { exec: ex.exec });
  t.same(await vipRelease(task, ctx), { removed: true });
  t.same(ex.calls[1]?.args, ["addr", "del", "10.0.0.100/32", "dev", "eth0"]);
});

t.test("nothing to delete: no call, removed false; a missing interface too", async (t) => {
  const ex = fakeExec(() => ok("2: eth0    inet 10.0.0.11/24 scope global eth0\n"));
  t.same(await vipRelease(task, taskContext(t.testdir(), { exec: ex.exec }).ctx), { removed: false });
  t.equal(ex.calls.length, 1);
  const gone = fakeExec(() => failed(1, 'Device "eth0" does not exist.'));
  t.same(await vipRelease(task, taskContext(t.testdir(), { exec: gone.exec }).ctx), { removed: false });
});

t.test("a failing delete is a task failure naming the command", async (t) => {
  const ex = fakeExec((_cmd, args) =>
    args[0] === "-o" ? ok(HOLDER) : failed(2, "RTNETLINK answers: Operation not permitted\n"),
  );
  await t.rejects(
    vipRelease(task, taskContext(t.testdir(), { exec: ex.exec }).ctx),
    /ip addr del 10\.0\.0\.100\/32 dev eth0 failed \(exit 2\): RTNETLINK answers: Operation not permitted/,
  );
  await t.rejects(
    vipRelease({ ...task, interface: "-rf" }, taskContext(t.testdir(), { exec: ex.exec }).ctx),
    /is not an interface name/,
  );
});
