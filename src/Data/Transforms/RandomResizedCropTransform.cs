using Plateau.Data.Randomness;

namespace Plateau.Data.Transforms;

/// <summary>
/// Inception-style RandomResizedCrop (torchvision semantics): a crop of random area fraction in
/// [<see cref="MinScale"/>, <see cref="MaxScale"/>] and aspect ratio log-uniform in [3/4, 4/3], 10 attempts, then a
/// centre crop fallback; resized to <see cref="Size"/>; random horizontal flip; optional PCA lighting.
/// </summary>
public sealed class RandomResizedCropTransform(int size = 224, double minScale = 0.08, double maxScale = 1.0, double minRatio = 3.0 / 4, double maxRatio = 4.0 / 3, double lightingStd = 0) : ISampleTransform
{
    public int Size { get; } = size > 0 ? size : throw new ArgumentOutOfRangeException(nameof(size), size, "crop size must be positive");

    public double MinScale { get; } = minScale is > 0 and <= 1 && maxScale >= minScale && maxScale <= 1 ? minScale
        : throw new ArgumentException($"area scale range must satisfy 0 < min <= max <= 1; got [{minScale}, {maxScale}]");

    public double MaxScale { get; } = maxScale;

    public int OutputWidth => Size;

    public int OutputHeight => Size;

    public int Views => 1;

    public double LightingStd { get; } = lightingStd;

    public void Plan(int sourceWidth, int sourceHeight, ref CounterRandom random, Span<CropPlan> views)
    {
        var (x, y, w, h) = ChooseRegion(sourceWidth, sourceHeight, ref random);
        views[0] = new CropPlan(x, y, w, h, random.NextBool());
    }

    private (int X, int Y, int W, int H) ChooseRegion(int width, int height, ref CounterRandom random)
    {
        double area = (double)width * height;
        var logLo = Math.Log(minRatio);
        var logHi = Math.Log(maxRatio);
        for (var attempt = 0; attempt < 10; attempt++)
        {
            var target = area * random.NextDouble(MinScale, MaxScale);
            var aspect = Math.Exp(random.NextDouble(logLo, logHi));
            var w = (int)Math.Round(Math.Sqrt(target * aspect));
            var h = (int)Math.Round(Math.Sqrt(target / aspect));
            if (w > 0 && w <= width && h > 0 && h <= height)
            {
                return (random.NextIntInclusive(0, width - w), random.NextIntInclusive(0, height - h), w, h);
            }
        }
        // Fallback: the largest centre crop with the ratio clamped into range.
        var inRatio = (double)width / height;
        int cw, ch;
        if (inRatio < minRatio)
        {
            cw = width;
            ch = (int)Math.Round(cw / minRatio);
        }
        else if (inRatio > maxRatio)
        {
            ch = height;
            cw = (int)Math.Round(ch * maxRatio);
        }
        else
        {
            cw = width;
            ch = height;
        }
        return ((width - cw) / 2, (height - ch) / 2, cw, ch);
    }
}
