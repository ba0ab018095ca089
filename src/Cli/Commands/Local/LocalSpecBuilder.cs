using System.Globalization;
using Plateau.Contracts.Specs;
using Plateau.Data.Datasets;
using Plateau.Worker.Training;
using DatasetSpec = Plateau.Contracts.Specs.DatasetSpec;

namespace Plateau.Cli.Commands.Local;

/// <summary>
/// The job spec a <c>plateau local</c> run trains: read from <c>--spec</c>, or built from the options
/// (a synthetic CIFAR-format set generated once and cached, or the CIFAR-10 / ImageNet folder given).
/// </summary>
public static class LocalSpecBuilder
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    public static JobSpec Build(LocalSettings settings, string root, TextWriter output)
    {
        if (settings.SpecFile is { } file)
        {
            var loaded = Overridden(JobSpecLoader.LoadFile(file), settings);
            return settings.WorkersGiven ? loaded with { Workers = loaded.Workers with { Min = settings.MinWorkers ?? settings.Workers, Max = settings.Workers } } : loaded;
        }

        DatasetSpec dataset;
        string model;
        if (settings.Data is { } path)
        {
            var format = DatasetFactory.Detect(Path.GetFullPath(path));
            var kind = format switch
            {
                DatasetFormat.Cifar10 => DatasetKind.Cifar10,
                DatasetFormat.ImageNet => DatasetKind.ImageNet,
                _ => throw new ArgumentException($"--data {path}: found a {format} dataset; plateau local trains CIFAR-10 binary or ImageNet folders"),
            };
            dataset = new DatasetSpec { Kind = kind, Path = Path.GetFullPath(path) };
            model = settings.Model ?? (kind == DatasetKind.ImageNet ? "se_resnet50" : "se_resnet20_cifar");
        }
        else
        {
            var cache = settings.Dir is null ? Path.Combine(".plateau", "data") : Path.Combine(root, "data");
            var synthetic = Path.GetFullPath(Path.Combine(cache, string.Create(Invariant, $"synthetic-{settings.SyntheticTrain}-{settings.SyntheticValidation}-s{settings.Seed}")));
            if (CifarBinaryDataset.ResolveDirectory(synthetic) is null)
            {
                output.WriteLine($"generating the synthetic CIFAR-format set ({settings.SyntheticTrain} + {settings.SyntheticValidation} images) in {synthetic}");
            }

            TrainingData.EnsureSynthetic(synthetic, settings.SyntheticTrain, settings.SyntheticValidation, settings.Seed);
            dataset = new DatasetSpec
            {
                Kind = DatasetKind.Synthetic,
                Path = synthetic,
                Options = new Dictionary<string, string>
                {
                    ["train"] = settings.SyntheticTrain.ToString(Invariant),
                    ["validation"] = settings.SyntheticValidation.ToString(Invariant),
                },
            };
            model = settings.Model ?? "se_resnet20_cifar";
        }

        return Overridden(new JobSpec
        {
            Name = "local",
            Model = new ModelSpec { Name = model },
            Dataset = dataset,
            Epochs = settings.Epochs,
            Batch = new BatchSpec { Global = settings.Batch },
            Optimizer = new OptimizerSpec { Lr = settings.Lr, Momentum = 0.9, WeightDecay = settings.WeightDecay },
            Schedule = new ScheduleSpec
            {
                Plateau = new PlateauScheduleSpec
                {
                    Metric = PlateauMetric.ValTop1Error,
                    Factor = settings.Factor,
                    Patience = settings.Patience,
                    Threshold = settings.Threshold,
                    MinLr = 1e-5,
                },
            },
            Evaluation = new EvaluationSpec { EveryEpochs = 1 },
            Workers = new WorkersSpec { Min = settings.MinWorkers ?? settings.Workers, Max = settings.Workers, DevicesPerWorker = settings.DevicesPerWorker, RendezvousTimeoutSeconds = 180 },
            Seed = settings.Seed,
            Checkpoint = new CheckpointPolicySpec { EveryEpochs = 1, Keep = 3 },
        }, settings);
    }

    /// <summary>The options given on the command line that override the spec's own choice (a --spec file's too).</summary>
    private static JobSpec Overridden(JobSpec spec, LocalSettings settings)
    {
        if (settings.CheckpointEverySteps is { } everySteps)
        {
            spec = spec with { Checkpoint = spec.Checkpoint with { EverySteps = everySteps } };
        }

        if (settings.Evaluation is { } evaluation)
        {
            spec = spec with { Evaluation = spec.Evaluation with { Mode = evaluation } };
        }

        if (settings.DropLast is { } dropLast)
        {
            spec = spec with { Batch = spec.Batch with { DropLast = dropLast } };
        }

        if (settings.Compression is { } compression)
        {
            spec = spec with { Communication = spec.Communication with { Compression = compression } };
        }

        return spec;
    }
}
