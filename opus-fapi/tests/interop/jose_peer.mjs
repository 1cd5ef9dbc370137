// Counterpart of tests/jose_interop.rs, run with Node and panva's `jose`
// (from the interop kit's pinned lockfile, located by JOSE_ENTRY).
// Reads {our_jws, our_jwks} on stdin; writes what it verified and produced.
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

const jose = await import(pathToFileURL(process.env.JOSE_ENTRY).href);
const input = JSON.parse(readFileSync(0, 'utf8'));
const enc = new TextEncoder();

// 1. Verify the JWS our code signed, against our published JWKS.
const ours = await jose.compactVerify(input.our_jws, jose.createLocalJWKSet(input.our_jwks), {
  algorithms: ['PS256'],
});

// 2. Sign with a key of our own (PS256).
const { publicKey, privateKey } = await jose.generateKeyPair('PS256', { extractable: true });
const theirJwk = { ...(await jose.exportJWK(publicKey)), kid: 'node-ps256', alg: 'PS256', use: 'sig' };
const theirJws = await new jose.CompactSign(enc.encode(JSON.stringify({ from: 'node' })))
  .setProtectedHeader({ alg: 'PS256', kid: 'node-ps256', typ: 'JWT' })
  .sign(privateKey);

// 3. Encrypt to the encryption key our code published.
const encJwk = input.our_jwks.keys.find((k) => k.use === 'enc');
const encrypt = async (alg, plaintext, extra = {}) =>
  new jose.CompactEncrypt(enc.encode(plaintext))
    .setProtectedHeader({ alg, enc: 'A256GCM', kid: encJwk.kid, ...extra })
    .encrypt(await jose.importJWK({ ...encJwk, alg }, alg));

process.stdout.write(JSON.stringify({
  verified_payload: new TextDecoder().decode(ours.payload),
  verified_kid: ours.protectedHeader.kid,
  their_jwk: theirJwk,
  their_jws: theirJws,
  their_jwe: await encrypt('RSA-OAEP', 'hello from node'),
  their_jwe_256: await encrypt('RSA-OAEP-256', 'hello from node, OAEP-256'),
  nested: await encrypt('RSA-OAEP', theirJws, { cty: 'JWT' }),
}));
