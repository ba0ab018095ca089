using Plateau.Data.Randomness;

namespace Plateau.Data.Transforms;

/// <summary>
/// Geometry of a per-sample transform: from the source size and the sample's own random stream it decides which
/// source rectangles become the output views. Implementations are stateless, so the result is a pure function of
/// (seed, epoch, sample index, source size) whichever thread runs it.
/// </summary>
public interface ISampleTransform
{
    int OutputWidth { get; }

    int OutputHeight { get; }

    /// <summary>Views per sample: 1 normally, 10 for ten-crop, 2 for a crop and its mirror.</summary>
    int Views { get; }

    /// <summary>Standard deviation of AlexNet PCA lighting noise (0 = off), applied after the geometry.</summary>
    double LightingStd { get; }

    /// <summary>
    /// Whether a source of this size is wanted at all. When not, the loader reports the sample's size and leaves its
    /// views zero without decoding it: multi-scale's batched passes skip the sources they cannot see whole.
    /// </summary>
    bool Wants(int sourceWidth, int sourceHeight) => true;

    /// <summary>Fills <paramref name="views"/> (length <see cref="Views"/>).</summary>
    void Plan(int sourceWidth, int sourceHeight, ref CounterRandom random, Span<CropPlan> views);
}
