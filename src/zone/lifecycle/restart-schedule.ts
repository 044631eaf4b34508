// The daemon's restarts in waiting: a zone that stopped by itself and whose
// restart policy boots it again after a back-off (restart.ts decides), how
// many times in a row it was restarted, and the zones the restart limit left
// stopped ('failed' until booted, halted or destroyed).
export class RestartSchedule {
  private readonly pending = new Map<string, NodeJS.Timeout>();
  private readonly at = new Map<string, Date>();
  private readonly inARow = new Map<string, number>();
  private readonly failedZones = new Set<string>();

  /** Boots the zone after `delay` ms (boot: inside the zone's queue; its failure is the caller's to report). */
  schedule(name: string, delay: number, boot: () => void): void {
    this.cancel(name);
    this.at.set(name, new Date(Date.now() + delay));
    const t = setTimeout(() => {
      this.pending.delete(name);
      this.at.delete(name);
      boot();
    }, delay);
    this.pending.set(name, t);
  }

  /** Drops a pending restart and the zone's failed mark (whatever comes next, boot, halt or destroy, decides anew); true if one was pending. */
  cancel(name: string): boolean {
    this.failedZones.delete(name);
    const t = this.pending.get(name);
    if (!t) return false;
    clearTimeout(t);
    this.pending.delete(name);
    this.at.delete(name);
    return true;
  }

  cancelAll(): void {
    for (const name of [...this.pending.keys()]) this.cancel(name);
  }

  isPending(name: string): boolean {
    return this.pending.has(name);
  }

  /** When a pending restart will boot the zone. */
  nextAt(name: string): Date | undefined {
    return this.at.get(name);
  }

  inARowOf(name: string): number {
    return this.inARow.get(name) ?? 0;
  }

  setInARow(name: string, n: number): void {
    this.inARow.set(name, n);
  }

  /** A new series: the zone was booted by the user, or ran long enough. */
  resetSeries(name: string): void {
    this.inARow.delete(name);
  }

  markFailed(name: string): void {
    this.failedZones.add(name);
  }

  isFailed(name: string): boolean {
    return this.failedZones.has(name);
  }
}
