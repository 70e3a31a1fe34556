"""Register the Redis results block every worker reads and writes (`make up`, compose).

    python deployments/blocks.py redis://host:6379/0

saves `redis-database/ytmaker-results` (prefect-redis's RedisDatabase) with a key TTL, so task
results shared by all workers do not grow without end. Workers then run with
PREFECT_RESULTS_DEFAULT_STORAGE_BLOCK=redis-database/ytmaker-results.
"""

from __future__ import annotations

import os
import sys

from prefect_redis import RedisDatabase

BLOCK = "ytmaker-results"
# Long enough to resume a project after a weekend; a result gone only costs a cheap task
# re-run (the files and their fingerprints still say what is made).
DEFAULT_TTL = 14 * 24 * 3600


def register(url: str, ttl: int) -> str:
    RedisDatabase(connection_url=url, key_ttl=ttl).save(BLOCK, overwrite=True)
    return f"redis-database/{BLOCK}"


def main(argv: list[str]) -> None:
    if len(argv) != 1:
        raise SystemExit("usage: python deployments/blocks.py REDIS_URL")
    ttl = int(os.environ.get("YTMAKER_RESULTS_TTL", DEFAULT_TTL))
    print(f"Results in Redis: block {register(argv[0], ttl)} (key TTL {ttl} s)")


if __name__ == "__main__":
    main(sys.argv[1:])
