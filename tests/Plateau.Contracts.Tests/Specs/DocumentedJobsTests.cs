using Plateau.Contracts.Specs;

namespace Plateau.Contracts.Tests.Specs;

/// <summary>The job specs under docs/jobs load and validate.</summary>
public class DocumentedJobsTests
{
    private static readonly string[] ModelNames = ["resnet50", "resnet110_cifar", "se_resnet20_cifar"];

    public static TheoryData<string> Files() =>
        [.. Directory.GetFiles(Path.Combine(RepositoryRoot(), "docs", "jobs"), "*.yaml").Select(Path.GetFileName).OfType<string>()];

    [Theory]
    [MemberData(nameof(Files))]
    public void DocumentedSpecIsValid(string file)
    {
        var spec = JobSpecLoader.LoadFile(Path.Combine(RepositoryRoot(), "docs", "jobs", file));

        Assert.Empty(JobSpecValidator.Validate(spec, JobSpecValidator.KnownModels(ModelNames)));
        Assert.Equal(Path.GetFileNameWithoutExtension(file), spec.Name);
    }

    [Fact]
    public void CifarRecipeIsTheIterationSchedule()
    {
        var spec = JobSpecLoader.LoadFile(Path.Combine(RepositoryRoot(), "docs", "jobs", "resnet110-cifar10.yaml"));

        Assert.Equal((64000L, 128), (spec.Iterations!.Value, spec.Batch.Global!.Value));
        Assert.Equal([32000L, 48000L], spec.Schedule.Steps!.Milestones);
        Assert.Equal((WarmupKind.Constant, 400L, 0.1), (spec.Schedule.Warmup!.Kind, spec.Schedule.Warmup.Iterations!.Value, spec.Schedule.Warmup.StartFactor!.Value));
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
