# Stand-in for prom/prometheus:v2.55.1: Debian's prometheus and promtool (2.42) at the official
# image's paths, user nobody, working directory and data volume /prometheus.
FROM tps-standin/bookworm:minbase
COPY prometheus promtool /bin/
RUN mkdir -p /prometheus /etc/prometheus && chown -R nobody:nogroup /prometheus /etc/prometheus
USER nobody
EXPOSE 9090
VOLUME ["/prometheus"]
WORKDIR /prometheus
ENTRYPOINT ["/bin/prometheus"]
CMD ["--config.file=/etc/prometheus/prometheus.yml", "--storage.tsdb.path=/prometheus"]
