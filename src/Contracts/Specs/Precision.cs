using System.Text.Json.Serialization;

namespace Plateau.Contracts.Specs;

[GenerateSerializer]
public enum Precision
{
    [JsonStringEnumMemberName("fp32")] Fp32,

    /// <summary>Automatic mixed precision; only valid on CUDA devices.</summary>
    [JsonStringEnumMemberName("amp")] Amp,
}
