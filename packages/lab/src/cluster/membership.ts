// Reads the etcd membership history printed by etcd-watch-main.ts and derives each member's join
// window: from the first sample that shows it as a learner to the first that shows it as a voter.
export interface MembershipSample {
  t: number;
  members: { id: string; name: string; isLearner: boolean }[];
}

export interface JoinWindow {
  id: string;
  name: string;
  /** First seen as a learner (null: it was a voter from the first sample, i.e. the init member). */
  learnerAt: number | null;
  /** First seen as a voter (null: never promoted). */
  voterAt: number | null;
}

export function parseSamples(text: string): MembershipSample[] {
  return text
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as MembershipSample);
}

export function joinWindows(samples: readonly MembershipSample[]): JoinWindow[] {
  const windows = new Map<string, JoinWindow>();
  for (const s of samples) {
    for (const m of s.members) {
      let w = windows.get(m.id);
      if (!w) {
        w = {
          id: m.id,
          name: m.name,
          learnerAt: m.isLearner ? s.t : null,
          voterAt: m.isLearner ? null : s.t,
        };
        windows.set(m.id, w);
      }
      if (m.name) w.name = m.name;
      if (!m.isLearner && w.voterAt === null) w.voterAt = s.t;
    }
  }
  return [...windows.values()];
}

/** Largest number of learners etcd reported at once. */
export function maxConcurrentLearners(samples: readonly MembershipSample[]): number {
  return Math.max(0, ...samples.map((s) => s.members.filter((m) => m.isLearner).length));
}

/** Pairs of learner windows that overlap in time (an open window lasts to the end of the history). */
export function overlappingJoins(windows: readonly JoinWindow[], end: number): [string, string][] {
  const spans = windows
    .filter((w) => w.learnerAt !== null)
    .map((w) => ({ name: w.name || w.id, from: w.learnerAt!, to: w.voterAt ?? end }))
    .sort((a, b) => a.from - b.from);
  const out: [string, string][] = [];
  for (let i = 0; i < spans.length; i++)
    for (let j = i + 1; j < spans.length; j++)
      if (spans[j]!.from < spans[i]!.to) out.push([spans[i]!.name, spans[j]!.name]);
  return out;
}
