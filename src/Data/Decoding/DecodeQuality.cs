namespace Plateau.Data.Decoding;

/// <summary>How much JPEG decode fidelity to trade for speed.</summary>
public enum DecodeQuality
{
    /// <summary>Accurate integer IDCT; DCT-domain downscaling only by 1/2, 1/4, 1/8 (when the output is at most half the crop).</summary>
    Exact,

    /// <summary>Fast integer IDCT and downscaling by any k/8 that still leaves the output resolution (e.g. 3/4 for a
    /// 300-pixel target from a 375-pixel side). Differences from Exact are within JPEG noise; for training throughput.</summary>
    Fast,
}
