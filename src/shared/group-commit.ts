/**
 * Group commit, the mechanism under ledger postings (src/ledger/group-commit.ts) and usage batches
 * (src/usage/ingest-queue.ts): at most `callsInFlightMax` calls run at once; what is submitted
 * meanwhile waits, and when a call ends, the oldest waiting submission and the later ones that may
 * join it go together in the next call, the rest keeping their places.
 *
 * A shared call fails as a whole, so when it fails each of its submissions runs again on its own,
 * one after the other, and gets the answer it would have got alone.
 *
 * Each call runs in a lane, 0 to callsInFlightMax - 1, which no other call holds meanwhile: a caller
 * may use it to keep concurrent calls off each other's rows (usage counter stripes).
 */
export interface GroupCommitCalls<T, R> {
  /** One call for several submissions, returning each one's result in order. */
  together(items: T[], lane: number): Promise<R[]>;
  /** One submission on its own: a group of one, and the fallback after a failed shared call. */
  alone(item: T, lane: number): Promise<R>;
  /** A group starting with the oldest waiting submission; `add` takes a later one in, or refuses it. */
  group(first: T): { add(item: T): boolean };
}

interface Waiter<T, R> {
  item: T;
  resolve: (result: R) => void;
  reject: (err: unknown) => void;
}

export class GroupCommit<T, R> {
  private waiting: Waiter<T, R>[] = [];
  private readonly freeLanes: number[];

  constructor(
    private readonly calls: GroupCommitCalls<T, R>,
    callsInFlightMax: number,
  ) {
    this.freeLanes = Array.from({ length: callsInFlightMax }, (_, i) => callsInFlightMax - 1 - i);
  }

  submit(item: T): Promise<R> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ item, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    while (this.freeLanes.length > 0 && this.waiting.length > 0) {
      const group = this.take();
      const lane = this.freeLanes.pop()!;
      void this.run(group, lane).finally(() => {
        this.freeLanes.push(lane);
        this.pump();
      });
    }
  }

  private take(): Waiter<T, R>[] {
    const [head, ...rest] = this.waiting;
    const builder = this.calls.group(head!.item);
    const group = [head!];
    const left: Waiter<T, R>[] = [];
    for (const w of rest) (builder.add(w.item) ? group : left).push(w);
    this.waiting = left;
    return group;
  }

  private async run(group: Waiter<T, R>[], lane: number): Promise<void> {
    if (group.length === 1) return settle(group[0]!, () => this.calls.alone(group[0]!.item, lane));
    let results: R[];
    try {
      results = await this.calls.together(group.map((w) => w.item), lane);
    } catch {
      // Whose submission failed the call, and how, only a call of its own can tell.
      for (const w of group) await settle(w, () => this.calls.alone(w.item, lane));
      return;
    }
    group.forEach((w, i) => w.resolve(results[i]!));
  }
}

async function settle<T, R>(w: Waiter<T, R>, call: () => Promise<R>): Promise<void> {
  try {
    w.resolve(await call());
  } catch (err) {
    w.reject(err);
  }
}

/**
 * One value per key, made on first use and gone with the key: a group-commit queue per database pool.
 */
export function onePer<K extends object, V>(make: (key: K) => V): (key: K) => V {
  const made = new WeakMap<K, V>();
  return (key) => {
    let value = made.get(key);
    if (value === undefined) made.set(key, (value = make(key)));
    return value;
  };
}
