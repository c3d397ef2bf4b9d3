"""One process of the validate race (test_journeys.py): makes its own client and PostgreSQL
store, prints "ready" and waits for a line on stdin (so that every process starts its
journeys at once), then finishes every journey it is given and prints {journey_id: outcome}.
Argument: JSON {base_url, postgres, journeys: [[id, token]], policy?, quick?, timeout? (the
client's, in s)}."""

import json
import sys

import iproov_sansio as ip
from iproov_sansio.httpx import Client
from iproov_sansio.journeys import JourneyService
from iproov_sansio.stores import PostgresStore

EU = {"api_key": "eudefaultkey0000000000000000000000000000", "secret": "eudefaultsecret0000000000000000000000000"}

args = json.loads(sys.argv[1])
seen = {}
# "quick": the client of a test that needs a short stale limit (1 s, no retry); "timeout": of
# a test whose validate the emulator holds until it releases it.
options = {"timeout": 1.0, "retry": ip.RetryPolicy(max_retries=0)} if args.get("quick") else {}
if "timeout" in args:
    options["timeout"] = args["timeout"]
with Client(base_url=args["base_url"], **EU, **options) as client:
    service = JourneyService(client, PostgresStore(args["postgres"]), policy=args.get("policy"), spool=False)
    print("ready", flush=True)
    sys.stdin.readline()
    for journey_id, token in args["journeys"]:
        try:
            result = service.finish(journey_id, token, "race")
            seen[journey_id] = "passed" if result["passed"] else result["state"]
        except ip.InvalidStateError:
            seen[journey_id] = "in_progress"
print(json.dumps(seen))
