using System.Text.Json.Serialization;

namespace Plateau.Contracts.Specs;

/// <summary>rel: best × (1 ∓ threshold); abs: best ∓ threshold (PyTorch's threshold_mode).</summary>
[GenerateSerializer]
public enum ThresholdMode
{
    [JsonStringEnumMemberName("rel")] Rel,
    [JsonStringEnumMemberName("abs")] Abs,
}
