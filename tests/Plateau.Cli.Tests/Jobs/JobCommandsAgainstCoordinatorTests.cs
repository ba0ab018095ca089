using System.Text.Json;
using Plateau.Cli.Commands.Jobs;

namespace Plateau.Cli.Tests.Jobs;

/// <summary>The job commands against a real coordinator host over HTTP/2 (no workers, so jobs wait in Rendezvous).</summary>
public sealed class JobCommandsAgainstCoordinatorTests(CoordinatorFixture coordinator) : IClassFixture<CoordinatorFixture>
{
    private Task<(int ExitCode, string Output, string Error)> Job(params string[] args) =>
        CliRunner.RunAsync(["job", "--coordinator", coordinator.Address, .. args]);

    private string Spec(string name, string model = "se_resnet20_cifar") =>
        CliRunner.WriteSpec(coordinator.SpecDirectory, name + ".yaml", CliRunner.TwoWorkerSpec(model));

    [Fact]
    public async Task SubmitPrintsTheIdAndGetShowsTheJobWaitingForWorkers()
    {
        var submit = await Job("submit", Spec("waiting"), "--name", "cli-waiting");
        var get = await Job("get", "cli-waiting");
        var json = await Job("get", "cli-waiting", "--json");
        var list = await Job("list");

        Assert.Equal((JobExitCodes.Ok, "cli-waiting", ""), (submit.ExitCode, submit.Output.Trim(), submit.Error));
        Assert.Equal(JobExitCodes.Ok, get.ExitCode);
        Assert.Matches(@"(?m)^phase +(Rendezvous|Pending): ", get.Output);
        Assert.Matches(@"(?m)^generation +\d+ \(world size 0, restarts 0\)", get.Output);
        Assert.Contains("  none committed yet", get.Output, StringComparison.Ordinal);
        Assert.Contains("→ Rendezvous", get.Output, StringComparison.Ordinal);
        using var document = JsonDocument.Parse(json.Output);
        Assert.Equal("cli-waiting", document.RootElement.GetProperty("jobId").GetString());
        Assert.Matches("^JOB_PHASE_(RENDEZVOUS|PENDING)$", document.RootElement.GetProperty("phase").GetString());
        Assert.Contains("se_resnet20_cifar", document.RootElement.GetProperty("specJson").GetString(), StringComparison.Ordinal);
        Assert.Equal(JobExitCodes.Ok, list.ExitCode);
        Assert.Matches(@"(?m)^cli-waiting +(Rendezvous|Pending) ", list.Output);
    }

    [Fact]
    public async Task SubmitWithoutANameGetsAnIdFromTheCoordinator()
    {
        var (exitCode, output, _) = await Job("submit", Spec("unnamed"));

        Assert.Equal(JobExitCodes.Ok, exitCode);
        Assert.Matches(@"^job-\d{8}-\d{6}-[0-9a-f]{6}$", output.Trim());
        Assert.Equal(JobExitCodes.Ok, (await Job("get", output.Trim())).ExitCode);
    }

    [Fact]
    public async Task CancelEndsTheJobAndWatchExitsWithTheCancelledCode()
    {
        await Job("submit", Spec("cancel"), "--name", "cli-cancel");

        var cancel = await Job("cancel", "cli-cancel", "--reason", "no workers today");
        var watch = await Job("watch", "cli-cancel");
        var pause = await Job("pause", "cli-cancel");

        Assert.Equal((JobExitCodes.Ok, "cli-cancel: Cancelled: cancelled: no workers today"), (cancel.ExitCode, cancel.Output.Trim()));
        Assert.Equal(JobExitCodes.JobCancelled, watch.ExitCode);
        Assert.StartsWith("job cli-cancel: Cancelled ", watch.Output, StringComparison.Ordinal);
        Assert.Matches(@"(?m)^\d\d:\d\d:\d\d  transition +.*Cancelled", watch.Output);
        Assert.Equal("job cli-cancel was cancelled: cancelled: no workers today", watch.Error.Trim());
        Assert.Equal(JobExitCodes.FailedPrecondition, pause.ExitCode);
        Assert.Equal("not possible now: job cli-cancel is Cancelled: cannot pause (only a Running job can be paused)", pause.Error.Trim());
    }

    [Fact]
    public async Task SubmitWatchFollowsTheJobLiveUntilItIsCancelled()
    {
        var watching = Job("submit", Spec("live"), "--name", "cli-live", "--watch");
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while ((await Job("get", "cli-live")).ExitCode != JobExitCodes.Ok && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
        }

        await Task.Delay(500);
        Assert.False(watching.IsCompleted, "submit --watch returned before the job ended");
        var cancel = await Job("cancel", "cli-live");
        var (exitCode, output, error) = await watching.WaitAsync(TimeSpan.FromSeconds(20));

        Assert.Equal(JobExitCodes.Ok, cancel.ExitCode);
        Assert.Equal(JobExitCodes.JobCancelled, exitCode);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("cli-live", lines[0].Trim());
        Assert.StartsWith("job cli-live: ", lines[1], StringComparison.Ordinal);
        Assert.StartsWith("job cli-live: Cancelled ", lines[^1], StringComparison.Ordinal);
        Assert.Contains("cancelled by the user", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WatchExitsWithTheFailedCodeWhenNoWorkersJoinInTime()
    {
        var path = CliRunner.WriteSpec(coordinator.SpecDirectory, "lonely.yaml", CliRunner.TwoWorkerSpec(rendezvousTimeoutSeconds: 1));

        var (exitCode, output, error) = await Job("submit", path, "--name", "cli-lonely", "--watch");

        Assert.Equal(JobExitCodes.JobFailed, exitCode);
        Assert.Matches(@"(?m)^\d\d:\d\d:\d\d  transition +Rendezvous → Failed: rendezvous for generation 1 timed out", output);
        Assert.StartsWith("job cli-lonely failed: rendezvous for generation 1 timed out after 1 s: 0 of 2 required workers joined", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnknownJobIsNotFoundWithItsOwnExitCode()
    {
        foreach (var verb in new[] { "get", "watch", "cancel", "resume" })
        {
            var (exitCode, output, error) = await Job(verb, "no-such-job");

            Assert.Equal((JobExitCodes.NotFound, ""), (exitCode, output));
            Assert.Equal($"no job named no-such-job on the coordinator at {coordinator.Address}", error.Trim());
        }
    }

    [Fact]
    public async Task CoordinatorRefusalsPrintTheFieldMessages()
    {
        // resnet50 is in this build's registry, so it passes locally; this coordinator only accepts se_resnet20_cifar.
        var model = await Job("submit", Spec("resnet50", model: "resnet50"), "--name", "cli-refused");
        var name = await Job("submit", Spec("badname"), "--name", "Bad_Name");

        Assert.Equal(JobExitCodes.InvalidInput, model.ExitCode);
        Assert.Equal("the coordinator refused the request:\n  spec.model.name: unknown model 'resnet50'; known models: se_resnet20_cifar", model.Error.Trim().ReplaceLineEndings("\n"));
        Assert.Equal(JobExitCodes.NotFound, (await Job("get", "cli-refused")).ExitCode);
        Assert.Equal(JobExitCodes.InvalidInput, name.ExitCode);
        Assert.Contains("  job_id: must be 1-63 lower-case letters", name.Error, StringComparison.Ordinal);
    }
}
