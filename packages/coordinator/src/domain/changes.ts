// "Something changed that the planner has not seen": a node's state, the spec, the cluster token,
// the registration address's health. Whatever makes such a change calls notify() once it committed
// (transitions do it in store.afterCommit); the sequencer subscribes once, at construction, and
// turns notifications into paced planning passes. Changes a planning pass makes itself are already
// planned, so the transitions only a pass calls (checks requests, plan releases) do not notify.
export interface Changes {
  notify(): void;
  subscribe(listener: () => void): void;
}

export function createChanges(): Changes {
  const listeners: (() => void)[] = [];
  return {
    notify() {
      for (const listener of listeners) listener();
    },
    subscribe(listener) {
      listeners.push(listener);
    },
  };
}
