namespace Plateau.Data.Decoding;

/// <summary>How much JPEG decode fidelity to trade for speed.</summary>
public enum DecodeQuality
{
    /// <summary>Accurate integer IDCT; DCT-domain downscaling only by 1/2, 1/4, 1/8 (when the output is at most half the crop).</summary>
    Exact,

    /// <summary>libjpeg's fast integer IDCT (TJFLAG_FASTDCT): a few percent faster; differences from Exact are within
    /// JPEG noise. (Any-k/8 DCT scaling was tried and dropped: the non-power-of-two IDCTs are slower than a full decode.)</summary>
    Fast,
}
