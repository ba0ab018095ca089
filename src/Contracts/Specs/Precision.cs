using System.Text.Json.Serialization;

namespace Plateau.Contracts.Specs;

[GenerateSerializer]
public enum Precision
{
    [JsonStringEnumMemberName("fp32")] Fp32,

    /// <summary>
    /// Automatic mixed precision: part of the spec's vocabulary so that asking for it gets a reason,
    /// but refused by <see cref="JobSpecValidator"/> until the trainer has a mixed-precision path.
    /// </summary>
    [JsonStringEnumMemberName("amp")] Amp,
}
