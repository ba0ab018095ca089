# syntax=docker/dockerfile:1
# Plateau images. Default (CPU):   docker build -t plateau:cpu .
#                 CUDA variant:    docker build --build-arg PLATEAU_DEVICE=cuda --target runtime-cuda -t plateau:cuda .
# The CUDA variant references TorchSharp-cuda-linux (-p:PlateauCuda=true) instead of libtorch-cpu.
ARG PLATEAU_DEVICE=cpu

FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
ARG PLATEAU_DEVICE
WORKDIR /src
COPY . .
RUN cuda=false; [ "$PLATEAU_DEVICE" = "cuda" ] && cuda=true; \
    dotnet publish src/Cli/Plateau.Cli.csproj -c Release -o /app -p:PlateauCuda=$cuda

# The CPU image. Where the build image's libstdc++ lacks GLIBCXX_3.4.32, the publish step has marked
# that need weak in /app's libLibTorchSharp.so (build/WeakenGlibcxxNeed.targets); both stages share
# one distribution, so the runtime's libstdc++ matches what the build checked.
FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS runtime-cpu
WORKDIR /app
COPY --from=build /app .
ENV PLATEAU_DATA=/data
VOLUME ["/data"]
ENTRYPOINT ["/app/plateau"]

FROM nvidia/cuda:12.8.1-cudnn-runtime-ubuntu24.04 AS runtime-cuda
RUN apt-get update && apt-get install -y --no-install-recommends aspnetcore-runtime-10.0 \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build /app .
ENV PLATEAU_DATA=/data
VOLUME ["/data"]
ENTRYPOINT ["/app/plateau"]

FROM runtime-cpu
