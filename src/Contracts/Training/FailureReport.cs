namespace Plateau.Contracts.Training;

/// <summary>A failure seen by a rank or a worker host (dead peer, collective deadline, trainer exception).</summary>
[GenerateSerializer, Immutable, Alias("plateau.FailureReport")]
public sealed record FailureReport
{
    [Id(0)] public long Generation { get; init; }
    /// <summary>The rank that noticed, null when reported by a host outside any rank.</summary>
    [Id(1)] public int? ReporterRank { get; init; }
    /// <summary>The rank that failed, when known.</summary>
    [Id(2)] public int? FailedRank { get; init; }
    /// <summary>Address (host:port) of the failed peer, when known.</summary>
    [Id(3)] public string? FailedAddress { get; init; }
    [Id(4)] public required string Reason { get; init; }
    [Id(5)] public FailureScope Scope { get; init; } = FailureScope.Group;
}
