using Microsoft.Extensions.Logging;
using Plateau.Data.Decoding;
using Plateau.Data.Transforms;

namespace Plateau.Data.Loading;

/// <summary>Loader settings; every bound is explicit so the resident memory is known (see <see cref="DataLoader.ResidentBoundBytes"/>).</summary>
public sealed record DataLoaderOptions
{
    /// <summary>Decode/augment threads (dedicated, not thread-pool).</summary>
    public int DecodeThreads { get; init; } = Math.Max(1, Environment.ProcessorCount);

    /// <summary>Byte cap on batch buffers prepared ahead (at least two batches are always kept: one out, one filling).</summary>
    public long PrefetchBytes { get; init; } = 256L * 1024 * 1024;

    /// <summary>Upper limit on prefetched batches regardless of bytes.</summary>
    public int MaxPrefetchBatches { get; init; } = 4;

    public LoaderOutput Output { get; init; } = LoaderOutput.Pixels;

    public Normalisation Normalisation { get; init; } = Normalisation.ImageNet;

    /// <summary>Fail once more than this fraction of the run's planned samples turned out unreadable.</summary>
    public double MaxBadSampleFraction { get; init; } = 0.001;

    public DecoderBackend Decoder { get; init; } = DecoderBackend.Auto;

    /// <summary>Exact (default) or Fast JPEG decoding (fast integer IDCT).</summary>
    public DecodeQuality DecodeQuality { get; init; } = DecodeQuality.Exact;

    public ILogger? Logger { get; init; }

    public void Validate()
    {
        if (DecodeThreads < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(DecodeThreads), DecodeThreads, "DecodeThreads must be at least 1");
        }
        if (PrefetchBytes < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(PrefetchBytes), PrefetchBytes, "PrefetchBytes must be positive");
        }
        if (MaxPrefetchBatches < 2)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxPrefetchBatches), MaxPrefetchBatches, "MaxPrefetchBatches must be at least 2 (one batch out, one filling)");
        }
        if (MaxBadSampleFraction is < 0 or > 1 || double.IsNaN(MaxBadSampleFraction))
        {
            throw new ArgumentOutOfRangeException(nameof(MaxBadSampleFraction), MaxBadSampleFraction, "MaxBadSampleFraction must be within [0, 1]");
        }
        Normalisation.Validate();
    }
}
