// The server's API with the device key: timeouts, and errors as values with a type.
// The key goes in the Authorization header only, never in a URL.

const TIMEOUT_MS = 15000;

export class Offline extends Error {}

export class ApiError extends Error {
  constructor(status, problem) {
    super((problem && (problem.detail || problem.title)) || `HTTP ${status}`);
    this.status = status;
    this.code = problem ? problem.code : null;
    this.errors = problem ? problem.errors : null;
  }
}

export class Api {
  constructor(server, key) {
    this.server = server.replace(/\/+$/, "");
    this.key = key;
  }

  async call(method, path, { body, headers = {} } = {}) {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), TIMEOUT_MS);
    const init = { method, signal: controller.signal, cache: "no-store",
                   headers: { Authorization: `Bearer ${this.key}`, ...headers } };
    if (body !== undefined) {
      init.body = JSON.stringify(body);
      init.headers["Content-Type"] = "application/json";
    }
    let response;
    try {
      response = await fetch(this.server + path, init);
    } catch (error) {
      throw new Offline(error.name === "AbortError" ? "The server did not answer." : error.message);
    } finally {
      clearTimeout(timer);
    }
    return this.read(response);
  }

  async read(response) {
    if (response.status === 304) return { notModified: true };
    const text = await response.text();
    let data = null;
    try { data = text ? JSON.parse(text) : null; } catch (_) { data = null; }
    if (response.status >= 502 && response.status <= 504) throw new Offline(`HTTP ${response.status}`);
    if (!response.ok) throw new ApiError(response.status, data);
    return { data, etag: response.headers.get("ETag") };
  }

  async me() { return (await this.call("GET", "/api/v1/me")).data; }

  async push(deviceId, mutations) {
    const answer = await this.call("POST", "/api/v1/sync/push",
      { body: { device_id: deviceId, mutations } });
    return answer.data.results;
  }

  // One page of changes; null when the server says nothing changed (304).
  async pull(cursor, limit, etag) {
    const query = new URLSearchParams({ limit: String(limit) });
    if (cursor) query.set("cursor", cursor);
    const answer = await this.call("GET", `/api/v1/sync/pull?${query}`,
      { headers: etag ? { "If-None-Match": etag } : {} });
    if (answer.notModified) return null;
    return { ...answer.data, etag: answer.etag };
  }

  async contactOptions(customerId, purpose, requestId = null) {
    const query = new URLSearchParams({ purpose });
    if (requestId) query.set("request_id", requestId);
    const path = `/api/v1/customers/${encodeURIComponent(customerId)}/contact-options?${query}`;
    return (await this.call("GET", path)).data;
  }

  async lexicon() { return (await this.call("GET", "/tablet/lexicon.json")).data; }
}
