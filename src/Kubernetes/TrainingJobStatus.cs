using System.Text.Json.Serialization;

namespace Plateau.Kubernetes;

/// <summary>The TrainingJob's <c>status</c>: the JobGrain's summary as the controller last read it.</summary>
public sealed record TrainingJobStatus
{
    private static readonly TrainingJobCondition[] NoConditions = [];

    [JsonPropertyName("jobId")] public string? JobId { get; init; }

    /// <summary>A JobPhase name, or <see cref="TrainingJobPhases.Rejected"/> when the object could not be submitted.</summary>
    [JsonPropertyName("phase")] public string? Phase { get; init; }

    [JsonPropertyName("reason")] public string? Reason { get; init; }

    [JsonPropertyName("observedGeneration")] public long? ObservedGeneration { get; init; }

    /// <summary>The worker group's generation (re-formations), not the object's.</summary>
    [JsonPropertyName("generation")] public long? Generation { get; init; }

    [JsonPropertyName("worldSize")] public int? WorldSize { get; init; }

    [JsonPropertyName("epoch")] public int? Epoch { get; init; }

    [JsonPropertyName("totalEpochs")] public int? TotalEpochs { get; init; }

    [JsonPropertyName("globalStep")] public long? GlobalStep { get; init; }

    [JsonPropertyName("learningRate")] public double? LearningRate { get; init; }

    [JsonPropertyName("valTop1Error")] public double? ValTop1Error { get; init; }

    [JsonPropertyName("restarts")] public int? Restarts { get; init; }

    [JsonPropertyName("latestCheckpoint")] public string? LatestCheckpoint { get; init; }

    [JsonPropertyName("conditions")] public IReadOnlyList<TrainingJobCondition> Conditions { get; init; } = [];

    /// <summary>Equal apart from condition transition times (which only move when a condition changes).</summary>
    public bool SameAs(TrainingJobStatus? other) =>
        other is not null
        && this with { Conditions = NoConditions } == other with { Conditions = NoConditions }
        && Conditions.Count == other.Conditions.Count
        && Conditions.Zip(other.Conditions).All(p => p.First.SameAs(p.Second));
}
