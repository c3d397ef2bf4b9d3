"""demo/test_demo.sh's look at the page scripts/demo serves: python demo/check_web.py URL
EMULATOR_URL. Loads the page and its config, asks for a token as the page does (same origin,
JSON, the demo's sign-in cookie), and reads from the emulator's request journal what the
demo sent iProov for it."""

import json
import sys
import urllib.request
from http.cookiejar import CookieJar

url, emulator = sys.argv[1:3]
origin = url.split("/iproov/")[0]
cookies = CookieJar()
opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(cookies))
page = opener.open(url, timeout=10).read().decode()
assert "<h1>Face check</h1>" in page, page[:200]
assert json.load(opener.open(url + "config", timeout=10)) == {"stand_in": True}
request = urllib.request.Request(
    url + "token",
    data=b'{"flow": "enrol"}',
    method="POST",
    headers={"Content-Type": "application/json", "Origin": origin},
)
started = json.load(opener.open(request, timeout=30))
assert started["attempt"] == 1 and len(started["token"]) == 64, started

# What iProov got (the emulator's request journal, credentials masked): one token request, for
# the user the demo's sign-in cookie names.
user = next(c.value for c in cookies if c.name == "demo_user")
sent = json.load(urllib.request.urlopen(emulator + "/__emulator/journal", timeout=10))["requests"]
assert [r["path"] for r in sent] == ["/eu/api/v2/claim/enrol/token"], sent
assert (sent[0]["json"]["user_id"], sent[0]["json"]["secret"]) == (user, "***"), sent[0]
