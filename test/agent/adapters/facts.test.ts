import { createFacts, type SystemInfo } from "@muster/agent/adapters/facts";
import { createFiles } from "@muster/agent/adapters/files";
import { NodeFactsSchema } from "@muster/shared";
import t from "tap";
import { fakeExec, fakeSystemd, ok } from "../helpers/fakes.ts";

const system = (free: Record<string, number>): SystemInfo => ({
  hostname: () => "node-7",
  osInfo: async () => ({
    platform: "linux",
    distro: "Ubuntu",
    release: "24.04",
    kernel: "6.8.0",
    arch: "x64",
  }),
  memory: async () => ({ total: 8 * 1024 ** 3, swaptotal: 0 }),
  cpus: () => 4,
  addresses: () => ({
    eth0: [
      {
        address: "10.0.0.7",
        netmask: "255.255.255.0",
        family: "IPv4",
        mac: "02:00:00:00:00:07",
        internal: false,
        cidr: "10.0.0.7/24",
      },
    ],
  }),
  freeBytes: async (p) => free[p] ?? -1,
});

t.test(
  "facts from a fake host root: interfaces, route, machine id, disk of nearest ancestor, rke2",
  async (t) => {
    const root = t.testdir({
      etc: { "machine-id": "abcdefabcdefabcdefabcdefabcdef12\n" },
      sys: {
        class: {
          net: {
            eth0: { flags: "0x1003\n", address: "02:00:00:00:00:07\n" },
            eth1: { flags: "0x1002\n", address: "02:00:00:00:00:08\n" },
          },
        },
      },
      proc: {
        net: {
          route:
            "Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\neth0\t00000000\t0100000A\t0003\t0\t0\t0\t00000000\n",
        },
      },
      var: { lib: {} },
      usr: { local: { bin: { rke2: "" } } },
    });
    const files = createFiles(root);
    const exec = fakeExec((cmd, args) =>
      cmd.endsWith("/usr/local/bin/rke2") && args[0] === "--version"
        ? ok("rke2 version v1.33.5+rke2r1 (x)\n")
        : ok(),
    );
    const { systemd } = fakeSystemd({ "rke2-agent": { enabled: true } });
    const facts = await createFacts({
      files,
      exec: exec.exec,
      systemd,
      system: system({ [files.resolve("/var/lib")]: 42 }),
    }).collect();
    t.ok(NodeFactsSchema.safeParse(facts).success, "schema-valid");
    t.equal(facts.machineId, "abcdefabcdefabcdefabcdefabcdef12");
    t.equal(facts.os.arch, "amd64");
    t.equal(facts.diskFreeBytes, 42, "statfs of /var/lib, the nearest existing ancestor of /var/lib/rancher");
    t.same(facts.defaultRoute, { interface: "eth0", gateway: "10.0.0.1" });
    t.equal(facts.address, "10.0.0.7");
    t.same(
      facts.interfaces.map((i) => [i.name, i.up, i.ipv4.length]),
      [
        ["eth0", true, 1],
        ["eth1", false, 0],
      ],
    );
    t.same(facts.rke2, { installed: true, version: "v1.33.5+rke2r1", role: "agent" });
  },
);

t.test("no machine id: a stable one is derived", async (t) => {
  const root = t.testdir({ sys: { class: { net: {} } } });
  const deps = {
    files: createFiles(root),
    exec: fakeExec().exec,
    systemd: fakeSystemd().systemd,
    system: system({}),
  };
  const a = await createFacts(deps).collect();
  const b = await createFacts(deps).collect();
  t.match(a.machineId, /^[0-9a-f]{32}$/);
  t.equal(a.machineId, b.machineId);
  t.same(a.rke2, { installed: false });
});

t.test("os-release and meminfo parsing (what replaced systeminformation)", async (t) => {
  const { parseOsRelease, parseMeminfo } = await import("@muster/agent/adapters/facts");
  t.same(
    parseOsRelease(
      'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nID=debian\n',
    ),
    { distro: "Debian GNU/Linux", release: "12" },
  );
  t.same(parseOsRelease("NAME='Rocky Linux'\nVERSION_ID=9.4\n"), { distro: "Rocky Linux", release: "9.4" });
  t.same(parseOsRelease(""), { distro: "unknown", release: "unknown" });
  t.same(parseMeminfo("MemTotal:       16384 kB\nMemFree: 1 kB\nSwapTotal:    2048 kB\n"), {
    total: 16384 * 1024,
    swaptotal: 2048 * 1024,
  });
  t.same(parseMeminfo(""), { total: 0, swaptotal: 0 });
});

t.test("the real system info reads this host", async (t) => {
  const { realSystemInfo } = await import("@muster/agent/adapters/facts");
  const info = await realSystemInfo.osInfo();
  t.equal(info.platform, process.platform);
  t.equal(info.arch, process.arch);
  t.ok(info.kernel.length > 0);
  const mem = await realSystemInfo.memory();
  t.ok(mem.total > 0, "MemTotal read from /proc/meminfo");
});
