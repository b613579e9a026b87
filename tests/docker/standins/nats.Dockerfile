# Stand-in for nats:2.10.24-alpine: Debian's nats-server (2.9.10) with the official image's
# entrypoint behaviour (arguments that start with "-" go to nats-server) and ports.
FROM tps-standin/bookworm:minbase
COPY nats-server /usr/local/bin/nats-server
COPY nats-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
EXPOSE 4222 6222 8222
ENTRYPOINT ["docker-entrypoint.sh"]
CMD ["nats-server", "--config", "/etc/nats/nats-server.conf"]
