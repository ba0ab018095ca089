using System.Globalization;

namespace Plateau.Data.Datasets;

/// <summary>
/// CIFAR-10 binary version: each record is 1 label byte then 3072 pixel bytes (1024 red, 1024 green, 1024 blue,
/// rows of 32). Training records come from data_batch_1.bin.. in file order, test records from test_batch.bin. The
/// whole split is held in memory (150 MB for the full training set) and converted once to HWC pixels.
/// </summary>
public sealed class CifarBinaryDataset : IImageDataset
{
    public const int Side = 32;
    public const int PixelBytes = Side * Side * 3;
    public const int RecordBytes = PixelBytes + 1;
    public const int Classes = 10;

    private static readonly string[] DefaultNames =
        ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"];

    private readonly byte[] _pixelsHwc;
    private readonly byte[] _labels;
    private readonly string[] _sources;
    private readonly int[] _sourceFirstRecord;
    private readonly int _firstRecord;

    private CifarBinaryDataset(string location, byte[] pixelsHwc, byte[] labels, string[] sources, int[] sourceFirst, int firstRecord, IReadOnlyList<string> classNames)
    {
        Location = location;
        _pixelsHwc = pixelsHwc;
        _labels = labels;
        _sources = sources;
        _sourceFirstRecord = sourceFirst;
        _firstRecord = firstRecord;
        ClassNames = classNames;
    }

    public string Format => "cifar10-binary";

    public string Location { get; }

    public int Count => _labels.Length;

    public int NumClasses => Classes;

    public IReadOnlyList<string> ClassNames { get; }

    /// <summary>Training files present in <paramref name="directory"/> (data_batch_1.bin, 2, ... consecutively).</summary>
    public static IReadOnlyList<string> TrainFiles(string directory)
    {
        var files = new List<string>();
        for (var i = 1; ; i++)
        {
            var path = Path.Combine(directory, $"data_batch_{i}.bin");
            if (!File.Exists(path))
            {
                break;
            }
            files.Add(path);
        }
        return files;
    }

    /// <summary>The directory holding the .bin files: <paramref name="path"/> itself or its cifar-10-batches-bin child.</summary>
    public static string? ResolveDirectory(string path)
    {
        foreach (var candidate in new[] { path, Path.Combine(path, "cifar-10-batches-bin") })
        {
            if (File.Exists(Path.Combine(candidate, "data_batch_1.bin")) || File.Exists(Path.Combine(candidate, "test_batch.bin")))
            {
                return candidate;
            }
        }
        return null;
    }

    /// <summary>
    /// Opens a split. With <paramref name="holdOutFraction"/> &gt; 0, Train is the first (1 - f) of the training records
    /// and Validation the last f (0.1 gives the paper's 45k/5k); with 0, Validation means test_batch.bin.
    /// </summary>
    public static CifarBinaryDataset Open(string path, DatasetSplit split, double holdOutFraction = 0.1)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (holdOutFraction is < 0 or >= 1)
        {
            throw new ArgumentOutOfRangeException(nameof(holdOutFraction), holdOutFraction, "CIFAR hold-out fraction must be in [0, 1)");
        }
        var dir = ResolveDirectory(path)
            ?? throw new DatasetFormatException($"{path}: not a CIFAR-10 binary directory (expected data_batch_1.bin ... and test_batch.bin)");
        var useTest = split == DatasetSplit.Test || (split == DatasetSplit.Validation && holdOutFraction == 0);
        IReadOnlyList<string> files = useTest ? [Path.Combine(dir, "test_batch.bin")] : TrainFiles(dir);
        if (files.Count == 0 || !File.Exists(files[0]))
        {
            throw new DatasetFormatException($"{dir}: missing {(useTest ? "test_batch.bin" : "data_batch_1.bin")}");
        }

        var sizes = new long[files.Count];
        long totalRecords = 0;
        for (var i = 0; i < files.Count; i++)
        {
            sizes[i] = new FileInfo(files[i]).Length;
            if (sizes[i] == 0 || sizes[i] % RecordBytes != 0)
            {
                throw new DatasetFormatException(
                    $"{files[i]}: size {sizes[i]} bytes is not a positive multiple of the 3073-byte CIFAR-10 record (1 label byte + 3072 pixels); the file is truncated or not CIFAR-10 binary");
            }
            totalRecords += sizes[i] / RecordBytes;
        }

        var first = 0L;
        var end = totalRecords;
        if (!useTest && holdOutFraction > 0)
        {
            var held = (long)Math.Round(totalRecords * holdOutFraction);
            if (held < 1 || held >= totalRecords)
            {
                throw new DatasetFormatException($"{dir}: {totalRecords} training records are too few to hold out {holdOutFraction:P0} for validation");
            }
            if (split == DatasetSplit.Train)
            {
                end = totalRecords - held;
            }
            else
            {
                first = totalRecords - held;
            }
        }

        var count = (int)(end - first);
        var labels = new byte[count];
        var pixels = new byte[(long)count * PixelBytes];
        var sourceFirst = new int[files.Count];
        var record = new byte[RecordBytes];
        long global = 0;
        for (var f = 0; f < files.Count; f++)
        {
            sourceFirst[f] = (int)global;
            using var stream = new FileStream(files[f], FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
            var recordsInFile = sizes[f] / RecordBytes;
            for (var r = 0; r < recordsInFile; r++, global++)
            {
                stream.ReadExactly(record);
                if (global < first || global >= end)
                {
                    continue;
                }
                var label = record[0];
                if (label >= Classes)
                {
                    throw new DatasetFormatException($"{files[f]}: record {r} has label {label}; CIFAR-10 labels are 0..9");
                }
                var i = (int)(global - first);
                labels[i] = label;
                PlanarToInterleaved(record.AsSpan(1), pixels.AsSpan(i * PixelBytes, PixelBytes));
            }
        }

        return new CifarBinaryDataset(dir, pixels, labels, [.. files], sourceFirst, (int)first, ReadClassNames(dir));
    }

    private static string[] ReadClassNames(string dir)
    {
        var meta = Path.Combine(dir, "batches.meta.txt");
        if (File.Exists(meta))
        {
            var names = File.ReadAllLines(meta).Select(l => l.Trim()).Where(l => l.Length > 0).ToArray();
            if (names.Length == Classes)
            {
                return names;
            }
        }
        return DefaultNames;
    }

    private static void PlanarToInterleaved(ReadOnlySpan<byte> planar, Span<byte> hwc)
    {
        const int plane = Side * Side;
        for (var p = 0; p < plane; p++)
        {
            hwc[(p * 3) + 0] = planar[p];
            hwc[(p * 3) + 1] = planar[plane + p];
            hwc[(p * 3) + 2] = planar[(2 * plane) + p];
        }
    }

    public int GetLabel(int index) => _labels[index];

    public string DescribeSample(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Count);
        var global = index + _firstRecord;
        var f = Array.FindLastIndex(_sourceFirstRecord, s => s <= global);
        return string.Create(CultureInfo.InvariantCulture, $"{_sources[f]}#{global - _sourceFirstRecord[f]}");
    }

    public ImageSample ReadSample(int index, SampleBuffer buffer)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Count);
        return new ImageSample(index, _labels[index], "cifar", SamplePayload.RawRgb, _pixelsHwc.AsMemory(index * PixelBytes, PixelBytes), Side, Side);
    }

    public void Dispose()
    {
    }

    /// <summary>Writes records in CIFAR-10 binary layout from HWC RGB pixels (used by the synthetic writer and tests).</summary>
    public static void WriteRecords(Stream output, ReadOnlySpan<byte> labels, ReadOnlySpan<byte> pixelsHwc)
    {
        ArgumentNullException.ThrowIfNull(output);
        if (pixelsHwc.Length != labels.Length * PixelBytes)
        {
            throw new ArgumentException($"pixels must be {labels.Length} x {PixelBytes} bytes");
        }
        const int plane = Side * Side;
        var record = new byte[RecordBytes];
        for (var i = 0; i < labels.Length; i++)
        {
            record[0] = labels[i];
            var hwc = pixelsHwc.Slice(i * PixelBytes, PixelBytes);
            for (var p = 0; p < plane; p++)
            {
                record[1 + p] = hwc[p * 3];
                record[1 + plane + p] = hwc[(p * 3) + 1];
                record[1 + (2 * plane) + p] = hwc[(p * 3) + 2];
            }
            output.Write(record);
        }
    }
}
