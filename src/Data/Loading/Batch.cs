using Plateau.Data.Sampling;
using Plateau.Data.Transforms;
using TorchSharp;
using static TorchSharp.torch;

namespace Plateau.Data.Loading;

/// <summary>
/// One batch handed over by <see cref="DataLoader"/>. Its tensors are views of a pooled CPU buffer: they are valid
/// until the batch is disposed, which the loader does itself when the next batch is requested. Copy to the device
/// (or <c>clone()</c>) to keep the data longer.
/// </summary>
public sealed class Batch : IDisposable
{
    private Action? _release;

    internal Batch(Tensor images, Tensor labels, Tensor? lightingOffsets, int[] indices, (int Width, int Height)[] sourceSizes, int requested, RankBatch? plan, Action release)
    {
        Images = images;
        Labels = labels;
        LightingOffsets = lightingOffsets;
        Indices = indices;
        SourceSizes = sourceSizes;
        Requested = requested;
        Plan = plan;
        _release = release;
    }

    /// <summary>[n, 3, H, W] (or [n, views, 3, H, W] for multi-view transforms); uint8 or normalised float32.</summary>
    public Tensor Images { get; }

    /// <summary>[n] int64 class indices.</summary>
    public Tensor Labels { get; }

    /// <summary>[n, 3] float32 PCA-lighting RGB offsets on the [0, 1] scale for uint8 output; null for float output.</summary>
    public Tensor? LightingOffsets { get; }

    /// <summary>Dataset indices of the samples present, in batch order (bad samples removed).</summary>
    public int[] Indices { get; }

    /// <summary>Each present sample's source image size (width, height, before any resize or crop), in batch order.</summary>
    public (int Width, int Height)[] SourceSizes { get; }

    /// <summary>Samples in the batch (≤ <see cref="Requested"/>; less when bad samples were skipped).</summary>
    public int Count => Indices.Length;

    /// <summary>Samples the plan asked for.</summary>
    public int Requested { get; }

    /// <summary>The sampler's plan for this batch (cursor before/after, global batch size), when it came from one.</summary>
    public RankBatch? Plan { get; }

    public bool IsDisposed => _release is null;

    /// <summary>
    /// Images as normalised float32 on <paramref name="device"/>: uint8 moves 4x fewer bytes, then
    /// (x / 255 + lighting - mean) / std runs there. For float output it is a plain copy to the device.
    /// </summary>
    public Tensor ToDeviceNormalised(Device device, Normalisation normalisation)
    {
        ArgumentNullException.ThrowIfNull(device);
        ArgumentNullException.ThrowIfNull(normalisation);
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        if (Images.dtype != ScalarType.Byte)
        {
            // On the CPU .to() would alias the pooled buffer, which the loader reuses: copy instead.
            return device.type == DeviceType.CPU ? Images.clone() : Images.to(device);
        }
        using var scope = NewDisposeScope();
        var shape = Images.dim() == 5 ? new long[] { 1, 1, 3, 1, 1 } : new long[] { 1, 3, 1, 1 };
        var x = Images.to(device).to_type(ScalarType.Float32).div_(255f);
        if (LightingOffsets is not null)
        {
            var offShape = Images.dim() == 5 ? new long[] { Count, 1, 3, 1, 1 } : new long[] { Count, 3, 1, 1 };
            x.add_(LightingOffsets.to(device).view(offShape));
        }
        var mean = tensor(normalisation.Mean, device: device).view(shape);
        var std = tensor(normalisation.Std, device: device).view(shape);
        return x.sub_(mean).div_(std).MoveToOuterDisposeScope();
    }

    public void Dispose()
    {
        var release = Interlocked.Exchange(ref _release, null);
        if (release is null)
        {
            return;
        }
        Images.Dispose();
        Labels.Dispose();
        LightingOffsets?.Dispose();
        release();
    }
}
