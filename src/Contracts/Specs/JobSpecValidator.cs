using System.Globalization;
using System.Text.RegularExpressions;
using Plateau.Contracts.Errors;

namespace Plateau.Contracts.Specs;

/// <summary>Checks every field of a spec and reports all problems at once, each naming its field.</summary>
public static partial class JobSpecValidator
{
    /// <summary>A <see cref="ModelCheck"/> that accepts exactly these model names.</summary>
    public static ModelCheck KnownModels(IReadOnlyCollection<string> names) => model =>
        names.Contains(model.Name, StringComparer.Ordinal)
            ? []
            : [new SpecError("spec.model.name", $"unknown model {Quote.Value(model.Name)}; known models: {string.Join(", ", names.Order(StringComparer.Ordinal))}")];

    /// <summary>All problems of the spec; empty when it is valid.</summary>
    public static IReadOnlyList<SpecError> Validate(JobSpec spec, ModelCheck? modelCheck = null)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var errors = new List<SpecError>();
        void Fail(string field, string message) => errors.Add(new SpecError(field, message));

        if (spec.ApiVersion != JobSpec.CurrentApiVersion)
        {
            Fail("spec.apiVersion", $"must be '{JobSpec.CurrentApiVersion}', got {Quote.Value(spec.ApiVersion)}");
        }

        if (spec.Name is not null && !JobNamePattern().IsMatch(spec.Name))
        {
            Fail("spec.name", $"must be 1-63 lower-case letters, digits or '-', starting and ending with a letter or digit, got {Quote.Value(spec.Name)}");
        }

        ValidateModel(spec.Model, modelCheck, errors);
        ValidateDataset(spec.Dataset, Fail);
        ValidateLength(spec, Fail);
        ValidateBatch(spec, Fail);
        ValidateOptimizer(spec.Optimizer, Fail);
        ValidateSchedule(spec, Fail);

        if (spec.Evaluation.EveryEpochs < 1)
        {
            Fail("spec.evaluation.everyEpochs", $"must be ≥ 1, got {spec.Evaluation.EveryEpochs}");
        }

        if (!Enum.IsDefined(spec.Evaluation.Mode))
        {
            // The JSON/YAML loader already refuses unknown names; this catches a value built in code or over Orleans.
            Fail("spec.evaluation.mode", $"unknown evaluation mode {(int)spec.Evaluation.Mode}; expected centerCrop, tenCrop or multiScale");
        }

        ValidateWorkers(spec.Workers, Fail);

        if (!Enum.IsDefined(spec.Communication.Compression))
        {
            Fail("spec.communication.compression", $"unknown compression {(int)spec.Communication.Compression}; expected none, bf16 or fp16");
        }

        if (!Enum.IsDefined(spec.Communication.Reduction))
        {
            Fail("spec.communication.reduction", $"unknown reduction {(int)spec.Communication.Reduction}; expected auto, flat or hierarchical");
        }

        if (spec.Precision == Precision.Amp)
        {
            // Refused rather than run in fp32 under an amp label: TorchSharp 0.107 has no autocast or
            // gradient scaler, and the trainer has no mixed-precision path of its own yet.
            Fail("spec.precision", "amp is not supported yet: the trainer runs fp32 only (TorchSharp 0.107 has no autocast or gradient scaler); use fp32");
        }

        if (spec.MaxRestarts < 0)
        {
            Fail("spec.maxRestarts", $"must be ≥ 0, got {spec.MaxRestarts}");
        }

        if (spec.MaxNonFiniteSteps < 1)
        {
            Fail("spec.maxNonFiniteSteps", $"must be ≥ 1, got {spec.MaxNonFiniteSteps}");
        }

        if (spec.Checkpoint.EveryEpochs < 1)
        {
            Fail("spec.checkpoint.everyEpochs", $"must be ≥ 1, got {spec.Checkpoint.EveryEpochs}");
        }

        if (spec.Checkpoint.Keep < 1)
        {
            Fail("spec.checkpoint.keep", $"must be ≥ 1, got {spec.Checkpoint.Keep}");
        }

        if (spec.Checkpoint.KeepBest < 0)
        {
            Fail("spec.checkpoint.keepBest", $"must be ≥ 0, got {spec.Checkpoint.KeepBest}");
        }

        if (spec.Checkpoint.EverySteps < 0)
        {
            Fail("spec.checkpoint.everySteps", $"must be ≥ 0 (0: only at epoch ends), got {spec.Checkpoint.EverySteps}");
        }

        if (!double.IsFinite(spec.Checkpoint.EveryMinutes) || spec.Checkpoint.EveryMinutes < 0)
        {
            Fail("spec.checkpoint.everyMinutes", $"must be a finite number ≥ 0 (0: off), got {spec.Checkpoint.EveryMinutes}");
        }

        return errors;
    }

    private static void ValidateModel(ModelSpec model, ModelCheck? modelCheck, List<SpecError> errors)
    {
        if (string.IsNullOrWhiteSpace(model.Name))
        {
            errors.Add(new SpecError("spec.model.name", "is required (e.g. se_resnet20_cifar, resnet50)"));
            return;
        }

        foreach (var key in model.Options.Keys.Where(string.IsNullOrWhiteSpace))
        {
            errors.Add(new SpecError("spec.model.options", $"has an empty option name {Quote.Value(key)}"));
        }

        if (modelCheck is not null)
        {
            errors.AddRange(modelCheck(model));
        }
    }

    private static void ValidateDataset(DatasetSpec dataset, Action<string, string> fail)
    {
        if (dataset.Kind is null)
        {
            fail("spec.dataset.kind", "is required: one of cifar10, imagenet, shards, synthetic");
        }
        else if (dataset.Kind != DatasetKind.Synthetic && string.IsNullOrWhiteSpace(dataset.Path))
        {
            fail("spec.dataset.path", $"is required for dataset kind {SpecEnumNames.Name(dataset.Kind.Value)}");
        }
    }

    private static void ValidateLength(JobSpec spec, Action<string, string> fail)
    {
        switch (spec.Epochs, spec.Iterations)
        {
            case (null, null):
                fail("spec.epochs", "one of epochs or iterations is required");
                break;
            case (not null, not null):
                fail("spec.iterations", $"give epochs or iterations, not both (epochs {spec.Epochs}, iterations {spec.Iterations})");
                break;
            case ({ } epochs, null) when epochs < 1:
                fail("spec.epochs", $"must be ≥ 1, got {epochs}");
                break;
            case (null, { } iterations) when iterations < 1:
                fail("spec.iterations", $"must be ≥ 1, got {iterations}");
                break;
        }
    }

    private static void ValidateBatch(JobSpec spec, Action<string, string> fail)
    {
        var (global, perDevice) = (spec.Batch.Global, spec.Batch.PerDevice);
        if (global is null && perDevice is null)
        {
            fail("spec.batch", "global or perDevice is required");
            return;
        }

        if (global is < 1)
        {
            fail("spec.batch.global", $"must be ≥ 1, got {global}");
        }

        if (perDevice is < 1)
        {
            fail("spec.batch.perDevice", $"must be ≥ 1, got {perDevice}");
        }

        var workers = spec.Workers;
        if (workers.Min < 1 || workers.Max < workers.Min || workers.DevicesPerWorker < 1)
        {
            return; // reported under spec.workers; ranks unknown.
        }

        var (minRanks, maxRanks) = (workers.Min * workers.DevicesPerWorker, workers.Max * workers.DevicesPerWorker);
        if (global is > 0 && perDevice is > 0)
        {
            if (global % perDevice != 0)
            {
                fail("spec.batch.perDevice", $"global batch {global} is not a multiple of perDevice {perDevice}");
            }
            else if (global / perDevice is var ranks && (ranks < minRanks || ranks > maxRanks))
            {
                fail("spec.batch", $"global {global} / perDevice {perDevice} = {ranks} ranks, outside the {minRanks}..{maxRanks} ranks of workers.min..max × devicesPerWorker");
            }
            else if (ranks % workers.DevicesPerWorker != 0)
            {
                fail("spec.batch", $"global {global} / perDevice {perDevice} = {ranks} ranks, not a whole number of workers with devicesPerWorker {workers.DevicesPerWorker}");
            }
        }
        else if (global is > 0 && perDevice is null)
        {
            if (global < minRanks)
            {
                fail("spec.batch.global", $"{global} is smaller than the {minRanks} ranks of workers.min × devicesPerWorker");
            }
            else if (!BatchSplit.WorldSizes(workers).Any(ranks => BatchSplit.For(spec.Batch, ranks) is not null))
            {
                var sizes = workers.DevicesPerWorker == 1
                    ? $"{minRanks}..{maxRanks}"
                    : string.Join(", ", BatchSplit.WorldSizes(workers).Reverse());
                fail("spec.batch.global", $"{global} is not divisible by any world size in {sizes}");
            }
        }
    }

    private static void ValidateOptimizer(OptimizerSpec optimizer, Action<string, string> fail)
    {
        if (!(optimizer.Lr > 0) || !double.IsFinite(optimizer.Lr))
        {
            fail("spec.optimizer.lr", $"must be > 0, got {Num(optimizer.Lr)}");
        }

        if (!(optimizer.Momentum >= 0 && optimizer.Momentum < 1))
        {
            fail("spec.optimizer.momentum", $"must be in [0, 1), got {Num(optimizer.Momentum)}");
        }

        if (!(optimizer.WeightDecay >= 0) || !double.IsFinite(optimizer.WeightDecay))
        {
            fail("spec.optimizer.weightDecay", $"must be ≥ 0, got {Num(optimizer.WeightDecay)}");
        }

        if (optimizer.Nesterov && !(optimizer.Momentum > 0))
        {
            fail("spec.optimizer.nesterov", "Nesterov momentum requires momentum > 0");
        }
    }

    private static void ValidateSchedule(JobSpec spec, Action<string, string> fail)
    {
        var schedule = spec.Schedule;
        if (schedule.Plateau is not null && schedule.Steps is not null)
        {
            fail("spec.schedule", "plateau and steps are alternatives; give one of them");
        }

        if (schedule.Plateau is { } plateau)
        {
            if (!(plateau.Factor > 0 && plateau.Factor < 1))
            {
                fail("spec.schedule.plateau.factor", $"must be in (0, 1), got {Num(plateau.Factor)}");
            }

            if (plateau.Patience < 0)
            {
                fail("spec.schedule.plateau.patience", $"must be ≥ 0, got {plateau.Patience}");
            }

            if (!(plateau.Threshold >= 0) || !double.IsFinite(plateau.Threshold))
            {
                fail("spec.schedule.plateau.threshold", $"must be ≥ 0, got {Num(plateau.Threshold)}");
            }

            if (plateau.Cooldown < 0)
            {
                fail("spec.schedule.plateau.cooldown", $"must be ≥ 0, got {plateau.Cooldown}");
            }

            if (!(plateau.MinLr >= 0) || !double.IsFinite(plateau.MinLr))
            {
                fail("spec.schedule.plateau.minLr", $"must be ≥ 0, got {Num(plateau.MinLr)}");
            }

            if (!(plateau.Eps >= 0))
            {
                fail("spec.schedule.plateau.eps", $"must be ≥ 0, got {Num(plateau.Eps)}");
            }

            var natural = PlateauMetricInfo.NaturalMode(plateau.Metric);
            if (plateau.Mode is { } mode && mode != natural)
            {
                fail("spec.schedule.plateau.mode", $"'{SpecEnumNames.Name(mode)}' would reward a worse {SpecEnumNames.Name(plateau.Metric)}; use '{SpecEnumNames.Name(natural)}'");
            }
        }

        if (schedule.Steps is { } steps)
        {
            if (steps.Milestones.Count == 0)
            {
                fail("spec.schedule.steps.milestones", "must list at least one milestone");
            }

            for (var i = 0; i < steps.Milestones.Count; i++)
            {
                if (steps.Milestones[i] < 1 || (i > 0 && steps.Milestones[i] <= steps.Milestones[i - 1]))
                {
                    fail($"spec.schedule.steps.milestones[{i}]", $"milestones must be positive and increasing, got {string.Join(", ", steps.Milestones)}");
                    break;
                }
            }

            if (!(steps.Gamma > 0 && steps.Gamma <= 1))
            {
                fail("spec.schedule.steps.gamma", $"must be in (0, 1], got {Num(steps.Gamma)}");
            }
        }

        if (schedule.Warmup is { } warmup)
        {
            switch (warmup.Epochs, warmup.Iterations)
            {
                case (null, null):
                    fail("spec.schedule.warmup", "epochs or iterations is required");
                    break;
                case (not null, not null):
                    fail("spec.schedule.warmup", "give epochs or iterations, not both");
                    break;
                case ({ } e, null) when !(e > 0) || !double.IsFinite(e):
                    fail("spec.schedule.warmup.epochs", $"must be > 0, got {Num(e)}");
                    break;
                case (null, { } n) when n < 1:
                    fail("spec.schedule.warmup.iterations", $"must be ≥ 1, got {n}");
                    break;
            }

            if (warmup.StartFactor is { } factor && !(factor > 0 && factor <= 1))
            {
                fail("spec.schedule.warmup.startFactor", $"must be in (0, 1], got {Num(factor)}");
            }
        }

        if (schedule.LinearScaling is { BaseBatch: < 1 } scaling)
        {
            fail("spec.schedule.linearScaling.baseBatch", $"must be ≥ 1, got {scaling.BaseBatch}");
        }

        if (schedule.Plateau is { } p && !PlateauMetricInfo.IsTraining(p.Metric) && spec.Epochs is { } epochs && spec.Evaluation.EveryEpochs > epochs)
        {
            fail("spec.evaluation.everyEpochs", $"{spec.Evaluation.EveryEpochs} is more than the {epochs} epochs, so the plateau schedule on {SpecEnumNames.Name(p.Metric)} would never step");
        }
    }

    private static void ValidateWorkers(Specs.WorkersSpec workers, Action<string, string> fail)
    {
        if (workers.Min < 1)
        {
            fail("spec.workers.min", $"must be ≥ 1, got {workers.Min}");
        }

        if (workers.Max < workers.Min)
        {
            fail("spec.workers.max", $"must be ≥ workers.min ({workers.Min}), got {workers.Max}");
        }

        if (workers.DevicesPerWorker < 1)
        {
            fail("spec.workers.devicesPerWorker", $"must be ≥ 1, got {workers.DevicesPerWorker}");
        }

        if (!(workers.RendezvousTimeoutSeconds > 0) || !double.IsFinite(workers.RendezvousTimeoutSeconds))
        {
            fail("spec.workers.rendezvousTimeoutSeconds", $"must be > 0, got {Num(workers.RendezvousTimeoutSeconds)}");
        }
    }

    private static string Num(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    [GeneratedRegex("^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")]
    private static partial Regex JobNamePattern();
}
