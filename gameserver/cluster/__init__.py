"""Cluster mode: many server processes share one Redis (``gameserver serve --redis URL``).

Imported only in cluster mode. Nothing here imports the Redis client at module level
except ``coredis_api.py``, which ``redis_api.open_redis`` loads on first use, so the
default single-process install never needs the ``gameserver[cluster]`` extra.

- ``keys.py``        the key layout in Redis (documented in docs/cluster.md)
- ``redis_api.py``   the small interface every Redis call goes through
- ``coredis_api.py`` its implementation on coredis (the only import of the client)
- ``scripts.py``     the Lua scripts that make each check-and-write atomic in Redis
- ``leases.py``      node leases and room ownership (claim, heartbeat, release)
- ``match_stream.py`` match logs as Redis streams, with the fenced append
- ``urls.py``        ``redis://HOST:PORT/DB#MATCH_ID`` as the replay command reads it
- ``extra.py``       whether the extra is installed, and what to tell the user if not
- ``errors.py``      the exceptions, drawn as a tree
"""
