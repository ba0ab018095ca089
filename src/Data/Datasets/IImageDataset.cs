namespace Plateau.Data.Datasets;

/// <summary>
/// A random-access labelled image dataset. Implementations are safe for concurrent
/// <see cref="ReadSample(int, SampleBuffer)"/> calls from several threads (each with its own buffer).
/// </summary>
public interface IImageDataset : IDisposable
{
    /// <summary>Format name shown by <c>plateau data inspect</c> ("cifar10-binary", "imagenet", "imagefolder", "shards").</summary>
    string Format { get; }

    /// <summary>Where the data lives.</summary>
    string Location { get; }

    int Count { get; }

    int NumClasses { get; }

    /// <summary>Class names in class-index order (wnids for ImageNet, sorted ordinally).</summary>
    IReadOnlyList<string> ClassNames { get; }

    int GetLabel(int index);

    /// <summary>Human-readable origin of a sample (path or shard member), for logs.</summary>
    string DescribeSample(int index);

    /// <summary>
    /// Reads sample <paramref name="index"/>. Throws <see cref="BadSampleException"/> when the sample cannot be read
    /// (missing, unreadable, checksum mismatch); the loader counts and skips those.
    /// </summary>
    ImageSample ReadSample(int index, SampleBuffer buffer);
}
