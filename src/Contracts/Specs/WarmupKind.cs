using System.Text.Json.Serialization;

namespace Plateau.Contracts.Specs;

[GenerateSerializer]
public enum WarmupKind
{
    [JsonStringEnumMemberName("linear")] Linear,
    [JsonStringEnumMemberName("constant")] Constant,
}
