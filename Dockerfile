# Dockerfile: the studio (`tether serve`) in a container, built in two
# stages from debian:bookworm-slim.  No registry is needed: make that base
# locally from Debian's archive with mmdebstrap (scripts/docker-test-env
# base TAR does it), e.g.
#   mmdebstrap --variant=minbase bookworm - | docker import - debian:bookworm-slim
#   docker build --network host -t tether .
# Stage "build" installs the compiler and the -dev packages and builds only
# the program (meson, release); stage "runtime" installs only the shared
# libraries the program links (and curl for the health check), adds a
# non-root user "tether" in group plugdev (which may open the camera's USB
# nodes), and runs `tether serve` on /photos.  SIGTERM stops it cleanly:
# a photo is written under a temporary name and renamed when whole, so a
# stop leaves no partial file.
#
# Run it (README.md, "Deployment"):
#   docker run -d --name tether --network host \
#     --device-cgroup-rule 'c 189:* rmw' -v /dev/bus/usb:/dev/bus/usb \
#     -v /srv/tether/photos:/photos -e TETHER_TOKEN=... tether \
#     serve --listen 0.0.0.0:8080 --photos /photos

FROM debian:bookworm-slim AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      gcc libc6-dev pkg-config meson ninja-build python3 \
      libgphoto2-dev libjpeg62-turbo-dev libmicrohttpd-dev libjansson-dev \
      libcurl4-openssl-dev libgexiv2-dev libsqlite3-dev libmosquitto-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN meson setup /build --buildtype=release --prefix=/usr \
 && ninja -C /build tether \
 && strip /build/tether

FROM debian:bookworm-slim AS runtime
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      libgphoto2-6 libjpeg62-turbo libmicrohttpd12 libjansson4 libcurl4 \
      libgexiv2-2 libsqlite3-0 libmosquitto1 ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 tether \
 && useradd --system --uid 10001 --gid tether --groups plugdev \
      --home-dir /photos --no-create-home --shell /usr/sbin/nologin tether \
 && mkdir -p /photos && chown tether:tether /photos
COPY --from=build /build/tether /usr/bin/tether
# (a user without a group: Docker then adds the user's supplementary
# groups, plugdev among them)
USER tether
WORKDIR /photos
VOLUME /photos
EXPOSE 8080
STOPSIGNAL SIGTERM
# the port of --listen, read back from the process's own command line
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
  CMD port=$(tr '\0' '\n' </proc/1/cmdline | sed -n '/^--listen$/{n;s/.*://p}'); \
      curl -fsS -o /dev/null "http://127.0.0.1:${port:-8080}/healthz" || exit 1
ENTRYPOINT ["/usr/bin/tether"]
CMD ["serve", "--listen", "0.0.0.0:8080", "--photos", "/photos"]
