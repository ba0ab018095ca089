using System.Text.Json.Serialization;

namespace Plateau.Kubernetes;

/// <summary>A Kubernetes-style condition (type, True/False/Unknown, reason, message).</summary>
public sealed record TrainingJobCondition
{
    [JsonPropertyName("type")] public required string Type { get; init; }

    [JsonPropertyName("status")] public required string Status { get; init; }

    [JsonPropertyName("reason")] public string? Reason { get; init; }

    [JsonPropertyName("message")] public string? Message { get; init; }

    [JsonPropertyName("lastTransitionTime")] public DateTimeOffset? LastTransitionTime { get; init; }

    [JsonPropertyName("observedGeneration")] public long? ObservedGeneration { get; init; }

    public bool SameAs(TrainingJobCondition other) =>
        other is not null && this with { LastTransitionTime = null } == other with { LastTransitionTime = null };
}
