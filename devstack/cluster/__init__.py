"""The production layout on one machine: PostgreSQL, Redis, two action servers, two Rasa replicas, the web app, nginx.

    PostgreSQL (5433) ─┐                    ┌─ Rasa replica A (5006) ─┐
    Redis      (6380) ─┼─ shared state ──── ┤                         ├─ nginx 127.0.0.1:5058 ─┬─ action server (5056)
                       │                    └─ Rasa replica B (5007) ─┘   (internal)           └─ action server (5057)
    nginx :8088 ── /webhooks/rest/, /webhooks/wechat/ → replicas round-robin
                ── /socket.io/ → replicas, sticky by client IP (ip_hash), WebSocket upgrade
                ── /, /staff/, /api/ → web app (WEB_PORT, 8080)

`make run-prod` runs devstack.cluster.run; tests/prod start a `Cluster` on free ports in a temporary folder.
"""
