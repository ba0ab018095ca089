using System.Text.Json;
using Plateau.Cli.Commands.Jobs;

namespace Plateau.Cli.Tests.Jobs;

/// <summary><c>plateau job schedule</c> and <c>plateau job checkpoints</c> against a real coordinator host (no workers).</summary>
public sealed class ScheduleAndCheckpointCommandsTests(CoordinatorFixture coordinator) : IClassFixture<CoordinatorFixture>
{
    private Task<(int ExitCode, string Output, string Error)> Job(params string[] args) =>
        CliRunner.RunAsync(["job", "--coordinator", coordinator.Address, "--token", CoordinatorFixture.Token, .. args]);

    private string PlateauSpec(string name) => CliRunner.WriteSpec(coordinator.SpecDirectory, name + ".yaml", CliRunner.TwoWorkerSpec() + "\nschedule: { plateau: { patience: 5, factor: 0.1 } }\n");

    [Fact]
    public async Task AScheduleChangeIsRecordedWithWhoAndWhyAndStreamedAsAStructuredEvent()
    {
        await Job("submit", PlateauSpec("steer"), "--name", "cli-steer");

        var (exitCode, output, error) = await Job("schedule", "cli-steer", "--patience", "2", "--drop-now", "--reason", "loss is flat", "--operator", "alice");

        Assert.True(exitCode == JobExitCodes.Ok, error);
        Assert.Equal("cli-steer: schedule updated by alice: loss is flat", output.Trim());
        using var job = JsonDocument.Parse((await Job("get", "cli-steer", "-o", "json")).Output);
        var update = Assert.Single(job.RootElement.GetProperty("scheduleUpdates").EnumerateArray());
        Assert.Equal(("alice", "loss is flat", 2, true),
            (update.GetProperty("operator").GetString(), update.GetProperty("reason").GetString(), update.GetProperty("patience").GetInt32(), update.GetProperty("dropNow").GetBoolean()));

        await Job("cancel", "cli-steer", "--reason", "done steering");
        var watch = await Job("watch", "cli-steer", "-o", "json");
        var events = watch.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => JsonDocument.Parse(line).RootElement)
            .Where(u => u.TryGetProperty("event", out _))
            .Select(u => u.GetProperty("event"))
            .ToList();
        var steered = Assert.Single(events, e => e.GetProperty("type").GetString() == "EVENT_TYPE_SCHEDULE_UPDATED");
        Assert.Equal("alice", steered.GetProperty("scheduleUpdated").GetProperty("operator").GetString());
        var cancelled = events.Last(e => e.GetProperty("type").GetString() == "EVENT_TYPE_TRANSITION");
        Assert.Equal("JOB_PHASE_CANCELLED", cancelled.GetProperty("phaseChange").GetProperty("to").GetString());
    }

    [Fact]
    public async Task ABadValueIsRefusedNamingTheFieldAndChangesNothing()
    {
        await Job("submit", PlateauSpec("badsteer"), "--name", "cli-badsteer");

        var (exitCode, _, error) = await Job("schedule", "cli-badsteer", "--factor", "1.5", "--reason", "too much", "--operator", "bob");

        Assert.Equal(JobExitCodes.InvalidInput, exitCode);
        Assert.Contains("factor: must be in (0, 1), got 1.5", error, StringComparison.Ordinal);
        using var job = JsonDocument.Parse((await Job("get", "cli-badsteer", "-o", "json")).Output);
        Assert.False(job.RootElement.TryGetProperty("scheduleUpdates", out var updates) && updates.GetArrayLength() > 0);
    }

    [Fact]
    public async Task AJobWithoutAPlateauScheduleCannotBeSteered()
    {
        await Job("submit", CliRunner.WriteSpec(coordinator.SpecDirectory, "nosteer.yaml", CliRunner.TwoWorkerSpec()), "--name", "cli-nosteer");

        var (exitCode, _, error) = await Job("schedule", "cli-nosteer", "--drop-now", "--reason", "why not", "--operator", "carol");

        Assert.Equal(JobExitCodes.FailedPrecondition, exitCode);
        Assert.Contains("no plateau schedule", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CheckpointsOfAJobThatHasNoneAreAHeaderAndAnEmptyList()
    {
        await Job("submit", PlateauSpec("nockpt"), "--name", "cli-nockpt");

        var table = await Job("checkpoints", "cli-nockpt");
        var json = await Job("checkpoints", "cli-nockpt", "-o", "json");

        Assert.Equal(JobExitCodes.Ok, table.ExitCode);
        Assert.StartsWith("CHECKPOINT", table.Output, StringComparison.Ordinal);
        Assert.Single(table.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        using var parsed = JsonDocument.Parse(json.Output);
        Assert.False(parsed.RootElement.TryGetProperty("checkpoints", out var list) && list.GetArrayLength() > 0);
        Assert.Equal(JobExitCodes.NotFound, (await Job("checkpoints", "no-such-job")).ExitCode);
    }

    [Fact]
    public async Task MetricsOfAJobNotRunningYetSayNoGenerationRunsAndParseAsJsonAndYaml()
    {
        await Job("submit", PlateauSpec("metrics"), "--name", "cli-metrics");

        var table = await Job("metrics", "cli-metrics");
        var json = await Job("metrics", "cli-metrics", "-o", "json");
        var yaml = await Job("metrics", "cli-metrics", "-o", "yaml");

        Assert.Equal(JobExitCodes.Ok, table.ExitCode);
        Assert.StartsWith("EPOCH", table.Output, StringComparison.Ordinal);
        Assert.Contains("no generation is running", table.Output, StringComparison.Ordinal);
        using var parsed = JsonDocument.Parse(json.Output);
        Assert.Equal("cli-metrics", parsed.RootElement.GetProperty("jobId").GetString());
        Assert.Contains("jobId: \"cli-metrics\"", yaml.Output, StringComparison.Ordinal);
        Assert.Equal(JobExitCodes.NotFound, (await Job("metrics", "no-such-job")).ExitCode);
        Assert.Equal(JobExitCodes.InvalidInput, (await Job("metrics", "cli-metrics", "--from-epoch", "-1")).ExitCode);
    }
}
