namespace Plateau.Contracts.Rendezvous;

/// <summary>One device of a worker; each becomes one rank (one WorkerGrain).</summary>
[GenerateSerializer, Immutable, Alias("plateau.DeviceInfo")]
public sealed record DeviceInfo(
    /// <summary>"cuda:0", "cpu:1".</summary>
    [property: Id(0)] string DeviceId,
    [property: Id(1)] DeviceKind Kind,
    [property: Id(2)] string Name,
    [property: Id(3)] long MemoryBytes);
