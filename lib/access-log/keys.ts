/**
 * The key a gateway instance signs its access-log checkpoints with: Ed25519, as for identity
 * assertions, but a key of its own (CREDENCE_ACCESS_LOG_PRIVATE_KEY), so that the key departments
 * trust for identity can be rotated without touching the evidence trail, and the other way round.
 */
import { createPrivateKey, createPublicKey, sign, type KeyObject } from 'node:crypto';
import { assertionKeyId, generateAssertionKeyPair, unescapePem } from '../identity/assertion.ts';

export const ACCESS_LOG_KEY_ENV = 'CREDENCE_ACCESS_LOG_PRIVATE_KEY';

export interface CheckpointSigner {
  keyId: string;
  /** The public key in PEM, written into every chain this key signs, so verification works offline. */
  publicKeyPem: string;
  /** True when the key was generated for this process (development): its chains can only be checked against the key they carry. */
  generated: boolean;
  sign(payload: Buffer): string;
}

function signerFor(privateKey: KeyObject, generated: boolean): CheckpointSigner {
  if (privateKey.asymmetricKeyType !== 'ed25519') throw new Error(`${ACCESS_LOG_KEY_ENV} must be an Ed25519 private key (got ${privateKey.asymmetricKeyType}).`);
  const publicKey = createPublicKey(privateKey);
  return {
    keyId: assertionKeyId(publicKey),
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    generated,
    sign: (payload) => sign(null, payload, privateKey).toString('base64url'),
  };
}

/** The instance's key from the environment, or a fresh one for this process when none is set. */
export function loadCheckpointSigner(env: NodeJS.ProcessEnv = process.env): CheckpointSigner {
  const pem = env[ACCESS_LOG_KEY_ENV];
  if (!pem || pem.trim() === '') return signerFor(createPrivateKey(generateAssertionKeyPair().privateKeyPem), true);
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(unescapePem(pem));
  } catch (error) {
    throw new Error(`${ACCESS_LOG_KEY_ENV} is not a private key in PEM: ${(error as Error).message}`, { cause: error });
  }
  return signerFor(privateKey, false);
}
