using Plateau.Data.Randomness;

namespace Plateau.Data.Transforms;

/// <summary>The whole image resized to a fixed size (CIFAR evaluation: 32x32 unchanged).</summary>
public sealed class IdentityTransform(int width = 32, int height = 32) : ISampleTransform
{
    public int OutputWidth { get; } = width;

    public int OutputHeight { get; } = height;

    public int Views => 1;

    public double LightingStd => 0;

    public void Plan(int sourceWidth, int sourceHeight, ref CounterRandom random, Span<CropPlan> views) =>
        views[0] = new CropPlan(0, 0, sourceWidth, sourceHeight, false);
}
