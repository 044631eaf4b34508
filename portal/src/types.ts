// The shapes the portal's API returns: the daemon's own types (type-only
// imports, erased when the portal is bundled), with the syscall names the
// portal's API adds from each ABI's table (src/daemon/portal/).
import type { ZoneDetails as CoreDetails, ZoneInfo, ZoneStatsResult } from '../../src/zone/lifecycle/types.js';
import type { UnsupportedEvent as CoreEvent } from '../../src/zone/lifecycle/unsupported-log.js';
import type { SyscallCount as CoreCount, ZoneStats as CoreStats } from '../../src/zone/stats.js';

export type { ZoneInfo };

/** A notified syscall's counter, named when the ABI's table knows the number. */
export type SyscallCount = CoreCount & { name?: string };

export type ZoneStats = Omit<CoreStats, 'notified' | 'unsupported'> & { notified: SyscallCount[]; unsupported: SyscallCount[] };

/** An unsupported-syscall event, named when the ABI's table knows the number. */
export type UnsupportedEvent = CoreEvent & { name?: string };

type Named<T> = Omit<T, 'syscalls' | 'unsupportedEvents'> & { unsupportedEvents?: UnsupportedEvent[] };

export type ZoneDetails = Named<CoreDetails> & { syscalls?: ZoneStats };

export type StatsResult = Named<ZoneStatsResult> & { syscalls: ZoneStats };
