import { describe, expect, it } from 'vitest';
import {
  credentialsAad,
  CredentialsError,
  CredentialsOpener,
  CredentialsSealer,
  generateCredentialsKeyPair,
  hashWebhookSecret,
  keyId,
  maskApiKey,
  safeEqual,
  verifyWebhookSecretHash,
} from './index.ts';

const creds = {
  apiKey: 'api-key-1234567890',
  apiSecret: 'api-secret-abcdefghij',
  passphrase: 'pass-phrase-xyz',
};
const aad = credentialsAad('okx', 'acct');

describe('sealed credentials', () => {
  const keys = generateCredentialsKeyPair();
  const sealer = new CredentialsSealer(keys.publicKey);
  const opener = new CredentialsOpener(keys.privateKey);

  it('round-trips through seal and open, with no plaintext in the box', () => {
    const box = sealer.seal(creds, aad);
    for (const s of Object.values(creds)) expect(box.includes(Buffer.from(s))).toBe(false);
    expect(opener.open(box, aad)).toEqual(creds);
  });

  it('seals the same credentials differently each time', () => {
    expect(sealer.seal(creds, aad).equals(sealer.seal(creds, aad))).toBe(false);
  });

  it('fails with a wrong private key, a wrong AAD (another account) or tampered bytes', () => {
    const box = sealer.seal(creds, aad);
    const other = new CredentialsOpener(generateCredentialsKeyPair().privateKey);
    expect(() => other.open(box, aad)).toThrow(CredentialsError);
    expect(() => opener.open(box, credentialsAad('okx', 'another'))).toThrow(CredentialsError);
    expect(() => opener.open(box, credentialsAad('binance', 'acct'))).toThrow(CredentialsError);
    const tampered = Buffer.from(box);
    tampered[tampered.length - 1]! ^= 1;
    expect(() => opener.open(tampered, aad)).toThrow(CredentialsError);
    expect(() => opener.open(box.subarray(0, 40), aad)).toThrow(CredentialsError);
  });

  it('gives the ingress side no way to open: the sealer holds only the public key', () => {
    const box = sealer.seal(creds, aad);
    expect('open' in sealer).toBe(false);
    // The public key is not a private key: using it as one cannot open the box.
    expect(() => new CredentialsOpener(keys.publicKey).open(box, aad)).toThrow(CredentialsError);
    expect(sealer.keyId).toBe(opener.keyId);
    expect(sealer.keyId).toBe(keyId(keys.publicKey));
  });

  it('refuses keys of the wrong size, without echoing them', () => {
    expect(() => new CredentialsSealer('c2hvcnQ=')).toThrow(/32 bytes/);
    try {
      new CredentialsOpener('c2hvcnQ=');
    } catch (err) {
      expect((err as Error).message).not.toContain('c2hvcnQ=');
    }
  });
});

describe('webhook secret hashes, masking, constant-time compare', () => {
  it('verifies the right secret only, with a fresh salt each time', () => {
    const h1 = hashWebhookSecret('my-webhook-secret-123');
    const h2 = hashWebhookSecret('my-webhook-secret-123');
    expect(h1).not.toBe(h2);
    expect(h1).not.toContain('my-webhook-secret-123');
    expect(verifyWebhookSecretHash('my-webhook-secret-123', h1)).toBe(true);
    expect(verifyWebhookSecretHash('my-webhook-secret-124', h1)).toBe(false);
    expect(verifyWebhookSecretHash('my-webhook-secret-123', 'garbage')).toBe(false);
  });

  it('masks API keys', () => {
    expect(maskApiKey('abcd1234efgh5678')).toBe('abcd…5678');
    expect(maskApiKey('short')).toBe('****');
  });

  it('compares strings of any length', () => {
    expect(safeEqual('a', 'a')).toBe(true);
    expect(safeEqual('a', 'ab')).toBe(false);
    expect(safeEqual('', '')).toBe(true);
  });
});
