import type { JobBoard } from './job-board.js';

/** One claim a conductor holds, as the heartbeat sees it. */
export interface Lease {
  readonly id: string;
  readonly token: number;
  /**
   * Local monotonic time (ms) by which the lease may have expired: the moment the last successful
   * claim or renewal was *sent*, plus `leaseMs`. The board sets the expiry on its own clock when the
   * request arrives, so it can only be later than this.
   */
  deadline: number;
  /** A renewal is in flight. */
  renewing: boolean;
}

export interface LeaseKeeperOptions {
  board: JobBoard;
  owner: string;
  leaseMs: number;
  heartbeatMs: number;
  onRenewed(lease: Lease): void;
  /** The board refused the renewal: the claim is gone (taken over, cancelled, finished elsewhere). */
  onRefused(lease: Lease): void;
  /** The heartbeat came after the deadline: the lease may belong to someone else by now. */
  onOverdue(lease: Lease, lateByMs: number): void;
  /** A renewal failed (board unreachable); the deadline stays where it was. */
  onError(lease: Lease, error: Error): void;
}

/**
 * Renews a conductor's leases on one heartbeat timer, and notices its own lateness: a tick that runs
 * past a lease's deadline (event loop starved, or renewals failing for a whole lease) gives that lease
 * up through `onOverdue` instead of renewing it, because another conductor may already hold the job.
 * A lease the keeper reported (refused or overdue) is dropped; it is never reported twice.
 */
export class LeaseKeeper {
  private readonly leases = new Set<Lease>();
  private timer: NodeJS.Timeout | undefined;
  constructor(private readonly options: LeaseKeeperOptions) {}

  /** Start renewing `lease`; its deadline must be set from the claim's send time. */
  hold(lease: Lease): void {
    this.leases.add(lease);
    this.timer ??= setInterval(() => this.tick(), this.options.heartbeatMs);
  }

  /** Stop renewing `lease` (its job is finished, released or lost). */
  drop(lease: Lease): void {
    this.leases.delete(lease);
    if (this.leases.size === 0) this.stop();
  }

  holds(lease: Lease): boolean {
    return this.leases.has(lease);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One heartbeat: give up overdue leases, renew the others (one renewal in flight per lease). */
  tick(): void {
    const { board, owner, leaseMs } = this.options;
    for (const lease of [...this.leases]) {
      const now = performance.now();
      if (now >= lease.deadline) {
        this.leases.delete(lease);
        this.options.onOverdue(lease, now - lease.deadline);
        continue;
      }
      if (lease.renewing) continue;
      lease.renewing = true;
      const sentAt = now;
      board.renew(lease.id, owner, lease.token, leaseMs).then(
        (renewed) => {
          lease.renewing = false;
          if (!this.leases.has(lease)) return;
          if (renewed) {
            lease.deadline = sentAt + leaseMs;
            this.options.onRenewed(lease);
          } else {
            this.leases.delete(lease);
            this.options.onRefused(lease);
          }
        },
        (error: unknown) => {
          lease.renewing = false;
          if (this.leases.has(lease)) this.options.onError(lease, asError(error));
        },
      );
    }
    if (this.leases.size === 0) this.stop();
  }
}

export function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}
