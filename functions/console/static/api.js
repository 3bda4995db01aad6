// The one API helper: fetch, JSON, the bearer token when signed in, and the API's error (its
// message and hint) shown where the person is looking. Screens never call fetch themselves.
import { auth } from "./auth.js";
import { showError } from "./ui.js";

export class ApiError extends Error {
  constructor(status, code, message, hint, body) {
    super(message);
    this.status = status;
    this.code = code;
    this.hint = hint || null;
    this.body = body;
  }
}

const FALLBACK_HINTS = {
  0: "Check that the service is running and reachable, then try again.",
  401: "Your sign-in has expired: sign in again.",
  403: "Your account may view but not operate this integration; ask an administrator.",
};

export async function api(path, { method = "GET", body, quiet = false } = {}) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const token = await auth.accessToken();
  if (token) headers.Authorization = `Bearer ${token}`;
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "same-origin",
    });
  } catch (error) {
    const failure = new ApiError(0, "network", `The API could not be reached (${error.message}).`, FALLBACK_HINTS[0]);
    if (!quiet) showError(failure);
    throw failure;
  }
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!response.ok) {
    const detail = (data && data.error) || {};
    const failure = new ApiError(
      response.status,
      detail.code || `http_${response.status}`,
      detail.message || `${method} ${path} answered ${response.status}.`,
      detail.hint || FALLBACK_HINTS[response.status],
      data,
    );
    if (!quiet) showError(failure);
    if (response.status === 401 && auth.enabled) auth.signIn();
    throw failure;
  }
  return data;
}

// Every page of a paged list: `next_token` is passed back until the answer carries none.
export async function allPages(path, key) {
  const found = [];
  let token = null;
  let first = null;
  do {
    const sep = path.includes("?") ? "&" : "?";
    const page = await api(token ? `${path}${sep}next_token=${encodeURIComponent(token)}` : path);
    first = first || page;
    found.push(...(page[key] || []));
    token = page.next_token || null;
  } while (token);
  return { first, items: found };
}
