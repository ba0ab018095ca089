using Plateau.Data.Randomness;

namespace Plateau.Data.Transforms;

/// <summary>
/// The standard 10-crop test (torchvision TenCrop order): after resizing the shorter side to <see cref="ResizeTo"/>,
/// the four corner and the centre <see cref="CropSize"/> crops, then the same five taken from the mirrored image.
/// </summary>
public sealed class TenCropTransform(int resizeTo = 256, int cropSize = 224) : ISampleTransform
{
    public int ResizeTo { get; } = resizeTo >= cropSize && cropSize > 0 ? resizeTo
        : throw new ArgumentException($"ten-crop size {cropSize} must be positive and at most the resize size {resizeTo}");

    public int CropSize { get; } = cropSize;

    public int OutputWidth => CropSize;

    public int OutputHeight => CropSize;

    public int Views => 10;

    public double LightingStd => 0;

    public void Plan(int sourceWidth, int sourceHeight, ref CounterRandom random, Span<CropPlan> views)
    {
        // top-left, top-right, bottom-left, bottom-right, centre
        ReadOnlySpan<(double Fx, double Fy)> spots = [(0, 0), (1, 0), (0, 1), (1, 1), (0.5, 0.5)];
        for (var i = 0; i < 5; i++)
        {
            views[i] = ResizeCenterCropTransform.CropAt(sourceWidth, sourceHeight, ResizeTo, CropSize, spots[i].Fx, spots[i].Fy, false);
            // The crop at spot (fx, fy) of the mirrored image is the mirror of the crop at (1 - fx, fy).
            views[5 + i] = ResizeCenterCropTransform.CropAt(sourceWidth, sourceHeight, ResizeTo, CropSize, 1 - spots[i].Fx, spots[i].Fy, true);
        }
    }
}
