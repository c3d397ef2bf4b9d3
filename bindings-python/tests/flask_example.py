"""bindings-python/README.md's Flask example as written (its ``# app.py`` block), served by
werkzeug's threaded server on 127.0.0.1 from the current directory (its SQLite file lands
there), its user from the example's own stand-in login (``DEV_LOGIN=1`` and a ``dev_user``
cookie): this file adds no login. Prints ``open http://127.0.0.1:PORT/iproov/``.
Run by test_flask.py and the Chromium tests (tests/web/e2e.test.mjs); the environment gives
FLASK_SECRET_KEY, DEV_LOGIN and the client's IPROOV_* (and IPROOV_EMULATOR_URL)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Dict

README = Path(__file__).resolve().parents[1] / "README.md"


def readme_app() -> Any:
    blocks = re.findall(r"^```python\n(.*?)^```", README.read_text(encoding="utf-8"), flags=re.S | re.M)
    [block] = [b for b in blocks if b.startswith("# app.py\n")]
    scope: Dict[str, Any] = {"__name__": "app"}
    exec(compile(block, "README.md Flask example", "exec"), scope)
    return scope["app"]


def main() -> None:
    from werkzeug.serving import make_server

    app = readme_app()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    print(f"open http://127.0.0.1:{server.server_port}/iproov/", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
