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

    /// <summary>Fills <paramref name="views"/> (length <see cref="Views"/>).</summary>
    void Plan(int sourceWidth, int sourceHeight, ref CounterRandom random, Span<CropPlan> views);
}
