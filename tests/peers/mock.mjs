// oauth2-mock-server on 127.0.0.1 for fault injection (it is lenient: it checks neither
// the verifier nor a secret, so only the faults are tested against it).
// Usage: node mock.mjs PORT FAULT, FAULT one of: none, access_denied, no_state,
// wrong_state, wrong_iss, invalid_grant_refresh, server_error.
import { OAuth2Server } from 'oauth2-mock-server';

const port = Number(process.argv[2] || 0);
const fault = process.argv[3] || 'none';
const server = new OAuth2Server();
await server.issuer.keys.generate('RS256');
// Its default issuer names localhost; the tests use the bound address.
server.issuer.url = `http://127.0.0.1:${port}`;

server.service.on('beforeAuthorizeRedirect', (redirect) => {
  const q = redirect.url.searchParams;
  switch (fault) {
    case 'access_denied':
      // RFC 6749 4.1.2.1: an error response carries the request's `state`.
      q.delete('code');
      q.set('error', 'access_denied');
      q.set('error_description', 'The resource owner denied the request');
      break;
    case 'no_state':
      q.delete('state');
      break;
    case 'wrong_state':
      q.set('state', 'forged-state-0123456789abcdef');
      break;
    case 'wrong_iss':
      q.set('iss', 'http://127.0.0.1:9/not-this-provider');
      break;
    default:
  }
});

server.service.on('beforeResponse', (resp, req) => {
  if (fault === 'invalid_grant_refresh' && req.body.grant_type === 'refresh_token') {
    resp.statusCode = 400;
    resp.body = { error: 'invalid_grant', error_description: 'refresh token revoked' };
  }
  if (fault === 'server_error') {
    resp.statusCode = 503;
    resp.body = { message: 'upstream unavailable' };
  }
});

await server.start(port, '127.0.0.1');
console.log(`ready ${server.issuer.url}`);
process.on('SIGTERM', () => server.stop().then(() => process.exit(0)));
