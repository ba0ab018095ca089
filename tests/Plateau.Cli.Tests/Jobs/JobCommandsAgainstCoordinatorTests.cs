using System.Text.Json;
using Plateau.Cli.Commands.Jobs;

namespace Plateau.Cli.Tests.Jobs;

/// <summary>The job commands against a real coordinator host over HTTP/2 (no workers, so jobs wait in Rendezvous).</summary>
public sealed class JobCommandsAgainstCoordinatorTests(CoordinatorFixture coordinator) : IClassFixture<CoordinatorFixture>
{
    private Task<(int ExitCode, string Output, string Error)> Job(params string[] args) =>
        CliRunner.RunAsync(["job", "--coordinator", coordinator.Address, "--token", CoordinatorFixture.Token, .. args]);

    private string Spec(string name, string model = "se_resnet20_cifar") =>
        CliRunner.WriteSpec(coordinator.SpecDirectory, name + ".yaml", CliRunner.TwoWorkerSpec(model));

    [Fact]
    public async Task SubmitPrintsTheIdAndGetShowsTheJobWaitingForWorkers()
    {
        var submit = await Job("submit", Spec("waiting"), "--name", "cli-waiting");
        var get = await Job("get", "cli-waiting");
        var json = await Job("get", "cli-waiting", "-o", "json");
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

    [Fact]
    public async Task JsonAndYamlOutputsParseAndCarryTheSameFields()
    {
        await Job("submit", Spec("formats"), "--name", "cli-formats");

        var getJson = await Job("get", "cli-formats", "-o", "json");
        var getYaml = await Job("get", "cli-formats", "-o", "yaml");
        var listJson = await Job("list", "-o", "json");
        var listYaml = await Job("list", "--output", "yaml");
        var cancelYaml = await Job("cancel", "cli-formats", "-o", "yaml");

        using var job = JsonDocument.Parse(getJson.Output);
        var yamlJob = Yaml(getYaml.Output);
        Assert.Equal("cli-formats", job.RootElement.GetProperty("jobId").GetString());
        Assert.Equal("cli-formats", Scalar(yamlJob, "jobId"));
        Assert.Equal(job.RootElement.GetProperty("phase").GetString(), Scalar(yamlJob, "phase"));
        Assert.Equal(job.RootElement.GetProperty("specJson").GetString(), Scalar(yamlJob, "specJson"));
        using var list = JsonDocument.Parse(listJson.Output);
        Assert.Contains(list.RootElement.GetProperty("jobs").EnumerateArray(), j => j.GetProperty("jobId").GetString() == "cli-formats");
        var yamlJobs = (YamlDotNet.RepresentationModel.YamlSequenceNode)((YamlDotNet.RepresentationModel.YamlMappingNode)Yaml(listYaml.Output))["jobs"];
        Assert.Contains(yamlJobs.Children, j => Scalar(j, "jobId") == "cli-formats");
        Assert.Equal("JOB_PHASE_CANCELLED", Scalar(Yaml(cancelYaml.Output), "phase"));
        Assert.All(new[] { getJson, getYaml, listJson, listYaml, cancelYaml }, r => Assert.Equal((JobExitCodes.Ok, ""), (r.ExitCode, r.Error)));
    }

    [Fact]
    public async Task WatchAsJsonStreamsOneParsableUpdatePerLine()
    {
        await Job("submit", Spec("jsonwatch"), "--name", "cli-jsonwatch");
        await Job("cancel", "cli-jsonwatch", "--reason", "json watch");

        var (exitCode, output, _) = await Job("watch", "cli-jsonwatch", "-o", "json");

        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var updates = lines.Select(line => JsonDocument.Parse(line)).ToList();
        Assert.Equal(JobExitCodes.JobCancelled, exitCode);
        Assert.True(updates[0].RootElement.TryGetProperty("snapshot", out _));
        Assert.Equal("JOB_PHASE_CANCELLED", updates[^1].RootElement.GetProperty("snapshot").GetProperty("phase").GetString());
        var sequences = updates.Where(u => u.RootElement.TryGetProperty("event", out _)).Select(u => long.Parse(u.RootElement.GetProperty("event").GetProperty("sequence").GetString()!, System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.NotEmpty(sequences);
        Assert.Equal(sequences.Order(), sequences);
        updates.ForEach(u => u.Dispose());
    }

    [Fact]
    public async Task AWrongOrMissingTokenHasItsOwnExitCodeAndChangesNothing()
    {
        var wrong = await CliRunner.RunAsync("job", "--coordinator", coordinator.Address, "--token", "not-the-token-at-all", "submit", Spec("intruder"), "--name", "cli-intruder");
        var none = await CliRunner.RunAsync("job", "--coordinator", coordinator.Address, "list");

        Assert.Equal(JobExitCodes.Unauthenticated, wrong.ExitCode);
        Assert.StartsWith($"the coordinator at {coordinator.Address} did not accept the credentials", wrong.Error, StringComparison.Ordinal);
        Assert.Contains("--token or PLATEAU_TOKEN", wrong.Error, StringComparison.Ordinal);
        Assert.Equal(JobExitCodes.Unauthenticated, none.ExitCode);
        Assert.Equal(JobExitCodes.NotFound, (await Job("get", "cli-intruder")).ExitCode);
    }

    [Fact]
    public async Task ARequestIdMakesSubmitSafeToRetryAndATakenNameIsAlreadyExists()
    {
        var requestId = "cli-" + Guid.NewGuid().ToString("N");
        var first = await Job("submit", Spec("retry"), "--request-id", requestId);
        var retry = await Job("submit", Spec("retry"), "--request-id", requestId);
        await Job("submit", Spec("taken"), "--name", "cli-taken");
        var taken = await Job("submit", Spec("taken"), "--name", "cli-taken");

        Assert.Equal(JobExitCodes.Ok, first.ExitCode);
        Assert.Equal(first.Output, retry.Output);
        Assert.Equal(JobExitCodes.AlreadyExists, taken.ExitCode);
        Assert.Equal("already exists: job 'cli-taken' already exists", taken.Error.Trim());
    }

    [Fact]
    public async Task ListFiltersByPhaseAndPrintsTheNextPageToken()
    {
        await Job("submit", Spec("phase-a"), "--name", "cli-phase-a");
        await Job("submit", Spec("phase-b"), "--name", "cli-phase-b");
        await Job("cancel", "cli-phase-a");

        var cancelled = await Job("list", "--phase", "Cancelled", "--limit", "500");
        var firstPage = await Job("list", "--limit", "1");

        Assert.Contains("cli-phase-a", cancelled.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("cli-phase-b", cancelled.Output, StringComparison.Ordinal);
        var token = System.Text.RegularExpressions.Regex.Match(firstPage.Output, "(?m)^more: --page-token (\\S+)$").Groups[1].Value;
        var secondPage = await Job("list", "--limit", "1", "--page-token", token);
        Assert.Equal(JobExitCodes.Ok, secondPage.ExitCode);
        Assert.NotEqual(firstPage.Output.Split('\n')[1], secondPage.Output.Split('\n')[1]);
    }

    private static YamlDotNet.RepresentationModel.YamlNode Yaml(string text)
    {
        var stream = new YamlDotNet.RepresentationModel.YamlStream();
        stream.Load(new StringReader(text));
        return stream.Documents.Single().RootNode;
    }

    private static string? Scalar(YamlDotNet.RepresentationModel.YamlNode node, string key) =>
        ((YamlDotNet.RepresentationModel.YamlScalarNode)((YamlDotNet.RepresentationModel.YamlMappingNode)node)[key]).Value;
}
