import {
  createDecipheriv,
  createHash,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  hkdfSync,
  randomBytes,
  timingSafeEqual,
  type KeyObject,
} from 'node:crypto';
import { sodium } from './sodium.ts';

/**
 * Exchange credentials at rest (docs/decisions/0006-credentials.md): a sealed box. The internet-facing ingress holds only
 * the X25519 public key and can seal; only workers hold the private key and can open.
 *
 * v2 (written now): version(1) = 2 | libsodium crypto_box_seal(JSON {aad, credentials}). The sealed box is
 * anonymous, so the account identity (aad) travels inside it and must match on opening: a box moved to
 * another account row fails to open.
 * v1 (read only, re-sealed by the workers, see needsReseal): version(1) = 1 | ephemeral public key (32) |
 * iv (12) | tag (16) | AES-256-GCM ciphertext, key from X25519 + HKDF-SHA256, aad as GCM associated data.
 */
export interface ExchangeCredentials {
  apiKey: string;
  apiSecret: string;
  passphrase?: string;
}

const VERSION_V1 = 1;
const VERSION_V2 = 2;
const INFO = Buffer.from('tradehook credentials v1');
const SPKI_X25519_PREFIX = Buffer.from('302a300506032b656e032100', 'hex');
const PKCS8_X25519_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');

export class CredentialsError extends Error {}

function publicKeyFromRaw(raw: Buffer): KeyObject {
  return createPublicKey({ key: Buffer.concat([SPKI_X25519_PREFIX, raw]), format: 'der', type: 'spki' });
}

function rawPublicKey(key: KeyObject): Buffer {
  return key.export({ format: 'der', type: 'spki' }).subarray(SPKI_X25519_PREFIX.length);
}

/** A new key pair as base64 strings for CREDENTIALS_PUBLIC_KEY / CREDENTIALS_PRIVATE_KEY. */
export function generateCredentialsKeyPair(): { publicKey: string; privateKey: string } {
  const { publicKey, privateKey } = generateKeyPairSync('x25519');
  const priv = privateKey.export({ format: 'der', type: 'pkcs8' }).subarray(PKCS8_X25519_PREFIX.length);
  return { publicKey: rawPublicKey(publicKey).toString('base64'), privateKey: priv.toString('base64') };
}

function decodeKey(b64: string, what: string): Buffer {
  const raw = Buffer.from(b64.trim(), 'base64');
  if (raw.length !== 32) throw new CredentialsError(`${what} must be 32 bytes, base64-encoded`);
  return raw;
}

/** Short fingerprint of a public key, stored beside each box (key rotation). */
export function keyId(publicKeyB64: string): string {
  return createHash('sha256').update(decodeKey(publicKeyB64, 'public key')).digest('hex').slice(0, 16);
}

function deriveKey(shared: Buffer, ephemeralPub: Buffer, recipientPub: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', shared, Buffer.concat([ephemeralPub, recipientPub]), INFO, 32));
}

export class CredentialsSealer {
  private readonly recipientRaw: Buffer;
  readonly keyId: string;

  constructor(publicKeyB64: string) {
    this.recipientRaw = decodeKey(publicKeyB64, 'CREDENTIALS_PUBLIC_KEY');
    this.keyId = keyId(publicKeyB64);
  }

  seal(credentials: ExchangeCredentials, aad: string): Buffer {
    const plaintext = Buffer.from(JSON.stringify({ aad, credentials }));
    const sealed = sodium.crypto_box_seal(plaintext, this.recipientRaw);
    plaintext.fill(0);
    return Buffer.concat([Buffer.from([VERSION_V2]), sealed]);
  }
}

/** True for a box in an older format, which a worker should open and seal again. */
export function needsReseal(box: Uint8Array): boolean {
  return box[0] !== VERSION_V2;
}

export class CredentialsOpener {
  private readonly privateKey: KeyObject;
  private readonly privateRaw: Buffer;
  private readonly publicRaw: Buffer;
  readonly keyId: string;
  /** The matching public key (base64), to seal a re-opened v1 box again. */
  readonly publicKey: string;

  constructor(privateKeyB64: string) {
    const raw = decodeKey(privateKeyB64, 'CREDENTIALS_PRIVATE_KEY');
    this.privateRaw = raw;
    this.privateKey = createPrivateKey({
      key: Buffer.concat([PKCS8_X25519_PREFIX, raw]),
      format: 'der',
      type: 'pkcs8',
    });
    this.publicRaw = rawPublicKey(createPublicKey(this.privateKey));
    this.publicKey = this.publicRaw.toString('base64');
    this.keyId = keyId(this.publicKey);
  }

  open(box: Uint8Array, aad: string): ExchangeCredentials {
    const buf = Buffer.from(box);
    if (buf[0] === VERSION_V2) return this.openV2(buf, aad);
    return this.openV1(buf, aad);
  }

  private openV2(buf: Buffer, aad: string): ExchangeCredentials {
    const sealed = buf.subarray(1);
    if (sealed.length < sodium.crypto_box_SEALBYTES + 2) {
      throw new CredentialsError('credentials box is malformed or of an unknown version');
    }
    let plain: Uint8Array;
    try {
      plain = sodium.crypto_box_seal_open(sealed, this.publicRaw, this.privateRaw);
    } catch {
      throw new CredentialsError('credentials could not be decrypted (wrong key or tampered data)');
    }
    const parsed = JSON.parse(Buffer.from(plain).toString('utf8')) as {
      aad: string;
      credentials: ExchangeCredentials;
    };
    plain.fill(0);
    if (parsed.aad !== aad) throw new CredentialsError('credentials box belongs to another account');
    return parsed.credentials;
  }

  private openV1(buf: Buffer, aad: string): ExchangeCredentials {
    if (buf.length < 1 + 32 + 12 + 16 + 2 || buf[0] !== VERSION_V1) {
      throw new CredentialsError('credentials box is malformed or of an unknown version');
    }
    const ephemeralRaw = buf.subarray(1, 33);
    const iv = buf.subarray(33, 45);
    const tag = buf.subarray(45, 61);
    const ciphertext = buf.subarray(61);
    const shared = diffieHellman({ privateKey: this.privateKey, publicKey: publicKeyFromRaw(ephemeralRaw) });
    const key = deriveKey(shared, ephemeralRaw, this.publicRaw);
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, iv);
      decipher.setAAD(Buffer.from(aad));
      decipher.setAuthTag(tag);
      const plain = Buffer.concat([decipher.update(ciphertext), decipher.final()]);
      const parsed = JSON.parse(plain.toString('utf8')) as ExchangeCredentials;
      plain.fill(0);
      return parsed;
    } catch {
      throw new CredentialsError('credentials could not be decrypted (wrong key or tampered data)');
    }
  }
}

/** The additional authenticated data binding a box to its account. */
export function credentialsAad(exchange: string, accountId: string): string {
  return `tradehook:${exchange}:${accountId}`;
}

/** "abcd…wxyz" — enough to recognise a key, never enough to use it. */
export function maskApiKey(apiKey: string): string {
  if (apiKey.length <= 8) return '****';
  return `${apiKey.slice(0, 4)}…${apiKey.slice(-4)}`;
}

/**
 * Per-account webhook secrets are stored as salted SHA-256 (`sha256$<salt b64>$<hash b64>`): they are
 * random tokens of at least 16 characters, not passwords, and are checked on the webhook's hot path,
 * where a slow password hash would cost tens of milliseconds per alert.
 */
export function hashWebhookSecret(secret: string): string {
  const salt = randomBytes(16);
  const hash = createHash('sha256').update(salt).update(secret).digest();
  return `sha256$${salt.toString('base64')}$${hash.toString('base64')}`;
}

export function verifyWebhookSecretHash(secret: string, stored: string): boolean {
  const [scheme, saltB64, hashB64] = stored.split('$');
  if (scheme !== 'sha256' || !saltB64 || !hashB64) return false;
  const expected = Buffer.from(hashB64, 'base64');
  const actual = createHash('sha256').update(Buffer.from(saltB64, 'base64')).update(secret).digest();
  return expected.length === actual.length && timingSafeEqual(actual, expected);
}

/** Constant-time string comparison (hashing first hides the length). */
export function safeEqual(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb);
}
