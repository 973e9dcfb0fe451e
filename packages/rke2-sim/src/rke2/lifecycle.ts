// Process lifecycle: cleanup hooks run in reverse order on SIGTERM/SIGINT (exit 0) or on a fatal error
// (exit 1), so etcd children and listeners never outlive the rke2 process that started them.
import { log } from "./log.ts";

export class Lifecycle {
  #hooks: (() => Promise<void> | void)[] = [];
  #stopping = false;

  get stopping(): boolean {
    return this.#stopping;
  }

  onStop(fn: () => Promise<void> | void): void {
    this.#hooks.push(fn);
  }

  async shutdown(code: number): Promise<void> {
    if (this.#stopping) return;
    this.#stopping = true;
    for (const fn of this.#hooks.reverse()) {
      try {
        await fn();
      } catch (err) {
        log.warn(`cleanup: ${(err as Error).message}`);
      }
    }
    process.exit(code);
  }

  /** level=fatal, then cleanup and exit status 1 (systemd's Restart=always takes it from there). */
  fail(message: string): void {
    if (this.#stopping) return;
    log.fatal(message);
    void this.shutdown(1);
  }
}
