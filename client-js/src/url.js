// URL layout of a tether mount (SPEC.md §5): every endpoint is the mount
// URL plus one path segment, with the mount URL's own query kept (apps
// read it in their handler, e.g. an auth token).

/**
 * mount resolves the URL given to `new Tether` against the page's location
 * and returns {base, query}: base without a trailing slash, query without
 * its '?'. ws:// and wss:// are accepted as http:// and https://.
 */
export function mount(url, loc) {
  let u = String(url).replace(/#.*$/, '');
  if (/^wss?:/i.test(u)) u = 'http' + u.slice(2);
  if (!/^https?:\/\//i.test(u)) {
    if (!loc || !loc.host) throw new Error('tether: a relative URL needs a page location: ' + url);
    if (u.slice(0, 2) === '//') u = loc.protocol + u;
    else if (u[0] === '/') u = loc.protocol + '//' + loc.host + u;
    else u = loc.protocol + '//' + loc.host + loc.pathname.replace(/[^/]*$/, '') + u;
  }
  const q = u.indexOf('?');
  return {
    base: (q < 0 ? u : u.slice(0, q)).replace(/\/+$/, ''),
    query: q < 0 ? '' : u.slice(q + 1),
  };
}

/** endpoint returns the URL of one endpoint, with params (an object) in its query. */
export function endpoint(m, name, params) {
  const parts = [];
  for (const k in params) {
    if (params[k] !== undefined && params[k] !== null) parts.push(k + '=' + encodeURIComponent(params[k]));
  }
  if (m.query) parts.push(m.query);
  return m.base + '/' + name + (parts.length ? '?' + parts.join('&') : '');
}

/** wsEndpoint returns the WebSocket URL of the mount. */
export function wsEndpoint(m) {
  return m.base.replace(/^http/i, 'ws') + '/websocket' + (m.query ? '?' + m.query : '');
}
