// What tells the portal that the zone list may have changed, without polling:
// inotify (fs.watch) on the store's directories. A zone created or destroyed
// adds or removes <state>/zones/NAME; a config update renames a new
// config.json into <state>/zones/NAME/; a boot, an exit, a restart or a halt
// writes or removes <runtime>/zones/NAME.json (all atomic renames, so one
// event per change). Only these directories, never recursively: a zone's
// logs/ and rootfs/ change all the time and say nothing about the list.
// The daemon also says so after every state-changing request it served
// (ZoneWatch.changed), which covers what lives only in its memory.
import { existsSync, mkdirSync, readdirSync, watch, type FSWatcher } from 'node:fs';
import { join } from 'node:path';

export class StoreWatch {
  private readonly watchers = new Map<string, FSWatcher>();
  private timer: NodeJS.Timeout | undefined;

  /** `onChange` runs at most once per `settleMs`, after the last event of a burst. */
  constructor(
    private readonly stateDir: string,
    private readonly runtimeDir: string,
    private readonly onChange: () => void,
    private readonly settleMs = 100,
  ) {
    const zones = join(stateDir, 'zones');
    const runtime = join(runtimeDir, 'zones');
    for (const d of [zones, runtime]) if (!existsSync(d)) mkdirSync(d, { recursive: true, mode: 0o700 });
    this.add(zones, () => this.syncZoneDirs());
    this.add(runtime);
    this.syncZoneDirs();
  }

  private add(dir: string, also?: () => void): void {
    if (this.watchers.has(dir)) return;
    try {
      const w = watch(dir, { persistent: false }, () => {
        also?.();
        this.fire();
      });
      // A zone's directory removed under its watcher (destroy) ends that watcher; the parent's event says so.
      w.on('error', () => this.drop(dir));
      this.watchers.set(dir, w);
    } catch {
      // The directory went between listing and watching (a zone destroyed meanwhile): nothing to watch.
    }
  }

  private drop(dir: string): void {
    this.watchers.get(dir)?.close();
    this.watchers.delete(dir);
  }

  /** One watcher per zone directory (its config.json is renamed in there). */
  private syncZoneDirs(): void {
    const zones = join(this.stateDir, 'zones');
    let names: string[] = [];
    try {
      names = readdirSync(zones, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
    } catch {
      return; // the state directory itself went away: the list will say there is nothing
    }
    const want = new Set(names.map((n) => join(zones, n)));
    for (const dir of want) this.add(dir);
    for (const dir of [...this.watchers.keys()]) if (dir.startsWith(`${zones}/`) && !want.has(dir)) this.drop(dir);
  }

  fire(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.onChange();
    }, this.settleMs);
  }

  close(): void {
    if (this.timer) clearTimeout(this.timer);
    for (const w of this.watchers.values()) w.close();
    this.watchers.clear();
  }
}
