/**
 * Four-eyes policy changes. A proposal is the whole set of policy files an officer wants in
 * force, based on the release in force when it was written; another officer approves it (which
 * makes a signed release through lib/policy's releaser, the one the processes verify) or rejects
 * it. Every step is recorded with who, when and why. Proposals live in the shared store (Redis),
 * so that they survive a restart of the console and every officer sees the same ones.
 *
 * The shared store is not trusted: what it holds is re-checked at approval (the approver's view
 * of the files, by digest; the author; the base release against the release in force), and a
 * release is only ever made from files that validate and pass the policy tests.
 */
import { randomBytes } from 'node:crypto';
import type { SharedStore } from '../lib/stores/shared-store.ts';
import type { PolicyBundle } from '../lib/policy/loading/bundle.ts';
import { releaseDigest } from '../lib/policy/releases/signed-release.ts';
import type { PolicyProblem } from '../lib/policy/loading/problems.ts';
import type { PolicyTestResult } from '../lib/policy/officers/policy-tests.ts';
import type { ReleaseDesk } from './releases.ts';

export type ProposalStep = 'proposed' | 'approved' | 'rejected' | 'refused';

export interface ProposalEvent {
  step: ProposalStep;
  who: string;
  at: string;
  why: string;
}

export interface Proposal {
  id: string;
  kind: 'change' | 'rollback';
  author: string;
  createdAt: string;
  why: string;
  /** The release in force the proposal was written against. */
  base: { number: number; sha256: string };
  files: PolicyBundle;
  /** releaseDigest(files): what the approver saw. */
  digest: string;
  changedFiles: string[];
  rollbackTo?: number;
  status: 'open' | 'approved' | 'rejected';
  /** The release approval made. */
  release?: number;
  history: ProposalEvent[];
}

/** Why a step was refused: each code is shown to the officer and asserted by the tests. */
export type ProposalRefusal =
  | { code: 'NOT_FOUND'; status: 404 }
  | { code: 'NOT_OPEN'; status: 409 }
  | { code: 'SELF_APPROVAL'; status: 403 }
  | { code: 'STALE_PROPOSAL'; status: 409; inForce: number }
  | { code: 'PROPOSAL_CHANGED'; status: 409 }
  | { code: 'REASON_REQUIRED'; status: 400 }
  | { code: 'NO_CHANGE'; status: 400 }
  | { code: 'INVALID_POLICY'; status: 422; problems: readonly PolicyProblem[] }
  | { code: 'POLICY_TESTS_FAIL'; status: 422; results: readonly PolicyTestResult[] };

export type ProposalResult<T> = { ok: true; value: T } | ({ ok: false } & ProposalRefusal);

export interface ProposalBook {
  list(): Promise<Proposal[]>;
  get(id: string): Promise<Proposal | undefined>;
  propose(input: {
    author: string;
    why: string;
    files: PolicyBundle;
    kind: Proposal['kind'];
    rollbackTo?: number;
  }): Promise<ProposalResult<Proposal>>;
  approve(input: { id: string; officer: string; reason: string; digest: string }): Promise<ProposalResult<Proposal>>;
  reject(input: { id: string; officer: string; reason: string }): Promise<ProposalResult<Proposal>>;
}

function refuse<T>(refusal: ProposalRefusal): ProposalResult<T> {
  return { ok: false, ...refusal };
}

function parseProposal(text: string | undefined): Proposal | undefined {
  if (!text) return undefined;
  try {
    const value = JSON.parse(text) as Proposal;
    return typeof value?.id === 'string' && typeof value.files === 'object' ? value : undefined;
  } catch {
    return undefined;
  }
}

export function createProposalBook(options: {
  sharedStore: SharedStore;
  namespace: string;
  releases: ReleaseDesk;
  now?: () => Date;
}): ProposalBook {
  const key = `${options.namespace}:console:proposals`;
  const now = (): string => (options.now?.() ?? new Date()).toISOString();
  const save = (proposal: Proposal): Promise<void> =>
    options.sharedStore.hset(key, proposal.id, JSON.stringify(proposal));
  const get = async (id: string): Promise<Proposal | undefined> =>
    parseProposal((await options.sharedStore.hgetall(key))[id]);
  // One approval at a time in this console: two approvals on one base cannot both pass the check.
  let approving = Promise.resolve();

  async function recordRefusal(proposal: Proposal, officer: string, why: string): Promise<void> {
    proposal.history.push({ step: 'refused', who: officer, at: now(), why });
    await save(proposal);
  }

  return {
    async list() {
      const all = Object.values(await options.sharedStore.hgetall(key))
        .map(parseProposal)
        .filter((proposal) => proposal !== undefined);
      return all.sort((a, b) => b.createdAt.localeCompare(a.createdAt));
    },
    get,
    async propose(input) {
      const why = input.why.trim();
      if (!why) return refuse({ code: 'REASON_REQUIRED', status: 400 });
      const loaded = options.releases.load(input.files);
      if (!loaded.ok) return refuse({ code: 'INVALID_POLICY', status: 422, problems: loaded.errors });
      const { release } = await options.releases.inForce();
      const digest = releaseDigest(input.files);
      if (digest === release.sha256) return refuse({ code: 'NO_CHANGE', status: 400 });
      const names = new Set([...Object.keys(release.files), ...Object.keys(input.files)]);
      const at = now();
      const proposal: Proposal = {
        id: `p-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`,
        kind: input.kind,
        author: input.author,
        createdAt: at,
        why,
        base: { number: release.number, sha256: release.sha256 },
        files: input.files,
        digest,
        changedFiles: [...names].filter((name) => release.files[name] !== input.files[name]).sort(),
        ...(input.rollbackTo !== undefined ? { rollbackTo: input.rollbackTo } : {}),
        status: 'open',
        history: [{ step: 'proposed', who: input.author, at, why }],
      };
      await save(proposal);
      return { ok: true, value: proposal };
    },
    approve(input) {
      const run = async (): Promise<ProposalResult<Proposal>> => {
        const reason = input.reason.trim();
        const proposal = await get(input.id);
        if (!proposal) return refuse({ code: 'NOT_FOUND', status: 404 });
        if (proposal.status !== 'open') return refuse({ code: 'NOT_OPEN', status: 409 });
        if (!reason) return refuse({ code: 'REASON_REQUIRED', status: 400 });
        if (proposal.author === input.officer) {
          await recordRefusal(proposal, input.officer, 'SELF_APPROVAL: the author may not approve');
          return refuse({ code: 'SELF_APPROVAL', status: 403 });
        }
        // What the approver saw is what is signed: files changed in the store since are refused.
        if (input.digest !== proposal.digest || releaseDigest(proposal.files) !== proposal.digest) {
          return refuse({ code: 'PROPOSAL_CHANGED', status: 409 });
        }
        const { release } = await options.releases.inForce();
        if (release.number !== proposal.base.number || release.sha256 !== proposal.base.sha256) {
          await recordRefusal(
            proposal,
            input.officer,
            `STALE_PROPOSAL: based on release ${proposal.base.number}, release ${release.number} is in force`,
          );
          return refuse({ code: 'STALE_PROPOSAL', status: 409, inForce: release.number });
        }
        // A rollback restores content that passed its own tests when first released.
        const tests = proposal.kind === 'rollback' ? new Map<string, string>() : await options.releases.tests();
        const note = `proposal ${proposal.id} by ${proposal.author}: ${proposal.why} | approved by ${input.officer}: ${reason}`;
        const outcome = await options.releases.release(proposal.files, tests, note);
        if (outcome.kind === 'invalid')
          return refuse({ code: 'INVALID_POLICY', status: 422, problems: outcome.problems });
        if (outcome.kind === 'tests-failed')
          return refuse({ code: 'POLICY_TESTS_FAIL', status: 422, results: outcome.results });
        if (outcome.kind === 'unchanged') return refuse({ code: 'NO_CHANGE', status: 400 });
        proposal.status = 'approved';
        proposal.release = outcome.release.number;
        proposal.history.push({ step: 'approved', who: input.officer, at: now(), why: reason });
        await save(proposal);
        return { ok: true, value: proposal };
      };
      const result = approving.then(run);
      approving = result.then(
        () => {},
        () => {},
      );
      return result;
    },
    async reject(input) {
      const reason = input.reason.trim();
      const proposal = await get(input.id);
      if (!proposal) return refuse({ code: 'NOT_FOUND', status: 404 });
      if (proposal.status !== 'open') return refuse({ code: 'NOT_OPEN', status: 409 });
      if (!reason) return refuse({ code: 'REASON_REQUIRED', status: 400 });
      proposal.status = 'rejected';
      proposal.history.push({ step: 'rejected', who: input.officer, at: now(), why: reason });
      await save(proposal);
      return { ok: true, value: proposal };
    },
  };
}
