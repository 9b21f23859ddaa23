import { describe, expect, it } from 'vitest';
import { sodium } from './sodium.ts';
import {
  credentialsAad,
  CredentialsError,
  CredentialsOpener,
  CredentialsSealer,
  generateCredentialsKeyPair,
  needsReseal,
} from './index.ts';

/** A v1 box written by the hand-composed X25519 + HKDF + AES-GCM format (the previous release). */
const LEGACY = {
  publicKey: '5DVZkn1K7mtdgvtyYtvu3R7ZD6WGgkIJ8DhAwmKGvTM=',
  privateKey: 'yIi39JXQFrsekiGYXFPto1JTL8JJmBkfQpjGdLcHkHM=',
  box: 'ASyAylttZzkxDyOuBejbdRcHzHzV/f8y+yDZndMW/EkHe54T3uXM4BOEXKg0oW+7pT4xIZJUKXhmjpJ2iHDFWMiMMhkCMIKLQ1XBvblcOkRq2dnRTP8FFDWN59Sw6TUhZ/teMXF+H+jYtQSKJcHeJQSf+UwcMfnPG5kVftAmtnxJriRkdSA=',
  aad: credentialsAad('binance', 'legacy_acct'),
  credentials: { apiKey: 'legacy-key-0123456789', apiSecret: 'legacy-secret-0123456789' },
};

describe('credentials box v2: libsodium sealed box', () => {
  const keys = generateCredentialsKeyPair();
  const creds = { apiKey: 'k-0123456789', apiSecret: 's-0123456789' };
  const aad = credentialsAad('okx', 'acct');

  it('is version 2 followed by a crypto_box_seal that libsodium itself opens', () => {
    const box = new CredentialsSealer(keys.publicKey).seal(creds, aad);
    expect(box[0]).toBe(2);
    expect(needsReseal(box)).toBe(false);
    const plain = sodium.crypto_box_seal_open(
      box.subarray(1),
      Buffer.from(keys.publicKey, 'base64'),
      Buffer.from(keys.privateKey, 'base64'),
    );
    expect(JSON.parse(Buffer.from(plain).toString('utf8'))).toEqual({ aad, credentials: creds });
    expect(new CredentialsOpener(keys.privateKey).open(box, aad)).toEqual(creds);
  });

  it('refuses a box moved to another account, a tampered box and the wrong key', () => {
    const box = new CredentialsSealer(keys.publicKey).seal(creds, aad);
    const opener = new CredentialsOpener(keys.privateKey);
    expect(() => opener.open(box, credentialsAad('okx', 'other'))).toThrow(CredentialsError);
    const tampered = Buffer.from(box);
    tampered[tampered.length - 1]! ^= 1;
    expect(() => opener.open(tampered, aad)).toThrow(CredentialsError);
    expect(() => new CredentialsOpener(generateCredentialsKeyPair().privateKey).open(box, aad)).toThrow(
      CredentialsError,
    );
  });

  it('still opens a v1 box of the previous release, which needs re-sealing', () => {
    const box = Buffer.from(LEGACY.box, 'base64');
    expect(needsReseal(box)).toBe(true);
    const opener = new CredentialsOpener(LEGACY.privateKey);
    expect(opener.publicKey).toBe(LEGACY.publicKey);
    expect(opener.open(box, LEGACY.aad)).toEqual(LEGACY.credentials);
    expect(() => opener.open(box, credentialsAad('binance', 'other'))).toThrow(CredentialsError);
  });
});
