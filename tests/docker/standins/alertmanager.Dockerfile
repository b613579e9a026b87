# Stand-in for prom/alertmanager:v0.27.0: Debian's prometheus-alertmanager (0.25) and amtool at the
# official image's paths, user nobody, working directory and data volume /alertmanager. Debian's
# build reads its notification template from /usr/share/prometheus/alertmanager/.
FROM tps-standin/bookworm:minbase
COPY alertmanager amtool /bin/
COPY default.tmpl email.tmpl /usr/share/prometheus/alertmanager/
RUN mkdir -p /alertmanager /etc/alertmanager && chown -R nobody:nogroup /alertmanager /etc/alertmanager
USER nobody
EXPOSE 9093
VOLUME ["/alertmanager"]
WORKDIR /alertmanager
ENTRYPOINT ["/bin/alertmanager"]
CMD ["--config.file=/etc/alertmanager/alertmanager.yml", "--storage.path=/alertmanager"]
