import { createArp } from "@muster/agent/adapters/arp";
import { arpingFailed, arpingOwnersArgs, parseArpReplies } from "@muster/agent/adapters/arp-replies";
import t from "tap";
import { failed, fakeExec, ok } from "../helpers/fakes.ts";

// Output as each arping prints it (Habets 2.23 captured on Debian; iputils s20240905's format).
const HABETS_TWO_HOLDERS = `ARPING 10.0.0.100
42 bytes from 26:6e:e7:08:0f:bc (10.0.0.100): index=0 time=35.357 usec
42 bytes from 02:42:AC:11:00:02 (10.0.0.100): index=1 time=41.002 usec
42 bytes from 26:6e:e7:08:0f:bc (10.0.0.100): index=2 time=8.076 usec
42 bytes from 26:6e:e7:08:0f:bc (10.0.0.100): index=3 time=8.596 usec

--- 10.0.0.100 statistics ---
3 packets transmitted, 4 packets received,   0% unanswered (1 extra)
`;
const HABETS_SILENT = `ARPING 10.0.0.77
Timeout
Timeout
Timeout

--- 10.0.0.77 statistics ---
3 packets transmitted, 0 packets received, 100% unanswered (0 extra)
`;
const IPUTILS_TWO_HOLDERS = `ARPING 10.0.0.100 from 10.0.0.11 eth0
Unicast reply from 10.0.0.100 [26:6E:E7:08:0F:BC]  0.657ms
Unicast reply from 10.0.0.100 [02:42:AC:11:00:02]  0.702ms
Unicast reply from 10.0.0.100 [26:6E:E7:08:0F:BC]  0.580ms
Sent 2 probes (1 broadcast(s))
Received 3 response(s)
`;

t.test("both flavours' reply lines give the distinct MACs, lowercase, in order of first reply", async (t) => {
  t.same(parseArpReplies(HABETS_TWO_HOLDERS, "10.0.0.100"), ["26:6e:e7:08:0f:bc", "02:42:ac:11:00:02"]);
  t.same(parseArpReplies(IPUTILS_TWO_HOLDERS, "10.0.0.100"), ["26:6e:e7:08:0f:bc", "02:42:ac:11:00:02"]);
  t.same(parseArpReplies(HABETS_SILENT, "10.0.0.77"), []);
  t.same(parseArpReplies(HABETS_TWO_HOLDERS, "10.0.0.10"), [], "a reply for another address does not count");
});

t.test("argv per flavour: Habets -i and -W spacing, iputils -I; both with a deadline", async (t) => {
  t.same(arpingOwnersArgs("habets", "eth0", "10.0.0.100", 3, 2), [
    "-c",
    "3",
    "-W",
    "0.2",
    "-w",
    "2",
    "-i",
    "eth0",
    "10.0.0.100",
  ]);
  t.same(arpingOwnersArgs("iputils", "eth0", "10.0.0.100", 3, 2), [
    "-c",
    "3",
    "-w",
    "2",
    "-I",
    "eth0",
    "10.0.0.100",
  ]);
});

t.test("silence versus failure", async (t) => {
  t.equal(arpingFailed("habets", 1, ""), false, "Habets: exit 1 without stderr is silence");
  t.equal(arpingFailed("habets", 1, "arping: libnet_init(LIBNET_LINK, eth9): No such device"), true);
  t.equal(arpingFailed("iputils", 1, ""), false);
  t.equal(arpingFailed("iputils", 2, "arping: unknown iface eth9"), true);
});

t.test("createArp().owners runs the detected flavour and reads its replies", async (t) => {
  const habets = fakeExec((_cmd, args) =>
    args[0] === "--help" ? ok("ARPing 2.23, by Thomas Habets") : ok(HABETS_TWO_HOLDERS),
  );
  t.same(await createArp(habets.exec).owners("eth0", "10.0.0.100"), {
    ok: true,
    macs: ["26:6e:e7:08:0f:bc", "02:42:ac:11:00:02"],
  });
  t.ok(habets.calls.at(-1)!.args.includes("-i"));

  const iputils = fakeExec((_cmd, args) =>
    args[0] === "--help" ? failed(2, "Usage: arping [-fqbDUAV]") : ok(IPUTILS_TWO_HOLDERS),
  );
  const r = await createArp(iputils.exec).owners("eth0", "10.0.0.100");
  t.same(r, { ok: true, macs: ["26:6e:e7:08:0f:bc", "02:42:ac:11:00:02"] });
  t.ok(iputils.calls.at(-1)!.args.includes("-I"));

  const silent = fakeExec((_cmd, args) =>
    args[0] === "--help" ? ok("ARPing 2.23, by Thomas Habets") : { ...failed(1), stdout: HABETS_SILENT },
  );
  t.same(await createArp(silent.exec).owners("eth0", "10.0.0.77"), { ok: true, macs: [] });

  const broken = fakeExec((_cmd, args) =>
    args[0] === "--help"
      ? ok("ARPing 2.23, by Thomas Habets")
      : failed(1, "arping: libnet_init(LIBNET_LINK, eth9): No such device\n"),
  );
  const b = await createArp(broken.exec).owners("eth9", "10.0.0.77");
  t.equal(b.ok, false);
  t.match(b.ok ? "" : b.detail, /No such device/);

  const missing = await createArp(fakeExec(() => failed(127)).exec).owners("eth0", "10.0.0.77");
  t.same(missing, { ok: false, detail: "arping is not installed (apt install arping)" });
});
