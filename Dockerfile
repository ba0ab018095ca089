# syntax=docker/dockerfile:1
# One Plateau image; its entry is the `plateau` binary, so the container's arguments choose the role:
#   coordinator | worker | job submit … | local …   (docs/kubernetes.md)
# CPU (default):  docker build -t plateau:cpu .
# CUDA:           docker build --build-arg PLATEAU_DEVICE=cuda -t plateau:cuda .
# The CUDA variant references TorchSharp-cuda-linux (-p:PlateauCuda=true) instead of libtorch-cpu.
ARG PLATEAU_DEVICE=cpu

# Every stage is Ubuntu 24.04 (noble): the runtime's libstdc++ is the one the build checked
# (build/WeakenGlibcxxNeed.targets), and libturbojpeg comes from the same archive.
FROM mcr.microsoft.com/dotnet/sdk:10.0-noble AS build
ARG PLATEAU_DEVICE
WORKDIR /src
# Restore layer: only what restore reads, so a source change does not download packages again.
COPY global.json Directory.Build.props Directory.Build.targets Directory.Packages.props ./
COPY build/ build/
COPY src/Cli/Plateau.Cli.csproj src/Cli/
COPY src/Cluster/Plateau.Cluster.csproj src/Cluster/
COPY src/Collective/Plateau.Collective.csproj src/Collective/
COPY src/Contracts/Plateau.Contracts.csproj src/Contracts/
COPY src/Coordinator/Plateau.Coordinator.csproj src/Coordinator/
COPY src/Data/Plateau.Data.csproj src/Data/
COPY src/Kubernetes/Plateau.Kubernetes.csproj src/Kubernetes/
COPY src/Models/Plateau.Models.csproj src/Models/
COPY src/Protos/Plateau.Protos.csproj src/Protos/
COPY src/ServiceDefaults/Plateau.ServiceDefaults.csproj src/ServiceDefaults/
COPY src/Worker/Plateau.Worker.csproj src/Worker/
RUN cuda=false; if [ "$PLATEAU_DEVICE" = "cuda" ]; then cuda=true; fi; \
    dotnet restore src/Cli/Plateau.Cli.csproj -p:PlateauCuda=$cuda
COPY src/ src/
RUN cuda=false; if [ "$PLATEAU_DEVICE" = "cuda" ]; then cuda=true; fi; \
    dotnet publish src/Cli/Plateau.Cli.csproj -c Release --no-restore -o /app -p:PlateauCuda=$cuda

# CPU runtime: the ASP.NET Core runtime image (it has the non-root user app, uid 1654).
FROM mcr.microsoft.com/dotnet/aspnet:10.0-noble AS runtime-cpu
# libturbojpeg: the data pipeline's fast JPEG decoder (libturbojpeg.so.0).
RUN apt-get update \
    && apt-get install -y --no-install-recommends libturbojpeg \
    && rm -rf /var/lib/apt/lists/*

# CUDA runtime: NVIDIA's CUDA + cuDNN runtime with the same .NET runtime copied in.
FROM nvidia/cuda:12.8.1-cudnn-runtime-ubuntu24.04 AS runtime-cuda
RUN apt-get update \
    && apt-get install -y --no-install-recommends libturbojpeg ca-certificates libssl3t64 zlib1g tzdata \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --uid 1654 --user-group --no-create-home --home-dir /app app
COPY --from=mcr.microsoft.com/dotnet/aspnet:10.0-noble /usr/share/dotnet /usr/share/dotnet
RUN ln -s /usr/share/dotnet/dotnet /usr/bin/dotnet
ENV DOTNET_ROOT=/usr/share/dotnet

FROM runtime-${PLATEAU_DEVICE} AS runtime
WORKDIR /app
COPY --from=build --chown=root:root /app .
# Mount point for datasets (job specs name paths such as /data/imagenet) and the coordinator's state.
RUN mkdir -p /data && chown 1654:1654 /data
# 5100 gRPC JobService (coordinator) · 5101 /health, /alive (coordinator; workers with
# Plateau:Worker:HealthPort=5101) · 11111 Orleans silo · 30000 Orleans gateway (coordinator) ·
# 7000-7007 data plane (worker device i at Plateau:Worker:DataPlanePort + i).
EXPOSE 5100 5101 11111 30000 7000-7007
USER 1654
# plateau health reads process 1's role and settings: GET /alive on the coordinator's or worker's configured health
# port; it passes for a role that serves none (a worker without Plateau:Worker:HealthPort, the CLI's other verbs).
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["/app/plateau", "health"]
ENTRYPOINT ["/app/plateau"]
CMD ["--help"]
