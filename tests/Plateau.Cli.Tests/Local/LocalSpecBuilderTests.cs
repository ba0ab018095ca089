using Plateau.Cli.Commands.Local;

namespace Plateau.Cli.Tests.Local;

public sealed class LocalSpecBuilderTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("plateau-local-spec-").FullName;

    [Fact]
    public void CheckpointEveryStepsSetsTheSpecsMidEpochCadence()
    {
        var spec = LocalSpecBuilder.Build(Settings(specFile: null, everySteps: 7), _folder, TextWriter.Null);

        Assert.Equal(7, spec.Checkpoint.EverySteps);
        Assert.Equal(1, spec.Checkpoint.EveryEpochs);
    }

    [Fact]
    public void WithoutTheOptionCheckpointsAreTakenAtEpochEndsOnly() =>
        Assert.Equal(0, LocalSpecBuilder.Build(Settings(specFile: null, everySteps: null), _folder, TextWriter.Null).Checkpoint.EverySteps);

    [Fact]
    public void CheckpointEveryStepsOverridesASpecFilesCadenceAndLeavesItAloneWhenNotGiven()
    {
        var file = Path.Combine(_folder, "job.yaml");
        File.WriteAllText(file, """
            apiVersion: plateau/v1
            name: cadence
            model: { name: resnet20_cifar }
            dataset: { kind: synthetic }
            epochs: 1
            batch: { global: 64 }
            checkpoint: { everyEpochs: 2, everySteps: 50 }
            """);

        Assert.Equal(50, LocalSpecBuilder.Build(Settings(file, everySteps: null), _folder, TextWriter.Null).Checkpoint.EverySteps);
        var overridden = LocalSpecBuilder.Build(Settings(file, everySteps: 5), _folder, TextWriter.Null).Checkpoint;
        Assert.Equal((5, 2), (overridden.EverySteps, overridden.EveryEpochs));
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private LocalSettings Settings(string? specFile, int? everySteps) => new(
        Data: null, Workers: 2, DevicesPerWorker: 1, Model: "resnet20_cifar", Epochs: 1, Batch: 64, Lr: 0.1, WeightDecay: 1e-4,
        Patience: 0, Factor: 0.1, Threshold: 0.02, SyntheticTrain: 20, SyntheticValidation: 10, Seed: 0, Threads: 1,
        SpecFile: specFile, Dir: _folder, Plain: true, WorkersGiven: false, CheckpointEverySteps: everySteps);
}
