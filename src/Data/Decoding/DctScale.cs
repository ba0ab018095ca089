namespace Plateau.Data.Decoding;

/// <summary>
/// A JPEG DCT-domain scaling factor <see cref="Eighths"/>/8 (libjpeg-turbo decodes at k/8 for k = 1..8 by running a
/// smaller inverse DCT per block): the image comes out ceil(W·k/8) x ceil(H·k/8) at a fraction of the full cost.
/// </summary>
public readonly record struct DctScale
{
    public DctScale(int eighths)
    {
        if (eighths is < 1 or > 8)
        {
            throw new ArgumentOutOfRangeException(nameof(eighths), eighths, "DCT scale must be k/8 with k in 1..8");
        }
        Eighths = eighths;
    }

    public int Eighths { get; }

    public static DctScale Full => new(8);

    public static DctScale Half => new(4);

    public static DctScale Quarter => new(2);

    public static DctScale Eighth => new(1);

    public int ScaledSize(int size) => ((size * Eighths) + 7) / 8;

    /// <summary>
    /// The smallest scale s with s ≥ 1/<paramref name="maxDownscale"/>, i.e. the coarsest decode that still leaves the
    /// transform at least its output resolution. With <paramref name="anyEighth"/> false only 1/2, 1/4, 1/8 are used
    /// (the factors with SIMD inverse DCTs in libjpeg-turbo).
    /// </summary>
    public static DctScale For(double maxDownscale, bool anyEighth)
    {
        for (var k = 1; k < 8; k++)
        {
            if (!anyEighth && k is not (1 or 2 or 4))
            {
                continue;
            }
            if (8.0 / k <= maxDownscale)
            {
                return new DctScale(k);
            }
        }
        return Full;
    }

    public override string ToString() => Eighths == 8 ? "1" : $"{Eighths}/8";
}
