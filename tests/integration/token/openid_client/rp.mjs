// A relying party built on openid-client (certified OpenID Connect RP library), one step per run,
// for tests/integration/token/test_token_rp_logout.py. Prints one JSON document.
//   authorize ISSUER CLIENT_ID SECRET REDIRECT_URI          -> {url, verifier, state, nonce}
//   callback  ISSUER CLIENT_ID SECRET CALLBACK_URL VERIFIER STATE NONCE -> {id_token, claims}
//   logout    ISSUER CLIENT_ID SECRET ID_TOKEN POST_LOGOUT_REDIRECT_URI STATE -> {url}
import * as client from 'openid-client';

const [step, issuer, clientId, secret, ...rest] = process.argv.slice(2);
// The test servers are plain http on 127.0.0.1; openid-client refuses that unless told.
const config = await client.discovery(new URL(issuer), clientId, secret, client.ClientSecretBasic(secret),
  { execute: [client.allowInsecureRequests] });

let out;
if (step === 'authorize') {
  const [redirectUri] = rest;
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri, scope: 'openid', state, nonce,
    code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
  });
  out = { url: url.href, verifier, state, nonce };
} else if (step === 'callback') {
  const [callbackUrl, verifier, state, nonce] = rest;
  const tokens = await client.authorizationCodeGrant(config, new URL(callbackUrl),
    { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce, idTokenExpected: true });
  out = { id_token: tokens.id_token, claims: tokens.claims() };
} else if (step === 'logout') {
  const [idToken, postLogoutRedirectUri, state] = rest;
  const url = client.buildEndSessionUrl(config, {
    id_token_hint: idToken, post_logout_redirect_uri: postLogoutRedirectUri, state,
  });
  out = { url: url.href };
} else {
  throw new Error(`unknown step ${step}`);
}
process.stdout.write(JSON.stringify(out));
