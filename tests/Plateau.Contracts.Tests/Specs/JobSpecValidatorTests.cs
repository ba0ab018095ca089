using Plateau.Contracts.Specs;

namespace Plateau.Contracts.Tests.Specs;

public class JobSpecValidatorTests
{
    private static readonly JobSpec Valid = new()
    {
        Model = new ModelSpec { Name = "se_resnet20_cifar" },
        Dataset = new DatasetSpec { Kind = DatasetKind.Synthetic },
        Epochs = 10,
        Batch = new BatchSpec { Global = 128 },
        Workers = new WorkersSpec { Min = 2, Max = 2 },
    };

    private static string[] Errors(JobSpec spec, ModelCheck? check = null) =>
        JobSpecValidator.Validate(spec, check).Select(e => e.ToString()).ToArray();

    [Fact]
    public void MinimalSpecIsValid() => Assert.Empty(Errors(Valid));

    [Fact]
    public void NegativeLearningRateNamesTheField() =>
        Assert.Equal(["spec.optimizer.lr: must be > 0, got -1"], Errors(Valid with { Optimizer = new OptimizerSpec { Lr = -1 } }));

    [Fact]
    public void EveryProblemIsReportedAtOnce()
    {
        var spec = Valid with
        {
            ApiVersion = "plateau/v0",
            Model = new ModelSpec(),
            Dataset = new DatasetSpec { Kind = DatasetKind.Cifar10 },
            Epochs = null,
            Optimizer = new OptimizerSpec { Momentum = 1.5, WeightDecay = -1 },
            Workers = new WorkersSpec { Min = 3, Max = 2 },
        };

        Assert.Equal(
            [
                "spec.apiVersion: must be 'plateau/v1', got 'plateau/v0'",
                "spec.model.name: is required (e.g. se_resnet20_cifar, resnet50)",
                "spec.dataset.path: is required for dataset kind cifar10",
                "spec.epochs: one of epochs or iterations is required",
                "spec.optimizer.momentum: must be in [0, 1), got 1.5",
                "spec.optimizer.weightDecay: must be ≥ 0, got -1",
                "spec.workers.max: must be ≥ workers.min (3), got 2",
            ],
            Errors(spec));
    }

    [Fact]
    public void MixedPrecisionIsRefusedWithTheReasonRatherThanRunInFp32() =>
        Assert.Equal(
            ["spec.precision: amp is not supported yet: the trainer runs fp32 only (TorchSharp 0.107 has no autocast or gradient scaler); use fp32"],
            Errors(Valid with { Precision = Precision.Amp }));

    [Fact]
    public void AnEvaluationModeOutsideTheEnumIsRefusedNamingTheField() =>
        Assert.Equal(
            ["spec.evaluation.mode: unknown evaluation mode 7; expected centerCrop, tenCrop or multiScale"],
            Errors(Valid with { Evaluation = new EvaluationSpec { Mode = (EvaluationMode)7 } }));

    [Fact]
    public void EpochsAndIterationsAreAlternatives() =>
        Assert.Equal(["spec.iterations: give epochs or iterations, not both (epochs 10, iterations 64000)"], Errors(Valid with { Iterations = 64000 }));

    [Fact]
    public void GlobalBatchMustSplitAcrossSomeWorldSize() =>
        Assert.Equal(["spec.batch.global: 127 is not divisible by any world size in 2..2"], Errors(Valid with { Batch = new BatchSpec { Global = 127 } }));

    [Fact]
    public void GlobalAndPerDeviceMustAgreeWithTheWorkerRange() =>
        Assert.Equal(
            ["spec.batch: global 256 / perDevice 32 = 8 ranks, outside the 2..2 ranks of workers.min..max × devicesPerWorker"],
            Errors(Valid with { Batch = new BatchSpec { Global = 256, PerDevice = 32 } }));

    [Fact]
    public void GlobalMustBeAMultipleOfPerDevice() =>
        Assert.Equal(["spec.batch.perDevice: global batch 128 is not a multiple of perDevice 48"],
            Errors(Valid with { Batch = new BatchSpec { Global = 128, PerDevice = 48 } }));

    [Fact]
    public void PlateauFactorAndModeAreChecked()
    {
        var spec = Valid with
        {
            Schedule = new ScheduleSpec { Plateau = new PlateauScheduleSpec { Factor = 1.0, Patience = -1, Mode = PlateauMode.Max } },
        };

        Assert.Equal(
            [
                "spec.schedule.plateau.factor: must be in (0, 1), got 1",
                "spec.schedule.plateau.patience: must be ≥ 0, got -1",
                "spec.schedule.plateau.mode: 'max' would reward a worse val_top1_error; use 'min'",
            ],
            Errors(spec));
    }

    [Fact]
    public void PlateauAndStepsAreAlternatives() =>
        Assert.Contains("spec.schedule: plateau and steps are alternatives; give one of them",
            Errors(Valid with { Schedule = new ScheduleSpec { Plateau = new(), Steps = new StepScheduleSpec { Milestones = [5] } } }));

    [Fact]
    public void MilestonesMustIncrease() =>
        Assert.Equal(["spec.schedule.steps.milestones[1]: milestones must be positive and increasing, got 48000, 32000"],
            Errors(Valid with { Schedule = new ScheduleSpec { Steps = new StepScheduleSpec { Milestones = [48000, 32000] } } }));

    [Fact]
    public void WarmupNeedsALength() =>
        Assert.Equal(["spec.schedule.warmup: epochs or iterations is required"],
            Errors(Valid with { Schedule = new ScheduleSpec { Warmup = new WarmupSpec() } }));

    [Fact]
    public void UnknownModelIsRefusedThroughTheRegistryCheck() =>
        Assert.Equal(["spec.model.name: unknown model 'se_resnet20_cifar'; known models: resnet18, resnet50"],
            Errors(Valid, JobSpecValidator.KnownModels(["resnet50", "resnet18"])));

    [Fact]
    public void BadJobNameIsRefused() =>
        Assert.Equal(["spec.name: must be 1-63 lower-case letters, digits or '-', starting and ending with a letter or digit, got 'My_Job'"],
            Errors(Valid with { Name = "My_Job" }));

    [Fact]
    public void NonPositiveRendezvousTimeoutIsRefused() =>
        Assert.Equal(["spec.workers.rendezvousTimeoutSeconds: must be > 0, got 0"],
            Errors(Valid with { Workers = new WorkersSpec { Min = 2, Max = 2, RendezvousTimeoutSeconds = 0 } }));

    [Fact]
    public void MidEpochCheckpointCadencesMustNotBeNegative() =>
        Assert.Equal(["spec.checkpoint.everySteps: must be ≥ 0 (0: only at epoch ends), got -1", "spec.checkpoint.everyMinutes: must be a finite number ≥ 0 (0: off), got NaN"],
            Errors(Valid with { Checkpoint = new CheckpointPolicySpec { EverySteps = -1, EveryMinutes = double.NaN } }));
}
