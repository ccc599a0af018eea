import { clock } from '../engine/time-text.js';
import type { Job } from './job-board.js';

/** A job's part of an explanation: who holds it and until when. */
export interface JobExplanation {
  state: Job['state'];
  owner?: string;
  leaseUntil?: number;
  attempts: number;
  takeovers: number;
  /** One sentence per line. */
  text: string;
}

/**
 * Explain a job from its board record: waiting for a conductor, held under a lease (and when that
 * lease expires, after which any conductor takes it over), or finished.
 */
export function explainJob(job: Job, now = Date.now()): JobExplanation {
  const lines: string[] = [];
  switch (job.state) {
    case 'UNCLAIMED':
      lines.push(
        job.attempts > 0
          ? `Job ${job.id} waits for a conductor to claim it again (${job.attempts} failed attempt${job.attempts === 1 ? '' : 's'} so far${job.error ? `, last: ${job.error.name}: ${job.error.message}` : ''}).`
          : `Job ${job.id} (${job.flow}) was posted at ${clock(job.createdAt, now)} and waits for a conductor to claim it.`,
      );
      break;
    case 'CLAIMED': {
      const until = job.leaseUntil;
      if (until !== undefined && until <= now) {
        lines.push(
          `Job ${job.id} is held by conductor ${job.owner ?? '?'}, whose lease expired at ${clock(until, now)}: the next conductor to look takes it over.`,
        );
      } else {
        lines.push(
          `Job ${job.id} is held by conductor ${job.owner ?? '?'}; its lease expires at ${until === undefined ? 'an unknown time' : clock(until, now)} unless renewed. If that conductor died, another takes the job over then.`,
        );
      }
      if (job.takeovers > 0)
        lines.push(
          `The job was taken over ${job.takeovers} time${job.takeovers === 1 ? '' : 's'} after a conductor's lease expired.`,
        );
      break;
    }
    case 'COMPLETE':
      lines.push(`Job ${job.id} is COMPLETE.`);
      break;
    case 'FAILED':
      lines.push(
        `Job ${job.id} FAILED${job.error ? `: ${job.error.name}: ${job.error.message}` : ''}. Retry it with: taskweave jobs retry ${job.id}`,
      );
      break;
    case 'CANCELLED':
      lines.push(`Job ${job.id} was CANCELLED. Post it again with: taskweave jobs retry ${job.id}`);
      break;
  }
  return {
    state: job.state,
    ...(job.owner !== undefined ? { owner: job.owner } : {}),
    ...(job.leaseUntil !== undefined ? { leaseUntil: job.leaseUntil } : {}),
    attempts: job.attempts,
    takeovers: job.takeovers,
    text: lines.join('\n'),
  };
}
