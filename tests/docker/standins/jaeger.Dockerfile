# Stand-in for jaegertracing/jaeger:2.1.0: OTLP/HTTP in, Jaeger's query API and health check out
# (jaeger-standin.ts says which contracts it keeps). Runs as the official image's user 10001.
FROM node:24.21.0-bookworm-slim
COPY jaeger-standin.ts /jaeger/standin.ts
COPY otlp-protobuf.ts protobuf-reader.ts /jaeger/
USER 10001
EXPOSE 4318 13133 16686
ENTRYPOINT ["node", "--disable-warning=ExperimentalWarning", "/jaeger/standin.ts"]
