using System.Globalization;
using Plateau.Contracts.Rendezvous;
using Plateau.Contracts.Specs;
using Plateau.Data.Datasets;
using Plateau.Data.Synthetic;
using Plateau.Data.Transforms;
using DataSpec = Plateau.Data.Datasets.DatasetSpec;
using JobDatasetSpec = Plateau.Contracts.Specs.DatasetSpec;

namespace Plateau.Worker.Training;

/// <summary>
/// The job's training and validation sets as this worker sees them, with the paper's transforms:
/// CIFAR (and the synthetic CIFAR-format set) pad-4 / random 32 crop / flip for training and the plain
/// image for validation; ImageNet scale augmentation [256, 480] / 224 crop / flip / PCA lighting for
/// training and resize 256 / centre 224 for validation.
/// </summary>
public sealed class TrainingData : IDisposable
{
    /// <summary>Synthetic set defaults (CIFAR format, 10 classes).</summary>
    public const int DefaultSyntheticTrain = 5000;
    public const int DefaultSyntheticValidation = 1000;

    private TrainingData(IImageDataset train, IImageDataset validation, ISampleTransform trainTransform, ISampleTransform evalTransform, Normalisation normalisation)
    {
        Train = train;
        Validation = validation;
        TrainTransform = trainTransform;
        EvalTransform = evalTransform;
        Normalisation = normalisation;
    }

    public IImageDataset Train { get; }

    public IImageDataset Validation { get; }

    public ISampleTransform TrainTransform { get; }

    public ISampleTransform EvalTransform { get; }

    public Normalisation Normalisation { get; }

    public DatasetSummary Summary => new(Train.Count, Validation.Count, Train.NumClasses);

    /// <summary>Opens the spec's dataset (generating the synthetic set first when its folder is empty).
    /// Errors name the spec field and the path.</summary>
    public static TrainingData Open(JobDatasetSpec spec, long seed)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var options = spec.Options;
        switch (spec.Kind)
        {
            case DatasetKind.Cifar10:
            {
                var path = Required(spec);
                var holdOut = Fraction(options, "holdOutFraction", 0.1);
                return Cifar(path, holdOut);
            }

            case DatasetKind.Synthetic:
            {
                var train = Int(options, "train", DefaultSyntheticTrain, 5);
                var validation = Int(options, "validation", DefaultSyntheticValidation, 1);
                var path = string.IsNullOrWhiteSpace(spec.Path)
                    ? Path.Combine(Path.GetTempPath(), string.Create(CultureInfo.InvariantCulture, $"plateau-synthetic-{seed}-{train}-{validation}"))
                    : spec.Path;
                EnsureSynthetic(path, train, validation, seed);
                return Cifar(path, holdOut: 0);
            }

            case DatasetKind.ImageNet:
            {
                var path = Required(spec);
                var size = Int(options, "imageSize", 224, 8);
                var train = Open(new DataSpec { Path = path, Format = DatasetFormat.ImageNet, Split = DatasetSplit.Train }, "spec.dataset.path");
                var validation = Open(new DataSpec { Path = path, Format = DatasetFormat.ImageNet, Split = DatasetSplit.Validation }, "spec.dataset.path");
                return new TrainingData(train, validation, StandardTransforms.PaperTrain(size),
                    StandardTransforms.Eval((int)Math.Round(size * 256.0 / 224), size), Normalisation.ImageNet);
            }

            case DatasetKind.Shards:
            {
                var path = Required(spec);
                if (!options.TryGetValue("validation", out var validationPath) || string.IsNullOrWhiteSpace(validationPath))
                {
                    throw new ArgumentException("spec.dataset.options.validation: the validation shard manifest is required for dataset kind shards");
                }

                var size = Int(options, "imageSize", 224, 8);
                var train = Open(new DataSpec { Path = path, Format = DatasetFormat.Shards }, "spec.dataset.path");
                var validation = Open(new DataSpec { Path = validationPath, Format = DatasetFormat.Shards }, "spec.dataset.options.validation");
                var small = size <= 64;
                return new TrainingData(train, validation,
                    small ? new PadCropFlipTransform(size, 4) : StandardTransforms.PaperTrain(size),
                    small ? new IdentityTransform(size, size) : StandardTransforms.Eval((int)Math.Round(size * 256.0 / 224), size),
                    small ? Normalisation.Cifar10 : Normalisation.ImageNet);
            }

            default:
                throw new ArgumentException($"spec.dataset.kind: unsupported dataset kind {spec.Kind?.ToString() ?? "(none)"}");
        }
    }

    /// <summary>Writes the synthetic CIFAR-format set to <paramref name="path"/> unless it is already there.</summary>
    /// <remarks>Several ranks and worker processes may share the folder: a lock file lets one of them write it.</remarks>
    public static void EnsureSynthetic(string path, int train, int validation, long seed)
    {
        if (IsComplete(path))
        {
            return;
        }

        Directory.CreateDirectory(path);
        using var writerLock = AcquireLock(Path.Combine(path, ".generating.lock"), TimeSpan.FromMinutes(5));
        if (!IsComplete(path))
        {
            SyntheticDatasetWriter.WriteCifar(path, train, validation, unchecked((int)seed));
        }
    }

    /// <summary>The writer puts batches.meta.txt last: before it, another rank may be half-way through the batches.</summary>
    private static bool IsComplete(string path) =>
        CifarBinaryDataset.ResolveDirectory(path) is { } folder && File.Exists(Path.Combine(folder, "batches.meta.txt"));

    private static FileStream AcquireLock(string path, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.DeleteOnClose);
            }
            catch (IOException) when (DateTime.UtcNow < deadline)
            {
                Thread.Sleep(100);
            }
        }
    }

    public void Dispose()
    {
        Train.Dispose();
        Validation.Dispose();
    }

    private static TrainingData Cifar(string path, double holdOut)
    {
        var train = Open(new DataSpec { Path = path, Format = DatasetFormat.Cifar10, Split = DatasetSplit.Train, HoldOutFraction = holdOut }, "spec.dataset.path");
        var validation = Open(new DataSpec { Path = path, Format = DatasetFormat.Cifar10, Split = DatasetSplit.Validation, HoldOutFraction = holdOut }, "spec.dataset.path");
        return new TrainingData(train, validation, StandardTransforms.CifarTrain(), StandardTransforms.CifarEval(), Normalisation.Cifar10);
    }

    private static IImageDataset Open(DataSpec spec, string field)
    {
        try
        {
            return DatasetFactory.Open(spec);
        }
        catch (Exception e) when (e is DatasetFormatException or IOException or ArgumentException or InvalidDataException)
        {
            throw new ArgumentException($"{field}: cannot open '{spec.Path}' as {spec.Format} ({spec.Split}): {e.Message}", e);
        }
    }

    private static string Required(JobDatasetSpec spec) =>
        string.IsNullOrWhiteSpace(spec.Path) ? throw new ArgumentException($"spec.dataset.path is required for dataset kind {spec.Kind}") : spec.Path;

    private static int Int(IReadOnlyDictionary<string, string> options, string key, int fallback, int min)
    {
        if (!options.TryGetValue(key, out var text))
        {
            return fallback;
        }

        return int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) && value >= min
            ? value
            : throw new ArgumentException($"spec.dataset.options.{key}: expected a whole number ≥ {min}, got '{text}'");
    }

    private static double Fraction(IReadOnlyDictionary<string, string> options, string key, double fallback)
    {
        if (!options.TryGetValue(key, out var text))
        {
            return fallback;
        }

        return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && value is >= 0 and < 1
            ? value
            : throw new ArgumentException($"spec.dataset.options.{key}: expected a fraction in [0, 1), got '{text}'");
    }
}
