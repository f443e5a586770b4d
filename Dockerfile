# syntax=docker/dockerfile:1
# Gavel's image: built from source in a JDK stage, run on a JRE as a non-root user.
#   docker build -t gavel .
#   docker run -p 8080:8080 -e REDIS_URL=redis://redis:6379 -e NODE_ID=gavel-0 gavel
# docs/deploy.md explains each choice; DeployFilesTest (modules/deploy) checks this file.

FROM maven:3.9-eclipse-temurin-17 AS build
# npm: the build copies socket.io-client's browser bundle (live view) and d3-geo with the world map (dashboard) into
# the jar, and puts a country database beside it (modules/server/js)
RUN apt-get update && apt-get install -y --no-install-recommends nodejs npm && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# Every module's pom first: the reactor needs them all, and this layer (with the Maven cache) survives source edits.
COPY pom.xml ./
COPY modules/core/pom.xml modules/core/
COPY modules/redis/pom.xml modules/redis/
COPY modules/server/pom.xml modules/server/
COPY modules/testkit/pom.xml modules/testkit/
COPY modules/bench/pom.xml modules/bench/
COPY modules/server/js/package.json modules/server/js/package-lock.json modules/server/js/world.js modules/server/js/
COPY modules/core/src modules/core/src
COPY modules/redis/src modules/redis/src
COPY modules/server/src modules/server/src
# gavel_build_info's commit: the context has no .git, so `docker build --build-arg GAVEL_COMMIT=$(git rev-parse --short=12 HEAD)`
ARG GAVEL_COMMIT=""
RUN --mount=type=cache,target=/root/.m2 \
    mvn -B -q package -pl modules/server -am -DskipTests -DskipITs

FROM eclipse-temurin:17-jre
# A fixed numeric uid: Kubernetes' runAsNonRoot can only verify a numeric USER.
RUN groupadd --system --gid 10001 gavel \
 && useradd --system --uid 10001 --gid gavel --home-dir /app --no-create-home --shell /usr/sbin/nologin gavel
WORKDIR /app
COPY --from=build /src/modules/server/target/gavel.jar /app/gavel.jar
# Viewers' countries (GEOIP_DB): a redistributable database with its licence; docs/operations.md says how to mount a
# fresher one, and GEOIP_DB= (empty) turns lookups off.
COPY --from=build /src/modules/server/target/geoip/ /app/geoip/
USER 10001:10001
ENV PORT=8080 GEOIP_DB=/app/geoip/geo-whois-asn-country.mmdb
EXPOSE 8080
# bash's /dev/tcp rather than curl: the JRE image does not promise curl, and a JVM per check would cost more
# than the check. Any answer but 200 (503 while stopping, full or overloaded; never for Redis, which every replica
# shares) marks the container unhealthy.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
    CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/${PORT:-8080} && printf 'GET /health/ready HTTP/1.0\\r\\nHost: localhost\\r\\n\\r\\n' >&3 && read -r status <&3 && [[ $status == *' 200 '* ]]"]
# The JVM is PID 1 and gets SIGTERM itself (exec form, no shell): it runs the node's graceful stop.
# Heap: 60% of the container's memory limit (the JVM reads the cgroup limit); the rest is Netty's direct
# buffers, metaspace, thread stacks and the page cache. Out of memory: exit, and let the orchestrator restart.
ENTRYPOINT ["java", "-XX:MaxRAMPercentage=60", "-XX:InitialRAMPercentage=60", "-XX:+ExitOnOutOfMemoryError", "-jar", "/app/gavel.jar"]
