// The Redis key layout, in one place. Every key one script call touches shares a hash tag, so it lands in
// one Redis Cluster slot: per-session keys are tagged by session, incident keys by tenant-free `{inc}`.
export class KeySpace {
  constructor(readonly prefix: string) {}

  sessionWindow(session: string): string {
    return `${this.prefix}:{s:${session}}:w`;
  }
  sessionEventIds(session: string): string {
    return `${this.prefix}:{s:${session}}:ids`;
  }
  sessionTransitions(session: string): string {
    return `${this.prefix}:{s:${session}}:t`;
  }

  /** Facts kept once for many windows (a network's place and AS, a user agent), by a digest of their text. */
  windowFacts(ref: string): string {
    return `${this.prefix}:{m}:${ref}`;
  }

  userBaseline(user: string): string {
    return `${this.prefix}:{u:${user}}:b`;
  }

  incidentOpen(): string {
    return `${this.prefix}:{inc}:open`;
  }
  incident(id: string): string {
    return `${this.prefix}:{inc}:i:${id}`;
  }
  incidentEvents(id: string): string {
    return `${this.prefix}:{inc}:i:${id}:ev`;
  }
  incidentHistory(id: string): string {
    return `${this.prefix}:{inc}:i:${id}:h`;
  }
  incidentIndex(): string {
    return `${this.prefix}:{inc}:idx`;
  }

  revocation(id: string): string {
    return `${this.prefix}:{rev}:r:${id}`;
  }
  revocationIndex(): string {
    return `${this.prefix}:{rev}:idx`;
  }
  revocationClaims(): string {
    return `${this.prefix}:{rev}:claims`;
  }
  revocationRate(): string {
    return `${this.prefix}:{rev}:auto`;
  }
  disabledTargets(): string {
    return `${this.prefix}:{rev}:disabled`;
  }

  /** BullMQ's own prefix (never an ioredis keyPrefix). */
  queuePrefix(): string {
    return `${this.prefix}:q`;
  }
}
