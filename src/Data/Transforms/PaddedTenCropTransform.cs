using Plateau.Data.Randomness;

namespace Plateau.Data.Transforms;

/// <summary>
/// Ten-crop for CIFAR-sized images, which are evaluated unresized: the four corner and the centre
/// <see cref="Size"/> crops of the image zero-padded by <see cref="Padding"/> on each side (the frame the CIFAR
/// training crops come from), then the same five of the mirrored image, in torchvision TenCrop order. The centre crop
/// is the image itself. No resampling: pixels are copied.
/// </summary>
public sealed class PaddedTenCropTransform(int size = 32, int padding = 4) : ISampleTransform
{
    public int Size { get; } = size > 0 ? size : throw new ArgumentOutOfRangeException(nameof(size), size, "crop size must be positive");

    public int Padding { get; } = padding >= 0 ? padding : throw new ArgumentOutOfRangeException(nameof(padding), padding, "padding must be >= 0");

    public int OutputWidth => Size;

    public int OutputHeight => Size;

    public int Views => 10;

    public double LightingStd => 0;

    public void Plan(int sourceWidth, int sourceHeight, ref CounterRandom random, Span<CropPlan> views)
    {
        if (sourceWidth != Size || sourceHeight != Size)
        {
            throw new InvalidOperationException($"padded ten-crop expects {Size}x{Size} images; got {sourceWidth}x{sourceHeight}");
        }

        // top-left, top-right, bottom-left, bottom-right, centre (offsets into the unpadded image)
        var p = Padding;
        ReadOnlySpan<(int Dx, int Dy)> spots = [(-p, -p), (p, -p), (-p, p), (p, p), (0, 0)];
        for (var i = 0; i < 5; i++)
        {
            views[i] = new CropPlan(spots[i].Dx, spots[i].Dy, Size, Size, false);
            // The crop at offset (dx, dy) of the mirrored image is the mirror of the crop at (−dx, dy).
            views[5 + i] = new CropPlan(-spots[i].Dx, spots[i].Dy, Size, Size, true);
        }
    }
}
