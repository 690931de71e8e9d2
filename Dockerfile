# newsmonitor daemon image: `docker compose up -d` (see docker-compose.yml).
FROM python:3.11-slim

WORKDIR /app
COPY pyproject.toml constraints.txt README.md ./
COPY monitor ./monitor
RUN pip install --no-cache-dir -c constraints.txt ".[postgres]"

# The shipped config, used when no config directory is mounted over /config.
COPY config /config

RUN useradd --system --uid 10001 --home /data newsmonitor \
    && mkdir -p /data && chown newsmonitor /data
USER newsmonitor
VOLUME ["/data"]

ENV NEWSMONITOR_CONFIG=/config/monitor.yaml \
    NEWSMONITOR_DATABASE=sqlite:////data/newsmonitor.db \
    PYTHONUNBUFFERED=1

# SIGTERM lets the daemon finish work in flight and exit 0.
STOPSIGNAL SIGTERM
ENTRYPOINT ["newsmonitor"]
CMD ["run"]
