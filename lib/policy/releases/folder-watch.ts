/**
 * Noticing every change to the files of a folder, however they were saved.
 *
 * Recursive `fs.watch` on Linux loses a file that is renamed over or deleted and recreated
 * (`sed -i`, an editor's safe write, `git checkout`): later saves of it are never reported, and
 * the process goes on enforcing what is no longer on disk. Here each directory is watched on its
 * own (a directory watch sees every entry renamed, created or deleted in it, for as long as the
 * directory lives), directories that appear, vanish or are replaced are found again on every
 * scan, and a scan also runs on a timer, so that even a change no watch reported is seen within
 * one interval. The caller compares contents: `onChange` means "look again", not "it changed".
 */
import { watch, type FSWatcher } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';

export interface FolderWatch {
  close(): void;
}

export interface FolderWatchOptions {
  /** Saves come in several steps (a write, a rename): act once they are done. */
  settleMs?: number;
  /** The longest a change may go unseen should no watch report it. */
  rescanMs?: number;
  /** Called with errors of `onChange` (which may be async). */
  onError: (error: unknown) => void;
}

async function directoriesUnder(root: string): Promise<string[]> {
  try {
    if (!(await stat(root)).isDirectory()) return [];
    const entries = await readdir(root, { withFileTypes: true });
    // Hidden folders (a `.git` inside the folder, an editor's state) hold no policy.
    const below = entries
      .filter((entry) => entry.isDirectory() && !entry.name.startsWith('.'))
      .map((entry) => join(root, entry.name));
    return [root, ...(await Promise.all(below.map(directoriesUnder))).flat()];
  } catch (error) {
    // A folder that does not exist (yet) is watched for once it does.
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}

export function watchFolder(root: string, onChange: () => unknown, options: FolderWatchOptions): FolderWatch {
  const settleMs = options.settleMs ?? 150;
  const watchers = new Map<string, { watcher: FSWatcher; inode: number }>();
  let closed = false;
  let settle: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();

  const changed = (): void => {
    if (closed) return;
    clearTimeout(settle);
    settle = setTimeout(() => {
      running = running.then(look).catch(options.onError);
    }, settleMs);
  };

  async function rewatch(): Promise<void> {
    const present = new Map<string, number>();
    for (const dir of await directoriesUnder(root)) {
      const inode = await stat(dir).then(
        (stats) => stats.ino,
        () => -1,
      );
      if (inode >= 0) present.set(dir, inode);
    }
    for (const [dir, { watcher, inode }] of watchers) {
      // Gone, or replaced by a new directory of the same name (whose entries the old watch never sees).
      if (present.get(dir) !== inode) {
        watcher.close();
        watchers.delete(dir);
      }
    }
    for (const [dir, inode] of present) {
      if (closed || watchers.has(dir)) continue;
      try {
        const watcher = watch(dir, changed);
        watcher.on('error', () => {
          watcher.close();
          watchers.delete(dir);
          changed();
        });
        watchers.set(dir, { watcher, inode });
      } catch {
        // Vanished between the listing and the watch: the next scan sees it as it is then.
      }
    }
  }

  async function look(): Promise<void> {
    if (closed) return;
    await rewatch();
    await onChange();
  }

  const rescan = setInterval(changed, options.rescanMs ?? 1000);
  rescan.unref();
  running = rewatch().catch(options.onError);

  return {
    close() {
      closed = true;
      clearTimeout(settle);
      clearInterval(rescan);
      for (const { watcher } of watchers.values()) watcher.close();
      watchers.clear();
    },
  };
}
