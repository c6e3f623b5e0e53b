/**
 * One at a time: the main loop and update handlers of an entity workflow both run activities that
 * change the entity; chaining them keeps each change whole (no interleaving at an await). Promise
 * chaining is deterministic in the workflow sandbox.
 */
export function createSerial(): <T>(fn: () => Promise<T>) => Promise<T> {
  let tail: Promise<unknown> = Promise.resolve();
  return <T>(fn: () => Promise<T>): Promise<T> => {
    const run = tail.then(fn);
    tail = run.catch(() => undefined);
    return run;
  };
}

/** A bounded set of recent message ids, carried across continue-as-new. */
export class RecentIds {
  private readonly ids: string[];
  private readonly set: Set<string>;

  constructor(
    initial: readonly string[],
    private readonly max: number,
  ) {
    this.ids = initial.slice(-max);
    this.set = new Set(this.ids);
  }

  /** True the first time an id is seen. */
  add(id: string): boolean {
    if (this.set.has(id)) return false;
    this.ids.push(id);
    this.set.add(id);
    const dropped = this.ids.length > this.max ? this.ids.shift() : undefined;
    if (dropped !== undefined) this.set.delete(dropped);
    return true;
  }

  toArray(): string[] {
    return [...this.ids];
  }
}
