namespace Plateau.Contracts.Rendezvous;

/// <summary>A worker process offering its devices to a job's rendezvous.</summary>
[GenerateSerializer, Immutable, Alias("plateau.WorkerRegistration")]
public sealed record WorkerRegistration
{
    /// <summary>Stable id of the worker process (pod name, or "worker-0" locally).</summary>
    [Id(0)] public required string WorkerId { get; init; }
    [Id(1)] public required string Host { get; init; }
    /// <summary>The worker's collective (gRPC) endpoint, e.g. "http://10.0.0.5:7100".</summary>
    [Id(2)] public required string DataPlaneAddress { get; init; }
    [Id(3)] public IReadOnlyList<DeviceInfo> Devices { get; init; } = [];
    /// <summary>What the worker found at the spec's dataset; every worker must agree.</summary>
    [Id(4)] public required DatasetSummary Dataset { get; init; }
    /// <summary>What its devices kept in memory from the generation they last trained (empty: nothing).</summary>
    [Id(5)] public IReadOnlyList<RetainedState> Retained { get; init; } = [];
}
