/**
 * Ed25519 keys as Credence configures them: PEM in an environment variable, a key id derived
 * from the public key, several public keys during a rotation. Shared by everything that signs
 * (identity assertions, policy releases) so that every key is read, named and refused alike.
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import type { KeyObject } from 'node:crypto';

export interface Ed25519KeyPair {
  privateKeyPem: string;
  publicKeyPem: string;
  keyId: string;
}

/** A fresh key pair; the id is derived from the public key, so a verifier given only the PEM can compute it. */
export function generateEd25519KeyPair(): Ed25519KeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return {
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    keyId: ed25519KeyId(publicKey),
  };
}

/**
 * The key id of a key (public, or private: its public half is used): the first 16 base64url
 * characters (96 bits) of the SHA-256 of the public key's SPKI encoding.
 */
export function ed25519KeyId(key: KeyObject | string): string {
  const publicKey =
    typeof key === 'string' ? createPublicKey(key) : key.type === 'private' ? createPublicKey(key) : key;
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(spki).digest('base64url').slice(0, 16);
}

/** PEMs with literal "\n" sequences (as .env files and some secret stores write them) are accepted. */
export function unescapePem(value: string): string {
  return value.includes('\\n') ? value.replace(/\\n/g, '\n') : value;
}

export function assertEd25519(key: KeyObject, type: 'public' | 'private', what: string): void {
  if (key.type !== type || key.asymmetricKeyType !== 'ed25519') {
    throw new Error(`${what} must be an Ed25519 ${type} key (got ${key.asymmetricKeyType ?? key.type} ${key.type})`);
  }
}

/** A public KeyObject from a PEM or KeyObject, refusing private keys: a verifier must never hold the signing key. */
export function toEd25519PublicKey(key: KeyObject | string, what: string): KeyObject {
  let publicKey: KeyObject;
  try {
    if (typeof key === 'string') {
      if (key.includes('PRIVATE KEY')) throw new Error('this is a private key; a verifier needs only the public key');
      publicKey = createPublicKey(unescapePem(key));
    } else {
      publicKey = key;
    }
    assertEd25519(publicKey, 'public', 'the key');
  } catch (error) {
    throw new Error(`${what} is not an Ed25519 public key in PEM: ${(error as Error).message}`);
  }
  return publicKey;
}

/** An Ed25519 private key from a PEM, with an error naming `what` (the variable) when it is not one. */
export function toEd25519PrivateKey(pem: string, what: string): KeyObject {
  try {
    const privateKey = createPrivateKey(unescapePem(pem));
    assertEd25519(privateKey, 'private', 'the key');
    return privateKey;
  } catch (error) {
    throw new Error(`${what} is not an Ed25519 private key in PEM: ${(error as Error).message}`);
  }
}

/**
 * Trusted public keys by id, from one PEM (its id derived) or a JSON object of key id → PEM
 * (several during a rotation). `what` names the setting in every error.
 */
export function parseEd25519PublicKeys(raw: string, what: string): Map<string, KeyObject> {
  const text = raw.trim();
  const keys = new Map<string, KeyObject>();
  if (!text.startsWith('{')) {
    const key = toEd25519PublicKey(text, what);
    keys.set(ed25519KeyId(key), key);
    return keys;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new Error(`${what} looks like JSON but does not parse: ${(error as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed) || Object.keys(parsed).length === 0) {
    throw new Error(`${what} must be a non-empty JSON object of key id → public key PEM`);
  }
  for (const [kid, pem] of Object.entries(parsed)) {
    if (typeof pem !== 'string') throw new Error(`${what}: key "${kid}" must be a PEM string`);
    keys.set(kid, toEd25519PublicKey(pem, `${what}: key "${kid}"`));
  }
  return keys;
}
