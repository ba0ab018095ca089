using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Plateau.Data.Datasets;
using Plateau.Data.Decoding;
using Plateau.Data.Loading;
using Plateau.Data.Sampling;
using Plateau.Data.Synthetic;
using Plateau.Data.Transforms;

namespace Plateau.Bench;

/// <summary>
/// <c>plateau-bench data [--images N] [--dir PATH] [--epochs E]</c>: ImageNet-like JPEGs (500x375, quality 90) through
/// decode + transform into batches of 32, images/s with 1 and 2 decode threads; plus raw decode speed of TurboJPEG
/// versus SkiaSharp. The same files feed bench/python/data_torchvision.py for the torchvision baseline.
/// </summary>
public static class DataLoaderBenchmark
{
    private const int Width = 500;
    private const int Height = 375;
    private const int BatchSize = 32;

    public static Command Build()
    {
        var images = new Option<int>("--images") { Description = "JPEGs to write (once) and read.", DefaultValueFactory = _ => 512 }.Positive();
        var epochs = new Option<int>("--epochs") { Description = "Timed epochs per loader configuration (after one warm-up epoch).", DefaultValueFactory = _ => 2 }.Positive();
        var dir = new Option<string>("--dir") { Description = "Folder of the JPEGs (rewritten when it holds a different number).", DefaultValueFactory = _ => Path.Combine(Path.GetTempPath(), "plateau-bench-data") };
        var command = new Command("data", "JPEG decode + the paper's train transform into batches of 32, images/s with 1 and 2 decode threads; TurboJPEG vs SkiaSharp decode.")
        {
            images, epochs, dir,
        };
        command.SetAction(parseResult => Run(parseResult.GetValue(images), parseResult.GetValue(epochs), parseResult.GetValue(dir)!));
        return command;
    }

    private static int Run(int images, int epochs, string dir)
    {
        EnsureImages(dir, images);
        using var dataset = ImageFolderDataset.Open(dir);
        Console.WriteLine($"{dataset.Count} JPEGs {Width}x{Height} q90 in {dir}; load average {Machine.LoadAverage()}");
        Console.WriteLine();

        Console.WriteLine("| decoder, img per CPU-s | full | full, fast IDCT | 3/4 scale | 1/2 scale |");
        Console.WriteLine("|---|---|---|---|---|");
        foreach (var backend in new[] { DecoderBackend.TurboJpeg, DecoderBackend.Skia })
        {
            var full = DecodeRate(dataset, backend, DctScale.Full, false);
            var fast = backend == DecoderBackend.TurboJpeg ? DecodeRate(dataset, backend, DctScale.Full, true).ToString("F0", CultureInfo.InvariantCulture) : "n/a";
            var threeQuarters = DecodeRate(dataset, backend, new DctScale(6), false);
            var half = DecodeRate(dataset, backend, DctScale.Half, false);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {backend} | {full:F0} | {fast} | {threeQuarters:F0} | {half:F0} |"));
        }
        Console.WriteLine();

        // Wall-clock img/s depends on what else the machine runs; img per CPU-second (process CPU time) much less so.
        Console.WriteLine("| transform | output | threads | img/s | img per CPU-s |");
        Console.WriteLine("|---|---|---|---|---|");
        var transforms = new (string Name, ISampleTransform Transform)[]
        {
            ("paper (scale 256-480, crop 224, flip, PCA light)", StandardTransforms.PaperTrain()),
            ("RandomResizedCrop(224) + flip", StandardTransforms.InceptionTrain()),
        };
        foreach (var (name, transform) in transforms)
        {
            foreach (var (output, quality) in new[] { (LoaderOutput.Normalised, DecodeQuality.Exact), (LoaderOutput.Pixels, DecodeQuality.Exact), (LoaderOutput.Normalised, DecodeQuality.Fast) })
            {
                foreach (var threads in new[] { 1, 2 })
                {
                    var (rate, perCpu) = LoaderRate(dataset, transform, output, quality, threads, epochs);
                    var outputName = output == LoaderOutput.Normalised ? "float32 normalised" : "uint8";
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {name} | {outputName}, {quality} decode | {threads} | {rate:F0} | {perCpu:F0} |"));
                }
            }
        }
        Console.WriteLine();
        Console.WriteLine($"load average after: {Machine.LoadAverage()}");
        return 0;
    }

    private static double DecodeRate(ImageFolderDataset dataset, DecoderBackend backend, DctScale scale, bool fastDct)
    {
        using var decoder = new ImageDecoder(backend) { FastDct = fastDct };
        var buffer = new SampleBuffer();
        var image = new DecodedImage();
        var n = Math.Min(dataset.Count, 256);
        for (var i = 0; i < 16; i++)
        {
            decoder.Decode(dataset.ReadSample(i, buffer), scale, image);
        }
        // Per CPU-second of this thread: robust to other load on the machine.
        var cpuBefore = ThreadCpuSeconds();
        for (var i = 0; i < n; i++)
        {
            decoder.Decode(dataset.ReadSample(i, buffer), scale, image);
        }
        return n / (ThreadCpuSeconds() - cpuBefore);
    }

    private static (double PerSecond, double PerCpuSecond) LoaderRate(ImageFolderDataset dataset, ISampleTransform transform, LoaderOutput output, DecodeQuality quality, int threads, int epochs)
    {
        var sampler = new DistributedSampler(dataset.Count, BatchSize, seed: 1);
        using var loader = new DataLoader(dataset, transform, BatchSize, seed: 1, new DataLoaderOptions
        {
            DecodeThreads = threads,
            Output = output,
            DecodeQuality = quality,
            MaxPrefetchBatches = 4,
        });
        Drain(loader, sampler, 100); // warm-up epoch (page cache, JIT)
        var process = Process.GetCurrentProcess();
        var cpuBefore = process.TotalProcessorTime;
        var watch = Stopwatch.StartNew();
        var samples = 0;
        for (var e = 0; e < epochs; e++)
        {
            samples += Drain(loader, sampler, e);
        }
        var wall = watch.Elapsed.TotalSeconds;
        process.Refresh();
        var cpu = (process.TotalProcessorTime - cpuBefore).TotalSeconds;
        return (samples / wall, samples / cpu);
    }

    private static int Drain(DataLoader loader, DistributedSampler sampler, int epoch)
    {
        var task = Task.Run(async () =>
        {
            var n = 0;
            await foreach (var batch in loader.ReadEpoch(sampler, epoch, 0, 0, 1))
            {
                n += batch.Count;
            }
            return n;
        });
        return task.GetAwaiter().GetResult();
    }

    /// <summary>Writes N photo-like JPEGs (synthetic scenes at 500x375, quality 90) into 8 class folders, once.</summary>
    private static void EnsureImages(string dir, int count)
    {
        const int classes = 8;
        var existing = Directory.Exists(dir) ? Directory.EnumerateFiles(dir, "*.JPEG", SearchOption.AllDirectories).Count() : 0;
        if (existing == count)
        {
            return;
        }
        if (Directory.Exists(dir))
        {
            Directory.Delete(dir, recursive: true);
        }
        Console.WriteLine($"writing {count} JPEGs to {dir} ...");
        var generator = new SyntheticImageGenerator(classes, Width, seed: 123);
        Parallel.For(0, count, () => new byte[Width * Width * 3], (i, _, pixels) =>
        {
            generator.Render(0, i, pixels);
            var label = generator.LabelOf(i);
            var folder = Path.Combine(dir, SyntheticDatasetWriter.Wnid(label));
            Directory.CreateDirectory(folder);
            // The top 375 rows of a 500x500 render: 4:3 like most ImageNet photos.
            var jpeg = ImageEncoding.EncodeJpeg(pixels.AsSpan(0, Width * Height * 3), Width, Height, 90);
            File.WriteAllBytes(Path.Combine(folder, string.Create(CultureInfo.InvariantCulture, $"img_{i:D5}.JPEG")), jpeg);
            return pixels;
        }, _ => { });
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "clock_gettime")]
    private static extern int ClockGetTime(int clock, out TimeSpec time);

    private struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    private static double ThreadCpuSeconds()
    {
        const int ClockThreadCpuTime = 3;
        return ClockGetTime(ClockThreadCpuTime, out var t) == 0 ? t.Seconds + (t.Nanoseconds * 1e-9) : throw new InvalidOperationException("clock_gettime failed");
    }

}
