using System.Text.Json.Serialization;

namespace Plateau.Contracts.Specs;

[GenerateSerializer]
public enum PlateauMode
{
    [JsonStringEnumMemberName("min")] Min,
    [JsonStringEnumMemberName("max")] Max,
}
