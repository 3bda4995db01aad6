// Sign-in when the deployment names one (config.json's "auth"): OAuth 2.0 authorization code
// with PKCE against Cognito's hosted UI; tokens live in sessionStorage, so closing the tab signs
// out and no other site's script can read them from a cookie. With "auth": null (loopback) the
// console signs nobody in and sends no Authorization header.
const TOKENS = "ddhalo.tokens";
const PENDING = "ddhalo.pkce";
const EARLY_SECONDS = 60;

function b64url(bytes) {
  let text = "";
  for (const byte of new Uint8Array(bytes)) text += String.fromCharCode(byte);
  return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function randomText(size) {
  return b64url(crypto.getRandomValues(new Uint8Array(size)));
}

function redirectUri() {
  return `${location.origin}/`;
}

function readTokens() {
  try {
    return JSON.parse(sessionStorage.getItem(TOKENS) || "null");
  } catch {
    return null;
  }
}

function keep(answer, previous) {
  const tokens = {
    access_token: answer.access_token,
    id_token: answer.id_token || (previous && previous.id_token) || null,
    refresh_token: answer.refresh_token || (previous && previous.refresh_token) || null,
    expires_at: Date.now() / 1000 + Number(answer.expires_in || 3600),
  };
  sessionStorage.setItem(TOKENS, JSON.stringify(tokens));
  return tokens;
}

export const auth = {
  enabled: false,
  config: null,

  async init(config) {
    this.config = config;
    this.enabled = Boolean(config && config.domain && config.client_id);
    if (!this.enabled) return;
    const params = new URLSearchParams(location.search);
    if (params.has("code") && params.has("state")) {
      await this.finish(params.get("code"), params.get("state"));
    }
    if (!readTokens()) this.signIn();
  },

  async token(form) {
    const response = await fetch(`https://${this.config.domain}/oauth2/token`, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ client_id: this.config.client_id, ...form }),
    });
    if (!response.ok) throw new Error(`Sign-in failed (${response.status}).`);
    return response.json();
  },

  async finish(code, state) {
    const pending = JSON.parse(sessionStorage.getItem(PENDING) || "null");
    sessionStorage.removeItem(PENDING);
    if (!pending || pending.state !== state) throw new Error("The sign-in answer does not match this tab's request.");
    const answer = await this.token({
      grant_type: "authorization_code",
      code,
      redirect_uri: redirectUri(),
      code_verifier: pending.verifier,
    });
    keep(answer, null);
    history.replaceState(null, "", `/${pending.hash || "#/connect"}`);
  },

  async accessToken() {
    if (!this.enabled) return null;
    const tokens = readTokens();
    if (!tokens) return null;
    if (tokens.expires_at - EARLY_SECONDS > Date.now() / 1000) return tokens.access_token;
    if (tokens.refresh_token) {
      try {
        return keep(await this.token({ grant_type: "refresh_token", refresh_token: tokens.refresh_token }), tokens)
          .access_token;
      } catch {
        sessionStorage.removeItem(TOKENS);
      }
    }
    this.signIn();
    return null;
  },

  async signIn() {
    const verifier = randomText(48);
    const state = randomText(16);
    const challenge = b64url(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)));
    sessionStorage.setItem(PENDING, JSON.stringify({ verifier, state, hash: location.hash }));
    const query = new URLSearchParams({
      response_type: "code",
      client_id: this.config.client_id,
      redirect_uri: redirectUri(),
      scope: (this.config.scopes || ["openid"]).join(" "),
      state,
      code_challenge: challenge,
      code_challenge_method: "S256",
    });
    location.assign(`https://${this.config.domain}/oauth2/authorize?${query}`);
  },

  signOut() {
    sessionStorage.removeItem(TOKENS);
    const query = new URLSearchParams({ client_id: this.config.client_id, logout_uri: redirectUri() });
    location.assign(`https://${this.config.domain}/logout?${query}`);
  },
};
