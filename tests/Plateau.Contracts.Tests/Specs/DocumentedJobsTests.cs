using Plateau.Contracts.Specs;

namespace Plateau.Contracts.Tests.Specs;

/// <summary>The example job specs under examples/ load and validate (the real model registry checks them in Plateau.Cli.Tests).</summary>
public class DocumentedJobsTests
{
    private static readonly string[] ModelNames = ["resnet50", "resnet110_cifar", "se_resnet20_cifar", "se_resnet50"];

    public static TheoryData<string> Files() =>
        [.. Directory.GetFiles(Path.Combine(RepositoryRoot(), "examples"), "*.yaml").Select(Path.GetFileName).OfType<string>()];

    [Theory]
    [MemberData(nameof(Files))]
    public void DocumentedSpecIsValid(string file)
    {
        var spec = JobSpecLoader.LoadFile(Path.Combine(RepositoryRoot(), "examples", file));

        Assert.Empty(JobSpecValidator.Validate(spec, JobSpecValidator.KnownModels(ModelNames)));
        Assert.Equal(Path.GetFileNameWithoutExtension(file), spec.Name);
    }

    [Fact]
    public void CifarRecipeIsTheIterationSchedule()
    {
        var spec = JobSpecLoader.LoadFile(Path.Combine(RepositoryRoot(), "examples", "resnet110-cifar10.yaml"));

        Assert.Equal((64000L, 128), (spec.Iterations!.Value, spec.Batch.Global!.Value));
        Assert.Equal([32000L, 48000L], spec.Schedule.Steps!.Milestones);
        Assert.Equal((WarmupKind.Constant, 400L, 0.1), (spec.Schedule.Warmup!.Kind, spec.Schedule.Warmup.Iterations!.Value, spec.Schedule.Warmup.StartFactor!.Value));
    }

    [Fact]
    public void ImageNetRecipesDropTheRateOnAPlateauOfTheValidationError()
    {
        foreach (var file in new[] { "resnet50-imagenet.yaml", "se-resnet50-imagenet.yaml" })
        {
            var spec = JobSpecLoader.LoadFile(Path.Combine(RepositoryRoot(), "examples", file));

            Assert.Equal((PlateauMetric.ValTop1Error, 0.1, 0.1, 1e-4), (spec.Schedule.Plateau!.Metric, spec.Schedule.Plateau.Factor, spec.Optimizer.Lr, spec.Optimizer.WeightDecay));
            Assert.Equal(256, spec.Schedule.LinearScaling!.BaseBatch);
        }

        Assert.Equal("16", JobSpecLoader.LoadFile(Path.Combine(RepositoryRoot(), "examples", "se-resnet50-imagenet.yaml")).Model.Options["se_reduction"]);
    }

    private static string RepositoryRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Orleans.sln")))
        {
            directory = directory.Parent;
        }

        return directory?.FullName ?? throw new InvalidOperationException("Orleans.sln not found above " + AppContext.BaseDirectory);
    }
}
