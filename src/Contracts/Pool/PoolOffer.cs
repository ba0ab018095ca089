using Plateau.Contracts.Rendezvous;

namespace Plateau.Contracts.Pool;

/// <summary>A pooled worker offering itself to the <see cref="IWorkerPoolGrain"/>.</summary>
[GenerateSerializer, Immutable, Alias("plateau.PoolOffer")]
public sealed record PoolOffer
{
    /// <summary>Stable id of the worker process (the pod name in Kubernetes).</summary>
    [Id(0)] public required string WorkerId { get; init; }
    [Id(1)] public required string Host { get; init; }
    /// <summary>The worker's collective (gRPC) endpoint, e.g. "http://10.0.0.5:7000".</summary>
    [Id(2)] public required string DataPlaneAddress { get; init; }
    [Id(3)] public IReadOnlyList<DeviceInfo> Devices { get; init; } = [];
    /// <summary>The job this worker serves now (a lease renewal); null: the worker is idle and asks for a job.</summary>
    [Id(4)] public string? ServingJobId { get; init; }
    /// <summary>A job this worker gave back without serving it to its end (its registration was rejected, or its
    /// dataset could not be opened here): the pool does not hand it that job again while the job lasts.</summary>
    [Id(5)] public string? DeclinedJobId { get; init; }
    /// <summary>Why <see cref="DeclinedJobId"/> was given back.</summary>
    [Id(6)] public string DeclineReason { get; init; } = "";
}
