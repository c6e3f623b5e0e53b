/**
 * Group commit for postings through a pool: at most LIMITS.ledgerPostCallsInFlightMax ledger_post()
 * calls run at once per pool, and whatever is submitted meanwhile waits and then goes in one call.
 *
 * Why: a posting's cost is mostly per call (a round trip, a plpgsql call, a commit and its WAL flush),
 * not per transaction, and concurrent calls that touch the same balance rows queue on each other's
 * row locks until commit. Eight writers each committing one transfer therefore do far less than two
 * calls carrying four transfers each. A caller sees no difference: its requests are still all or
 * nothing, and it gets its own answer.
 *
 * A shared call fails as a whole (one request's insufficient funds or key conflict aborts it), so
 * when it fails every submission of it is posted again on its own, one after the other, and gets
 * the answer it would have got alone. Two submissions never share a call when they carry the same
 * idempotency key (the second must see the first as a replay or conflict) or define one account
 * code differently (each must meet the stored definition on its own).
 */
import type { AccountSpec, PostedTransaction } from './contract.js';
import { sameAccount, type PreparedRequest } from './request.js';

export interface GroupCommitOptions {
  /** Calls in flight at once; more submissions wait and are grouped. */
  callsInFlightMax: number;
  /** Ledger transactions one grouped call may carry (a single submission may be larger). */
  transactionsPerCallMax: number;
}

type Post = (prepared: PreparedRequest[]) => Promise<PostedTransaction[]>;

interface Submission {
  prepared: PreparedRequest[];
  resolve: (posted: PostedTransaction[]) => void;
  reject: (err: unknown) => void;
}

export class PostingQueue {
  private waiting: Submission[] = [];
  private inFlight = 0;

  /**
   * @param postTogether one call for the requests of several submissions, retried on transient errors
   * @param postAlone    one submission on its own, with its rejection recorded (the ungrouped path)
   */
  constructor(
    private readonly postTogether: Post,
    private readonly postAlone: Post,
    private readonly options: GroupCommitOptions,
  ) {}

  submit(prepared: PreparedRequest[]): Promise<PostedTransaction[]> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ prepared, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    while (this.inFlight < this.options.callsInFlightMax && this.waiting.length > 0) {
      const group = this.take();
      this.inFlight++;
      void this.run(group).finally(() => {
        this.inFlight--;
        this.pump();
      });
    }
  }

  /** The next group, in submission order; what cannot join it keeps its place in the queue. */
  private take(): Submission[] {
    const group: Submission[] = [];
    const keys = new Set<string>();
    const accounts = new Map<string, Required<AccountSpec>>();
    const left: Submission[] = [];
    let size = 0;
    for (const s of this.waiting) {
      const fits =
        group.length === 0 ||
        (size + s.prepared.length <= this.options.transactionsPerCallMax && compatible(s.prepared, keys, accounts));
      if (!fits) {
        left.push(s);
        continue;
      }
      group.push(s);
      size += s.prepared.length;
      for (const p of s.prepared) {
        keys.add(keyOf(p));
        for (const leg of p.legs) accounts.set(leg.account.code, leg.account);
      }
    }
    this.waiting = left;
    return group;
  }

  private async run(group: Submission[]): Promise<void> {
    if (group.length === 1) return settle(group[0]!, () => this.postAlone(group[0]!.prepared));
    let posted: PostedTransaction[];
    try {
      posted = await this.postTogether(group.flatMap((s) => s.prepared));
    } catch {
      // Whose request failed the call, and how, only a call of its own can tell.
      for (const s of group) await settle(s, () => this.postAlone(s.prepared));
      return;
    }
    let offset = 0;
    for (const s of group) {
      s.resolve(posted.slice(offset, offset + s.prepared.length));
      offset += s.prepared.length;
    }
  }
}

async function settle(s: Submission, post: () => Promise<PostedTransaction[]>): Promise<void> {
  try {
    s.resolve(await post());
  } catch (err) {
    s.reject(err);
  }
}

const keyOf = (p: PreparedRequest) => `${p.scope}\u0000${p.idempotencyKey}`;

function compatible(prepared: readonly PreparedRequest[], keys: ReadonlySet<string>, accounts: ReadonlyMap<string, Required<AccountSpec>>): boolean {
  for (const p of prepared) {
    if (keys.has(keyOf(p))) return false;
    for (const leg of p.legs) {
      const known = accounts.get(leg.account.code);
      if (known !== undefined && !sameAccount(known, leg.account)) return false;
    }
  }
  return true;
}
