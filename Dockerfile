# syntax=docker/dockerfile:1
# Thi Đua Bot: one process per container, `thidua run --webhook` unless told otherwise
# (`docker run IMAGE db backup`, `… sender`). Nothing secret is baked in: tokens and the
# database password arrive as environment variables when the container starts.

FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY handlers ./handlers
COPY scheduler ./scheduler
COPY reporting ./reporting
COPY models ./models
COPY templates ./templates
COPY migrations ./migrations
COPY fakes ./fakes
# A virtualenv is one folder to copy into the runtime stage, without pip's caches or
# the sources it was built from.
RUN python -m venv /opt/venv \
    && /opt/venv/bin/pip install --no-cache-dir --disable-pip-version-check .

FROM python:3.11-slim
# The PostgreSQL client for `thidua db backup|restore` (pg_dump, pg_restore). Bookworm's
# is version 15, the server's in docker-compose.yml: pg_dump refuses a newer server.
# Unpinned on purpose: Debian's security updates within bookworm should come in.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends postgresql-client \
    && rm -rf /var/lib/apt/lists/*
# A fixed numeric id: volumes keep their owner across rebuilds, and Kubernetes'
# runAsNonRoot can check it.
RUN groupadd --system --gid 10001 thidua \
    && useradd --system --uid 10001 --gid thidua --home-dir /var/lib/thidua --create-home thidua \
    && install -d -o thidua -g thidua /var/lib/thidua/backups
COPY --from=build /opt/venv /opt/venv
COPY config.yaml /etc/thidua/config.yaml
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    THIDUA_CONFIG=/etc/thidua/config.yaml \
    THIDUA_HTTP_LISTEN=0.0.0.0:8080
# The working folder is the bot's own: an SQLite file (the default URL), media and
# backups written without --out land here; mount a volume on it to keep them.
WORKDIR /var/lib/thidua
USER 10001:10001
EXPOSE 8080
# /healthz on the bot's own HTTP server, wherever THIDUA_HTTP_LISTEN puts it; a 503 or
# no answer fails the check. Python, not curl: the slim image has no curl.
HEALTHCHECK --interval=30s --timeout=5s --start-period=90s --retries=3 \
    CMD python -c "import os, urllib.request as u; a = os.environ.get('THIDUA_HTTP_LISTEN') or os.environ.get('THIDUA_WEBHOOK_LISTEN') or '0.0.0.0:8080'; h, _, p = a.rpartition(':'); h = '127.0.0.1' if h in ('0.0.0.0', '', '::', '[::]') else h; u.urlopen(f'http://{h}:{p}/healthz', timeout=4)"
ENTRYPOINT ["thidua"]
CMD ["run", "--webhook"]
