// OpenID Connect provider for tests and local SSO, built on npm `oidc-provider`.
//
//   node server.mjs --config demo.json [--port 9000] [--host 127.0.0.1]
//
// The JSON config lists clients (oidc-provider client metadata), users (sub, username, password,
// email, names, groups), the API audience and optionally the signing keys (private JWKs; a fresh
// RSA key is generated otherwise). It serves its own login and consent pages (the library's dev
// pages accept any password), requires PKCE, issues RS256 ID tokens, opaque access tokens for
// userinfo and JWT access tokens for the API resource (resource indicators), and client-credentials
// tokens. Prints `READY <issuer>` once listening. GET /__test/requests returns how many requests
// it has served (itself excluded), so tests can prove the app does not call it per request.
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import process from 'node:process';

import Provider from 'oidc-provider';

function parseArgs(argv) {
  const args = { host: '127.0.0.1', port: 0, config: null };
  for (let i = 0; i < argv.length; i += 1) {
    const name = argv[i].replace(/^--/, '');
    args[name] = argv[i + 1];
    i += 1;
  }
  if (!args.config) throw new Error('--config <file.json> is required');
  return args;
}

const args = parseArgs(process.argv.slice(2));
const config = JSON.parse(fs.readFileSync(args.config, 'utf8'));
const users = config.users || [];
const apiAudience = config.apiAudience;
const apiScopes = config.apiScopes || 'api';
const apiAlg = config.apiSigningAlg || 'RS256';

function generatedKeys() {
  const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = privateKey.export({ format: 'jwk' });
  return [{ ...jwk, kid: crypto.randomUUID(), use: 'sig', alg: 'RS256' }];
}

function escapeHtml(value) {
  return String(value ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function page(title, body) {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:28rem;margin:4rem auto;padding:0 1rem}
label,input,button{display:block;width:100%;margin:.4rem 0}input{padding:.5rem}button{padding:.6rem}
.error{color:#b00}</style></head><body><h1>${escapeHtml(title)}</h1>${body}</body></html>`;
}

function loginPage(uid, params, error) {
  return page('Sign in', `<p>Client <b>${escapeHtml(params.client_id)}</b> asks you to sign in.</p>
${error ? `<p class="error">${escapeHtml(error)}</p>` : ''}
<form method="post" action="/interaction/${uid}/login" autocomplete="off">
<label for="login">Username or email</label><input id="login" name="login" required autofocus>
<label for="password">Password</label><input id="password" name="password" type="password" required>
<button type="submit">Sign in</button></form>
<form method="post" action="/interaction/${uid}/abort"><button type="submit">Cancel</button></form>`);
}

function consentPage(uid, params, details) {
  const scopes = [...(details.missingOIDCScope || [])];
  for (const [resource, list] of Object.entries(details.missingResourceScopes || {})) {
    scopes.push(...list.map((s) => `${s} (${resource})`));
  }
  return page('Authorize', `<p>Client <b>${escapeHtml(params.client_id)}</b> asks for:</p>
<ul>${scopes.map((s) => `<li>${escapeHtml(s)}</li>`).join('')}</ul>
<form method="post" action="/interaction/${uid}/confirm"><button type="submit">Allow</button></form>
<form method="post" action="/interaction/${uid}/abort"><button type="submit">Deny</button></form>`);
}

async function readForm(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

function send(res, status, body, type = 'text/html; charset=utf-8') {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
  res.end(body);
}

const server = http.createServer();
server.listen(Number(args.port), args.host, () => {
  const { port } = server.address();
  const issuer = `http://${args.host}:${port}`;

  const provider = new Provider(issuer, {
    clients: config.clients || [],
    jwks: { keys: config.keys || generatedKeys() },
    cookies: {
      // The app runs on the same host: keep clear of Django's `sessionid`/`csrftoken`.
      names: {
        session: '_idp_session',
        interaction: '_idp_interaction',
        resume: '_idp_interaction_resume',
      },
      keys: [crypto.randomBytes(32).toString('hex')],
    },
    async findAccount(_ctx, id) {
      const user = users.find((u) => u.sub === id);
      if (!user) return undefined;
      return {
        accountId: user.sub,
        async claims() {
          return {
            sub: user.sub,
            email: user.email,
            email_verified: true,
            name: [user.given_name, user.family_name].filter(Boolean).join(' '),
            given_name: user.given_name,
            family_name: user.family_name,
            preferred_username: user.username,
            groups: user.groups || [],
          };
        },
      };
    },
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['name', 'given_name', 'family_name', 'preferred_username'],
      groups: ['groups'],
    },
    // Put scope claims (groups, email) into the ID token too, as Keycloak and Entra do.
    conformIdTokenClaims: false,
    pkce: { required: () => true },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      introspection: { enabled: true },
      revocation: { enabled: true },
      rpInitiatedLogout: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: (_ctx, _client, oneOf) => oneOf,
        useGrantedResource: () => true,
        getResourceServerInfo(_ctx, resourceIndicator) {
          if (resourceIndicator !== apiAudience) throw new Provider.errors.InvalidTarget();
          return {
            scope: apiScopes,
            audience: apiAudience,
            accessTokenTTL: config.accessTokenTTL || 600,
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg: apiAlg } },
          };
        },
      },
    },
    ttl: {
      AccessToken: config.accessTokenTTL || 600,
      ClientCredentials: config.accessTokenTTL || 600,
      IdToken: 600,
      Interaction: 600,
      Session: 3600,
      Grant: 3600,
      AuthorizationCode: 60,
    },
  });
  provider.on('server_error', (_ctx, err) => console.error('server_error', err));

  let requests = 0;
  const providerCallback = provider.callback();

  async function interaction(req, res, uid, action) {
    const details = await provider.interactionDetails(req, res);
    if (details.uid !== uid) return send(res, 400, page('Error', '<p>Interaction mismatch.</p>'));
    const { prompt, params } = details;
    if (req.method === 'GET' && !action) {
      if (prompt.name === 'login') return send(res, 200, loginPage(uid, params));
      return send(res, 200, consentPage(uid, params, prompt.details));
    }
    if (req.method !== 'POST') return send(res, 405, 'method not allowed', 'text/plain');
    const form = await readForm(req);
    if (action === 'abort') {
      return provider.interactionFinished(req, res, {
        error: 'access_denied',
        error_description: 'The user cancelled.',
      }, { mergeWithLastSubmission: false });
    }
    if (action === 'login') {
      const login = (form.get('login') || '').trim().toLowerCase();
      const user = users.find(
        (u) => u.username?.toLowerCase() === login || u.email?.toLowerCase() === login,
      );
      const ok = user && user.password && crypto.timingSafeEqual(
        crypto.createHash('sha256').update(form.get('password') || '').digest(),
        crypto.createHash('sha256').update(user.password).digest(),
      );
      if (!ok) return send(res, 200, loginPage(uid, params, 'Wrong username or password.'));
      return provider.interactionFinished(req, res, { login: { accountId: user.sub } }, {
        mergeWithLastSubmission: false,
      });
    }
    if (action === 'confirm' && prompt.name === 'consent') {
      const { accountId } = details.session;
      const grant = details.grantId
        ? await provider.Grant.find(details.grantId)
        : new provider.Grant({ accountId, clientId: params.client_id });
      const d = prompt.details;
      if (d.missingOIDCScope) grant.addOIDCScope(d.missingOIDCScope.join(' '));
      if (d.missingOIDCClaims) grant.addOIDCClaims(d.missingOIDCClaims);
      for (const [indicator, scopes] of Object.entries(d.missingResourceScopes || {})) {
        grant.addResourceScope(indicator, scopes.join(' '));
      }
      const grantId = await grant.save();
      return provider.interactionFinished(req, res, { consent: { grantId } }, {
        mergeWithLastSubmission: true,
      });
    }
    return send(res, 400, page('Error', '<p>Unexpected step.</p>'));
  }

  server.on('request', async (req, res) => {
    if (req.url === '/__test/requests') {
      return send(res, 200, JSON.stringify({ count: requests }), 'application/json');
    }
    const userUpdate = req.url.match(/^\/__test\/users\/([^/?]+)$/);
    if (userUpdate && req.method === 'PUT') {
      // Tests change the directory between two logins (e.g. remove someone from a group).
      const user = users.find((u) => u.sub === decodeURIComponent(userUpdate[1]));
      if (!user) return send(res, 404, '{}', 'application/json');
      const chunks = [];
      for await (const chunk of req) chunks.push(chunk);
      Object.assign(user, JSON.parse(Buffer.concat(chunks).toString('utf8')));
      return send(res, 200, JSON.stringify(user), 'application/json');
    }
    requests += 1;
    const match = req.url.match(/^\/interaction\/([\w-]+)(?:\/(login|confirm|abort))?(?:\?.*)?$/);
    if (!match) return providerCallback(req, res);
    try {
      return await interaction(req, res, match[1], match[2]);
    } catch (err) {
      return send(res, 400, page('Error', `<p>${escapeHtml(err.message)}</p>`));
    }
  });

  console.log(`READY ${issuer}`);
});

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    server.close();
    process.exit(0);
  });
}
