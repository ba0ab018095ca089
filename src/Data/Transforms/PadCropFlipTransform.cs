using Plateau.Data.Randomness;

namespace Plateau.Data.Transforms;

/// <summary>
/// The CIFAR training transform (ResNet paper section 4.2): zero-pad <see cref="Padding"/> pixels on each side, take a
/// random <see cref="Size"/> square crop, random horizontal flip. No resampling: pixels are copied.
/// </summary>
public sealed class PadCropFlipTransform(int size = 32, int padding = 4, bool flip = true) : ISampleTransform
{
    public int Size { get; } = size > 0 ? size : throw new ArgumentOutOfRangeException(nameof(size), size, "crop size must be positive");

    public int Padding { get; } = padding >= 0 ? padding : throw new ArgumentOutOfRangeException(nameof(padding), padding, "padding must be >= 0");

    public int OutputWidth => Size;

    public int OutputHeight => Size;

    public int Views => 1;

    public double LightingStd => 0;

    public void Plan(int sourceWidth, int sourceHeight, ref CounterRandom random, Span<CropPlan> views)
    {
        if (sourceWidth != Size || sourceHeight != Size)
        {
            throw new InvalidOperationException($"pad-crop expects {Size}x{Size} images; got {sourceWidth}x{sourceHeight}");
        }
        var dx = random.NextIntInclusive(0, 2 * Padding) - Padding;
        var dy = random.NextIntInclusive(0, 2 * Padding) - Padding;
        var mirror = flip && random.NextBool();
        views[0] = new CropPlan(dx, dy, Size, Size, mirror);
    }
}
