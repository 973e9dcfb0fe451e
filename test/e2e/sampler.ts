// A probe the lab tests run beside an operation: one sample every `everyMs` (each one taken to its
// end before the next begins) until stop(), plus one more begun after stop(), so the samples always
// reach past the end of what they watch. And the longest stretch between good samples.

export interface Sampled {
  /** When the sample began (ms since the epoch). */
  t: number;
}

export function sampleUntilStopped<S extends Sampled>(take: () => Promise<Omit<S, "t">>, everyMs = 500) {
  const samples: S[] = [];
  let stop = false;
  async function sample(): Promise<number> {
    const t = Date.now();
    samples.push({ t, ...(await take()) } as S);
    return t;
  }
  const done = (async () => {
    while (!stop) {
      const at = await sample();
      const left = everyMs - (Date.now() - at);
      if (left > 0) await new Promise((r) => setTimeout(r, left));
    }
    await sample();
  })();
  return {
    samples,
    async stop() {
      stop = true;
      await done;
    },
  };
}

/** The longest time between two samples for which `good` holds (or from the first / to the last). */
export function longestGap<S extends Sampled>(samples: readonly S[], good: (s: S) => boolean): number {
  let last = samples[0]?.t ?? 0;
  let gap = 0;
  for (const s of samples) {
    if (!good(s)) continue;
    gap = Math.max(gap, s.t - last);
    last = s.t;
  }
  return Math.max(gap, (samples.at(-1)?.t ?? last) - last);
}
