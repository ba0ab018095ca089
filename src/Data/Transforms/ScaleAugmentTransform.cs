using Plateau.Data.Randomness;

namespace Plateau.Data.Transforms;

/// <summary>
/// The ResNet paper's training transform (section 3.4): shorter side resized to a random integer in
/// [<see cref="MinSize"/>, <see cref="MaxSize"/>], a random <see cref="CropSize"/> square crop, random horizontal
/// flip, PCA lighting. The crop is resampled straight from the source region (the same pixels as resize-then-crop).
/// </summary>
public sealed class ScaleAugmentTransform(int minSize = 256, int maxSize = 480, int cropSize = 224, double lightingStd = 0.1) : ISampleTransform
{
    public int MinSize { get; } = minSize >= cropSize && maxSize >= minSize ? minSize
        : throw new ArgumentException($"scale augmentation needs cropSize <= minSize <= maxSize; got crop {cropSize}, sizes [{minSize}, {maxSize}]");

    public int MaxSize { get; } = maxSize;

    public int CropSize { get; } = cropSize;

    public int OutputWidth => CropSize;

    public int OutputHeight => CropSize;

    public int Views => 1;

    public double LightingStd { get; } = lightingStd;

    public void Plan(int sourceWidth, int sourceHeight, ref CounterRandom random, Span<CropPlan> views)
    {
        var size = random.NextIntInclusive(MinSize, MaxSize);
        var (rw, rh) = ResizeCenterCropTransform.ResizedSize(sourceWidth, sourceHeight, size, CropSize);
        var x = random.NextIntInclusive(0, rw - CropSize);
        var y = random.NextIntInclusive(0, rh - CropSize);
        var flip = random.NextBool();
        var sx = (double)sourceWidth / rw;
        var sy = (double)sourceHeight / rh;
        views[0] = new CropPlan(x * sx, y * sy, CropSize * sx, CropSize * sy, flip);
    }
}
