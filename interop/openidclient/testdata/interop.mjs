// Drives openid-client (the npm package pinned in package.json) against a running keyhold node.
// Input (environment): KEYHOLD_ISSUER (a workspace's issuer URL), KEYHOLD_CLIENT_ID,
// KEYHOLD_CLIENT_KEY (the client's private signing key as a JWK, ES256, with kid) and
// KEYHOLD_API (the URL of GET /workspaces/v1/credentials). Output: one JSON object on stdout with
// what keyhold answered; the Go test judges it. Any failure of openid-client exits non-zero.
import * as client from 'openid-client';

const env = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
};

const issuer = new URL(env('KEYHOLD_ISSUER'));
const clientId = env('KEYHOLD_CLIENT_ID');
const jwk = JSON.parse(env('KEYHOLD_CLIENT_KEY'));
const api = new URL(env('KEYHOLD_API'));

const signingKey = await crypto.subtle.importKey('jwk', jwk, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign']);

// Discovery reads the issuer's metadata (/.well-known/openid-configuration under the issuer)
// and checks that its issuer equals the URL asked for. The test node listens on plain HTTP on
// loopback, which openid-client refuses unless told.
const config = await client.discovery(issuer, clientId, undefined,
  client.PrivateKeyJwt({ key: signingKey, kid: jwk.kid }),
  { execute: [client.allowInsecureRequests] });

const out = { metadata: config.serverMetadata() };

// Every request carrying a DPoP proof, as keyhold saw it: the proof's nonce claim and the
// answer's status and DPoP-Nonce. It shows openid-client retrying use_dpop_nonce by itself.
const exchanges = [];
config[client.customFetch] = async (url, options) => {
  const proof = new Headers(options?.headers).get('dpop');
  const resp = await fetch(url, options);
  if (proof) {
    const claims = JSON.parse(Buffer.from(proof.split('.')[1], 'base64url').toString());
    exchanges.push({
      url: String(url),
      proof_nonce: claims.nonce ?? '',
      status: resp.status,
      dpop_nonce: resp.headers.get('dpop-nonce') ?? '',
      www_authenticate: resp.headers.get('www-authenticate') ?? '',
    });
  }
  return resp;
};

// (a) client_credentials with private_key_jwt.
const plain = await client.clientCredentialsGrant(config);
out.plain = { access_token: plain.access_token, token_type: plain.token_type, expires_in: plain.expiresIn() };
const plainResp = await client.fetchProtectedResource(config, plain.access_token, api, 'GET');
out.plain.api_status = plainResp.status;
out.plain.api_body = await plainResp.text();

// (b) the same grant with a DPoP proof: a sender-constrained token, then the API with it.
const dpopKeys = await client.randomDPoPKeyPair('ES256');
const dpop = client.getDPoPHandle(config, dpopKeys);
const bound = await client.clientCredentialsGrant(config, undefined, { DPoP: dpop });
out.dpop = {
  access_token: bound.access_token,
  token_type: bound.token_type,
  public_jwk: await crypto.subtle.exportKey('jwk', dpopKeys.publicKey),
};
const boundResp = await client.fetchProtectedResource(config, bound.access_token, api, 'GET', undefined, undefined, { DPoP: dpop });
out.dpop.api_status = boundResp.status;
out.dpop.api_body = await boundResp.text();

// A new handle of the same key knows no nonce yet: the API asks for one (401 use_dpop_nonce)
// and openid-client retries with it.
const fresh = client.getDPoPHandle(config, dpopKeys);
const freshResp = await client.fetchProtectedResource(config, bound.access_token, api, 'GET', undefined, undefined, { DPoP: fresh });
out.dpop.fresh_handle_api_status = freshResp.status;
out.dpop.exchanges = exchanges;

// An attacker who stole the bound token but not the key: it must not work as a bearer token.
const stolen = await fetch(api, { headers: { authorization: `Bearer ${bound.access_token}` } });
out.dpop.as_bearer_status = stolen.status;

process.stdout.write(JSON.stringify(out));
