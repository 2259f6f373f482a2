/**
 * A cooperative scheduler: the system's executions (a webhook being handled,
 * a trigger, a flush, the script sending) run as async functions that stop
 * at every I/O gate (each Firestore transaction, each Sheets API call, each
 * HTTP request). Only one execution runs at a time, so a run is
 * deterministic; which blocked execution goes next is the test's choice, so
 * every interleaving of those I/O steps can be tried.
 */
import { AsyncLocalStorage } from "node:async_hooks";

interface Execution {
  id: number;
  label: string;
  /** The gate it waits at, or null while it runs (or waits on another execution). */
  gate: { label: string; resume: () => void; fail: (e: Error) => void } | null;
  done: boolean;
}

export class Scheduler {
  private readonly als = new AsyncLocalStorage<Execution>();
  private readonly live: Execution[] = [];
  private running = 0;
  private nextId = 1;
  private idleWaiters: Array<() => void> = [];

  /**
   * Starts `fn` as an execution. From outside any execution, it runs until its
   * first gate before this returns; from inside one, use `call`.
   */
  async spawn<T>(label: string, fn: () => Promise<T>): Promise<{ result: Promise<T> }> {
    const result = this.start(label, fn);
    await this.settle();
    return { result };
  }

  /** From inside an execution: runs `fn` as another execution and waits for its result. */
  async call<T>(label: string, fn: () => Promise<T>): Promise<T> {
    return this.waitFor(this.start(label, fn));
  }

  /** From inside an execution: waits for `promise` without counting as running meanwhile. */
  async waitFor<T>(promise: Promise<T>): Promise<T> {
    const inside = this.als.getStore() !== undefined;
    if (inside) {
      this.running--;
      this.wake();
    }
    try {
      return await promise;
    } finally {
      if (inside) this.running++;
    }
  }

  private start<T>(label: string, fn: () => Promise<T>): Promise<T> {
    const exec: Execution = { id: this.nextId++, label, gate: null, done: false };
    this.live.push(exec);
    this.running++;
    const result = this.als.run(exec, async () => {
      try {
        return await fn();
      } finally {
        exec.done = true;
        this.live.splice(this.live.indexOf(exec), 1);
        this.running--;
        this.wake();
      }
    });
    result.catch(() => undefined); // the caller decides whether a failure matters
    return result;
  }

  /** Stops the calling execution here until the scheduler resumes it. */
  gate(label: string): Promise<void> {
    const exec = this.als.getStore();
    if (!exec) return Promise.resolve(); // not inside an execution (test setup): run through
    return new Promise<void>((resolve, reject) => {
      exec.gate = {
        label,
        resume: () => {
          exec.gate = null;
          this.running++;
          resolve();
        },
        fail: (e) => {
          exec.gate = null;
          this.running++;
          reject(e);
        },
      };
      this.running--;
      this.wake();
    });
  }

  /** Executions waiting at a gate, oldest first. */
  blocked(): Array<{ id: number; label: string; gate: string }> {
    return this.live
      .filter((e) => e.gate)
      .map((e) => ({ id: e.id, label: e.label, gate: e.gate!.label }));
  }

  get idle(): boolean {
    return this.live.length === 0;
  }

  /** Lets the `k`-th blocked execution (modulo their number) go on to its next gate or its end. */
  async step(k: number, fail?: Error): Promise<boolean> {
    const waiting = this.live.filter((e) => e.gate);
    if (waiting.length === 0) return false;
    const exec = waiting[((k % waiting.length) + waiting.length) % waiting.length]!;
    if (fail) exec.gate!.fail(fail);
    else exec.gate!.resume();
    await this.settle();
    return true;
  }

  /** Runs every execution to its end, oldest first. */
  async drain(maxSteps = 100_000): Promise<void> {
    for (let i = 0; i < maxSteps && !this.idle; i++) {
      if (!(await this.step(0))) {
        // Live executions, none at a gate and none running: one waits on something outside.
        await this.settle();
        if (this.blocked().length === 0 && !this.idle) {
          throw new Error(`executions stuck: ${this.live.map((e) => e.label).join(", ")}`);
        }
      }
    }
    if (!this.idle)
      throw new Error(`executions did not finish: ${this.live.map((e) => e.label).join(", ")}`);
  }

  /** Resolves once no execution is running (all are at gates, waiting on each other, or done). */
  async settle(): Promise<void> {
    // Real I/O (the Sheets emulator over HTTP) may be in flight inside the running execution.
    for (;;) {
      if (this.running === 0) {
        // Let promise chains that already resolved run, then look again.
        await new Promise((r) => setImmediate(r));
        if (this.running === 0) return;
      }
      await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    }
  }

  private wake(): void {
    if (this.running !== 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }
}
