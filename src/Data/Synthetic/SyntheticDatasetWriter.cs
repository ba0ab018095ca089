using System.Globalization;
using System.Text;
using Plateau.Data.Datasets;
using Plateau.Data.Decoding;

namespace Plateau.Data.Synthetic;

/// <summary>Writes <see cref="SyntheticImageGenerator"/> images as CIFAR-10 binary files or as a JPEG ImageFolder in ImageNet layout.</summary>
public static class SyntheticDatasetWriter
{
    /// <summary>
    /// data_batch_1..5.bin (training samples split as evenly as possible), test_batch.bin and batches.meta.txt, 32x32.
    /// </summary>
    public static void WriteCifar(string directory, int trainCount, int testCount, int seed, int numClasses = 10)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(trainCount, 5, nameof(trainCount));
        ArgumentOutOfRangeException.ThrowIfLessThan(testCount, 1, nameof(testCount));
        if (numClasses > CifarBinaryDataset.Classes)
        {
            throw new ArgumentOutOfRangeException(nameof(numClasses), numClasses, "CIFAR-10 binary holds at most 10 classes");
        }
        Directory.CreateDirectory(directory);
        var generator = new SyntheticImageGenerator(numClasses, CifarBinaryDataset.Side, seed);
        var (trainLabels, trainPixels) = RenderAll(generator, 0, trainCount);
        const int files = 5;
        for (var f = 0; f < files; f++)
        {
            var lo = (int)((long)trainCount * f / files);
            var hi = (int)((long)trainCount * (f + 1) / files);
            WriteAtomically(Path.Combine(directory, $"data_batch_{f + 1}.bin"), s =>
                CifarBinaryDataset.WriteRecords(s, trainLabels.AsSpan(lo, hi - lo), trainPixels.AsSpan(lo * CifarBinaryDataset.PixelBytes, (hi - lo) * CifarBinaryDataset.PixelBytes)));
        }
        var (testLabels, testPixels) = RenderAll(generator, 1, testCount);
        WriteAtomically(Path.Combine(directory, "test_batch.bin"), s => CifarBinaryDataset.WriteRecords(s, testLabels, testPixels));
        var names = Enumerable.Range(0, CifarBinaryDataset.Classes).Select(c => c < numClasses ? SyntheticImageGenerator.ClassName(c) : $"unused{c}");
        // Last and atomically: a reader that sees batches.meta.txt sees the whole set (TrainingData.EnsureSynthetic relies on it).
        var meta = System.Text.Encoding.UTF8.GetBytes(string.Join('\n', names) + "\n");
        WriteAtomically(Path.Combine(directory, "batches.meta.txt"), s => s.Write(meta));
    }

    /// <summary>
    /// ImageNet layout under <paramref name="root"/>: train/&lt;wnid&gt;/&lt;wnid&gt;_&lt;i&gt;.JPEG and val/ as class folders or,
    /// with <paramref name="flatValidation"/>, flat ILSVRC2012_val_&lt;n&gt;.JPEG files plus LOC_val_solution.csv.
    /// Class folder names are synthetic wnids (n00000000, n00000001, ...), so sorted order is class order.
    /// </summary>
    public static void WriteImageFolder(string root, int trainPerClass, int valPerClass, int size, int seed, int numClasses = 10, int quality = 90, bool flatValidation = false)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(trainPerClass, 1, nameof(trainPerClass));
        ArgumentOutOfRangeException.ThrowIfNegative(valPerClass, nameof(valPerClass));
        var generator = new SyntheticImageGenerator(numClasses, size, seed);
        var wnids = Enumerable.Range(0, numClasses).Select(Wnid).ToArray();
        foreach (var w in wnids)
        {
            Directory.CreateDirectory(Path.Combine(root, "train", w));
            if (!flatValidation && valPerClass > 0)
            {
                Directory.CreateDirectory(Path.Combine(root, "val", w));
            }
        }
        if (flatValidation)
        {
            Directory.CreateDirectory(Path.Combine(root, "val"));
        }

        var trainTotal = trainPerClass * numClasses;
        Parallel.For(0, trainTotal, () => new byte[size * size * 3], (i, _, pixels) =>
        {
            generator.Render(0, i, pixels);
            var label = generator.LabelOf(i);
            var path = Path.Combine(root, "train", wnids[label], string.Create(CultureInfo.InvariantCulture, $"{wnids[label]}_{i / numClasses}.JPEG"));
            File.WriteAllBytes(path, ImageEncoding.EncodeJpeg(pixels, size, size, quality));
            return pixels;
        }, _ => { });

        var valTotal = valPerClass * numClasses;
        var solution = new string[valTotal];
        Parallel.For(0, valTotal, () => new byte[size * size * 3], (i, _, pixels) =>
        {
            generator.Render(1, i, pixels);
            var label = generator.LabelOf(i);
            var id = string.Create(CultureInfo.InvariantCulture, $"ILSVRC2012_val_{i + 1:D8}");
            var path = flatValidation
                ? Path.Combine(root, "val", id + ".JPEG")
                : Path.Combine(root, "val", wnids[label], id + ".JPEG");
            File.WriteAllBytes(path, ImageEncoding.EncodeJpeg(pixels, size, size, quality));
            solution[i] = $"{id},{wnids[label]} 0 0 {size - 1} {size - 1}";
            return pixels;
        }, _ => { });
        if (flatValidation)
        {
            var csv = new StringBuilder("ImageId,PredictionString\n");
            foreach (var line in solution)
            {
                csv.Append(line).Append('\n');
            }
            File.WriteAllText(Path.Combine(root, "LOC_val_solution.csv"), csv.ToString());
        }
        File.WriteAllLines(Path.Combine(root, "LOC_synset_mapping.txt"), wnids.Select((w, c) => $"{w} {SyntheticImageGenerator.ClassName(c)}"));
    }

    public static string Wnid(int label) => string.Create(CultureInfo.InvariantCulture, $"n{label:D8}");

    private static (byte[] Labels, byte[] Pixels) RenderAll(SyntheticImageGenerator generator, int split, int count)
    {
        var labels = new byte[count];
        var pixels = new byte[(long)count * CifarBinaryDataset.PixelBytes];
        Parallel.For(0, count, i =>
        {
            labels[i] = (byte)generator.LabelOf(i);
            generator.Render(split, i, pixels.AsSpan(i * CifarBinaryDataset.PixelBytes, CifarBinaryDataset.PixelBytes));
        });
        return (labels, pixels);
    }

    private static void WriteAtomically(string path, Action<Stream> write)
    {
        var temp = path + ".tmp";
        using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20))
        {
            write(stream);
        }
        File.Move(temp, path, overwrite: true);
    }
}
