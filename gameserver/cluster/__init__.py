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
- ``node.py``        one node of a cluster: what ``serve --redis`` runs beside the server
- ``room_logs.py``   the rooms' match logs on streams (``rooms.journal.MatchLogs``)
- ``lobby_registry.py`` the lobby's public rooms and invite codes in Redis, and the
                     mirror of the other nodes' (``rooms.lobby.RoomDirectory``)
- ``bus.py``         messages between nodes, one Redis stream per node
- ``rooms_elsewhere.py`` a player's requests for rooms of other nodes
                     (``sessions.elsewhere.RoomsElsewhere``)
- ``remote_members.py`` this node's rooms serving players who are elsewhere
- ``takeover.py``    claiming and rebuilding the rooms of nodes that are gone
- ``urls.py``        ``redis://HOST:PORT/DB#MATCH_ID`` as the replay command reads it
- ``extra.py``       whether the extra is installed, and what to tell the user if not
- ``errors.py``      the exceptions, drawn as a tree
"""
