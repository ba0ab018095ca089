using Plateau.Cli.Commands.Jobs;
using Plateau.Cli.Tests.Jobs;

namespace Plateau.Cli.Tests.Reports;

/// <summary><c>plateau job report</c> against a real coordinator host (no workers: the job waits in Rendezvous).</summary>
public sealed class JobReportCommandTests(CoordinatorFixture coordinator) : IClassFixture<CoordinatorFixture>
{
    [Fact]
    public async Task ReportOfAWaitingJobIsWrittenWithItsEventsSoFar()
    {
        var spec = CliRunner.WriteSpec(coordinator.SpecDirectory, "report.yaml", CliRunner.TwoWorkerSpec());
        var submit = await CliRunner.RunAsync("job", "--coordinator", coordinator.Address, "--token", CoordinatorFixture.Token, "submit", spec, "--name", "cli-report");
        Assert.Equal(JobExitCodes.Ok, submit.ExitCode);
        var path = Path.Combine(coordinator.SpecDirectory, "out", "report.html");

        var (exitCode, output, error) = await CliRunner.RunAsync("job", "--coordinator", coordinator.Address, "--token", CoordinatorFixture.Token, "report", "cli-report", "--out", path);

        Assert.Equal((JobExitCodes.Ok, ""), (exitCode, error));
        Assert.Equal($"report: {path}", output.Trim());
        var html = await File.ReadAllTextAsync(path);
        Assert.Contains("Plateau run report: cli-report", html, StringComparison.Ordinal);
        Assert.Contains("Pending → Rendezvous: submitted", html, StringComparison.Ordinal);
        Assert.Contains(">no data</text>", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReportOfAnUnknownJobIsNotFoundAndWritesNothing()
    {
        var path = Path.Combine(coordinator.SpecDirectory, "missing.html");

        var (exitCode, _, error) = await CliRunner.RunAsync("job", "--coordinator", coordinator.Address, "--token", CoordinatorFixture.Token, "report", "no-such-job", "--out", path);

        Assert.Equal(JobExitCodes.NotFound, exitCode);
        Assert.Contains("no job named no-such-job", error, StringComparison.Ordinal);
        Assert.False(File.Exists(path));
    }
}
