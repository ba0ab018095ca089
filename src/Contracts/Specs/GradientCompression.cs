using System.Text.Json.Serialization;

namespace Plateau.Contracts.Specs;

/// <summary>How gradients travel between workers during the all-reduce; every sum is still accumulated in fp32.</summary>
[GenerateSerializer]
public enum GradientCompression
{
    /// <summary>Exact fp32 on the wire (the default): results are bit-identical to a sequential sum in ring order.</summary>
    [JsonStringEnumMemberName("none")] None,

    /// <summary>bfloat16 on the wire: half the bytes, 8 significant bits, fp32's range.</summary>
    [JsonStringEnumMemberName("bf16")] BFloat16,

    /// <summary>IEEE half on the wire: half the bytes, 11 significant bits, range ±65504 (beyond it a step is non-finite and skipped).</summary>
    [JsonStringEnumMemberName("fp16")] Float16,
}
