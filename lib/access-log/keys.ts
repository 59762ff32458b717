/**
 * The keys of the access log, all Ed25519:
 * - the key a gateway instance signs its checkpoints with (CREDENCE_ACCESS_LOG_PRIVATE_KEY), a key
 *   of its own rather than the identity-assertion key, so that either can be rotated alone;
 * - the privacy office's audit key (CREDENCE_AUDIT_PRIVATE_KEY), which signs prune marks and
 *   witness statements. No gateway holds it: a gateway (or whoever holds its key and the store)
 *   can neither forge a prune nor rewrite what the privacy office witnessed. Verification checks
 *   them against its public key (CREDENCE_AUDIT_PUBLIC_KEY).
 */
import { createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import type { Environment } from '../config/read.ts';
import { assertionKeyId, generateAssertionKeyPair, unescapePem } from '../identity/assertion.ts';

export const ACCESS_LOG_KEY_ENV = 'CREDENCE_ACCESS_LOG_PRIVATE_KEY';
export const AUDIT_PRIVATE_KEY_ENV = 'CREDENCE_AUDIT_PRIVATE_KEY';
export const AUDIT_PUBLIC_KEY_ENV = 'CREDENCE_AUDIT_PUBLIC_KEY';

export interface CheckpointSigner {
  keyId: string;
  /** The public key in PEM, written into every chain this key signs, so verification works offline. */
  publicKeyPem: string;
  /** True when the key was generated for this process (development): its chains can only be checked against the key they carry. */
  generated: boolean;
  sign(payload: Buffer): string;
}

function signerFor(privateKey: KeyObject, generated: boolean, env = ACCESS_LOG_KEY_ENV): CheckpointSigner {
  if (privateKey.asymmetricKeyType !== 'ed25519')
    throw new Error(`${env} must be an Ed25519 private key (got ${privateKey.asymmetricKeyType}).`);
  const publicKey = createPublicKey(privateKey);
  return {
    keyId: assertionKeyId(publicKey),
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    generated,
    sign: (payload) => sign(null, payload, privateKey).toString('base64url'),
  };
}

/** The instance's key from the environment, or a fresh one for this process when none is set. */
export function loadCheckpointSigner(env: Environment): CheckpointSigner {
  const pem = env[ACCESS_LOG_KEY_ENV];
  if (!pem || pem.trim() === '') return signerFor(createPrivateKey(generateAssertionKeyPair().privateKeyPem), true);
  return signerFor(privateKeyFrom(pem, ACCESS_LOG_KEY_ENV), false);
}

function privateKeyFrom(pem: string, env: string): KeyObject {
  try {
    return createPrivateKey(unescapePem(pem));
  } catch (error) {
    throw new Error(`${env} is not a private key in PEM: ${(error as Error).message}`, { cause: error });
  }
}

/** The privacy office's audit key, for `npm run audit -- prune` and `witness`; required there. */
export function loadAuditSigner(env: Environment): CheckpointSigner {
  const pem = env[AUDIT_PRIVATE_KEY_ENV];
  if (!pem || pem.trim() === '')
    throw new Error(
      `Set ${AUDIT_PRIVATE_KEY_ENV} to the privacy office's Ed25519 audit key: prunes and witness statements are signed with it.`,
    );
  return signerFor(privateKeyFrom(pem, AUDIT_PRIVATE_KEY_ENV), false, AUDIT_PRIVATE_KEY_ENV);
}

/** Checks signatures of the audit key. */
export interface AuditKey {
  keyId: string;
  verify(payload: Buffer, signature: string): boolean;
}

/** The audit key's public half (CREDENCE_AUDIT_PUBLIC_KEY, else derived from the private key), or null when neither is set. */
export function loadAuditKey(env: Environment): AuditKey | null {
  const publicPem = env[AUDIT_PUBLIC_KEY_ENV];
  const privatePem = env[AUDIT_PRIVATE_KEY_ENV];
  let publicKey: KeyObject;
  if (publicPem && publicPem.trim() !== '') {
    try {
      publicKey = createPublicKey(unescapePem(publicPem));
    } catch (error) {
      throw new Error(`${AUDIT_PUBLIC_KEY_ENV} is not a public key in PEM: ${(error as Error).message}`, {
        cause: error,
      });
    }
  } else if (privatePem && privatePem.trim() !== '') {
    publicKey = createPublicKey(privateKeyFrom(privatePem, AUDIT_PRIVATE_KEY_ENV));
  } else {
    return null;
  }
  return {
    keyId: assertionKeyId(publicKey),
    verify: (payload, signature) => {
      try {
        return verify(null, payload, publicKey, Buffer.from(signature, 'base64url'));
      } catch {
        return false;
      }
    },
  };
}
