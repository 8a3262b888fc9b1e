// The embedded store is one process's at a time: PGlite opened twice on the same directory
// would corrupt it. A lock file names the holder. While `coffer serve` holds it, other
// commands talk to the server through its operator socket instead of opening the store.
import { closeSync, openSync, readFileSync, unlinkSync, writeSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

export type LockRole = 'serve' | 'command';
export interface LockHolder {
  pid: number;
  role: LockRole;
}

export type LockAttempt = { acquired: true; release: () => void } | { acquired: false; holder: LockHolder };

export const lockFile = (dataDir: string): string => join(dataDir, 'coffer.lock');
export const operatorSocket = (dataDir: string): string => join(dataDir, 'coffer.sock');

export function tryLock(dataDir: string, role: LockRole): LockAttempt {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const file = lockFile(dataDir);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, 'wx', 0o600);
      writeSync(fd, JSON.stringify({ pid: process.pid, role }));
      closeSync(fd);
      return { acquired: true, release: () => releaseLock(file) };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = readHolder(file);
      if (holder && isAlive(holder.pid)) return { acquired: false, holder };
      // The holder died without cleaning up: the lock is stale.
      try {
        unlinkSync(file);
      } catch {
        /* another process removed it first */
      }
    }
  }
  const holder = readHolder(file);
  return { acquired: false, holder: holder ?? { pid: 0, role: 'command' } };
}

function releaseLock(file: string): void {
  const holder = readHolder(file);
  if (holder?.pid === process.pid) unlinkSync(file);
}

function readHolder(file: string): LockHolder | undefined {
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as Partial<LockHolder>;
    return typeof parsed.pid === 'number' && (parsed.role === 'serve' || parsed.role === 'command')
      ? { pid: parsed.pid, role: parsed.role }
      : undefined;
  } catch {
    return undefined;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
