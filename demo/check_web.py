"""demo/test_demo.sh's look at the page scripts/demo serves: python demo/check_web.py URL.
Loads the page and its config, and asks for a token as the page does (same origin, JSON, the
demo's sign-in cookie)."""

import json
import sys
import urllib.request
from http.cookiejar import CookieJar

url = sys.argv[1]
origin = url.split("/iproov/")[0]
opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
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
