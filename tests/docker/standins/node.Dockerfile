# Stand-in for node:24.21.0-bookworm-slim (the base of our Dockerfile): Debian bookworm minbase with
# the npm registry's Node 24.21.0 and npm at the official image's paths, user node (uid 1000), and
# the host's CA bundle, so `npm ci` inside a build trusts the TLS-intercepting proxy here.
FROM tps-standin/bookworm:minbase
COPY node /usr/local/bin/node
COPY npm /usr/local/lib/node_modules/npm
COPY ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \
 && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx \
 && groupadd --gid 1000 node && useradd --uid 1000 --gid node --shell /bin/bash --create-home node \
 && node --version
ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt
CMD ["node"]
