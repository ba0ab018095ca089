using Plateau.Data.Randomness;

namespace Plateau.Data.Transforms;

/// <summary>
/// Evaluation transform: shorter side resized to <see cref="ResizeTo"/>, centre <see cref="CropSize"/> square (the
/// standard "resize 256, centre 224"). With <c>mirrorView</c> it adds the horizontally flipped crop as a second view.
/// With cropSize == resizeTo (<see cref="IsTestScale"/>) this is one scale of the paper's multi-scale test ({224, 256,
/// 384, 480, 640}): the loader's fixed-shape view, which is the whole resized image when the source resizes to a square
/// (<see cref="CropsWholeImage"/>); any other source's fully-convolutional view is <see cref="WholeImage"/>. With
/// <c>wholeImagesOnly</c> (what <see cref="MultiScale"/> builds) it wants only those square-resizing sources: the loader
/// does not decode the others, whose views would be thrown away.
/// </summary>
public sealed class ResizeCenterCropTransform(int resizeTo = 256, int cropSize = 224, bool mirrorView = false, bool wholeImagesOnly = false) : ISampleTransform
{
    public int ResizeTo { get; } = resizeTo >= cropSize && cropSize > 0 ? resizeTo
        : throw new ArgumentException($"centre crop {cropSize} must be positive and at most the resize size {resizeTo}");

    public int CropSize { get; } = cropSize;

    public int OutputWidth => CropSize;

    public int OutputHeight => CropSize;

    public int Views => mirrorView ? 2 : 1;

    public double LightingStd => 0;

    /// <summary>Every source unless built with <c>wholeImagesOnly</c>; then those it crops whole (<see cref="CropsWholeImage"/>).</summary>
    public bool Wants(int sourceWidth, int sourceHeight) => !wholeImagesOnly || CropsWholeImage(sourceWidth, sourceHeight);

    /// <summary>One scale of the multi-scale test: the shorter side resized to the crop size, nothing cut from it.</summary>
    public bool IsTestScale => ResizeTo == CropSize;

    /// <summary>The paper's multi-scale test sizes: shorter side in {224, 256, 384, 480, 640}.</summary>
    public static IReadOnlyList<int> PaperTestScales { get; } = [224, 256, 384, 480, 640];

    /// <summary>
    /// The paper's test scales for a network evaluated at <paramref name="cropSize"/> instead of 224: each scale times
    /// cropSize / 224, rounded to the nearest pixel (224 → the paper's own; 32 → 32, 37, 55, 69, 91).
    /// </summary>
    public static IReadOnlyList<int> ScalesFor(int cropSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(cropSize);
        return [.. PaperTestScales.Select(s => (int)Math.Round(s * (double)cropSize / 224, MidpointRounding.AwayFromZero))];
    }

    /// <summary>
    /// One transform per paper test scale (square centre view plus its mirror, the whole image for a square source);
    /// average the scores. A source that does not resize to a square is not wanted (not decoded; its views are zero):
    /// it needs <see cref="WholeImage"/> at each scale.
    /// </summary>
    public static IReadOnlyList<ResizeCenterCropTransform> MultiScale(IEnumerable<int>? scales = null) =>
        (scales ?? PaperTestScales).Select(s => new ResizeCenterCropTransform(s, s, mirrorView: true, wholeImagesOnly: true)).ToArray();

    /// <summary>Whether the centre crop of a <paramref name="sourceWidth"/> x <paramref name="sourceHeight"/> source is all of the resized image.</summary>
    public bool CropsWholeImage(int sourceWidth, int sourceHeight) =>
        ResizedSize(sourceWidth, sourceHeight, ResizeTo, CropSize) == (CropSize, CropSize);

    /// <summary>
    /// The paper's fully-convolutional view of a <paramref name="sourceWidth"/> x <paramref name="sourceHeight"/> source at
    /// this scale: the whole image with its shorter side resized to <see cref="ResizeTo"/> and the longer side truncated
    /// as <see cref="ResizedSize"/> does (300x200 at 224: 336x224), plus the mirror when this transform has one.
    /// </summary>
    public IdentityTransform WholeImage(int sourceWidth, int sourceHeight)
    {
        var (width, height) = ResizedSize(sourceWidth, sourceHeight, ResizeTo, ResizeTo);
        return new IdentityTransform(width, height, mirrorView: Views == 2);
    }

    public void Plan(int sourceWidth, int sourceHeight, ref CounterRandom random, Span<CropPlan> views)
    {
        var crop = CenterCrop(sourceWidth, sourceHeight, ResizeTo, CropSize);
        views[0] = crop;
        if (Views == 2)
        {
            views[1] = crop with { Flip = true };
        }
    }

    /// <summary>Source rectangle of a centre crop taken after resizing the shorter side to <paramref name="resizeTo"/>.</summary>
    public static CropPlan CenterCrop(int sourceWidth, int sourceHeight, int resizeTo, int cropSize) =>
        CropAt(sourceWidth, sourceHeight, resizeTo, cropSize, 0.5, 0.5, false);

    /// <summary>
    /// Size after resizing the shorter side to <paramref name="resizeTo"/>; the longer side is truncated as torchvision's
    /// Resize does (int(size * long / short)), and never below the crop.
    /// </summary>
    public static (int Width, int Height) ResizedSize(int sourceWidth, int sourceHeight, int resizeTo, int cropSize)
    {
        int w, h;
        if (sourceWidth <= sourceHeight)
        {
            w = resizeTo;
            h = (int)((long)resizeTo * sourceHeight / sourceWidth);
        }
        else
        {
            h = resizeTo;
            w = (int)((long)resizeTo * sourceWidth / sourceHeight);
        }
        return (Math.Max(cropSize, w), Math.Max(cropSize, h));
    }

    /// <summary>A crop at relative position (fx, fy) in [0, 1] of the free space, after resizing (torchvision rounding).</summary>
    public static CropPlan CropAt(int sourceWidth, int sourceHeight, int resizeTo, int cropSize, double fx, double fy, bool flip)
    {
        var (rw, rh) = ResizedSize(sourceWidth, sourceHeight, resizeTo, cropSize);
        var x = (int)Math.Round((rw - cropSize) * fx);
        var y = (int)Math.Round((rh - cropSize) * fy);
        var sx = (double)sourceWidth / rw;
        var sy = (double)sourceHeight / rh;
        return new CropPlan(x * sx, y * sy, cropSize * sx, cropSize * sy, flip);
    }
}
