namespace Plateau.Contracts.Jobs;

/// <summary>What the worker pool needs to know about a job: its phase, age, size and the workers it already holds.</summary>
[GenerateSerializer, Immutable, Alias("plateau.JobStaffing")]
public sealed record JobStaffing
{
    [Id(0)] public required string JobId { get; init; }
    [Id(1)] public JobPhase Phase { get; init; }
    /// <summary>When the job was submitted; the pool serves older jobs first.</summary>
    [Id(2)] public DateTimeOffset CreatedAt { get; init; }
    /// <summary>spec.workers.max.</summary>
    [Id(3)] public int MaxWorkers { get; init; }
    /// <summary>spec.workers.devicesPerWorker.</summary>
    [Id(4)] public int DevicesPerWorker { get; init; }
    /// <summary>Workers the job holds now: registered for the formation, members of the formed group, or on standby (ordinal order).</summary>
    [Id(5)] public IReadOnlyList<string> Workers { get; init; } = [];
}
