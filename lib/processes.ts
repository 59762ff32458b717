/** Whether a process is running, by its pid: for lock and pid files left by a process that may be gone. */
export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * The Node flags Credence's processes are started with (npm start, the benchmark): on Node 22,
 * `--experimental-async-context-frame`, which Node 24 turns on by default. With tracing on, the
 * context manager keeps each request's context in an AsyncLocalStorage; on Node 22 without the
 * flag that runs on async hooks, which call into JavaScript for every promise made, and a request
 * makes thousands (docs/tracing.md, "Cost"). With tracing off nothing uses it, and the flag changes
 * nothing. `engines` asks for Node 22.18 or newer, which has the flag.
 */
export function nodeFlags(nodeVersion: string = process.versions.node): string[] {
  return nodeVersion.split('.')[0] === '22' ? ['--experimental-async-context-frame'] : [];
}
