/**
 * A cooperative scheduler: every I/O operation of the system (each
 * Firestore transaction, each Sheets API call, each HTTP request of the
 * script) waits at a gate until the scheduler lets it through, and runs
 * alone. So a run is deterministic, and which waiting operation goes next is
 * the test's choice: every interleaving of those steps can be tried, also
 * between the parallel transactions of one execution.
 */
import { AsyncLocalStorage } from "node:async_hooks";

interface Waiting {
  label: string;
  execution: string;
  go: () => void;
  fail: (e: Error) => void;
}

export class Scheduler {
  private readonly als = new AsyncLocalStorage<string>();
  private readonly waiting: Waiting[] = [];
  private live = 0;
  private inFlight = 0;
  /** Bumped on every gate and operation, to tell when the system has stopped moving. */
  private activity = 0;

  /** Starts an execution (a webhook, a trigger, a flush…); returns once it waits or ends. */
  async spawn<T>(label: string, fn: () => Promise<T>): Promise<{ result: Promise<T> }> {
    this.live++;
    this.activity++;
    const result = this.als.run(label, async () => {
      try {
        return await fn();
      } finally {
        this.live--;
        this.activity++;
      }
    });
    result.catch(() => undefined); // whoever awaits `result` sees the failure
    await this.settle();
    return { result };
  }

  /** An I/O operation: waits for its turn, then runs with nothing else in flight. */
  async run<T>(label: string, fn: () => Promise<T> | T): Promise<T> {
    await this.gate(label);
    this.inFlight++;
    this.activity++;
    try {
      return await fn();
    } finally {
      this.inFlight--;
      this.activity++;
    }
  }

  private gate(label: string): Promise<void> {
    this.activity++;
    const execution = this.als.getStore();
    if (execution === undefined) return Promise.resolve(); // test setup, outside any execution
    return new Promise<void>((go, fail) => this.waiting.push({ label, execution, go, fail }));
  }

  /** The execution the caller runs in (its spawn label), if any. */
  current(): string | undefined {
    return this.als.getStore();
  }

  /** Operations waiting for their turn, oldest first. */
  blocked(): Array<{ execution: string; gate: string }> {
    return this.waiting.map((w) => ({ execution: w.execution, gate: w.label }));
  }

  get idle(): boolean {
    return this.live === 0;
  }

  /** Lets the `k`-th waiting operation (modulo their number) run; `fail` makes it throw instead. */
  async step(k: number, fail?: Error): Promise<boolean> {
    if (this.waiting.length === 0) return false;
    const i = ((k % this.waiting.length) + this.waiting.length) % this.waiting.length;
    const [w] = this.waiting.splice(i, 1);
    if (process.env.SHEET_SYNC_MODEL_STEPS)
      process.stderr.write(`  step: ${w!.execution} | ${w!.label}${fail ? " (fails)" : ""}\n`);
    if (fail) w!.fail(fail);
    else w!.go();
    await this.settle();
    return true;
  }

  /** Runs every execution to its end, oldest operation first. */
  async drain(maxSteps = 200_000): Promise<void> {
    for (let i = 0; i < maxSteps; i++) {
      await this.settle();
      if (this.live === 0) return;
      if (!(await this.step(0))) {
        throw new Error(`executions stuck outside the scheduler (${this.live} live, none waiting)`);
      }
    }
    throw new Error(`executions did not finish in ${maxSteps} steps`);
  }

  /** Resolves once nothing runs: every execution waits at a gate or has ended. */
  private async settle(): Promise<void> {
    for (let quiet = 0; quiet < 2;) {
      const before = this.activity;
      await new Promise((r) => setImmediate(r));
      if (this.inFlight > 0 || this.activity !== before) quiet = 0;
      else quiet++;
    }
  }
}
