using Plateau.Data.Randomness;

namespace Plateau.Data.Transforms;

/// <summary>
/// The whole image resized to a fixed size (CIFAR evaluation: 32x32 unchanged). With <c>mirrorView</c> it adds the
/// horizontally flipped image as a second view.
/// </summary>
public sealed class IdentityTransform(int width = 32, int height = 32, bool mirrorView = false) : ISampleTransform
{
    public int OutputWidth { get; } = width;

    public int OutputHeight { get; } = height;

    public int Views => mirrorView ? 2 : 1;

    public double LightingStd => 0;

    public void Plan(int sourceWidth, int sourceHeight, ref CounterRandom random, Span<CropPlan> views)
    {
        views[0] = new CropPlan(0, 0, sourceWidth, sourceHeight, false);
        if (Views == 2)
        {
            views[1] = views[0] with { Flip = true };
        }
    }
}
