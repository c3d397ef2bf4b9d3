// The Chromium tests' stand-in for an application's auth, imported as './auth.js' by the
// README's worker and Node examples: the user_id in an `e2e_user` cookie, which each test sets
// in its fresh browser profile (its "login"). Takes a fetch Request or Node's req.
export function currentUser(request) {
  const headers = request.headers;
  const cookie = (typeof headers.get === 'function' ? headers.get('cookie') : headers.cookie) ?? '';
  return /(?:^|;\s*)e2e_user=([\w-]+)/.exec(cookie)?.[1] ?? null;
}
