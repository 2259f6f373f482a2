/**
 * LockService for a single-threaded test: a lock held by one Lock object
 * makes every other tryLock fail (the real service would wait, then fail).
 * `holdByAnotherExecution()` simulates a concurrent run holding the lock.
 */
export class FakeLockService {
  private holder: FakeLock | "other" | null = null;
  /** How many times a lock was acquired (to assert code actually locks). */
  acquisitions = 0;
  /** What others did while the next tryLock waited (runs once, before it is granted). */
  whileWaiting: (() => void) | null = null;

  getScriptLock(): FakeLock {
    return new FakeLock(this);
  }
  getDocumentLock(): FakeLock {
    return new FakeLock(this);
  }

  holdByAnotherExecution(): void {
    this.holder = "other";
  }
  releaseAnotherExecution(): void {
    if (this.holder === "other") this.holder = null;
  }
  isHeld(): boolean {
    return this.holder !== null;
  }

  /** @internal */
  acquire(lock: FakeLock): boolean {
    const meanwhile = this.whileWaiting;
    this.whileWaiting = null;
    meanwhile?.();
    if (this.holder !== null && this.holder !== lock) return false;
    if (this.holder !== lock) this.acquisitions++;
    this.holder = lock;
    return true;
  }
  /** @internal */
  release(lock: FakeLock): void {
    if (this.holder === lock) this.holder = null;
  }
  /** @internal */
  holds(lock: FakeLock): boolean {
    return this.holder === lock;
  }
}

export class FakeLock {
  constructor(private readonly service: FakeLockService) {}
  tryLock(_timeoutInMillis: number): boolean {
    return this.service.acquire(this);
  }
  waitLock(_timeoutInMillis: number): void {
    if (!this.service.acquire(this)) {
      throw new Error("Lock timeout: another process was holding the lock for too long.");
    }
  }
  hasLock(): boolean {
    return this.service.holds(this);
  }
  releaseLock(): void {
    this.service.release(this);
  }
}
