namespace Plateau.Collective;

/// <summary>Element encoding of all-reduce data on the wire (compression). Accumulation is always fp32.</summary>
public enum WireCompression
{
    /// <summary>No compression: exact fp32, 4 bytes per element (default).</summary>
    None = 0,

    /// <summary>bfloat16, round-to-nearest-even: 2 bytes per element, 8 significant bits (relative error ≤ 2^-8 per hop).</summary>
    BFloat16 = 1,

    /// <summary>IEEE half, round-to-nearest-even: 2 bytes per element, 11 significant bits, range ±65504 (larger values become ±inf).</summary>
    Float16 = 2,
}
