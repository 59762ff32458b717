/**
 * Live status for the console: the shared table of processes (readFleet, as `npm run policy --
 * status` reads it), each process's readiness where it can be asked, and verification of the
 * access log (lib/access-log/verify.ts, as `npm run audit -- verify`), whose last result is kept
 * in the shared store with who ran it and when.
 *
 * Process addresses come from the shared store, which is not trusted: only hosts on the allowed
 * list (loopback by default) are asked, so a forged entry cannot make the console call elsewhere.
 */
import type { AuditKey } from '../lib/access-log/keys.ts';
import { readAccessLog } from '../lib/access-log/maintenance.ts';
import { connectAccessLogStore } from '../lib/access-log/store.ts';
import { verifyAccessLog, type ChainSummary } from '../lib/access-log/verify.ts';
import { readFleet } from '../lib/policy/releases/release-store.ts';
import type { SharedStore } from '../lib/stores/shared-store.ts';
import type { ProcessRow } from './pages/status.ts';

export interface VerificationRecord {
  at: string;
  by: string;
  ok: boolean;
  chains: ChainSummary[];
  problems: string[];
}

/** How verification is run: the audit key prunes and witness statements must be signed by, and the retention rule. */
export interface VerificationSettings {
  auditKey: AuditKey | null;
  retentionDays: number;
}

/** What a process's /readyz and /status answers hold that the status page shows. */
interface ProcessReport {
  checks?: Record<string, string>;
  circuits?: Record<string, string>;
  stores?: Record<string, string>;
}

const DEFAULT_VERIFICATION: VerificationSettings = { auditKey: null, retentionDays: 1095 };

export function createStatusDesk(options: {
  sharedStore: SharedStore;
  namespace: string;
  accessLogUri?: string;
  processHosts: readonly string[];
  verification?: VerificationSettings;
}) {
  const verification = options.verification ?? DEFAULT_VERIFICATION;
  const verificationKey = `${options.namespace}:console:verification`;

  async function readiness(instance: string): Promise<ProcessRow['readiness']> {
    const host = /@([^@/]+:\d+)$/.exec(instance)?.[1];
    if (!host || !options.processHosts.includes(host.slice(0, host.lastIndexOf(':')))) return undefined;
    try {
      const [ready, status] = await Promise.all(
        [`http://${host}/readyz`, `http://${host}/status`].map(async (url): Promise<ProcessReport> => {
          const response = await fetch(url, { signal: AbortSignal.timeout(1500) });
          return (await response.json()) as ProcessReport;
        }),
      );
      // A gateway also says which department circuits are open (its /status).
      const shown: Record<string, string> = { ...ready?.checks };
      for (const [department, state] of Object.entries(status?.circuits ?? {})) shown[`circuit ${department}`] = state;
      // Every process says how its stores are (its /status): connected, writable, broken, ...
      for (const [store, state] of Object.entries(status?.stores ?? {})) shown[`store ${store}`] = state;
      return shown;
    } catch {
      return 'unreachable';
    }
  }

  return {
    async processes(): Promise<{ newest: number; processes: ProcessRow[] }> {
      const fleet = await readFleet(options.sharedStore, options.namespace);
      const processes = await Promise.all(
        fleet.processes.map(async (entry) => {
          const ready = await readiness(entry.instance);
          return ready === undefined ? entry : { ...entry, readiness: ready };
        }),
      );
      return { newest: fleet.newest, processes };
    },
    async lastVerification(): Promise<VerificationRecord | null> {
      const text = await options.sharedStore.get(verificationKey);
      try {
        return text ? (JSON.parse(text) as VerificationRecord) : null;
      } catch {
        return null;
      }
    },
    accessLogStore(): string {
      if (!options.accessLogUri) return 'ACCESS_LOG_MONGODB_URI / MONGODB_URI not set';
      const url = new URL(options.accessLogUri);
      return `${url.protocol}//${url.host}${url.pathname}`;
    },
    async verify(officer: string): Promise<VerificationRecord> {
      if (!options.accessLogUri)
        throw new Error('the console has no access log store (ACCESS_LOG_MONGODB_URI or MONGODB_URI)');
      const store = await connectAccessLogStore(options.accessLogUri, { serverSelectionTimeoutMs: 5000 });
      try {
        const report = verifyAccessLog({
          ...(await readAccessLog(store)),
          auditKey: verification.auditKey,
          retentionDays: verification.retentionDays,
        });
        const record: VerificationRecord = {
          at: new Date().toISOString(),
          by: officer,
          ok: report.ok,
          chains: report.chains,
          problems: report.problems
            .slice(0, 50)
            .map((problem) => `${problem.kind} ${problem.chain} seq ${problem.seq ?? '-'}: ${problem.message}`),
        };
        await options.sharedStore.set(verificationKey, JSON.stringify(record));
        return record;
      } finally {
        await store.close();
      }
    },
  };
}

export type StatusDesk = ReturnType<typeof createStatusDesk>;
