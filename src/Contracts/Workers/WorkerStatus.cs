namespace Plateau.Contracts.Workers;

[GenerateSerializer, Immutable, Alias("plateau.WorkerStatus")]
public sealed record WorkerStatus
{
    [Id(0)] public required string WorkerId { get; init; }
    [Id(1)] public required string DeviceId { get; init; }
    [Id(2)] public WorkerTrainerState State { get; init; }
    [Id(3)] public string? JobId { get; init; }
    [Id(4)] public long Generation { get; init; }
    [Id(5)] public int Rank { get; init; }
    [Id(6)] public int Epoch { get; init; }
    [Id(7)] public long GlobalStep { get; init; }
    [Id(8)] public string Message { get; init; } = "";
}
