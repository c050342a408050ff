# canaryd's image: built on Debian 12 with the same packages scripts/setup installs, run on
# Debian 12 slim with only the shared libraries canaryd links (its NEEDED entries: curl,
# yaml-cpp, spdlog, fmt, prometheus-cpp core, libgit2, OpenSSL's libcrypto; tests/deploy/image_deps_test.sh checks
# this list against the binary), as a non-root user. Write-back clones go to /tmp, which the
# Deployment mounts as an emptyDir (the root filesystem is read-only).
#   docker build -t canaryd .
FROM debian:12 AS build
RUN apt-get update && apt-get install -y --no-install-recommends \
      build-essential cmake ninja-build pkg-config \
      libcurl4-openssl-dev libyaml-cpp-dev nlohmann-json3-dev libeigen3-dev libspdlog-dev \
      libfmt-dev libboost-dev libboost-math-dev libcli11-dev libgit2-dev libssl-dev \
      libprometheus-cpp-dev libgtest-dev libgmock-dev libbenchmark-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cmake -S . -B /build -G Ninja -DCMAKE_BUILD_TYPE=Release -DCANARYD_TESTS=OFF \
    && cmake --build /build --target canaryd \
    && strip /build/canaryd

FROM debian:12-slim
RUN apt-get update && apt-get install -y --no-install-recommends \
      ca-certificates libcurl4 libyaml-cpp0.7 libspdlog1.10 libfmt9 libprometheus-cpp-core1.0 \
      libgit2-1.5 libssl3 \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /build/canaryd /usr/local/bin/canaryd
USER 65532:65532
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/canaryd"]
CMD ["run"]
