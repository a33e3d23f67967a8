// oidc-provider (OpenID Certified, strict) on 127.0.0.1 with an interaction shim that
// signs in "jane" and grants whatever is asked, so a browser stub that follows
// redirects with a cookie jar completes the flow. Usage: node oidc.mjs PORT
// Public native client `httplens-native` (no secret, PKCE S256 required, redirect
// http://127.0.0.1/callback with any port), refresh rotation with reuse detection,
// RFC 9207 `iss`, revocation, userinfo at /me.
import Provider from 'oidc-provider';

const port = Number(process.argv[2] || 0);
const issuer = `http://127.0.0.1:${port}`;

const provider = new Provider(issuer, {
  clients: [{
    client_id: 'httplens-native',
    application_type: 'native',
    token_endpoint_auth_method: 'none',
    redirect_uris: ['http://127.0.0.1/callback'],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
  }],
  pkce: { required: () => true },
  scopes: ['openid', 'offline_access', 'email', 'profile'],
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name', 'preferred_username'] },
  features: { devInteractions: { enabled: false }, revocation: { enabled: true } },
  cookies: { keys: ['httplens-test-cookie-key'] },
  ttl: { AccessToken: Number(process.env.ACCESS_TTL || 3600), AuthorizationCode: 60, IdToken: 3600, Interaction: 600, Session: 3600, Grant: 3600, RefreshToken: 86400 },
  rotateRefreshToken: true,
  issueRefreshToken: async (ctx, client, code) =>
    client.grantTypeAllowed('refresh_token') && code.scopes.has('offline_access'),
  findAccount: async (ctx, id) => ({
    accountId: id,
    claims: async () => ({ sub: id, email: 'jane@example.test', email_verified: true, name: 'Jane Doe', preferred_username: 'jane' }),
  }),
});

// The interaction shim: log in and consent without a page.
provider.use(async (ctx, next) => {
  if (ctx.method === 'GET' && ctx.path.startsWith('/interaction/')) {
    const details = await provider.interactionDetails(ctx.req, ctx.res);
    const { prompt, params, session } = details;
    let result;
    if (prompt.name === 'login') {
      result = { login: { accountId: 'jane' } };
    } else {
      const grant = details.grantId
        ? await provider.Grant.find(details.grantId)
        : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
      if (prompt.details.missingOIDCScope) grant.addOIDCScope(prompt.details.missingOIDCScope.join(' '));
      if (prompt.details.missingOIDCClaims) grant.addOIDCClaims(prompt.details.missingOIDCClaims);
      for (const [indicator, scopes] of Object.entries(prompt.details.missingResourceScopes || {})) {
        grant.addResourceScope(indicator, scopes.join(' '));
      }
      result = { consent: { grantId: await grant.save() } };
    }
    const to = await provider.interactionResult(ctx.req, ctx.res, result, { mergeWithLastSubmission: true });
    ctx.status = 303;
    ctx.redirect(to);
    return;
  }
  await next();
});

provider.on('server_error', (ctx, err) => console.error('server_error', err));
provider.on('grant.revoked', (ctx, grantId) => console.error('grant.revoked', grantId));

const server = provider.listen(port, '127.0.0.1', () => {
  console.log(`ready ${issuer}`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
