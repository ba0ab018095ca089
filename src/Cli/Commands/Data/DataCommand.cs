using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Plateau.Cli.Commands.Jobs;
using Plateau.Data.Datasets;
using Plateau.Data.Decoding;
using Plateau.Data.Shards;
using Plateau.Data.Synthetic;

namespace Plateau.Cli.Commands.Data;

/// <summary><c>plateau data synth | pack | inspect</c>: make, pack and check datasets.</summary>
public static class DataCommand
{
    public static Command Build()
    {
        var data = new Command("data", "Create, pack and inspect image datasets (CIFAR-10 binary, ImageNet layout, tar shards).");
        data.Subcommands.Add(BuildSynth());
        data.Subcommands.Add(BuildPack());
        data.Subcommands.Add(BuildInspect());
        return data;
    }

    private static Command BuildSynth()
    {
        var output = new Argument<string>("output") { Description = "Directory to write into." };
        var format = new Option<string>("--format") { Description = "cifar (CIFAR-10 binary, 32x32), imagefolder (JPEG, ImageNet layout) or both (cifar/ and imagenet/ subfolders).", DefaultValueFactory = _ => "cifar" };
        format.AcceptOnlyFromAmong("cifar", "imagefolder", "both");
        var train = new Option<int>("--train") { Description = "Training images in total.", DefaultValueFactory = _ => 20_000 };
        var test = new Option<int>("--test") { Description = "Test (CIFAR) / validation (ImageNet layout) images in total.", DefaultValueFactory = _ => 2_000 };
        var classes = new Option<int>("--classes") { Description = "Number of classes (2..10 for CIFAR, 2..30 for imagefolder).", DefaultValueFactory = _ => 10 };
        var size = new Option<int>("--size") { Description = "Image side for imagefolder output.", DefaultValueFactory = _ => 64 };
        var seed = new Option<int>("--seed") { Description = "Generator seed; the same seed writes identical files.", DefaultValueFactory = _ => 0 };
        var flat = new Option<bool>("--flat-val") { Description = "imagefolder: flat val/ with LOC_val_solution.csv instead of class folders." };
        var command = new Command("synth", "Write a deterministic, learnable synthetic image classification set.") { output, format, train, test, classes, size, seed, flat };
        command.SetAction(parse =>
        {
            var dir = parse.GetValue(output)!;
            var f = parse.GetValue(format)!;
            var n = parse.GetValue(classes);
            var watch = Stopwatch.StartNew();
            try
            {
                if (f is "cifar" or "both")
                {
                    var target = f == "both" ? Path.Combine(dir, "cifar") : dir;
                    SyntheticDatasetWriter.WriteCifar(target, parse.GetValue(train), parse.GetValue(test), parse.GetValue(seed), n);
                    Console.WriteLine($"wrote CIFAR-10 binary to {target}: {parse.GetValue(train)} train + {parse.GetValue(test)} test images, {n} classes");
                }
                if (f is "imagefolder" or "both")
                {
                    var target = f == "both" ? Path.Combine(dir, "imagenet") : dir;
                    var perClassTrain = Math.Max(1, parse.GetValue(train) / n);
                    var perClassVal = Math.Max(0, parse.GetValue(test) / n);
                    SyntheticDatasetWriter.WriteImageFolder(target, perClassTrain, perClassVal, parse.GetValue(size), parse.GetValue(seed), n, flatValidation: parse.GetValue(flat));
                    Console.WriteLine($"wrote ImageNet-layout JPEGs to {target}: {perClassTrain * n} train + {perClassVal * n} val images of {parse.GetValue(size)}px, {n} classes");
                }
            }
            catch (ArgumentOutOfRangeException e)
            {
                Console.Error.WriteLine($"plateau data synth: {e.Message}");
                return 2;
            }
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"done in {watch.Elapsed.TotalSeconds:F1} s"));
            return 0;
        });
        return command;
    }

    private static Command BuildPack()
    {
        var source = new Argument<string>("source") { Description = "ImageNet root, ImageFolder or CIFAR directory." };
        var output = new Argument<string>("output") { Description = "Directory for shard-NNNNNN.tar files and manifest.json." };
        var split = new Option<DatasetSplit>("--split") { Description = "Which split of the source to pack.", DefaultValueFactory = _ => DatasetSplit.Train };
        var shardSize = new Option<string>("--shard-size") { Description = "Target shard size (e.g. 256MiB, 1GB, 500000).", DefaultValueFactory = _ => "256MiB" };
        var seed = new Option<int>("--seed") { Description = "Seed of the packing order (classes are mixed across shards).", DefaultValueFactory = _ => 0 };
        var command = new Command("pack", "Pack an image dataset into WebDataset-style tar shards with a SHA-256 manifest.") { source, output, split, shardSize, seed };
        command.SetAction(parse =>
        {
            if (!TryParseSize(parse.GetValue(shardSize)!, out var bytes))
            {
                Console.Error.WriteLine($"plateau data pack: --shard-size '{parse.GetValue(shardSize)}' is not a size (examples: 256MiB, 1GB, 500000)");
                return 2;
            }
            try
            {
                using var ds = DatasetFactory.Open(new DatasetSpec { Path = parse.GetValue(source)!, Split = parse.GetValue(split), HoldOutFraction = 0 });
                var result = ShardWriter.Pack(ds, parse.GetValue(output)!, bytes, parse.GetValue(seed), Console.WriteLine);
                Console.WriteLine($"packed {result.Manifest.TotalSamples} samples of {ds.Count} into {result.Manifest.Shards.Count} shards; manifest {Path.Combine(parse.GetValue(output)!, ShardManifest.FileName)}");
                foreach (var s in result.Skipped)
                {
                    Console.Error.WriteLine($"skipped unreadable {s}");
                }
                return 0;
            }
            catch (DatasetFormatException e)
            {
                Console.Error.WriteLine($"plateau data pack: {e.Message}");
                return 1;
            }
        });
        return command;
    }

    private static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    private static Command BuildInspect()
    {
        var path = new Argument<string>("path") { Description = "Dataset directory or shard manifest." };
        var decode = new Option<bool>("--decode") { Description = "Decode every image to find corrupt or truncated files (slow for ImageNet)." };
        var threads = new Option<int>("--threads") { Description = "Decode threads for --decode.", DefaultValueFactory = _ => Environment.ProcessorCount };
        var format = new Option<OutputFormat>("--output", "-o") { Description = "table (default), json or yaml.", DefaultValueFactory = _ => OutputFormat.Table };
        var command = new Command("inspect", "Show a dataset's format, classes, sample counts and bad files (exit 1 when --decode finds bad ones).") { path, decode, threads, format };
        command.SetAction(parse =>
        {
            try
            {
                var inspection = Inspect(parse.GetValue(path)!, parse.GetValue(decode) ? Math.Max(1, parse.GetValue(threads)) : null);
                Write(inspection, parse.GetValue(format), Console.Out);
                return inspection.BadSamples == 0 ? 0 : 1;
            }
            catch (DatasetFormatException e)
            {
                Console.Error.WriteLine($"plateau data inspect: {e.Message}");
                return 1;
            }
        });
        return command;
    }

    /// <summary>Opens each split the format has and counts its samples per class; decodes every sample when
    /// <paramref name="decodeThreads"/> is given.</summary>
    public static DatasetInspection Inspect(string root, int? decodeThreads)
    {
        var format = DatasetFactory.Detect(root);
        var splits = format switch
        {
            DatasetFormat.Cifar10 => new[] { DatasetSplit.Train, DatasetSplit.Test },
            DatasetFormat.ImageNet => new[] { DatasetSplit.Train, DatasetSplit.Validation },
            _ => new[] { DatasetSplit.Train },
        };
        var found = new List<SplitInspection>();
        foreach (var split in splits)
        {
            IImageDataset ds;
            try
            {
                ds = DatasetFactory.Open(new DatasetSpec { Path = root, Format = format, Split = split, HoldOutFraction = 0 });
            }
            catch (DatasetFormatException e) when (format == DatasetFormat.ImageNet && split == DatasetSplit.Validation)
            {
                found.Add(new SplitInspection(split.ToString(), $"not available ({e.Message})", 0, 0, [], 0, 0, [], ""));
                continue;
            }

            using (ds)
            {
                var perClass = new int[ds.NumClasses];
                for (var i = 0; i < ds.Count; i++)
                {
                    perClass[ds.GetLabel(i)]++;
                }

                var empty = Enumerable.Range(0, ds.NumClasses).Where(c => perClass[c] == 0).Select(c => ds.ClassNames[c]).ToList();
                var bad = decodeThreads is { } n ? DecodeAll(ds, n) : null;
                found.Add(new SplitInspection(split.ToString(), null, ds.Count, ds.NumClasses, [.. ds.ClassNames],
                    perClass.Length == 0 ? 0 : perClass.Min(), perClass.Length == 0 ? 0 : perClass.Max(), empty, $"{ds.Format}: {ds.Location}",
                    bad is null ? null : ds.Count, bad));
            }
        }

        return new DatasetInspection(root, format.ToString(), found);
    }

    public static void Write(DatasetInspection inspection, OutputFormat format, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(inspection);
        ArgumentNullException.ThrowIfNull(output);
        if (format != OutputFormat.Table)
        {
            var json = JsonSerializer.Serialize(inspection, JsonOptions);
            output.Write(format == OutputFormat.Json ? json + Environment.NewLine : ObjectOutput.ToYaml(json));
            return;
        }

        output.WriteLine($"path:    {inspection.Path}");
        output.WriteLine($"format:  {inspection.Format}");
        foreach (var s in inspection.Splits)
        {
            if (s.Problem is not null)
            {
                output.WriteLine($"{s.Split}: {s.Problem}");
                continue;
            }

            var names = string.Join(", ", s.ClassNames.Take(5)) + (s.Classes > 5 ? ", ..." : string.Empty);
            output.WriteLine($"{s.Split,-10} {s.Samples,9} samples  {s.Classes} classes ({names})  per class min {s.PerClassMin} max {s.PerClassMax}  [{s.Location}]");
            if (s.ClassesWithoutSamples.Count > 0)
            {
                output.WriteLine($"           classes without samples: {string.Join(", ", s.ClassesWithoutSamples.Take(20))}");
            }

            if (s.Bad is { } bad)
            {
                output.WriteLine($"           decoded {s.Decoded} samples: {bad.Count} bad");
                foreach (var b in bad)
                {
                    output.WriteLine($"           bad: {b}");
                }
            }
        }
    }

    private static List<string> DecodeAll(IImageDataset ds, int threads)
    {
        var bad = new System.Collections.Concurrent.ConcurrentBag<string>();
        var next = -1;
        var workers = Enumerable.Range(0, threads).Select(_ => Task.Run(() =>
        {
            using var decoder = new ImageDecoder();
            var buffer = new SampleBuffer();
            var image = new DecodedImage();
            int i;
            while ((i = Interlocked.Increment(ref next)) < ds.Count)
            {
                try
                {
                    decoder.Decode(ds.ReadSample(i, buffer), DctScale.Full, image);
                }
                catch (BadSampleException e)
                {
                    bad.Add($"{(string.IsNullOrEmpty(e.SampleSource) ? ds.DescribeSample(i) : e.SampleSource)}: {e.Reason}");
                }
            }
        })).ToArray();
        Task.WaitAll(workers);
        return [.. bad.Order(StringComparer.Ordinal)];
    }

    /// <summary>Parses 500000, 256MiB, 1GB, 64KiB (binary and decimal units).</summary>
    internal static bool TryParseSize(string text, out long bytes)
    {
        bytes = 0;
        var t = text.Trim();
        var units = new (string Suffix, long Factor)[] { ("KiB", 1L << 10), ("MiB", 1L << 20), ("GiB", 1L << 30), ("KB", 1000), ("MB", 1_000_000), ("GB", 1_000_000_000), ("B", 1) };
        long factor = 1;
        foreach (var (suffix, f) in units)
        {
            if (t.EndsWith(suffix, StringComparison.OrdinalIgnoreCase))
            {
                factor = f;
                t = t[..^suffix.Length].Trim();
                break;
            }
        }
        if (!double.TryParse(t, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || value <= 0)
        {
            return false;
        }
        bytes = (long)(value * factor);
        return bytes > 0;
    }
}
