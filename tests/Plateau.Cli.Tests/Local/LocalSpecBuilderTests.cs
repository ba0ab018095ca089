using Plateau.Cli.Commands.Local;
using Plateau.Contracts.Specs;

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

    [Fact]
    public void EvaluationDropLastAndCompressionReachTheBuiltSpecAndOverrideASpecFile()
    {
        var options = Settings(specFile: null, everySteps: null) with { Evaluation = EvaluationMode.TenCrop, DropLast = false, Compression = GradientCompression.BFloat16 };
        var built = LocalSpecBuilder.Build(options, _folder, TextWriter.Null);
        var file = LocalSpecBuilder.Build(options with { SpecFile = SpecFile() }, _folder, TextWriter.Null);

        Assert.All([built, file], spec => Assert.Equal((EvaluationMode.TenCrop, false, GradientCompression.BFloat16),
            (spec.Evaluation.Mode, spec.Batch.DropLast, spec.Communication.Compression)));
    }

    [Fact]
    public void WithoutThoseOptionsTheDefaultsAndASpecFilesChoicesStand()
    {
        var built = LocalSpecBuilder.Build(Settings(specFile: null, everySteps: null), _folder, TextWriter.Null);
        var file = LocalSpecBuilder.Build(Settings(SpecFile(), everySteps: null), _folder, TextWriter.Null);

        Assert.Equal((EvaluationMode.CenterCrop, true, GradientCompression.None), (built.Evaluation.Mode, built.Batch.DropLast, built.Communication.Compression));
        Assert.Equal((EvaluationMode.MultiScale, false, GradientCompression.Float16), (file.Evaluation.Mode, file.Batch.DropLast, file.Communication.Compression));
    }

    [Theory]
    [InlineData("--evaluation", "tencrop")]
    [InlineData("--compression", "bfloat16")]
    public void AnUnknownEvaluationModeOrCompressionIsRefusedNamingTheOptionAndTheChoices(string option, string value)
    {
        var result = LocalCommand.Build().Parse([option, value]);

        var error = Assert.Single(result.Errors).Message;
        Assert.Contains(option, error, StringComparison.Ordinal);
        Assert.Contains(value, error, StringComparison.Ordinal);
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private string SpecFile()
    {
        var file = Path.Combine(_folder, "modes.yaml");
        File.WriteAllText(file, """
            apiVersion: plateau/v1
            name: modes
            model: { name: resnet20_cifar }
            dataset: { kind: synthetic }
            epochs: 1
            batch: { global: 64, dropLast: false }
            evaluation: { mode: multiScale }
            communication: { compression: fp16 }
            """);
        return file;
    }

    private LocalSettings Settings(string? specFile, int? everySteps) => new(
        Data: null, Workers: 2, DevicesPerWorker: 1, Model: "resnet20_cifar", Epochs: 1, Batch: 64, Lr: 0.1, WeightDecay: 1e-4,
        Patience: 0, Factor: 0.1, Threshold: 0.02, SyntheticTrain: 20, SyntheticValidation: 10, Seed: 0, Threads: 1,
        SpecFile: specFile, Dir: _folder, Plain: true, WorkersGiven: false, CheckpointEverySteps: everySteps);
}
