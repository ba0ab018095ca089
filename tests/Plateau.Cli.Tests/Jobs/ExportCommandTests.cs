using Plateau.Cli.Commands.Jobs;

namespace Plateau.Cli.Tests.Jobs;

/// <summary><c>plateau export</c> against the real coordinator host: what it says when there is nothing to export.</summary>
public sealed class ExportCommandTests(CoordinatorFixture coordinator) : IClassFixture<CoordinatorFixture>
{
    private Task<(int ExitCode, string Output, string Error)> Export(params string[] args) =>
        CliRunner.RunAsync(["export", "--coordinator", coordinator.Address, "--token", CoordinatorFixture.Token, .. args]);

    [Fact]
    public async Task AJobWithoutACommittedCheckpointIsNotFoundAndNoFileIsWritten()
    {
        var spec = CliRunner.WriteSpec(coordinator.SpecDirectory, "export.yaml", CliRunner.TwoWorkerSpec());
        await CliRunner.RunAsync("job", "--coordinator", coordinator.Address, "--token", CoordinatorFixture.Token, "submit", spec, "--name", "cli-export");
        var target = Path.Combine(coordinator.SpecDirectory, "model.safetensors");

        var (exitCode, output, error) = await Export("cli-export", "--out", target);

        Assert.Equal((JobExitCodes.NotFound, ""), (exitCode, output));
        Assert.Equal("job cli-export has no committed checkpoint yet", error.Trim());
        Assert.False(File.Exists(target));
        Assert.Empty(Directory.GetFiles(coordinator.SpecDirectory, "*.partial"));
    }

    [Fact]
    public async Task AnUnknownJobIsNotFound()
    {
        var (exitCode, _, error) = await Export("no-such-job", "--out", Path.Combine(coordinator.SpecDirectory, "x.safetensors"));

        Assert.Equal((JobExitCodes.NotFound, "job 'no-such-job' does not exist"), (exitCode, error.Trim()));
    }

    [Fact]
    public async Task AMissingOutputFolderIsRefusedBeforeAnythingIsAsked()
    {
        var (exitCode, _, error) = await Export("cli-any", "--out", Path.Combine(coordinator.SpecDirectory, "nope", "model.safetensors"));

        Assert.Equal(JobExitCodes.InvalidInput, exitCode);
        Assert.Equal($"--out: folder {Path.Combine(coordinator.SpecDirectory, "nope")} does not exist", error.Trim());
    }
}
