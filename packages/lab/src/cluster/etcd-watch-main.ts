// Runs inside the coordinator's netns: samples etcd's own member list (v3 JSON gateway) from every
// server address every INTERVAL ms and prints one JSON line per change:
//   {"t":<epoch ms>,"members":[{"id","name","isLearner"}]}
// This is the membership history end-to-end tests judge server-join overlap by.
const [endpointsArg, intervalArg] = process.argv.slice(2);
if (!endpointsArg) {
  process.stderr.write("usage: etcd-watch-main.ts http://IP:2379[,...] [INTERVAL_MS]\n");
  process.exit(2);
}
const endpoints = endpointsArg.split(",");
const interval = Number(intervalArg ?? 200);

interface Member {
  id: string;
  name: string;
  isLearner: boolean;
}

async function sample(): Promise<Member[] | null> {
  for (const ep of endpoints) {
    try {
      const res = await fetch(`${ep}/v3/cluster/member/list`, {
        method: "POST",
        body: "{}",
        signal: AbortSignal.timeout(1000),
      });
      if (!res.ok) continue;
      const body = (await res.json()) as { members?: { ID: string; name?: string; isLearner?: boolean }[] };
      return (body.members ?? [])
        .map((m) => ({ id: String(m.ID), name: m.name ?? "", isLearner: m.isLearner === true }))
        .sort((a, b) => a.id.localeCompare(b.id));
    } catch {
      // This endpoint is not up (yet, or any more): try the next.
    }
  }
  return null;
}

let last = "";
let stopped = false;
const stop = () => {
  stopped = true;
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
while (!stopped) {
  const members = await sample();
  if (members) {
    const key = JSON.stringify(members);
    if (key !== last) {
      last = key;
      process.stdout.write(`${JSON.stringify({ t: Date.now(), members })}\n`);
    }
  }
  await new Promise((r) => setTimeout(r, interval));
}
